"""The load step of the jobs that act for one interviewer: everything a job decides from, gathered in one
place into one typed value (the interview, who its interviewer is in Slack, what an earlier try did), so
that the decision after it needs no I/O.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from shared import post_marks
from shared.db import reminders as reminders_db
from shared.db.people import Person
from shared.db.reminders import ReminderRow
from shared.feedback_form import FieldMap
from shared.interview import Interview
from shared.modal_cache import load_modal, modal_key, parse_modal_key
from shared.people import resolve_people, resolve_person
from shared.reminder_sends import SendFacts
from workers.deps import Deps
from workers.interview import InterviewGone, load_interview

PEOPLE_MAX_AGE = timedelta(days=7)


async def send_facts(d: Deps, row: ReminderRow) -> SendFacts:
    """What a claimed reminder's send decides from. Raises `InterviewGone`."""
    escalation = row.kind == "escalation"
    interview = await load_interview(
        d, row.event_id, row.interviewer_id, resume_key=modal_key(row.event_id, row.interviewer_id),
        with_form=row.kind in ("due", "overdue"),
    )  # fmt: skip
    state = await reminders_db.escalation_state(d.pool, row.event_id, row.id) if escalation else None
    wanted = (
        [(m.user_id, m.email) for m in interview.hiring_team if m.recruits and m.email]
        if escalation
        else [(interview.interviewer_id, interview.seat.email)]
    )
    people = tuple(await resolve_people(d.pool, d.slack, wanted, now=d.clock(), max_age=PEOPLE_MAX_AGE))
    facts = SendFacts(
        row, interview, people, missing=state.missing if state else (), reached=state.reached if state else frozenset()
    )
    posted = await post_marks.recall(d.queue, row.id, recipients=facts.recipients) if facts.recipients else {}
    return dataclasses.replace(facts, posted=posted)


async def interviewer_of(d: Deps, interview: Interview) -> Person:
    """The interviewer's directory row (Slack user and time zone), looked up in Slack when stale."""
    return await resolve_person(
        d.pool,
        d.slack,
        ashby_user_id=interview.interviewer_id,
        email=interview.seat.email,
        now=d.clock(),
        max_age=PEOPLE_MAX_AGE,
    )


@dataclass(frozen=True)
class FormRequest:
    """Someone asked (a click, a close, a submission) about one interviewer's form."""

    interview: Interview | None  # None: the key names no interview on the schedule
    interviewer_slack_id: str | None
    field_map: FieldMap | None = None  # the one the ingress validated against, when the modal is cached

    def by(self, slack_user_id: str) -> bool:
        return self.interview is not None and self.interviewer_slack_id == slack_user_id


async def form_request(d: Deps, key: str, *, with_form: bool) -> FormRequest:
    """The interview behind a form's key, its interviewer in Slack, and the cached modal's field map."""
    parsed = parse_modal_key(key)
    if parsed is None:
        return FormRequest(None, None)
    try:
        interview = await load_interview(d, *parsed, resume_key=key, with_form=with_form)
    except InterviewGone:
        return FormRequest(None, None)
    person = await resolve_person(
        d.pool, d.slack, ashby_user_id=interview.interviewer_id, email=interview.seat.email, now=d.clock(),
        max_age=PEOPLE_MAX_AGE,
    )  # fmt: skip
    cached = await load_modal(d.queue, key)
    return FormRequest(interview, person.slack_user_id, cached.field_map if cached else None)
