"""Queries for feedback: what exists in Ashby, our own submissions, and drafts.

Invariants: `feedback_received` has one row per (event, interviewer) and recording it skips every
pending reminder of that pair in the same transaction; a submission row is claimed before the Ashby
call and is final once `submitted`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from shared.db.advancement import mark_dirty_for_events


async def record_received(
    pool: asyncpg.Pool,
    *,
    event_id: str,
    interviewer_id: str,
    source: str,
    ashby_submission_id: str | None,
    submitted_at: datetime | None,
) -> bool:
    """Remember that this interviewer's feedback for this event exists (stopping their reminders, dropping
    their draft); True the first time."""
    async with pool.acquire() as conn, conn.transaction():
        return await _record_received(
            conn,
            event_id=event_id,
            interviewer_id=interviewer_id,
            source=source,
            ashby_submission_id=ashby_submission_id,
            submitted_at=submitted_at,
        )


async def record_submitted(
    pool: asyncpg.Pool,
    *,
    event_id: str,
    interviewer_id: str,
    ashby_submission_id: str | None,
    values: dict[str, Any],
    now: datetime,
) -> None:
    """Our submission is in Ashby: the claim becomes final and the feedback (with its values) is recorded, in
    one transaction, which also queues the application for advancement."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE feedback_submissions SET state = 'submitted', ashby_submission_id = $3, error = NULL, "
            "updated_at = now() WHERE event_id = $1 AND interviewer_id = $2",
            event_id,
            interviewer_id,
            ashby_submission_id,
        )
        await _record_received(
            conn,
            event_id=event_id,
            interviewer_id=interviewer_id,
            source="slack",
            ashby_submission_id=ashby_submission_id,
            submitted_at=now,
            values=values,
        )
        await mark_dirty_for_events(conn, [event_id], reason="feedback", at=now)


async def _record_received(
    conn: asyncpg.Connection,
    *,
    event_id: str,
    interviewer_id: str,
    source: str,
    ashby_submission_id: str | None,
    submitted_at: datetime | None,
    values: dict[str, Any] | None = None,
) -> bool:
    inserted = await conn.fetchval(
        "INSERT INTO feedback_received (event_id, interviewer_id, source, ashby_submission_id, submitted_at, "
        "submitted_values) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
        event_id,
        interviewer_id,
        source,
        ashby_submission_id,
        submitted_at,
        values,
    )
    await conn.execute(
        "UPDATE reminders SET state = 'skipped', skip_reason = 'feedback_submitted', lease_until = NULL, "
        "updated_at = now() WHERE event_id = $1 AND interviewer_id = $2 AND kind <> 'escalation' "
        "AND state = 'pending'",
        event_id,
        interviewer_id,
    )
    await conn.execute(
        "DELETE FROM feedback_drafts WHERE event_id = $1 AND interviewer_id = $2", event_id, interviewer_id
    )
    return bool(inserted)


async def has_feedback(pool: asyncpg.Pool, event_id: str, interviewer_id: str) -> bool:
    return bool(
        await pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM feedback_received WHERE event_id = $1 AND interviewer_id = $2)",
            event_id,
            interviewer_id,
        )
    )


async def claim_submission(
    pool: asyncpg.Pool,
    *,
    event_id: str,
    interviewer_id: str,
    slack_user_id: str,
    field_submissions: list[dict[str, Any]],
) -> int | None:
    """Mark the pair as being submitted; the claim's attempt number, or None when it was submitted already
    (nothing more to do)."""
    attempt: int | None = await pool.fetchval(
        """
        INSERT INTO feedback_submissions (event_id, interviewer_id, slack_user_id, state, field_submissions)
        VALUES ($1, $2, $3, 'submitting', $4)
        ON CONFLICT (event_id, interviewer_id) DO UPDATE SET
            state = 'submitting', slack_user_id = excluded.slack_user_id,
            field_submissions = excluded.field_submissions, error = NULL,
            attempts = feedback_submissions.attempts + 1, updated_at = now()
        WHERE feedback_submissions.state <> 'submitted'
        RETURNING attempts
        """,
        event_id,
        interviewer_id,
        slack_user_id,
        field_submissions,
    )
    return attempt


async def keep_as_draft(
    pool: asyncpg.Pool, *, event_id: str, interviewer_id: str, draft: dict[str, Any], error: str
) -> int:
    """A submission that did not go in: its claim (if any) fails with `error` and the answers are kept as the
    draft, in one transaction. The claim's attempt number (0 when there was no claim)."""
    async with pool.acquire() as conn, conn.transaction():
        attempt: int | None = await conn.fetchval(
            "UPDATE feedback_submissions SET state = 'failed', error = $3, updated_at = now() "
            "WHERE event_id = $1 AND interviewer_id = $2 AND state = 'submitting' RETURNING attempts",
            event_id,
            interviewer_id,
            error,
        )
        await conn.execute(
            "INSERT INTO feedback_drafts (event_id, interviewer_id, state_values) VALUES ($1, $2, $3) "
            "ON CONFLICT (event_id, interviewer_id) DO UPDATE SET state_values = excluded.state_values, "
            "updated_at = now()",
            event_id,
            interviewer_id,
            draft,
        )
    return attempt or 0


async def save_draft(pool: asyncpg.Pool, *, event_id: str, interviewer_id: str, state_values: dict[str, Any]) -> None:
    await pool.execute(
        "INSERT INTO feedback_drafts (event_id, interviewer_id, state_values) VALUES ($1, $2, $3) "
        "ON CONFLICT (event_id, interviewer_id) DO UPDATE SET state_values = excluded.state_values, updated_at = now()",
        event_id,
        interviewer_id,
        state_values,
    )


async def record_synced(
    pool: asyncpg.Pool, found: list[tuple[str, str, str, datetime | None, dict[str, Any]]], *, now: datetime
) -> list[tuple[str, str, str]]:
    """Record feedback seen in Ashby, with its values, for events we track and for events we do not know yet:
    a schedule that arrives later then starts with its feedback known (a first full sync of feedback can
    finish before the schedules'). A scorecard edited in Ashby updates its values. In the same transaction:
    pending reminders of new feedback are skipped, and the applications whose evidence changed are queued
    for advancement. Returns the (event, interviewer, submission) pairs that are new for tracked events."""
    if not found:
        return []
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """
            WITH upserted AS (
                INSERT INTO feedback_received
                    (event_id, interviewer_id, source, ashby_submission_id, submitted_at, submitted_values)
                SELECT f.event_id, f.interviewer_id, 'ashby', f.submission_id, f.submitted_at, f.submitted_values
                FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[])
                     AS f (event_id, interviewer_id, submission_id, submitted_at, submitted_values)
                ON CONFLICT (event_id, interviewer_id) DO UPDATE SET
                    submitted_values = excluded.submitted_values,
                    submitted_at = coalesce(excluded.submitted_at, feedback_received.submitted_at)
                WHERE feedback_received.submitted_values IS DISTINCT FROM excluded.submitted_values
                RETURNING event_id, interviewer_id, ashby_submission_id, xmax = 0 AS inserted
            )
            SELECT n.event_id, n.interviewer_id, n.ashby_submission_id, n.inserted
            FROM upserted n
            JOIN event_interviewers i ON i.event_id = n.event_id AND i.user_id = n.interviewer_id
            """,
            [f[0] for f in found],
            [f[1] for f in found],
            [f[2] for f in found],
            [f[3] for f in found],
            [f[4] for f in found],
        )
        new = [(r["event_id"], r["interviewer_id"], r["ashby_submission_id"]) for r in rows if r["inserted"]]
        if new:
            await conn.execute(
                """
                UPDATE reminders r SET state = 'skipped', skip_reason = 'feedback_submitted', lease_until = NULL,
                    updated_at = now()
                FROM unnest($1::text[], $2::text[]) AS n (event_id, interviewer_id)
                WHERE r.event_id = n.event_id AND r.interviewer_id = n.interviewer_id
                  AND r.kind <> 'escalation' AND r.state = 'pending'
                """,
                [n[0] for n in new],
                [n[1] for n in new],
            )
        await mark_dirty_for_events(conn, [r["event_id"] for r in rows], reason="feedback", at=now)
    return new
