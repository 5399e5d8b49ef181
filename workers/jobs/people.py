"""Matching Ashby interviewers to their Slack accounts, then re-planning their reminders in their time zone.

Lookups wait on Slack's `users.lookupByEmail` budget (tier 3, about 50 a minute), so they go into a work
set (`workers/work_set.py`) drained by one `resolve_people` job at a time: a schedule sync that brings
hundreds of new interviewers holds one worker slot, not all of them.
"""

from __future__ import annotations

from typing import Any

from shared import jobs
from shared.db import reminders as reminders_db
from shared.people import resolve_person
from workers import work_set
from workers.deps import Deps, deps
from workers.job_boundary import job
from workers.modals import PEOPLE_MAX_AGE

PENDING_LOOKUPS = "fleet:people:pending"
IN_FLIGHT = 2


async def queue_lookups(d: Deps, people: list[tuple[str, str | None]]) -> None:
    """Queue (Ashby user id, e-mail) pairs for a Slack lookup."""
    members = [f"{user_id}\n{email or ''}" for user_id, email in people]  # neither holds a newline
    await work_set.add(d.queue, PENDING_LOOKUPS, members, job=jobs.RESOLVE_PEOPLE)


async def _resolve(d: Deps, member: str) -> None:
    ashby_user_id, _, email = member.partition("\n")
    await resolve_person(
        d.pool, d.slack, ashby_user_id=ashby_user_id, email=email or None, now=d.clock(), max_age=PEOPLE_MAX_AGE
    )
    # Overdue reminders move to business hours in the interviewer's own zone, now that it is known.
    events = await reminders_db.events_of_interviewer(d.pool, ashby_user_id, now=d.clock())
    if events:
        await reminders_db.plan_events(d.pool, events, d.policy, now=d.clock())


@job(periodic=True)
async def resolve_people(ctx: dict[str, Any]) -> dict[str, Any]:
    d = deps(ctx)
    return await work_set.drain(d.queue, PENDING_LOOKUPS, lambda member: _resolve(d, member), in_flight=IN_FLIGHT)
