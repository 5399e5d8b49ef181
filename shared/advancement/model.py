"""Advancement rules as the system stores and evaluates them: every name already resolved to Ashby ids.

A rule matches a job (or every job), an interview plan and a stage (the candidate's current stage, the
"from" stage), holds requirements over the feedback of that stage's interviews, and says what to do when
they pass or fail: advance (the next stage in plan order, or a named one), reject (the plan's Archived
stage, with an archive reason and optionally an email template), or hold (ask a human). Its mode says
whether that happens automatically, after a recruiter's approval in Slack, or only as a recorded dry run.

`shared/advancement/rules_file.py` turns a YAML/JSON rules file into these; `shared/db/rules.py` stores
them versioned; `shared/advancement/evaluate.py` evaluates them (pure).
"""

from __future__ import annotations

from typing import Literal

import msgspec

Op = Literal[">=", ">", "<=", "<", "==", "!="]
Mode = Literal["auto", "approve", "dry_run"]
MODES: tuple[Mode, ...] = ("auto", "approve", "dry_run")
OPS: tuple[Op, ...] = (">=", ">", "<=", "<", "==", "!=")


class FieldRef(msgspec.Struct, frozen=True, kw_only=True):
    """A feedback form field, by its Ashby path (how `submittedValues` keys it)."""

    path: str
    type: str  # Ashby's field type: Score, Number, ValueSelect, MultiValueSelect, Boolean, ...
    title: str = ""


class Condition(msgspec.Struct, frozen=True, kw_only=True):
    """One interviewer's value of `field` compared with `value`. Score compares its number (1-4);
    ValueSelect its value; Boolean true/false; MultiValueSelect: `==` means "includes"."""

    field: FieldRef
    op: Op
    value: float | str | bool


class Each(msgspec.Struct, frozen=True, kw_only=True, tag="each"):
    """Every interviewer whose feedback is required satisfies the condition."""

    condition: Condition


class Aggregate(msgspec.Struct, frozen=True, kw_only=True, tag="aggregate"):
    """The minimum, maximum or average of the interviewers' numeric values, compared with `value`."""

    field: FieldRef
    function: Literal["min", "max", "average"]
    op: Op
    value: float


class CountOf(msgspec.Struct, frozen=True, kw_only=True, tag="count"):
    """How many interviewers' values satisfy the condition, compared with `value` (e.g. at least 2 "Hire")."""

    condition: Condition
    op: Op
    value: int


class Veto(msgspec.Struct, frozen=True, kw_only=True, tag="veto"):
    """No interviewer's value may satisfy the condition (e.g. no Strong No)."""

    condition: Condition


Requirement = Each | Aggregate | CountOf | Veto


class Advance(msgspec.Struct, frozen=True, kw_only=True, tag="advance"):
    """To `to_stage_id`, or (None) to the next stage in plan order that is not Offer, Hired or Archived."""

    to_stage_id: str | None = None


class Reject(msgspec.Struct, frozen=True, kw_only=True, tag="reject"):
    """To the plan's Archived stage with an archive reason; optionally an email template, sent after a delay."""

    archive_reason_id: str
    communication_template_id: str | None = None
    send_after_hours: int | None = None


class Hold(msgspec.Struct, frozen=True, kw_only=True, tag="hold"):
    """Ask a human: recorded and posted, nothing moved."""


Outcome = Advance | Reject | Hold


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    version: int = 0  # assigned when stored; a decision is unique per (application, from stage, rule version)
    job_id: str | None = None  # None: every job using the plan
    plan_id: str
    stage_id: str  # the stage the candidate is in (the "from" stage)
    priority: int = 0  # among rules equally specific, higher first
    mode: Mode = "dry_run"
    interview_ids: tuple[str, ...] = ()  # whose feedback must be complete; empty: every interview of the stage
    requirements: tuple[Requirement, ...] = ()
    on_pass: Outcome = msgspec.field(default_factory=Advance)
    on_fail: Outcome = msgspec.field(default_factory=Hold)
    quiet_minutes: int = 30  # re-evaluate this long after the last feedback, not before
    timeout_days: int = 7  # required feedback still missing this long after the stage's last interview: hold
    debrief_channel: str | None = None  # Slack channel id for the debrief summary, once all feedback is in

    @property
    def specificity(self) -> int:
        """A rule for one job is more specific than one for every job."""
        return 1 if self.job_id else 0


class PlanStage(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    type: str  # Ashby's stage type: Lead, PreInterviewScreen, Active, Offer, Hired, Archived
    order: int


rule_encoder = msgspec.json.Encoder()
rule_decoder = msgspec.json.Decoder(Rule)
