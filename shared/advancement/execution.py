"""Carrying out a decision, decided from what Ashby says now (pure), and who may approve one.

`application.changeStage` has no idempotency key. Just before it, the executor re-reads the application:
a candidate no longer in the decision's from-stage (moved by hand meanwhile, or archived) supersedes the
decision and nothing is called; a candidate in the target stage after an earlier try marked that it was
calling means that call landed (its answer was lost, or its worker died right after it), and it is
recorded, not repeated.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.db.advancement import DecisionRow
from shared.db.ashby_cache import TeamMember
from shared.payloads.ashby import Application


@dataclass(frozen=True)
class Landed:
    """The candidate is in the target stage already: an earlier call landed. Record it."""

    stage_id: str


@dataclass(frozen=True)
class Superseded:
    reason: str


@dataclass(frozen=True)
class Move:
    stage_id: str
    archive_reason_id: str | None = None
    communication_template_id: str | None = None
    send_at: datetime | None = None


Execution = Landed | Superseded | Move


def decide_execution(decision: DecisionRow, application: Application, *, now: datetime) -> Execution:
    current = application.current_interview_stage.id if application.current_interview_stage else None
    if decision.called_at is not None and decision.to_stage_id is not None and current == decision.to_stage_id:
        return Landed(current)
    if application.status == "Archived":
        return Superseded("the candidate was archived meanwhile")
    if current != decision.from_stage_id:
        return Superseded("the candidate was moved meanwhile")
    if decision.to_stage_id is None:
        return Superseded("the decision names no stage to move to")
    if decision.outcome == "reject":
        send_at = now + timedelta(hours=decision.send_after_hours) if decision.send_after_hours else None
        return Move(
            decision.to_stage_id,
            archive_reason_id=decision.archive_reason_id,
            communication_template_id=decision.communication_template_id,
            send_at=send_at if decision.communication_template_id else None,
        )
    return Move(decision.to_stage_id)


Verdict = str  # approved | refused | held


@dataclass(frozen=True)
class Refused:
    reason: str


def authorize(
    clicker_ashby_user_id: str | None,
    clicker_slack_user_id: str,
    *,
    hiring_team: Collection[TeamMember],
    admins: Collection[str],
) -> Refused | None:
    """Only the application's hiring team (as Ashby lists it) and the configured admins may decide."""
    if clicker_slack_user_id in admins:
        return None
    if clicker_ashby_user_id is not None and any(m.user_id == clicker_ashby_user_id for m in hiring_team):
        return None
    return Refused("only this candidate's hiring team in Ashby, or an advancement admin, can decide this")
