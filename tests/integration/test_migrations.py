"""Migrations: concurrent runners, checksums, and a worker refusing a database that is behind."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from shared.db.migrations import (
    MigrationError,
    apply_migrations,
    assert_up_to_date,
    default_directory,
    load_migrations,
)
from shared.db.pool import with_database


@pytest.fixture
async def empty_db(pg_server_url: str) -> AsyncIterator[str]:
    name = f"fleet_empty_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(pg_server_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    yield with_database(pg_server_url, name)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def run_fleet_migrate(database_url: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_FORMAT": "json"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fleet.cli",
        "migrate",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_two_fleet_migrate_processes_at_once_apply_each_file_once(empty_db: str) -> None:
    (code_a, out_a), (code_b, out_b) = await asyncio.gather(run_fleet_migrate(empty_db), run_fleet_migrate(empty_db))
    assert (code_a, code_b) == (0, 0), out_a + out_b
    conn = await asyncpg.connect(empty_db)
    try:
        names = [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY name")]
    finally:
        await conn.close()
    assert names == [m.name for m in load_migrations(default_directory())]
    # Exactly one of the two runners did the work; the other found nothing pending.
    assert sum("none pending" in out for out in (out_a, out_b)) == 1


async def test_a_changed_applied_file_is_refused(empty_db: str, tmp_path: Path) -> None:
    (tmp_path / "001_first.sql").write_text("CREATE TABLE a (id int);")
    conn = await asyncpg.connect(empty_db)
    try:
        assert await apply_migrations(conn, load_migrations(tmp_path)) == ["001_first.sql"]
        (tmp_path / "001_first.sql").write_text("CREATE TABLE a (id bigint);")
        with pytest.raises(MigrationError, match=r"001_first\.sql changed after it was applied"):
            await apply_migrations(conn, load_migrations(tmp_path))
        with pytest.raises(MigrationError, match="changed"):
            await assert_up_to_date(conn, load_migrations(tmp_path))
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_half_applied(empty_db: str, tmp_path: Path) -> None:
    (tmp_path / "001_ok.sql").write_text("CREATE TABLE ok (id int);")
    (tmp_path / "002_broken.sql").write_text("CREATE TABLE half (id int); SELECT no_such_function();")
    conn = await asyncpg.connect(empty_db)
    try:
        with pytest.raises(asyncpg.UndefinedFunctionError):
            await apply_migrations(conn, load_migrations(tmp_path))
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")] == ["001_ok.sql"]
        assert not await conn.fetchval("SELECT pg_try_advisory_lock(1) AND false")  # connection still usable
    finally:
        await conn.close()


async def test_worker_check_refuses_a_database_that_is_behind(empty_db: str) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        with pytest.raises(MigrationError, match="fleet migrate"):
            await assert_up_to_date(conn, load_migrations(default_directory()))
    finally:
        await conn.close()


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "init.sql").write_text("")
    with pytest.raises(MigrationError, match=r"001_name\.sql"):
        load_migrations(tmp_path)
