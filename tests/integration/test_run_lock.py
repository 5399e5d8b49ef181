"""`one_run`: one run at a time across processes, on real Redis (redis-py's Lock, extended while it lives)."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from workers.run_lock import LOCK_PREFIX, one_run


async def test_a_second_run_is_refused_while_the_first_holds_the_lock(redis: aioredis.Redis) -> None:
    queue: Any = redis
    async with one_run(queue, "sync", ttl_s=60) as first:
        assert first
        async with one_run(queue, "sync", ttl_s=60) as second:
            assert not second
        assert await redis.exists(LOCK_PREFIX + "sync")  # the refused run did not release the holder's lock
        async with one_run(queue, "other", ttl_s=60) as other:
            assert other  # locks are per name
    async with one_run(queue, "sync", ttl_s=60) as again:
        assert again  # released at the end of the first run


async def test_a_lock_taken_over_after_expiry_is_not_released_by_the_old_holder(redis: aioredis.Redis) -> None:
    queue: Any = redis
    async with one_run(queue, "sync", ttl_s=60) as first:
        assert first
        await redis.set(LOCK_PREFIX + "sync", "a later run's token")  # the first run's lock expired; taken
    assert await redis.get(LOCK_PREFIX + "sync") == b"a later run's token"


async def test_the_lock_is_renewed_while_the_run_lives(redis: aioredis.Redis) -> None:
    queue: Any = redis
    sleeping, wake = asyncio.Event(), asyncio.Event()

    async def sleep(_: float) -> None:  # the renewal loop's clock, advanced by the test
        sleeping.set()
        await wake.wait()
        wake.clear()

    async with one_run(queue, "sync", ttl_s=90, sleep=sleep) as held:
        assert held
        await sleeping.wait()
        sleeping.clear()
        await redis.expire(LOCK_PREFIX + "sync", 5)  # almost run out
        wake.set()
        await sleeping.wait()  # renewed, and asleep again
        assert await redis.ttl(LOCK_PREFIX + "sync") > 60
    assert not await redis.exists(LOCK_PREFIX + "sync")
