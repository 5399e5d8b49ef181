"""Everything a reminder or a feedback modal shows about one (event, interviewer), loaded for a job.

Reads PostgreSQL first. Ashby metadata is served from the caches at any age (stale-while-revalidate):
a copy older than CACHE_TTL is queued for the refresher (workers/metadata.py), never refreshed inline,
so a burst of reminders due at once is paced by Slack alone, not by the Ashby key's budget. Only
metadata never cached is fetched inline (outside any transaction); ingestion warms it ahead. Candidate
e-mail and phone are never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.blocks import ReminderInfo
from shared.db import ashby_cache
from shared.errors import Permanent
from shared.payloads.ashby import FeedbackFormDefinition
from workers.deps import Deps
from workers.metadata import fetch_application, fetch_interview, queue_refresh

CACHE_TTL = timedelta(hours=1)

_CONTEXT = """
SELECT e.id AS event_id, e.interview_id, e.start_time, e.end_time, e.feedback_link, e.meeting_link, e.location,
       e.removed_at IS NOT NULL AS event_removed, s.status = 'Cancelled' AS cancelled, s.application_id,
       i.user_id, i.email, i.first_name, i.last_name, i.feedback_required,
       i.removed_at IS NOT NULL AS interviewer_removed
FROM interview_events e
JOIN interview_schedules s ON s.id = e.schedule_id
JOIN event_interviewers i ON i.event_id = e.id
WHERE e.id = $1 AND i.user_id = $2
"""


class MissingContext(Permanent):
    """The event or interviewer is not (or no longer) known: nothing can be shown."""


@dataclass(frozen=True)
class InterviewContext:
    event_id: str
    interviewer_id: str
    interviewer_email: str | None
    interviewer_name: str
    feedback_required: bool
    start: datetime
    end: datetime
    cancelled: bool
    removed: bool  # the event or this interviewer was removed from the schedule
    application_id: str | None
    interview_title: str
    form_id: str | None
    hiring_team: list[dict[str, Any]]
    candidate_id: str | None
    info: ReminderInfo

    @property
    def active(self) -> bool:
        return not (self.cancelled or self.removed)


async def load_context(
    d: Deps, event_id: str, interviewer_id: str, *, resume_key: str | None = None
) -> InterviewContext:
    row = await d.pool.fetchrow(_CONTEXT, event_id, interviewer_id)
    if row is None:
        raise MissingContext("unknown event or interviewer")
    now = d.clock()
    interview = await _interview(d, row["interview_id"], now)
    application = await _application(d, row["application_id"], now) if row["application_id"] else None
    title = (interview["title"] if interview else None) or "Interview"
    info = ReminderInfo(
        candidate_name=(application["candidate_name"] if application else None) or "the candidate",
        interview_title=title,
        start=row["start_time"],
        end=row["end_time"],
        job_title=application["job_title"] if application else None,
        candidate_position=application["candidate_position"] if application else None,
        candidate_company=application["candidate_company"] if application else None,
        meeting_link=row["meeting_link"],
        location=row["location"],
        instructions=interview["instructions_plain"] if interview else None,
        candidate_url=application["candidate_url"] if application else None,
        feedback_link=row["feedback_link"],
        resume_key=resume_key,
    )
    return InterviewContext(
        event_id=event_id,
        interviewer_id=interviewer_id,
        interviewer_email=row["email"],
        interviewer_name=f"{row['first_name'] or ''} {row['last_name'] or ''}".strip() or "An interviewer",
        feedback_required=row["feedback_required"],
        start=row["start_time"],
        end=row["end_time"],
        cancelled=row["cancelled"],
        removed=row["event_removed"] or row["interviewer_removed"],
        application_id=row["application_id"],
        interview_title=title,
        form_id=interview["feedback_form_definition_id"] if interview else None,
        hiring_team=list(application["hiring_team"]) if application else [],
        candidate_id=application["candidate_id"] if application else None,
        info=info,
    )


async def load_form(d: Deps, form_id: str) -> FeedbackFormDefinition:
    now = d.clock()
    cached = await ashby_cache.get_form(d.pool, form_id)
    if cached is not None and now - cached[1] < CACHE_TTL:
        return cached[0]
    form = await d.ashby.feedback_form_definition_info(form_id)
    await ashby_cache.put_form(d.pool, form, now=now)
    return form


async def _interview(d: Deps, interview_id: str | None, now: datetime) -> Any:
    if not interview_id:
        return None
    cached = await ashby_cache.get_interview(d.pool, interview_id)
    if cached is not None:
        if now - cached["fetched_at"] >= CACHE_TTL:
            await queue_refresh(d, interviews=[interview_id])
        return cached
    await fetch_interview(d, interview_id)
    return await ashby_cache.get_interview(d.pool, interview_id)


async def _application(d: Deps, application_id: str, now: datetime) -> Any:
    cached = await ashby_cache.get_application(d.pool, application_id)
    if cached is not None:
        if now - cached["fetched_at"] >= CACHE_TTL:
            await queue_refresh(d, applications=[application_id])
        return cached
    await fetch_application(d, application_id)
    return await ashby_cache.get_application(d.pool, application_id)
