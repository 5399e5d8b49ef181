"""Evaluating one application against the rules (pure): is the evidence in, does it pass, what follows.

The evidence is the feedback of the interviews of the candidate's current stage, whichever schedules they
were booked in. Only interviewers whose feedback Ashby requires are waited for (shadows are not), matched by
identity, never counted. Feedback still coming: wait, and look again at the timeout; all in but the last
piece recent: wait out the quiet period; all in: the rule's requirements decide, and its outcome becomes a
concrete move: the next stage in plan order (never into Offer or Hired unless the rule names it), the plan's
Archived stage with a reason, or a hold that says why. Nothing moves a candidate out of Archived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.advancement.model import (
    Advance,
    Aggregate,
    Condition,
    CountOf,
    Each,
    FieldRef,
    Hold,
    Op,
    PlanStage,
    Reject,
    Requirement,
    Rule,
    Veto,
)
from shared.advancement.precedence import matching_rule
from shared.payloads.ashby import parse_score

GUARDED_TYPES = frozenset({"Offer", "Hired"})  # entered only when a rule names the stage
ARCHIVED = "Archived"


@dataclass(frozen=True)
class Feedback:
    values: dict[str, Any] | None  # Ashby's submittedValues (field path -> value); None: not synced yet
    submitted_at: datetime | None


@dataclass(frozen=True)
class Seat:
    """One interviewer on one event of the stage."""

    event_id: str
    interview_id: str | None
    interviewer_id: str
    name: str
    feedback_required: bool
    event_end: datetime
    feedback: Feedback | None = None


@dataclass(frozen=True)
class Evidence:
    application_id: str
    job_id: str | None
    plan_id: str | None
    stage_id: str | None  # the candidate's current stage
    status: str  # Active, Archived, Hired, ...
    seats: tuple[Seat, ...] = ()


@dataclass(frozen=True)
class Wait:
    """Nothing to decide yet; look again at `until` (None: when something changes)."""

    reason: str
    until: datetime | None = None


@dataclass(frozen=True)
class NoRule:
    reason: str


@dataclass(frozen=True)
class RequirementResult:
    requirement: str  # what it asked, in words
    passed: bool
    detail: str  # what it found


@dataclass(frozen=True)
class Decision:
    rule: Rule
    outcome: str  # advance | reject | hold
    passed: bool  # the requirements' verdict (a timeout hold did not get that far: False)
    reason: str
    to_stage_id: str | None = None
    archive_reason_id: str | None = None
    communication_template_id: str | None = None
    send_after_hours: int | None = None
    interviewers: tuple[dict[str, Any], ...] = ()  # each interviewer's values of the fields the rule reads
    results: tuple[RequirementResult, ...] = ()

    @property
    def evidence(self) -> dict[str, Any]:
        """What the decision was based on, as the audit keeps it."""
        return {
            "rule": self.rule.name,
            "rule_version": self.rule.version,
            "passed": self.passed,
            "reason": self.reason,
            "interviewers": list(self.interviewers),
            "requirements": [
                {"requirement": r.requirement, "passed": r.passed, "detail": r.detail} for r in self.results
            ],
        }


Evaluation = Wait | NoRule | Decision


def evaluate(evidence: Evidence, rules: Sequence[Rule], stages: Sequence[PlanStage], *, now: datetime) -> Evaluation:
    if evidence.status == ARCHIVED or _stage(stages, evidence.stage_id, ARCHIVED):
        return NoRule("archived: nothing moves a candidate out of Archived")
    if evidence.plan_id is None or evidence.stage_id is None:
        return NoRule("no interview plan or stage known for the application")
    rule = matching_rule(rules, job_id=evidence.job_id, plan_id=evidence.plan_id, stage_id=evidence.stage_id)
    if rule is None:
        return NoRule("no rule for this job, plan and stage")
    seats = [s for s in evidence.seats if not rule.interview_ids or s.interview_id in rule.interview_ids]
    scheduled = {s.interview_id for s in seats}
    unscheduled = [i for i in rule.interview_ids if i not in scheduled]
    required = [s for s in seats if s.feedback_required]
    missing = [s for s in required if s.feedback is None]
    last_end = max((s.event_end for s in seats), default=None)
    if unscheduled or not required or missing:
        if last_end is not None and not unscheduled and now - last_end >= timedelta(days=rule.timeout_days):
            names = ", ".join(sorted({s.name for s in missing}))
            return _decide(rule, Hold(), stages, evidence, seats, (), passed=False, reason=f"timeout: missing {names}")
        if unscheduled:
            return Wait(f"{len(unscheduled)} required interview(s) not scheduled yet")
        if not required:
            return Wait("no interviewer whose feedback is required is booked for the stage yet")
        return Wait(f"waiting for {len(missing)} interviewer(s)", until=last_end + timedelta(days=rule.timeout_days))
    last_feedback = max(
        (s.feedback.submitted_at for s in required if s.feedback and s.feedback.submitted_at), default=None
    )
    if last_feedback is not None and now < last_feedback + timedelta(minutes=rule.quiet_minutes):
        return Wait("quiet period after the last feedback", until=last_feedback + timedelta(minutes=rule.quiet_minutes))
    unread = [s for s in required if s.feedback is not None and s.feedback.values is None]
    if unread:
        # Feedback exists but its answers are not here (not synced yet, or cleared by retention): judging them
        # as empty would fail them. Wait for the sync; past the timeout a person decides.
        names = ", ".join(sorted({s.name for s in unread}))
        if last_end is not None and now - last_end >= timedelta(days=rule.timeout_days):
            return _decide(
                rule, Hold(), stages, evidence, seats, (), passed=False, reason=f"answers unavailable: {names}"
            )
        until = last_end + timedelta(days=rule.timeout_days) if last_end is not None else None
        return Wait(f"answers not synced for {len(unread)} interviewer(s)", until=until)
    results = tuple(check(requirement, required) for requirement in rule.requirements)
    passed = all(r.passed for r in results)
    outcome = rule.on_pass if passed else rule.on_fail
    reason = "requirements met" if passed else "requirements not met"
    return _decide(rule, outcome, stages, evidence, required, results, passed=passed, reason=reason)


def _decide(
    rule: Rule,
    outcome: Advance | Reject | Hold,
    stages: Sequence[PlanStage],
    evidence: Evidence,
    seats: Sequence[Seat],
    results: tuple[RequirementResult, ...],
    *,
    passed: bool,
    reason: str,
) -> Decision:
    shown = tuple(_values_shown(rule, seats))
    base = {"rule": rule, "passed": passed, "interviewers": shown, "results": results}
    if isinstance(outcome, Hold):
        return Decision(outcome="hold", reason=reason, **base)
    if isinstance(outcome, Reject):
        archived = next((s for s in stages if s.type == ARCHIVED), None)
        if archived is None:
            return Decision(outcome="hold", reason=f"{reason}; the plan has no Archived stage to reject to", **base)
        return Decision(
            outcome="reject",
            reason=reason,
            to_stage_id=archived.id,
            archive_reason_id=outcome.archive_reason_id,
            communication_template_id=outcome.communication_template_id,
            send_after_hours=outcome.send_after_hours,
            **base,
        )
    target = _next_stage(stages, evidence.stage_id, outcome.to_stage_id)
    if isinstance(target, str):
        return Decision(outcome="hold", reason=f"{reason}; {target}", **base)
    return Decision(outcome="advance", reason=reason, to_stage_id=target.id, **base)


def _next_stage(stages: Sequence[PlanStage], current: str | None, named: str | None) -> PlanStage | str:
    """The stage to advance to, or why there is none."""
    if named is not None:
        target = _stage(stages, named, None)
        return target if target is not None else "the stage the rule names is no longer in the plan"
    here = _stage(stages, current, None)
    if here is None:
        return "the candidate's stage is no longer in the plan"
    later = sorted((s for s in stages if s.order > here.order and s.type != ARCHIVED), key=lambda s: s.order)
    if not later:
        return "no later stage in the plan"
    if later[0].type in GUARDED_TYPES:
        return f"the next stage is {later[0].title} ({later[0].type}): a rule must name it to advance there"
    return later[0]


def _stage(stages: Sequence[PlanStage], stage_id: str | None, of_type: str | None) -> PlanStage | None:
    return next((s for s in stages if s.id == stage_id and (of_type is None or s.type == of_type)), None)


def _fields(rule: Rule) -> list[FieldRef]:
    found: dict[str, FieldRef] = {}
    for requirement in rule.requirements:
        ref = requirement.field if isinstance(requirement, Aggregate) else requirement.condition.field
        found.setdefault(ref.path, ref)
    return list(found.values())


def _values_shown(rule: Rule, seats: Sequence[Seat]) -> list[dict[str, Any]]:
    """Each interviewer's values of the fields the rule reads: headline scores, not the whole scorecard."""
    return [
        {
            "interviewer_id": s.interviewer_id,
            "name": s.name,
            "interview_id": s.interview_id,
            "values": {
                ref.title or ref.path: value(ref, s.feedback.values or {})
                for ref in _fields(rule)
                if s.feedback is not None
            },
        }
        for s in seats
    ]


# --- requirements -------------------------------------------------------------------------------


def value(ref: FieldRef, values: dict[str, Any]) -> Any:
    """A field's value as rules compare it: a Score's number, a Number's number, a select's value, a bool."""
    raw = values.get(ref.path)
    if raw is None:
        return None
    if ref.type == "Score":
        return parse_score(raw)
    if ref.type == "Number":
        return raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None
    if ref.type == "Boolean":
        return raw if isinstance(raw, bool) else None
    if ref.type == "MultiValueSelect":
        return [str(v) for v in raw] if isinstance(raw, list) else None
    return str(raw) if isinstance(raw, str | int | float) else None


def satisfies(actual: Any, op: Op, expected: float | str | bool) -> bool:
    if actual is None:
        return False
    if isinstance(actual, list):  # MultiValueSelect: == means includes
        return (str(expected) in actual) == (op == "==") if op in ("==", "!=") else False
    if isinstance(actual, bool) or isinstance(expected, bool):
        return (actual == expected) == (op == "==") if op in ("==", "!=") else False
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return _compare(float(actual), op, float(expected))
    if op in ("==", "!="):
        return (str(actual) == str(expected)) == (op == "==")
    return False


def _compare(a: float, op: Op, b: float) -> bool:
    return {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b, "==": a == b, "!=": a != b}[op]


def _describe(condition: Condition) -> str:
    return f"{condition.field.title or condition.field.path} {condition.op} {condition.value}"


def check(requirement: Requirement, seats: Sequence[Seat]) -> RequirementResult:
    """One requirement over the required interviewers' feedback (all of it is in when this runs)."""
    values = [(s, value(_ref(requirement), (s.feedback.values if s.feedback else None) or {})) for s in seats]
    if isinstance(requirement, Each):
        failing = [s.name for s, v in values if not satisfies(v, requirement.condition.op, requirement.condition.value)]
        detail = "all do" if not failing else f"not: {', '.join(sorted(failing))}"
        return RequirementResult(f"each: {_describe(requirement.condition)}", not failing, detail)
    if isinstance(requirement, Veto):
        vetoing = [s.name for s, v in values if satisfies(v, requirement.condition.op, requirement.condition.value)]
        detail = "nobody" if not vetoing else f"vetoed by {', '.join(sorted(vetoing))}"
        return RequirementResult(f"veto: {_describe(requirement.condition)}", not vetoing, detail)
    if isinstance(requirement, CountOf):
        count = sum(satisfies(v, requirement.condition.op, requirement.condition.value) for _, v in values)
        passed = _compare(float(count), requirement.op, float(requirement.value))
        asked = f"count of {_describe(requirement.condition)} {requirement.op} {requirement.value}"
        return RequirementResult(asked, passed, f"{count} of {len(values)}")
    numbers = [float(v) for _, v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    name = requirement.field.title or requirement.field.path
    asked = f"{requirement.function} of {name} {requirement.op} {requirement.value}"
    if not numbers:
        return RequirementResult(asked, False, "no values")
    found = {"min": min(numbers), "max": max(numbers), "average": sum(numbers) / len(numbers)}[requirement.function]
    return RequirementResult(asked, _compare(found, requirement.op, requirement.value), f"{found:g}")


def _ref(requirement: Requirement) -> FieldRef:
    return requirement.field if isinstance(requirement, Aggregate) else requirement.condition.field
