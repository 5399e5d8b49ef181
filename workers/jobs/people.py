"""resolve_person: match an Ashby interviewer to their Slack account, then plan with their time zone."""

from __future__ import annotations

from typing import Any

from shared.db import reminders as reminders_db
from shared.people import resolve_person as resolve
from workers.deps import deps
from workers.modals import PEOPLE_MAX_AGE
from workers.runtime import job


@job
async def resolve_person(ctx: dict[str, Any], ashby_user_id: str, email: str | None) -> dict[str, Any]:
    d = deps(ctx)
    person = await resolve(
        d.pool, d.slack, ashby_user_id=ashby_user_id, email=email, now=d.clock(), max_age=PEOPLE_MAX_AGE
    )
    # Overdue reminders move to business hours in the interviewer's own zone, now that it is known.
    events = await reminders_db.events_of_interviewer(d.pool, ashby_user_id, now=d.clock())
    if events:
        await reminders_db.plan_events(d.pool, events, d.policy, now=d.clock())
    return {"status": person.status, "replanned": len(events)}
