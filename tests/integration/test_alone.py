"""`alone`: one run at a time across processes, on real Redis."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from workers.alone import LOCK_PREFIX, alone


async def test_a_second_run_is_refused_while_the_first_holds_the_lock(redis: aioredis.Redis) -> None:
    queue: Any = redis
    async with alone(queue, "sync", ttl_s=60) as first:
        assert first
        async with alone(queue, "sync", ttl_s=60) as second:
            assert not second
        assert await redis.exists(LOCK_PREFIX + "sync")  # the refused run did not release the holder's lock
        async with alone(queue, "other", ttl_s=60) as other:
            assert other  # locks are per name
    async with alone(queue, "sync", ttl_s=60) as again:
        assert again  # released at the end of the first run


async def test_a_lock_taken_over_after_expiry_is_not_released_by_the_old_holder(redis: aioredis.Redis) -> None:
    queue: Any = redis
    async with alone(queue, "sync", ttl_s=60) as first:
        assert first
        await redis.set(LOCK_PREFIX + "sync", "a later run's token")  # the first run's lock expired; taken
    assert await redis.get(LOCK_PREFIX + "sync") == b"a later run's token"
