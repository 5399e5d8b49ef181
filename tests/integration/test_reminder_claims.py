"""Claims on reminder rows: a lease, renewed by the job holding it, taken back only once it has expired."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from shared.db import reminders as reminders_db
from shared.reminders import Pace

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


PACE = Pace(per_s=1.0, early=timedelta(minutes=10), max_in_flight=1000)  # 1 message/s: 600 fit in the window


async def a_crowd(pool: asyncpg.Pool, kind: str, count: int, due_at: datetime, *, who: str = "") -> list[int]:
    """`count` reminders of `kind` due at `due_at` for one interview, each for its own interviewer."""
    await pool.execute("INSERT INTO interview_schedules (id, status) VALUES ('s', 'Scheduled') ON CONFLICT DO NOTHING")
    await pool.execute(
        "INSERT INTO interview_events (id, schedule_id, start_time, end_time) VALUES ('e', 's', $1, $2) "
        "ON CONFLICT DO NOTHING",
        NOW + timedelta(minutes=20),
        NOW + timedelta(minutes=80),
    )
    rows = await pool.fetch(
        "INSERT INTO reminders (event_id, interviewer_id, kind, sequence, due_at) "
        "SELECT 'e', $4 || $1 || n, $1, 1, $2 FROM generate_series(1, $3) n RETURNING id",
        kind,
        due_at,
        count,
        who,
    )
    return sorted(r["id"] for r in rows)


async def test_a_crowd_of_briefs_is_claimed_early_and_nothing_else_is(db_pool: asyncpg.Pool) -> None:
    # 600 briefs due in 8 minutes at 1 message/s need 10 minutes, and 50 "due" reminders due in a minute hold
    # 50 s of it: the first 200 briefs (their slots within the next 30 s) are claimed now; the dues are not,
    # however busy the budget.
    briefs = await a_crowd(db_pool, "brief", 600, NOW + timedelta(minutes=8))
    dues = await a_crowd(db_pool, "due", 50, NOW + timedelta(minutes=1))
    claims = await reminders_db.claim_due(db_pool, now=NOW, lease=LEASE, max_failures=3, pace=PACE)
    claimed = [reminder_id for reminder_id, _ in claims.claimed]
    assert claimed == briefs[:200]
    assert not set(claimed) & set(dues)
    # Without a pace (or with no tolerance) nothing is due yet, so nothing is claimed.
    assert await claim(db_pool, now=NOW) == []


async def test_two_dispatches_at_once_claim_each_row_once(db_pool: asyncpg.Pool) -> None:
    await a_crowd(db_pool, "brief", 600, NOW + timedelta(minutes=8))
    await a_crowd(db_pool, "overdue", 100, NOW - timedelta(seconds=5))
    first, second = await asyncio.gather(
        reminders_db.claim_due(db_pool, now=NOW, lease=LEASE, max_failures=3, pace=PACE),
        reminders_db.claim_due(db_pool, now=NOW, lease=LEASE, max_failures=3, pace=PACE),
    )
    a, b = {i for i, _ in first.claimed}, {i for i, _ in second.claimed}
    assert not a & b
    attempts = await db_pool.fetch("SELECT attempts, count(*) AS n FROM reminders GROUP BY attempts ORDER BY 1")
    assert [(r["attempts"], r["n"]) for r in attempts] == [(0, 600 + 100 - len(a | b)), (1, len(a | b))]
    assert len(a | b) >= 100 + 250  # every due row, and the briefs a single dispatch would have claimed


async def test_a_brief_moved_later_since_the_dispatch_read_it_is_not_claimed_early(
    db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The dispatch read the brief as due in 20 s and chose it; the planner then moved the interview two days
    # later before the claim. The claim re-checks the due time.
    [brief] = await a_crowd(db_pool, "brief", 1, NOW + timedelta(days=2))
    monkeypatch.setattr(reminders_db, "choose_claims", lambda *args, **kwargs: [brief])
    claims = await reminders_db.claim_due(db_pool, now=NOW, lease=LEASE, max_failures=3, pace=PACE)
    assert claims.claimed == []
    assert await db_pool.fetchval("SELECT state FROM reminders WHERE id = $1", brief) == "pending"
