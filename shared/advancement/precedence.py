"""Which rule applies (pure): of the active rules for the candidate's plan and stage, the most specific (one
job before every job), then the highest priority. Validation refuses two rules that could tie."""

from __future__ import annotations

from collections.abc import Sequence

from shared.advancement.model import Rule


def matching_rule(rules: Sequence[Rule], *, job_id: str | None, plan_id: str, stage_id: str) -> Rule | None:
    candidates = [r for r in rules if r.plan_id == plan_id and r.stage_id == stage_id and r.job_id in (None, job_id)]
    return max(candidates, key=lambda r: (r.specificity, r.priority), default=None)
