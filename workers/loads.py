"""The load step of the jobs that act for one interviewer: everything a job decides from, gathered in one
place into one typed value (the interview, who its interviewer is in Slack, what an earlier try did), so
that the decision after it needs no I/O.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from shared import post_marks
from shared.advancement.messages import Names
from shared.db import advancement as advancement_db
from shared.db import ashby_cache
from shared.db import catalog as catalog_db
from shared.db import home as home_db
from shared.db import people as people_db
from shared.db import reminders as reminders_db
from shared.db.advancement import DecisionRow
from shared.db.ashby_cache import TeamMember
from shared.db.home import Home
from shared.db.people import MATCHED, Person
from shared.db.reminders import ReminderRow
from shared.feedback_form import FieldMap
from shared.home_view import FETCH_LIMIT
from shared.interview import Interview
from shared.modal_cache import load_modal, modal_key, parse_modal_key
from shared.people import match, resolve_people, resolve_person
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


@dataclass(frozen=True)
class DecisionFacts:
    decision: DecisionRow
    names: Names
    messages: list[tuple[str, str]]  # (channel, ts) of the messages posted so far
    new_recipients: tuple[str, ...]  # where to post it first: the recruiters in Slack, or the rule's channel


async def decision_facts(d: Deps, decision_id: int) -> DecisionFacts | None:
    """A decision with what its message names, where it was posted, and (first time) where to post it."""
    decision = await advancement_db.get_decision(d.pool, decision_id)
    if decision is None:
        return None
    application = await ashby_cache.get_application(d.pool, decision.application_id)
    stages = await catalog_db.stages_of_plans(
        d.pool, {application.plan_id} if application and application.plan_id else set()
    )
    messages = await advancement_db.messages(d.pool, decision_id)
    team = [(m.user_id, m.email) for m in (application.hiring_team if application else ()) if m.recruits and m.email]
    people = await resolve_people(d.pool, d.slack, team, now=d.clock(), max_age=PEOPLE_MAX_AGE) if not messages else []
    recruiters = tuple(dict.fromkeys(p.slack_user_id for p in people if p.status == "matched" and p.slack_user_id))
    names = Names(
        candidate=(application.candidate_name if application else None) or "The candidate",
        candidate_url=application.candidate_url if application else None,
        job=application.job_title if application else None,
        stages={s.id: s.title for plan in stages.values() for s in plan},
    )
    first = () if messages else recruiters or ((decision.channel,) if decision.channel else ())
    return DecisionFacts(decision, names, messages, first)


@dataclass(frozen=True)
class ClickFacts:
    decision: DecisionRow
    hiring_team: tuple[TeamMember, ...]
    clicker_ashby_user_id: str | None


async def click_facts(d: Deps, decision_id: int, slack_user_id: str) -> ClickFacts | None:
    decision = await advancement_db.get_decision(d.pool, decision_id)
    if decision is None:
        return None
    application = await ashby_cache.get_application(d.pool, decision.application_id)
    clicker = await people_db.ashby_user_of(d.pool, slack_user_id)
    return ClickFacts(decision, application.hiring_team if application else (), clicker)


async def home_facts(d: Deps, slack_user_id: str) -> Home:
    """What one person's Home tab (and `/feedback`) shows. Someone the directory does not know yet (a hiring
    manager is never looked up for a reminder) is found by their Slack account's e-mail among the Ashby users
    this system has seen, and kept in the directory."""
    ashby_user_ids, tz = await home_db.ashby_users_of(d.pool, slack_user_id)
    if not ashby_user_ids:
        ashby_user_ids, tz = await _match_from_slack(d, slack_user_id)
    return await home_db.read_home(
        d.pool,
        slack_user_id,
        ashby_user_ids,
        tz=tz,
        now=d.clock(),
        admin=slack_user_id in d.settings.advancement_admins,
        limit=FETCH_LIMIT,
    )


async def _match_from_slack(d: Deps, slack_user_id: str) -> tuple[list[str], str | None]:
    user = await d.slack.user_info(slack_user_id)
    if user is None or user.is_bot or user.deleted or not user.email:
        return [], None
    matched = []
    for ashby_user_id, ashby_email in await home_db.ashby_users_with_email(d.pool, user.email):
        saved = await people_db.save_lookup(d.pool, match(ashby_user_id, ashby_email, user, now=d.clock()))
        if saved is not None and saved.status == MATCHED:  # None: a manual mapping to someone else wins
            matched.append(ashby_user_id)
    return matched, user.tz
