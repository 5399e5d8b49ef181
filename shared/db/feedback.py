"""Queries for feedback: what exists in Ashby, our own submissions, and drafts.

Invariants: `feedback_received` has one row per (event, interviewer) and recording it skips every
pending reminder of that pair in the same transaction; a submission row is claimed before the Ashby
call and is final once `submitted`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg


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
    pool: asyncpg.Pool, *, event_id: str, interviewer_id: str, ashby_submission_id: str | None, now: datetime
) -> None:
    """Our submission is in Ashby: the claim becomes final and the feedback is recorded, in one transaction."""
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
        )


async def _record_received(
    conn: asyncpg.Connection,
    *,
    event_id: str,
    interviewer_id: str,
    source: str,
    ashby_submission_id: str | None,
    submitted_at: datetime | None,
) -> bool:
    inserted = await conn.fetchval(
        "INSERT INTO feedback_received (event_id, interviewer_id, source, ashby_submission_id, submitted_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        event_id,
        interviewer_id,
        source,
        ashby_submission_id,
        submitted_at,
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


async def fail_submission(pool: asyncpg.Pool, *, event_id: str, interviewer_id: str, error: str) -> int:
    """Record that the claimed submission failed; its attempt number (0 if it was not claimed)."""
    attempt: int | None = await pool.fetchval(
        "UPDATE feedback_submissions SET state = 'failed', error = $3, updated_at = now() "
        "WHERE event_id = $1 AND interviewer_id = $2 AND state = 'submitting' RETURNING attempts",
        event_id,
        interviewer_id,
        error,
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


async def load_draft(pool: asyncpg.Pool, event_id: str, interviewer_id: str) -> dict[str, Any] | None:
    draft: dict[str, Any] | None = await pool.fetchval(
        "SELECT state_values FROM feedback_drafts WHERE event_id = $1 AND interviewer_id = $2", event_id, interviewer_id
    )
    return draft


async def record_synced(
    pool: asyncpg.Pool, found: list[tuple[str, str, str, datetime | None]]
) -> list[tuple[str, str, str]]:
    """Record feedback seen in Ashby (ids only), for events we track and for events we do not know yet: a
    schedule that arrives later then starts with its feedback known (a first full sync of feedback can finish
    before the schedules'). Return the (event, interviewer, submission) pairs that are new for tracked events,
    whose pending reminders were skipped in the same transaction."""
    if not found:
        return []
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """
            WITH inserted AS (
                INSERT INTO feedback_received (event_id, interviewer_id, source, ashby_submission_id, submitted_at)
                SELECT f.event_id, f.interviewer_id, 'ashby', f.submission_id, f.submitted_at
                FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
                     AS f (event_id, interviewer_id, submission_id, submitted_at)
                ON CONFLICT DO NOTHING
                RETURNING event_id, interviewer_id, ashby_submission_id
            )
            SELECT n.event_id, n.interviewer_id, n.ashby_submission_id
            FROM inserted n
            JOIN event_interviewers i ON i.event_id = n.event_id AND i.user_id = n.interviewer_id
            """,
            [f[0] for f in found],
            [f[1] for f in found],
            [f[2] for f in found],
            [f[3] for f in found],
        )
        new = [(r["event_id"], r["interviewer_id"], r["ashby_submission_id"]) for r in rows]
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
    return new
