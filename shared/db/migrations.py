"""Numbered plain-SQL migrations, applied in order under a Postgres advisory lock.

Invariant: a file, once applied, never changes; `schema_migrations` keeps each file's SHA-256 and a
changed or missing applied file stops start-up instead of silently drifting.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

# Any fixed 64-bit key shared by every replica of this project; it only has to be unique per database.
MIGRATION_LOCK_KEY = 0x666C656574_6D6967  # "fleet" "mig"
_FILE_NAME = re.compile(r"^(\d{3,})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """The migration files and the database disagree; a person has to look."""


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def default_directory() -> Path:
    return Path(__file__).resolve().parents[2] / "sql"


def load_migrations(directory: Path) -> list[Migration]:
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        if not _FILE_NAME.match(path.name):
            raise MigrationError(f"migration file name must look like 001_name.sql: {path.name}")
        migrations.append(Migration(path.name, path.read_text(encoding="utf-8")))
    numbers = [m.name.split("_", 1)[0] for m in migrations]
    if len(set(numbers)) != len(numbers):
        raise MigrationError(f"two migration files share a number: {numbers}")
    return migrations


async def apply_migrations(conn: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    """Apply the pending migrations, each in its own transaction; return the names applied.

    Safe to run from several processes at once: the advisory lock serialises them and the later ones
    find nothing left to do.
    """
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                name text PRIMARY KEY,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        applied = {
            row["name"]: row["checksum"] for row in await conn.fetch("SELECT name, checksum FROM schema_migrations")
        }
        check_applied(applied, migrations)
        done: list[str] = []
        for migration in migrations:
            if migration.name in applied:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", migration.name, migration.checksum
                )
            done.append(migration.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)


def check_applied(applied: dict[str, str], migrations: list[Migration]) -> None:
    known = {m.name: m for m in migrations}
    problems = [f"{name} was applied but its file is missing" for name in applied if name not in known]
    problems += [
        f"{name} changed after it was applied "
        f"(checksum {applied[name][:12]} in the database, {m.checksum[:12]} on disk)"
        for name, m in known.items()
        if name in applied and applied[name] != m.checksum
    ]
    if problems:
        raise MigrationError("; ".join(problems))


async def assert_up_to_date(conn: asyncpg.Connection, migrations: list[Migration]) -> None:
    """Refuse to run a worker against a database that is behind or has drifted."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    applied = (
        {}
        if not exists
        else {r["name"]: r["checksum"] for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")}
    )
    check_applied(applied, migrations)
    pending = [m.name for m in migrations if m.name not in applied]
    if pending:
        raise MigrationError(f"database is missing migrations {pending}: run `fleet migrate`")
