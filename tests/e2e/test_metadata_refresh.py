"""The Ashby metadata refresher: stale copies are served, one job refreshes them, a busy Ashby waits."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from shared import jobs
from tests.e2e.world import T0, world
from workers.deps import build_deps
from workers.metadata_refresh import REQUEUE_AFTER, STALE_SET, queue_refresh

pytestmark = pytest.mark.e2e

START = T0 + timedelta(days=2)  # scheduled days ahead: ingestion warmed the cache then
BRIEF = timedelta(minutes=10)


async def test_stale_copies_are_served_and_refreshed_once_after_ashby_stops_rate_limiting(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await w.schedule_panel(start=START, interviewers=2, shadows=0)
        assert await redis.scard(STALE_SET) == 0  # ingestion's warm-up ran and emptied the set
        for table in ("ashby_applications", "ashby_interviews"):
            await w.pool.execute(f"UPDATE {table} SET fetched_at = fetched_at - interval '2 days'")
        application_calls = len(w.ashby_sim.calls_to("application.info"))

        # Ashby rate-limits the key for longer than a job waits: both briefs still go out, from the copies.
        w.ashby_sim.faults.rate_limit("application.info", retry_after=120, times=1)
        await w.walk(START - BRIEF)
        alex, blake = w.ashby.interviewer_ids[:2]
        assert w.kinds_to(alex) == w.kinds_to(blake) == ["Upcoming interview"]
        # Two sends found the stale application: one refresher asked once, and kept it for its next run.
        assert len(w.ashby_sim.calls_to("application.info")) == application_calls + 1
        assert await redis.smembers(STALE_SET) == {f"application:{w.ashby.application_id}".encode()}

        await w.run(jobs.REFRESH_METADATA)  # the cron's next run
        assert await redis.scard(STALE_SET) == 0
        assert len(w.ashby_sim.calls_to("application.info")) == application_calls + 2
        fetched_at = await w.pool.fetchval("SELECT fetched_at FROM ashby_applications")
        assert fetched_at == w.clock.now()


async def test_refresh_requests_queue_one_refresher_and_each_object_once_per_window(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await w.schedule_panel(start=START, interviewers=1, shadows=0)  # ingestion queued its objects at T0
        queue = jobs.queue_redis(redis_url)
        try:
            async with build_deps(w.settings, queue, clock=w.clock.now) as d:

                async def request(count: int = 1) -> None:
                    for _ in range(count):
                        await queue_refresh(d, applications=[w.ashby.application_id], interviews=["interview-x"])

                await request()  # the application was queued at this instant already: only the new interview
                assert await redis.smembers(STALE_SET) == {b"interview:interview-x"}
                await redis.delete(STALE_SET)

                w.clock.advance(REQUEUE_AFTER)
                await request(50)
                assert await redis.scard(STALE_SET) == 2
                assert await redis.zcard(jobs.QUEUE_DEFAULT) == 1  # one job, not fifty: one worker slot at most
                await redis.delete(STALE_SET)

                w.clock.advance(REQUEUE_AFTER - timedelta(seconds=1))
                await request()  # Ashby failing these must not make every stale read ask again
                assert await redis.scard(STALE_SET) == 0
        finally:
            await queue.aclose()
