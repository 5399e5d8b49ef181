"""Which rule applies: one job's before every job's, then the higher priority; other scopes never match."""

from __future__ import annotations

from shared.advancement.model import Rule
from shared.advancement.precedence import could_both_match, matching_rule


def rule(name: str, *, job: str | None = None, priority: int = 0, plan: str = "plan", stage: str = "onsite") -> Rule:
    return Rule(name=name, job_id=job, plan_id=plan, stage_id=stage, priority=priority)


def test_a_job_specific_rule_wins_over_every_job_whatever_the_priority() -> None:
    every = rule("every", priority=100)
    specific = rule("specific", job="job-1", priority=-5)
    assert matching_rule([every, specific], "job-1", "plan", "onsite") == specific
    assert matching_rule([specific, every], "job-2", "plan", "onsite") == every  # another job: only every-job


def test_among_equally_specific_rules_the_higher_priority_wins() -> None:
    low, high = rule("low", job="job-1", priority=1), rule("high", job="job-1", priority=2)
    assert matching_rule([low, high], "job-1", "plan", "onsite") == high
    assert matching_rule([high, low], "job-1", "plan", "onsite") == high
    assert matching_rule([rule("a", priority=3), rule("b", priority=7)], "job-1", "plan", "onsite").name == "b"


def test_no_rule_of_another_plan_stage_or_job_matches() -> None:
    rules = [rule("other-stage", stage="screen"), rule("other-plan", plan="plan-2"), rule("other-job", job="job-9")]
    assert matching_rule(rules, "job-1", "plan", "onsite") is None
    assert matching_rule([], "job-1", "plan", "onsite") is None
    assert matching_rule([rule("every")], None, "plan", "onsite") is not None  # an application with no job known


def test_a_tie_validation_would_refuse_still_gives_one_answer() -> None:
    a, b = rule("a", job="job-1"), rule("b", job="job-1")
    assert could_both_match(a, b)
    assert matching_rule([b, a], "job-1", "plan", "onsite") == matching_rule([a, b], "job-1", "plan", "onsite") == a


def test_only_equal_scope_and_priority_could_both_match() -> None:
    base = rule("a", job="job-1")
    assert not could_both_match(base, rule("b"))  # every job: less specific, never a tie
    assert not could_both_match(base, rule("b", job="job-1", priority=1))
    assert not could_both_match(base, rule("b", job="job-2"))
    assert not could_both_match(base, rule("b", job="job-1", stage="screen"))
    assert not could_both_match(base, rule("b", job="job-1", plan="plan-2"))
    assert could_both_match(rule("a"), rule("b"))
