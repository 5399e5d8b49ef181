"""The pool's optional query logger: told of every statement its connections run, transactions included."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.db.pool import create_pool


async def test_the_logger_sees_every_statement_of_every_connection(db_url: str) -> None:
    seen: list[Any] = []
    pool = await create_pool(db_url, min_size=2, max_size=2, query_logger=seen.append)
    try:
        async with pool.acquire() as first, pool.acquire() as second:
            async with first.transaction():
                assert await first.fetchval("SELECT $1::jsonb", {"a": 1}) == {"a": 1}  # codecs still set up
            await second.execute("SELECT 2")
        await asyncio.sleep(0)  # asyncpg reports on the next loop iteration
    finally:
        await pool.close()
    queries = [q.query for q in seen]
    assert queries[:4] == ["BEGIN;", "SELECT $1::jsonb", "COMMIT;", "SELECT 2"]
    assert all(q.elapsed >= 0 and q.exception is None for q in seen)


async def test_without_a_logger_nothing_is_attached(db_url: str) -> None:
    pool = await create_pool(db_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            # asyncpg times a statement only when a connection has a logger: none means no cost.
            assert not conn._con._query_loggers
    finally:
        await pool.close()
