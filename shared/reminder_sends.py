"""What to do with one claimed reminder (pure): skip it and why, or deliver it: to the interviewer (with the
feedback form ready in the modal cache), or, for an escalation, to the hiring team's recruiters. A post an
earlier try made and could not record is recorded, not made again.

`decide_send` is a function of the facts a send loaded and the clock; `workers/jobs/reminders.py` acts on
its answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.blocks import EscalationItem, MissingInterviewer, brief_message, due_message, escalation_message
from shared.db.people import Person
from shared.db.reminders import ReminderRow
from shared.feedback_modal import modal_for
from shared.interview import Interview
from shared.modal_cache import CachedModal, modal_key

Posted = tuple[str, str]  # (channel, ts)


@dataclass(frozen=True)
class SendFacts:
    row: ReminderRow
    interview: Interview
    people: tuple[Person, ...]  # the interviewer, or for an escalation the hiring team's recruiters
    posted: dict[str, Posted] = field(default_factory=dict)  # posts Slack took, by recipient (a Slack user id)
    missing: tuple[tuple[str, str | None], ...] = ()  # escalation: (name, Slack id) of those who owe feedback
    reached: frozenset[str] = frozenset()  # escalation: recipients recorded as reached

    @property
    def recipients(self) -> tuple[str, ...]:
        """The matched Slack users among `people`, each once, in order."""
        return tuple(dict.fromkeys(p.slack_user_id for p in self.people if p.status == "matched" and p.slack_user_id))


@dataclass(frozen=True)
class Skip:
    reason: str
    every_escalation_of_the_event: bool = False


@dataclass(frozen=True)
class Deliver:
    recipients: tuple[str, ...]  # Slack users still to reach, in order
    text: str
    blocks: list[dict[str, Any]]
    posted: dict[str, Posted]  # recipients an earlier try posted to without recording it: recorded, not reposted
    modal: CachedModal | None = None  # cached before the button that opens it exists
    escalation: bool = False  # one per event (claimed among its siblings); each recipient recorded as reached


SendPlan = Skip | Deliver


def decide_send(facts: SendFacts, *, now: datetime) -> SendPlan:
    row, interview = facts.row, facts.interview
    recipients = facts.recipients
    if row.kind != "escalation" and recipients and recipients[0] in facts.posted:
        return Deliver(recipients, "", [], facts.posted)  # posted, not recorded: record it whatever changed since
    reason = skip_reason(row, interview, now=now)
    if reason:
        return Skip(reason)
    if row.kind == "escalation":
        return _escalation(facts)
    if not recipients:
        person = facts.people[0] if facts.people else None
        return Skip(f"no_slack_user:{person.status if person else 'unknown'}")
    tz = facts.people[0].tz or "UTC"
    if row.kind == "brief":
        return Deliver(recipients, *brief_message(interview.info, tz=tz), facts.posted)
    key = modal_key(row.event_id, row.interviewer_id)
    text, blocks = due_message(interview.info, tz=tz, kind=row.kind, sequence=row.sequence, reminder_key=key)  # type: ignore[arg-type]
    # Without a form at hand (Ashby down, never cached) the reminder goes anyway: a click renders it later.
    modal = None if interview.form_unavailable else modal_for(interview, recipients[0])
    return Deliver(recipients, text, blocks, facts.posted, modal)


def skip_reason(row: ReminderRow, interview: Interview, *, now: datetime) -> str | None:
    """Why this reminder should not go out any more, if it should not."""
    if interview.seat.cancelled:
        return "event_cancelled"
    if interview.removed:
        return "event_or_interviewer_removed"
    if row.kind == "brief" and now >= interview.start:
        return "event_started"
    if row.kind in ("due", "overdue") and interview.has_feedback:
        return "feedback_submitted"
    return None


def _escalation(facts: SendFacts) -> SendPlan:
    """One message per event to its recruiters and coordinators, listing whose feedback is still missing."""
    if not facts.missing:
        return Skip("feedback_complete", every_escalation_of_the_event=True)
    if not facts.recipients:
        return Skip("no_recruiter_in_slack")
    interview = facts.interview
    item = EscalationItem(
        candidate_name=interview.candidate_name,
        interview_title=interview.title,
        start=interview.start,
        end=interview.end,
        missing=[MissingInterviewer(name=name, slack_user_id=slack_id) for name, slack_id in facts.missing],
        job_title=interview.application.job_title,
        candidate_url=interview.application.candidate_url,
    )
    text, blocks = escalation_message([item], tz="UTC")
    recipients = tuple(r for r in facts.recipients if r not in facts.reached)
    return Deliver(recipients, text, blocks, facts.posted, escalation=True)
