"""The dispatcher's own clock, on real Redis and PostgreSQL with a controlled clock: it ticks on time whatever
the `default` queue holds, runs each tick in one process only, and carries on after a tick that failed."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from shared import jobs
from shared.jobs import QUEUE_DEFAULT, queue_redis
from tests.helpers import make_settings
from tests.integration.test_reminder_claims import a_crowd
from workers import dispatch_clock
from workers.deps import build_deps
from workers.jobs.reminders import LEASE
from workers.main import cron_jobs_for
from workers.run_lock import LOCK_PREFIX

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # on a tick


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


class Stop(Exception):
    pass


class Sleeper:
    """The timer's sleep: moves the controlled clock on by what was asked, instantly; stops after `ticks`."""

    def __init__(self, clock: Clock, ticks: int, on_wake: Any = None) -> None:
        self.clock, self.ticks, self.on_wake = clock, ticks, on_wake
        self.woke_at: list[datetime] = []

    async def __call__(self, seconds: float) -> None:
        self.clock.at += timedelta(seconds=seconds)
        self.woke_at.append(self.clock.at)
        if len(self.woke_at) >= self.ticks:
            raise Stop
        if self.on_wake is not None:
            self.on_wake(self.clock.at)


@contextlib.asynccontextmanager
async def worker_ctx(db_url: str, redis_url: str, clock: Clock) -> AsyncIterator[dict[str, Any]]:
    queue = queue_redis(redis_url)
    try:
        async with build_deps(make_settings(db_url, redis_url), queue, clock=clock.now) as deps:
            yield {"deps": deps, "redis": queue, "queue_name": QUEUE_DEFAULT}
    finally:
        await queue.aclose()


async def reminder(pool: asyncpg.Pool, kind: str, due_at: datetime, interviewer: str = "u") -> int:
    [reminder_id] = await a_crowd(pool, kind, 1, due_at, who=interviewer)
    return reminder_id


async def test_the_dispatch_ticks_on_time_while_the_send_queue_is_full(
    db_url: str, redis_url: str, db_pool: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    clock = Clock()
    first = await reminder(db_pool, "due", T0 + timedelta(seconds=20), "a")
    second = await reminder(db_pool, "due", T0 + timedelta(seconds=40), "b")
    async with worker_ctx(db_url, redis_url, clock) as ctx:
        # 2,000 sends queued ahead of anything the dispatch would enqueue, and no worker taking them: an arq
        # cron run would wait behind all of them.
        for n in range(2000):
            await jobs.enqueue_default(ctx["redis"], jobs.SEND_REMINDER, n, 1, job_id=f"backlog:{n}")
        sleeper = Sleeper(clock, ticks=4)
        with pytest.raises(Stop):
            await dispatch_clock.run(ctx, sleep=sleeper)

    # It ran at start (T0), then on each tick: T0+15, T0+30, T0+45 (the fourth sleep ends the test).
    assert sleeper.woke_at[:3] == [T0 + timedelta(seconds=s) for s in (15, 30, 45)]
    leases = {r["id"]: r["lease_until"] for r in await db_pool.fetch("SELECT id, lease_until FROM reminders")}
    assert leases == {first: T0 + timedelta(seconds=30) + LEASE, second: T0 + timedelta(seconds=45) + LEASE}
    queued = await redis.zcard(QUEUE_DEFAULT)
    assert queued == 2000 + 2  # the backlog untouched, and one send per claim behind it
    assert await redis.exists(f"{dispatch_clock.MARK_PREFIX}{int((T0 + timedelta(seconds=45)).timestamp() * 1000)}")


async def test_each_tick_runs_in_one_process_and_never_over_a_running_dispatch(
    db_url: str, redis_url: str, db_pool: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    clock = Clock()
    await reminder(db_pool, "due", T0)
    async with worker_ctx(db_url, redis_url, clock) as a, worker_ctx(db_url, redis_url, clock) as b:
        ran = await asyncio.gather(dispatch_clock.tick_once(a, T0), dispatch_clock.tick_once(b, T0))
        assert sorted(ran) == [False, True]
        assert await db_pool.fetchval("SELECT attempts FROM reminders") == 1
        # The next tick finds the previous dispatch still holding the one-run lock: it does nothing.
        await redis.set(LOCK_PREFIX + dispatch_clock.NAME, "a dispatch still running")
        assert not await dispatch_clock.tick_once(b, T0 + dispatch_clock.TICK)
        await redis.delete(LOCK_PREFIX + dispatch_clock.NAME)
        assert await dispatch_clock.tick_once(b, T0 + 2 * dispatch_clock.TICK)


async def test_a_tick_that_fails_on_redis_is_lost_and_the_next_one_runs(
    db_url: str, redis_url: str, db_pool: asyncpg.Pool
) -> None:
    clock = Clock()
    brief = await reminder(db_pool, "due", T0 + timedelta(seconds=10))
    down = queue_redis("redis://127.0.0.1:1/0", connect_timeout_s=0.2)  # nothing listens there
    async with worker_ctx(db_url, redis_url, clock) as ctx:
        healthy = ctx["deps"]
        ctx["deps"] = dataclasses.replace(healthy, queue=down)

        def redis_back(at: datetime) -> None:
            if at >= T0 + timedelta(seconds=30):
                ctx["deps"] = healthy

        sleeper = Sleeper(clock, ticks=4, on_wake=redis_back)
        try:
            with pytest.raises(Stop):
                await dispatch_clock.run(ctx, sleep=sleeper)
        finally:
            await down.aclose()
    # The ticks at T0 and T0+15 failed (Redis down); the one at T0+30 claimed the row.
    assert await db_pool.fetchval("SELECT lease_until FROM reminders WHERE id = $1", brief) == (
        T0 + timedelta(seconds=30) + LEASE
    )


def test_the_dispatch_is_no_longer_an_arq_cron() -> None:
    assert "cron:dispatch_due_reminders" not in {job.name for job in cron_jobs_for("default")}


async def test_a_stuck_dispatch_is_cut_off_and_frees_the_next_tick(
    db_url: str, redis_url: str, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def stuck(ctx: dict[str, Any]) -> None:
        await asyncio.Event().wait()  # a dead connection that never answers

    monkeypatch.setattr(dispatch_clock, "dispatch_due_reminders", stuck)
    monkeypatch.setattr(dispatch_clock, "DISPATCH_TIMEOUT_S", 0.05)
    async with worker_ctx(db_url, redis_url, Clock()) as ctx:
        with pytest.raises(TimeoutError):
            await dispatch_clock.tick_once(ctx, T0)
        assert not await redis.exists(LOCK_PREFIX + dispatch_clock.NAME)  # the next tick is free to run
