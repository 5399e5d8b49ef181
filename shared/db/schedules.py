"""Queries for the interview-schedule aggregate: schedules, their events, interviewers and time history.

Invariant: nothing is deleted. An update older than what is stored changes nothing; an event or
interviewer missing from a newer payload is marked removed; a cancelled schedule keeps its rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from shared.payloads.ashby import InterviewEvent, InterviewSchedule

CANDIDATE_DELETED = "candidate_deleted"  # the candidate was deleted in Ashby: nothing of theirs is stored again
STORED = frozenset({"created", "updated"})


@dataclass(frozen=True)
class ScheduleChange:
    outcome: str  # "created" | "updated" | "stale" | CANDIDATE_DELETED
    event_ids: list[str] = field(default_factory=list)  # in the payload, then any it no longer has


def utc(value: datetime | None) -> datetime | None:
    """Ashby sends ISO-8601 with `Z`; a timestamp without a zone is read as UTC, never as local time."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def effective_updated_at(schedule: InterviewSchedule) -> datetime | None:
    """The version of a schedule payload: its `updatedAt`, else the newest event `updatedAt`."""
    if schedule.updated_at is not None:
        return utc(schedule.updated_at)
    stamps = [utc(e.updated_at) for e in schedule.interview_events if e.updated_at is not None]
    return max((s for s in stamps if s is not None), default=None)


def moved_events(
    current: dict[str, tuple[datetime, datetime]], events: list[InterviewEvent]
) -> list[tuple[str, datetime, datetime]]:
    """Events that are new or whose start/end differ from what is stored: their new times, for the history."""
    moved = []
    for event in events:
        times = (utc(event.start_time), utc(event.end_time))
        if current.get(event.id) != times:
            moved.append((event.id, times[0], times[1]))
    return moved  # type: ignore[return-value]


_UPSERT_SCHEDULE = """
INSERT INTO interview_schedules AS s
    (id, application_id, interview_stage_id, candidate_id, status, ashby_updated_at, cancelled_at, synced_at)
VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $5 = 'Cancelled' THEN $7::timestamptz END, $7)
ON CONFLICT (id) DO UPDATE SET
    application_id = coalesce(excluded.application_id, s.application_id),
    interview_stage_id = coalesce(excluded.interview_stage_id, s.interview_stage_id),
    candidate_id = coalesce(excluded.candidate_id, s.candidate_id),
    status = excluded.status,
    ashby_updated_at = coalesce(excluded.ashby_updated_at, s.ashby_updated_at),
    cancelled_at = CASE WHEN excluded.status = 'Cancelled' THEN coalesce(s.cancelled_at, excluded.cancelled_at) END,
    synced_at = excluded.synced_at
WHERE s.ashby_updated_at IS NULL OR excluded.ashby_updated_at IS NULL
   OR excluded.ashby_updated_at >= s.ashby_updated_at
RETURNING (xmax = 0) AS inserted
"""

_UPSERT_EVENT = """
INSERT INTO interview_events AS e
    (id, schedule_id, interview_id, start_time, end_time, feedback_link, location, meeting_link,
     has_submitted_feedback, ashby_updated_at, removed_at, synced_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11)
ON CONFLICT (id) DO UPDATE SET
    schedule_id = excluded.schedule_id,
    interview_id = excluded.interview_id,
    start_time = excluded.start_time,
    end_time = excluded.end_time,
    feedback_link = excluded.feedback_link,
    location = excluded.location,
    meeting_link = excluded.meeting_link,
    has_submitted_feedback = excluded.has_submitted_feedback,
    ashby_updated_at = coalesce(excluded.ashby_updated_at, e.ashby_updated_at),
    removed_at = NULL,
    synced_at = excluded.synced_at
"""

_UPSERT_INTERVIEWER = """
INSERT INTO event_interviewers AS i
    (event_id, user_id, email, first_name, last_name, training_role, feedback_required, removed_at, synced_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)
ON CONFLICT (event_id, user_id) DO UPDATE SET
    email = excluded.email,
    first_name = excluded.first_name,
    last_name = excluded.last_name,
    training_role = excluded.training_role,
    feedback_required = excluded.feedback_required,
    removed_at = NULL,
    synced_at = excluded.synced_at
"""


async def upsert_schedule(conn: asyncpg.Connection, schedule: InterviewSchedule, *, now: datetime) -> ScheduleChange:
    """Mirror one schedule payload, inside the caller's transaction (which makes no network call)."""
    events = schedule.interview_events
    event_ids = [e.id for e in events]
    inserted = await conn.fetchval(
        _UPSERT_SCHEDULE,
        schedule.id,
        schedule.application_id,
        schedule.interview_stage_id,
        schedule.candidate_id,
        schedule.status,
        effective_updated_at(schedule),
        now,
    )
    if inserted is None:
        return ScheduleChange("stale")
    rows = await conn.fetch("SELECT id, start_time, end_time FROM interview_events WHERE id = ANY($1)", event_ids)
    current = {r["id"]: (r["start_time"], r["end_time"]) for r in rows}
    await conn.executemany(
        _UPSERT_EVENT,
        [
            (
                e.id,
                schedule.id,
                e.interview_id,
                utc(e.start_time),
                utc(e.end_time),
                e.feedback_link,
                e.location,
                e.meeting_link,
                e.has_submitted_feedback,
                utc(e.updated_at),
                now,
            )
            for e in events
        ],
    )
    moved = [(*times, now) for times in moved_events(current, events)]
    if moved:  # usually nothing moved: skip the round trip
        await conn.executemany(
            "INSERT INTO interview_event_times (event_id, start_time, end_time, recorded_at) VALUES ($1, $2, $3, $4)",
            moved,
        )
    removed = await conn.fetch(
        "UPDATE interview_events SET removed_at = $3 "
        "WHERE schedule_id = $1 AND removed_at IS NULL AND NOT (id = ANY($2)) RETURNING id",
        schedule.id,
        event_ids,
        now,
    )
    pairs = [(e.id, i.id) for e in events for i in e.interviewers]
    await conn.executemany(
        _UPSERT_INTERVIEWER,
        [
            (e.id, i.id, i.email, i.first_name, i.last_name, i.training_role, i.is_feedback_required, now)
            for e in events
            for i in e.interviewers
        ],
    )
    # Driven by the payload's event ids (the primary key's prefix): events missing from the payload are
    # marked removed above, which stops their reminders whatever their interviewers' rows say.
    await conn.execute(
        """
        UPDATE event_interviewers SET removed_at = $4
        WHERE event_id = ANY($1::text[]) AND removed_at IS NULL
          AND (event_id, user_id) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))
        """,
        event_ids,
        [p[0] for p in pairs],
        [p[1] for p in pairs],
        now,
    )
    # Events just removed are returned too: their interviewers' pending reminders must be re-planned (skipped).
    return ScheduleChange("created" if inserted else "updated", event_ids + [r["id"] for r in removed])
