"""Redis's persistence, read from the server: production refuses a Redis that would lose queued jobs."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from shared.durability import RedisNotDurable, check_redis_persistence, redis_persistence


async def test_an_append_only_redis_is_durable(redis: aioredis.Redis) -> None:
    before = await redis.config_get("appendonly")
    await redis.config_set("appendonly", "yes")
    try:
        assert await check_redis_persistence(redis, production=True) == "appendonly"
    finally:
        await redis.config_set("appendonly", before["appendonly"])


async def test_production_refuses_a_redis_without_an_append_only_file(redis: aioredis.Redis) -> None:
    before = await redis.config_get("*")
    await redis.config_set("appendonly", "no")
    await redis.config_set("save", "")
    try:
        assert await redis_persistence(redis) == "none"
        with pytest.raises(RedisNotDurable, match="--appendonly yes"):
            await check_redis_persistence(redis, production=True)
        assert await check_redis_persistence(redis, production=False) == "none"  # development: a warning
        await redis.config_set("save", "3600 1")
        assert await redis_persistence(redis) == "snapshots_only"
    finally:
        await redis.config_set("appendonly", before["appendonly"])
        await redis.config_set("save", before["save"])


class NoConfig(aioredis.Redis):
    """A managed Redis that renamed CONFIG away."""

    async def config_get(self, *args: object, **kwargs: object) -> dict[str, str]:  # type: ignore[override]
        raise ResponseError("unknown command 'CONFIG'")


async def test_a_redis_that_hides_its_configuration_is_reported_unknown(redis_url: str) -> None:
    client = NoConfig.from_url(redis_url)
    try:
        assert await check_redis_persistence(client, production=True) == "unknown"
    finally:
        await client.aclose()
