"""The asyncpg pool: built once per process from settings, closed on shutdown."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.connection import LoggedQuery

# Told of every statement a pool connection runs (its text and time), e.g. to count a job's queries. asyncpg
# times and reports statements only on connections that have one, so a pool without it pays nothing.
QueryLogger = Callable[[LoggedQuery], None]


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb columns read and write as Python objects; every timestamp is a timestamptz in UTC.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, query_logger: QueryLogger | None = None
) -> asyncpg.Pool:
    async def init(conn: asyncpg.Connection) -> None:
        await _init_connection(conn)
        if query_logger is not None:
            conn.add_query_logger(query_logger)

    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init,
        command_timeout=30,
        server_settings={
            "application_name": "fleet",
            "timezone": "UTC",
            # asyncpg prepares every statement; after five runs PostgreSQL may keep one generic plan for it,
            # costed on the table sizes of that moment. Planned on a young, small table that is a sequential
            # scan forever after (ingestion slowed as tables grew: 2 scans of event_interviewers per job).
            "plan_cache_mode": "force_custom_plan",
        },
    )
    assert pool is not None
    return pool


def with_database(dsn: str, database: str) -> str:
    """The same server URL pointing at another database (keeps host, socket and options)."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))
