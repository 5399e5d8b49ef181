"""The gauges a worker reads when it is scraped: queue depth and the oldest due job's age per queue (what
autoscalers act on), and how long ago each Ashby sync completed. Read at scrape time rather than on a timer,
so an idle fleet does no work and a scrape always sees the present.

Every worker reports both queues: a pool scaled to zero is still seen by the other pool's workers.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg
from redis.asyncio import Redis

from shared.db import sync_tokens
from shared.jobs import QUEUES
from shared.metrics import Metrics

OBSERVE_TIMEOUT_S = 2.0


async def observe(metrics: Metrics, redis: Redis, pool: asyncpg.Pool | None, *, now: datetime) -> None:
    """Refresh the gauges; bounded by OBSERVE_TIMEOUT_S (a scrape must answer while Redis or PostgreSQL is down:
    the gauges then keep their last values, and the counters are still served)."""
    await asyncio.wait_for(_observe(metrics, redis, pool, now=now), OBSERVE_TIMEOUT_S)


async def _observe(metrics: Metrics, redis: Redis, pool: asyncpg.Pool | None, *, now: datetime) -> None:
    now_ms = now.timestamp() * 1000
    async with redis.pipeline(transaction=False) as pipe:
        for key in QUEUES.values():
            pipe.zcount(key, "-inf", now_ms)  # due jobs: a deferred retry is not waiting for a worker yet
            pipe.zrangebyscore(key, "-inf", now_ms, start=0, num=1, withscores=True)
        answers = await pipe.execute()
    for index, name in enumerate(QUEUES):
        depth, oldest = answers[2 * index], answers[2 * index + 1]
        metrics.queue_depth.labels(name).set(depth)
        metrics.queue_oldest_age.labels(name).set(max(0.0, (now_ms - oldest[0][1]) / 1000) if oldest else 0.0)
    if pool is not None:
        for sync, age in (await sync_tokens.ages(pool, now=now)).items():
            metrics.sync_lag.labels(sync).set(age)
