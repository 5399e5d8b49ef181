from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis


async def test_fresh_database_has_the_schema(db_pool: asyncpg.Pool) -> None:
    names = {r["name"] for r in await db_pool.fetch("SELECT name FROM schema_migrations")}
    assert "001_interview_schedules.sql" in names
    assert await db_pool.fetchval("SELECT count(*) FROM interview_schedules") == 0


async def test_redis_is_flushed_and_real(redis: aioredis.Redis) -> None:
    assert await redis.dbsize() == 0
    await redis.set("k", "v")
    assert await redis.get("k") == b"v"
