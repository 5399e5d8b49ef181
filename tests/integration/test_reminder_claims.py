"""Claims on reminder rows: a lease, renewed by the job holding it, taken back only once it has expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from shared.db import reminders as reminders_db

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


async def claim(pool: asyncpg.Pool, *, now: datetime) -> list[tuple[int, int]]:
    return (await reminders_db.claim_due(pool, now=now, lease=LEASE, max_failures=3)).claimed


async def a_due_reminder(pool: asyncpg.Pool) -> int:
    await pool.execute("INSERT INTO interview_schedules (id, status) VALUES ('s', 'Scheduled')")
    await pool.execute(
        "INSERT INTO interview_events (id, schedule_id, start_time, end_time) VALUES ('e', 's', $1, $2)",
        NOW + timedelta(minutes=10),
        NOW + timedelta(minutes=70),
    )
    reminder_id: int = await pool.fetchval(
        "INSERT INTO reminders (event_id, interviewer_id, kind, sequence, due_at) VALUES ('e', 'u', 'brief', 1, $1) "
        "RETURNING id",
        NOW,
    )
    return reminder_id


async def test_a_renewed_claim_is_not_taken_and_a_superseded_one_cannot_renew(db_pool: asyncpg.Pool) -> None:
    reminder_id = await a_due_reminder(db_pool)
    assert await claim(db_pool, now=NOW) == [(reminder_id, 1)]
    assert await claim(db_pool, now=NOW + timedelta(minutes=1)) == []

    # The job for claim 1 starts late (a long queue): its lease has run out, but nobody took the row yet.
    late = NOW + timedelta(minutes=3)
    renewed = await reminders_db.renew_claim(db_pool, reminder_id, attempt=1, now=late, lease=LEASE)
    assert renewed is not None and renewed.attempts == 1
    # Renewed, so a dispatch during the job does not take the row (that was a double send).
    assert await claim(db_pool, now=late + timedelta(minutes=1)) == []

    # The job died: once the renewed lease runs out the row is claimed again, and claim 1 is over.
    assert await claim(db_pool, now=late + LEASE + timedelta(seconds=1)) == [(reminder_id, 2)]
    assert await reminders_db.renew_claim(db_pool, reminder_id, attempt=1, now=late, lease=LEASE) is None
    assert not await reminders_db.mark_sent(db_pool, reminder_id, attempt=1, channel="D1", ts="1.0", now=late)
    assert await reminders_db.mark_sent(db_pool, reminder_id, attempt=2, channel="D1", ts="1.0", now=late)


async def test_a_reminder_whose_sends_keep_dying_is_parked_not_claimed_forever(db_pool: asyncpg.Pool) -> None:
    reminder_id = await a_due_reminder(db_pool)
    now = NOW
    for attempt in (1, 2, 3):
        assert await claim(db_pool, now=now) == [(reminder_id, attempt)]
        now += LEASE + timedelta(seconds=1)  # the worker died mid-send; the lease runs out
    claims = await reminders_db.claim_due(db_pool, now=now, lease=LEASE, max_failures=3)
    assert (claims.claimed, claims.parked) == ([], 1)
    row = await db_pool.fetchrow("SELECT state, skip_reason, failures FROM reminders WHERE id = $1", reminder_id)
    assert (row["state"], row["skip_reason"], row["failures"]) == ("failed", "failed:worker_lost_mid_send", 3)
    assert await claim(db_pool, now=now + timedelta(days=1)) == []


async def test_a_send_that_fails_on_a_bug_is_retried_then_parked_with_its_reason(db_pool: asyncpg.Pool) -> None:
    reminder_id = await a_due_reminder(db_pool)
    states = []
    for attempt in (1, 2, 3):
        assert await claim(db_pool, now=NOW) == [(reminder_id, attempt)]
        states.append(
            await reminders_db.record_failure(db_pool, reminder_id, attempt=attempt, error="ValueError", max_failures=3)
        )
    assert states == ["pending", "pending", "failed"]
    row = await db_pool.fetchrow("SELECT state, skip_reason FROM reminders WHERE id = $1", reminder_id)
    assert (row["state"], row["skip_reason"]) == ("failed", "failed:ValueError")
    # A stale claim cannot record anything.
    assert await reminders_db.record_failure(db_pool, reminder_id, attempt=1, error="x", max_failures=3) is None
