"""Reading one interviewer's seat on one interview event, as mirrored from Ashby's schedules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class Seat:
    """An interviewer on an event: the event's times and links, the schedule's state, who they are."""

    event_id: str
    interviewer_id: str
    interview_id: str | None
    application_id: str | None
    start: datetime
    end: datetime
    feedback_link: str | None
    meeting_link: str | None
    location: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    feedback_required: bool
    cancelled: bool
    event_removed: bool
    interviewer_removed: bool


_SEAT = """
SELECT e.id AS event_id, i.user_id AS interviewer_id, e.interview_id, s.application_id,
       e.start_time AS start, e.end_time AS "end", e.feedback_link, e.meeting_link, e.location,
       i.email, i.first_name, i.last_name, i.feedback_required,
       s.status = 'Cancelled' AS cancelled, e.removed_at IS NOT NULL AS event_removed,
       i.removed_at IS NOT NULL AS interviewer_removed
FROM interview_events e
JOIN interview_schedules s ON s.id = e.schedule_id
JOIN event_interviewers i ON i.event_id = e.id
WHERE e.id = $1 AND i.user_id = $2
"""


async def seat(pool: asyncpg.Pool, event_id: str, interviewer_id: str) -> Seat | None:
    row = await pool.fetchrow(_SEAT, event_id, interviewer_id)
    return None if row is None else Seat(**dict(row))
