"""A resolved rule in words, with Ashby's names in place of ids where the catalog has them (ids otherwise)."""

from __future__ import annotations

from shared.advancement.catalog import Catalog
from shared.advancement.model import Advance, Aggregate, Condition, CountOf, Each, Outcome, Reject, Requirement, Rule

COUNT_WORDS = {">=": "at least", "<=": "at most", "==": "exactly", ">": "more than", "<": "fewer than", "!=": "not"}


def scope(rule: Rule, catalog: Catalog) -> str:
    """'Senior Backend Engineer / Engineering plan / Onsite'."""
    job = catalog.jobs[rule.job_id].title if rule.job_id and rule.job_id in catalog.jobs else rule.job_id
    return f"{job or 'every job'} / {plan_title(rule.plan_id, catalog)} / {stage_title(rule, rule.stage_id, catalog)}"


def describe(rule: Rule, catalog: Catalog) -> list[str]:
    """What the rule does, one line per aspect."""
    waits = [catalog.interviews[i].title if i in catalog.interviews else i for i in rule.interview_ids]
    lines = [
        f"applies to: {scope(rule, catalog)}",
        f"mode: {rule.mode}, priority {rule.priority}",
        f"waits for: {', '.join(waits) if waits else 'every interview of the stage'}",
        "requires:" if rule.requirements else "requires: nothing but the feedback",
        *(f"  - {requirement(r)}" for r in rule.requirements),
        f"on pass: {outcome(rule, rule.on_pass, catalog)}",
        f"on fail: {outcome(rule, rule.on_fail, catalog)}",
        f"quiet period: {rule.quiet_minutes} min after the last feedback; timeout: {rule.timeout_days} days",
    ]
    if rule.debrief_channel:
        lines.append(f"debrief to: {rule.debrief_channel}")
    return lines


def requirement(r: Requirement) -> str:
    if isinstance(r, Each):
        return f"each interviewer: {condition(r.condition)}"
    if isinstance(r, Aggregate):
        return f"{r.function} of {r.field.title or r.field.path} {r.op} {_value(r.value)}"
    if isinstance(r, CountOf):
        return f"{COUNT_WORDS[r.op]} {r.value} interviewer(s): {condition(r.condition)}"
    return f"no interviewer: {condition(r.condition)}"


def condition(c: Condition) -> str:
    op = {"==": "includes", "!=": "does not include"}.get(c.op, c.op) if c.field.type == "MultiValueSelect" else c.op
    return f"{c.field.title or c.field.path} {op} {_value(c.value)}"


def outcome(rule: Rule, o: Outcome, catalog: Catalog) -> str:
    if isinstance(o, Advance):
        return (
            f"advance to {stage_title(rule, o.to_stage_id, catalog)}" if o.to_stage_id else "advance to the next stage"
        )
    if isinstance(o, Reject):
        reason = catalog.reasons[o.archive_reason_id].text if o.archive_reason_id in catalog.reasons else None
        text = f"reject ({reason or o.archive_reason_id})"
        if o.communication_template_id:
            delay = f" after {o.send_after_hours} h" if o.send_after_hours else ""
            text += f", email template {o.communication_template_id}{delay}"
        return text
    return "hold for a person to decide"


def plan_title(plan_id: str, catalog: Catalog) -> str:
    plan = catalog.plans.get(plan_id)
    return plan.title if plan else plan_id


def stage_title(rule: Rule, stage_id: str, catalog: Catalog) -> str:
    plan = catalog.plans.get(rule.plan_id)
    stage = next((s for s in plan.stages if s.id == stage_id), None) if plan else None
    return stage.title if stage else stage_id


def _value(value: float | str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
