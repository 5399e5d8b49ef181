"""Draining a work set on real Redis: a busy upstream stops the whole run and loses no item."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from shared.errors import Permanent, Transient
from workers.work_set import _drain, drain

KEY = "fleet:test:work"


class PopAfterPutBack:
    """The Redis client, except that the second SPOP reaches Redis only after the first SADD: a sibling's pop
    on its way while the upstream says wait, the interleaving that let an item be handled twice."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self.pops = 0
        self.put_back = asyncio.Event()

    async def spop(self, key: str) -> Any:
        self.pops += 1
        if self.pops == 2:
            await self.put_back.wait()
        return await self.redis.spop(key)

    async def sadd(self, key: str, *items: str) -> Any:
        added = await self.redis.sadd(key, *items)
        self.put_back.set()
        return added

    async def scard(self, key: str) -> Any:
        return await self.redis.scard(key)


async def test_an_item_put_back_after_a_busy_answer_is_not_handled_again_in_the_run(redis: aioredis.Redis) -> None:
    await redis.sadd(KEY, "a")
    handled: list[str] = []

    async def handle(item: str) -> None:
        handled.append(item)
        raise Transient("rate limited for a minute")

    queue: Any = PopAfterPutBack(redis)
    counts = await _drain(queue, KEY, handle, in_flight=2, budget_s=30)
    assert handled == ["a"]
    assert counts["busy"] == 1 and counts["left"] == 1
    assert await redis.smembers(KEY) == {b"a"}


async def test_refused_items_are_dropped_and_the_rest_handled(redis: aioredis.Redis) -> None:
    await redis.sadd(KEY, "good-1", "gone", "good-2")
    handled: list[str] = []

    async def handle(item: str) -> None:
        if item == "gone":
            raise Permanent("application_not_found")
        handled.append(item)

    counts = await drain(redis, KEY, handle, in_flight=3)  # type: ignore[arg-type]
    assert sorted(handled) == ["good-1", "good-2"]
    assert counts == {"done": 2, "refused": 1, "busy": 0, "left": 0}
