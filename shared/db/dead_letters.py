"""Queries for dead letters: jobs that failed for good, kept for an operator to read and replay.

Invariant: one row per job id; a job that fails again after a replay updates its row (the replay mark is
cleared), so the table holds each failure once, with its latest error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class DeadLetter:
    id: int
    job_id: str
    job_name: str
    queue: str
    subject: str
    args: bytes
    error: str
    attempts: int
    failed_at: datetime
    replayed_at: datetime | None
    replay_job_id: str | None


_COLUMNS = "id, job_id, job_name, queue, subject, args, error, attempts, failed_at, replayed_at, replay_job_id"


async def record(
    pool: asyncpg.Pool,
    *,
    job_id: str,
    job_name: str,
    queue: str,
    subject: str,
    args: bytes,
    error: str,
    attempts: int,
    now: datetime,
) -> int:
    dead_letter_id: int = await pool.fetchval(
        """
        INSERT INTO dead_letters (job_id, job_name, queue, subject, args, error, attempts, failed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (job_id) DO UPDATE SET error = excluded.error, attempts = excluded.attempts,
            failed_at = excluded.failed_at, replayed_at = NULL, replay_job_id = NULL
        RETURNING id
        """,
        job_id,
        job_name,
        queue,
        subject,
        args,
        error,
        attempts,
        now,
    )
    return dead_letter_id


async def list_open(pool: asyncpg.Pool, *, limit: int = 100) -> list[DeadLetter]:
    """Dead letters not replayed yet, newest first."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM dead_letters WHERE replayed_at IS NULL ORDER BY failed_at DESC, id DESC LIMIT $1",
        limit,
    )
    return [DeadLetter(**dict(r)) for r in rows]


async def get(pool: asyncpg.Pool, dead_letter_id: int) -> DeadLetter | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = $1", dead_letter_id)
    return None if row is None else DeadLetter(**dict(row))


async def mark_replayed(pool: asyncpg.Pool, dead_letter_id: int, *, replay_job_id: str, now: datetime) -> bool:
    """Mark the row replayed; False when it was already (another operator got there first)."""
    status = await pool.execute(
        "UPDATE dead_letters SET replayed_at = $2, replay_job_id = $3 WHERE id = $1 AND replayed_at IS NULL",
        dead_letter_id,
        now,
        replay_job_id,
    )
    return str(status).endswith(" 1")


async def count_open(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL")
    return count
