"""Which rule applies (pure): of the active rules for the candidate's plan and stage, the most specific (one job
before every job), then the highest priority.

Two rules that tie on both could never be ordered, so a rules file holding them is refused (`could_both_match`);
the name breaks a tie only so that a stored set validated under other rules still gives one answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.advancement.model import Rule


def matching_rule(rules: Iterable[Rule], *, job_id: str | None, plan_id: str, stage_id: str) -> Rule | None:
    """The rule for an application of `job_id` in `stage_id` of `plan_id`, or None."""
    candidates = [r for r in rules if r.plan_id == plan_id and r.stage_id == stage_id and r.job_id in (None, job_id)]
    return min(candidates, key=lambda r: (-r.specificity, -r.priority, r.name), default=None)


def could_both_match(a: Rule, b: Rule) -> bool:
    """Some application could match both, and neither comes first: same plan, stage, job scope and priority.

    A job-specific rule and an every-job rule overlap but never tie (the specific one wins), so they may coexist.
    """
    return (a.plan_id, a.stage_id, a.job_id, a.priority) == (b.plan_id, b.stage_id, b.job_id, b.priority)
