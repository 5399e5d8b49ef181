"""Set-based queries for many interview schedules at once: what `shared.db.schedules.upsert_schedule` does for
one, in a fixed number of statements for a whole round (arrays through `unnest`).

Invariants: those of `shared.db.schedules` (nothing deleted, an older `updatedAt` changes nothing, what a
newer payload lacks is marked removed). A round names each schedule and each event at most once
(`shared.webhook_batch.rounds`); within one payload a repeated event or interviewer counts once, its last
copy, as the row-by-row upsert left it.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.db.schedules import ScheduleChange, effective_updated_at, utc
from shared.payloads.ashby import InterviewEvent, InterviewSchedule

_UPSERT_SCHEDULES = """
INSERT INTO interview_schedules AS s
    (id, application_id, interview_stage_id, candidate_id, status, ashby_updated_at, cancelled_at, synced_at)
SELECT n.id, n.application_id, n.interview_stage_id, n.candidate_id, n.status, n.updated_at,
       CASE WHEN n.status = 'Cancelled' THEN $7::timestamptz END, $7
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
    AS n (id, application_id, interview_stage_id, candidate_id, status, updated_at)
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
RETURNING s.id, (xmax = 0) AS inserted
"""

# The time history first, from the rows as they were before this statement (every part of one statement
# reads the same snapshot): an event that is new or whose times differ gets a history row.
_UPSERT_EVENTS = """
WITH n AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[],
                         $7::text[], $8::text[], $9::boolean[], $10::timestamptz[])
        AS n (id, schedule_id, interview_id, start_time, end_time, feedback_link, location, meeting_link,
              has_submitted_feedback, updated_at)
), history AS (
    INSERT INTO interview_event_times (event_id, start_time, end_time, recorded_at)
    SELECT n.id, n.start_time, n.end_time, $11 FROM n LEFT JOIN interview_events e ON e.id = n.id
    WHERE e.id IS NULL OR e.start_time IS DISTINCT FROM n.start_time OR e.end_time IS DISTINCT FROM n.end_time
)
INSERT INTO interview_events AS e
    (id, schedule_id, interview_id, start_time, end_time, feedback_link, location, meeting_link,
     has_submitted_feedback, ashby_updated_at, removed_at, synced_at)
SELECT id, schedule_id, interview_id, start_time, end_time, feedback_link, location, meeting_link,
       has_submitted_feedback, updated_at, NULL, $11
FROM n
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

_UPSERT_INTERVIEWERS = """
INSERT INTO event_interviewers AS i
    (event_id, user_id, email, first_name, last_name, training_role, feedback_required, removed_at, synced_at)
SELECT n.*, NULL, $8 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[])
    AS n (event_id, user_id, email, first_name, last_name, training_role, feedback_required)
ON CONFLICT (event_id, user_id) DO UPDATE SET
    email = excluded.email,
    first_name = excluded.first_name,
    last_name = excluded.last_name,
    training_role = excluded.training_role,
    feedback_required = excluded.feedback_required,
    removed_at = NULL,
    synced_at = excluded.synced_at
"""


def _events_of(schedule: InterviewSchedule) -> list[InterviewEvent]:
    """The payload's events, each id once (its last copy)."""
    return list({e.id: e for e in schedule.interview_events}.values())


async def upsert_round(
    conn: asyncpg.Connection, schedules: list[InterviewSchedule], *, now: datetime
) -> list[ScheduleChange]:
    """Mirror one round of schedule payloads inside the caller's transaction; a change per schedule, in order."""
    if not schedules:
        return []
    ordered = sorted(schedules, key=lambda s: s.id)  # rows locked in one order: concurrent batches queue, not deadlock
    applied = {
        r["id"]: r["inserted"]
        for r in await conn.fetch(
            _UPSERT_SCHEDULES,
            [s.id for s in ordered],
            [s.application_id for s in ordered],
            [s.interview_stage_id for s in ordered],
            [s.candidate_id for s in ordered],
            [s.status for s in ordered],
            [effective_updated_at(s) for s in ordered],
            now,
        )
    }
    fresh = [s for s in ordered if s.id in applied]
    events = sorted(((s.id, e) for s in fresh for e in _events_of(s)), key=lambda pair: pair[1].id)
    removed: dict[str, list[str]] = {}
    if fresh:
        if events:
            await conn.execute(
                _UPSERT_EVENTS,
                [e.id for _, e in events],
                [schedule_id for schedule_id, _ in events],
                [e.interview_id for _, e in events],
                [utc(e.start_time) for _, e in events],
                [utc(e.end_time) for _, e in events],
                [e.feedback_link for _, e in events],
                [e.location for _, e in events],
                [e.meeting_link for _, e in events],
                [e.has_submitted_feedback for _, e in events],
                [utc(e.updated_at) for _, e in events],
                now,
            )
        event_ids = [e.id for _, e in events]
        for r in await conn.fetch(
            "UPDATE interview_events SET removed_at = $3 "
            "WHERE schedule_id = ANY($1::text[]) AND removed_at IS NULL AND NOT (id = ANY($2::text[])) "
            "RETURNING id, schedule_id",
            [s.id for s in fresh],
            event_ids,
            now,
        ):
            removed.setdefault(r["schedule_id"], []).append(r["id"])
        if events:
            await _interviewers(conn, [e for _, e in events], event_ids, now=now)
    changes = []
    for s in schedules:
        if s.id not in applied:
            changes.append(ScheduleChange("stale"))
            continue
        ids = [e.id for e in _events_of(s)]
        changes.append(ScheduleChange("created" if applied[s.id] else "updated", ids + removed.get(s.id, [])))
    return changes


async def _interviewers(
    conn: asyncpg.Connection, events: list[InterviewEvent], event_ids: list[str], *, now: datetime
) -> None:
    seats = {(e.id, i.id): i for e in events for i in e.interviewers}  # each seat once: its last copy
    seats = dict(sorted(seats.items(), key=lambda item: item[0]))
    if seats:
        people = list(seats.values())
        await conn.execute(
            _UPSERT_INTERVIEWERS,
            [event_id for event_id, _ in seats],
            [user_id for _, user_id in seats],
            [i.email for i in people],
            [i.first_name for i in people],
            [i.last_name for i in people],
            [i.training_role for i in people],
            [i.is_feedback_required for i in people],
            now,
        )
    # Driven by the payloads' event ids (the primary key's prefix), as the row-by-row upsert does.
    await conn.execute(
        """
        UPDATE event_interviewers SET removed_at = $4
        WHERE event_id = ANY($1::text[]) AND removed_at IS NULL
          AND (event_id, user_id) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))
        """,
        event_ids,
        [event_id for event_id, _ in seats],
        [user_id for _, user_id in seats],
        now,
    )
