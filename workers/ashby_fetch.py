"""Fetching Ashby metadata (interviews, applications with their candidate, feedback forms) as cache records.

Concurrent fetches of one object in a process share one request: the three sends of a panel's briefs miss
an uncached application together, and without this each asked Ashby for it. Nothing here writes: the
caller stores what it fetched, after every fetch (no network call inside a database write).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar, cast

from shared.db.ashby_cache import CachedApplication, CachedForm, CachedInterview, CachedMetadata, Record, TeamMember
from shared.errors import Transient
from shared.payloads.ashby import Application, Candidate, FeedbackFormDefinition, Interview
from workers.deps import Deps

T = TypeVar("T")


@dataclass(frozen=True)
class Fetched:
    """What a seat's metadata is once the missing copies are fetched; `fresh` is what to store."""

    interview: CachedInterview | None
    application: CachedApplication | None
    form: CachedForm | None
    form_unavailable: bool
    fresh: tuple[Record, ...]


async def fetch_missing(
    d: Deps,
    cached: CachedMetadata,
    *,
    interview_id: str | None,
    application_id: str | None,
    with_form: bool,
) -> Fetched:
    """Fetch what the cache did not have. A form Ashby cannot give now is `form_unavailable`; any other
    failure raises (the job's boundary retries it)."""
    interview = cached.interview or (await fetch_interview(d, interview_id) if interview_id else None)
    application = cached.application or (await fetch_application(d, application_id) if application_id else None)
    form_id = interview.feedback_form_definition_id if interview else None
    form, unavailable = cached.form, False
    if with_form and form_id and form is None:
        try:
            form = await fetch_form(d, form_id)
        except Transient:
            unavailable = True
    pairs = ((interview, cached.interview), (application, cached.application), (form, cached.form))
    fresh = tuple(new for new, old in pairs if new is not None and old is None)
    return Fetched(interview, application, form, unavailable, fresh)


async def fetch_interview(d: Deps, interview_id: str) -> CachedInterview:
    async def fetch() -> CachedInterview:
        return interview_record(await d.ashby.interview_info(interview_id), now=d.clock())

    return await fetch_once(d, f"interview:{interview_id}", fetch)


async def fetch_application(d: Deps, application_id: str) -> CachedApplication:
    async def fetch() -> CachedApplication:
        application = await d.ashby.application_info(application_id)
        candidate = await d.ashby.candidate_info(application.candidate.id)
        return application_record(application, candidate, now=d.clock())

    return await fetch_once(d, f"application:{application_id}", fetch)


async def fetch_form(d: Deps, form_id: str) -> CachedForm:
    async def fetch() -> CachedForm:
        return form_record(await d.ashby.feedback_form_definition_info(form_id), now=d.clock())

    return await fetch_once(d, f"form:{form_id}", fetch)


T = TypeVar("T")


async def fetch_once(d: Deps, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
    """Run `fetch`, or wait for the same fetch already running in this process. The three sends of a
    panel's briefs miss an uncached application together; without this each asked Ashby for it."""
    running = d.fetches.get(key)
    if running is None:
        running = asyncio.ensure_future(fetch())
        d.fetches[key] = running
        running.add_done_callback(lambda _: d.fetches.pop(key, None))
    # One waiter cancelled (its job timed out) leaves the fetch to the others.
    return cast(T, await asyncio.shield(running))


def interview_record(interview: Interview, *, now: datetime) -> CachedInterview:
    return CachedInterview(
        id=interview.id,
        title=interview.external_title or interview.title,
        feedback_form_definition_id=interview.feedback_form_definition_id,
        instructions_plain=interview.instructions_plain,
        job_id=interview.job_id,
        fetched_at=now,
    )


def application_record(application: Application, candidate: Candidate | None, *, now: datetime) -> CachedApplication:
    """What the cache keeps of an application: the candidate's name and current role, never contact details."""
    team = tuple(
        TeamMember(user_id=m.user_id, role=m.role, name=f"{m.first_name} {m.last_name}".strip(), email=m.email)
        for m in application.hiring_team
    )
    stage = application.current_interview_stage
    return CachedApplication(
        id=application.id,
        candidate_id=application.candidate.id,
        candidate_name=(candidate.name if candidate else None) or application.candidate.name,
        candidate_position=candidate.position if candidate else None,
        candidate_company=candidate.company if candidate else None,
        candidate_url=candidate.profile_url if candidate else None,
        job_id=application.job.id if application.job else None,
        job_title=application.job.title if application.job else None,
        stage_title=stage.title if stage else None,
        hiring_team=team,
        fetched_at=now,
        stage_id=stage.id if stage else None,
        plan_id=stage.interview_plan_id if stage else None,
        status=application.status,
    )


def form_record(form: FeedbackFormDefinition, *, now: datetime) -> CachedForm:
    return CachedForm(definition=form, fetched_at=now)


FETCHERS: dict[str, Callable[[Deps, str], Awaitable[Record]]] = {
    "application": fetch_application,
    "interview": fetch_interview,
    "form": fetch_form,
}
