"""Which rule applies: one job's before every job's, then the higher priority; other scopes never match."""

from __future__ import annotations

from collections.abc import Sequence

from shared.advancement.model import Rule
from shared.advancement.precedence import could_both_match, matching_rule


def rule(name: str, *, job: str | None = None, priority: int = 0, plan: str = "plan", stage: str = "onsite") -> Rule:
    return Rule(name=name, job_id=job, plan_id=plan, stage_id=stage, priority=priority)


def match(rules: Sequence[Rule], job: str | None) -> Rule | None:
    """The rule for an application of `job` in the Onsite stage of the plan."""
    return matching_rule(rules, job_id=job, plan_id="plan", stage_id="onsite")


def test_a_job_specific_rule_wins_over_every_job_whatever_the_priority() -> None:
    every = rule("every", priority=100)
    specific = rule("specific", job="job-1", priority=-5)
    assert match([every, specific], "job-1") == specific
    assert match([specific, every], "job-2") == every  # another job: only the every-job rule


def test_among_equally_specific_rules_the_higher_priority_wins() -> None:
    low, high = rule("low", job="job-1", priority=1), rule("high", job="job-1", priority=2)
    assert match([low, high], "job-1") == high
    assert match([high, low], "job-1") == high
    assert match([rule("a", priority=3), rule("b", priority=7)], "job-1") == rule("b", priority=7)


def test_no_rule_of_another_plan_stage_or_job_matches() -> None:
    rules = [rule("other-stage", stage="screen"), rule("other-plan", plan="plan-2"), rule("other-job", job="job-9")]
    assert match(rules, "job-1") is None
    assert match([], "job-1") is None
    assert match([rule("every")], None) == rule("every")  # an application whose job is not known


def test_a_tie_validation_would_refuse_still_gives_one_answer() -> None:
    a, b = rule("a", job="job-1"), rule("b", job="job-1")
    assert could_both_match(a, b)
    assert match([b, a], "job-1") == match([a, b], "job-1") == a


def test_only_equal_scope_and_priority_could_both_match() -> None:
    base = rule("a", job="job-1")
    assert not could_both_match(base, rule("b"))  # every job: less specific, never a tie
    assert not could_both_match(base, rule("b", job="job-1", priority=1))
    assert not could_both_match(base, rule("b", job="job-2"))
    assert not could_both_match(base, rule("b", job="job-1", stage="screen"))
    assert not could_both_match(base, rule("b", job="job-1", plan="plan-2"))
    assert could_both_match(rule("a"), rule("b"))
