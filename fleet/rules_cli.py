"""`fleet rules validate|apply|list|show`: check a rules file against Ashby, store it versioned, read it back.

`validate` and `apply` read Ashby's catalog again when the cached copy is over an hour old (or with
`--refresh`); when Ashby cannot be reached they say so and use the cached copy, if there is one. Exit codes:
0 done, 1 the file (or the rule asked for) was refused, 2 the command could not run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import asyncpg
import httpx
from redis.exceptions import RedisError

from fleet.advancement_cli import audit, parse_since, simulate
from shared.advancement.catalog import Catalog
from shared.advancement.describe import describe, scope
from shared.advancement.rules_file import RulesInvalid, WrittenRule, resolve
from shared.catalog_sync import is_stale, sync_catalog
from shared.clients.ashby import AshbyClient, AshbyError
from shared.db import catalog as catalog_db
from shared.db import rules as rules_db
from shared.db.pool import create_pool
from shared.errors import Transient
from shared.settings import Settings


async def run_rules(settings: Settings, args: argparse.Namespace, *, out: TextIO = sys.stdout) -> int:
    if settings.database_url is None:
        print("DATABASE_URL must be set", file=sys.stderr)
        return 2
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        if args.rules_command == "list":
            return await list_rules(pool, out)
        if args.rules_command == "show":
            return await show_rule(pool, args.name, out)
        if args.rules_command == "audit":
            return await audit(pool, application_id=args.application, since=args.since, out=out)
        now = datetime.now(UTC)
        catalog = await current_catalog(settings, pool, refresh=args.refresh, now=now)
        if catalog is None:
            return 2
        written = validated(args.file, catalog)
        if written is None:
            return 1
        if args.rules_command == "validate":
            print(f"{_count(len(written), 'rule')} valid", file=out)
            return 0
        if args.rules_command == "simulate":
            since = parse_since(args.since, now=now) or now - timedelta(days=30)
            await simulate(pool, [w.rule for w in written], since=since, now=now, out=out)
            return 0
        return await apply_rules(pool, written, now, out)
    finally:
        await pool.close()


async def current_catalog(settings: Settings, pool: asyncpg.Pool, *, refresh: bool, now: datetime) -> Catalog | None:
    """The cached catalog, read again from Ashby first when stale or asked; None when there is none at all."""
    if refresh or await is_stale(pool, now=now):
        try:
            async with ashby_client(settings) as client:
                await sync_catalog(client, pool, now=now)
        except (AshbyError, Transient, OSError, RedisError) as exc:
            synced = await catalog_db.synced_at(pool)
            if synced is None:
                print(f"cannot read Ashby's jobs, plans and forms ({exc}), and none are cached", file=sys.stderr)
                return None
            print(f"cannot read Ashby now ({exc}): using the copy from {synced:%Y-%m-%d %H:%M} UTC", file=sys.stderr)
    return await catalog_db.load(pool)


@asynccontextmanager
async def ashby_client(settings: Settings) -> AsyncIterator[AshbyClient]:
    """A client under the key's shared rate limit when Redis is configured (the workers spend the same budget)."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0)) as http:
        limiter, redis = None, None
        if settings.redis_url:
            from shared.jobs import queue_redis
            from shared.ratelimit import RedisRateLimiter

            redis = queue_redis(settings.redis_url)
            limiter = RedisRateLimiter(redis)
        try:
            yield AshbyClient(
                api_key=settings.ashby_api_key,
                base_url=settings.ashby_base_url,
                http=http,
                limiter=limiter,
                rate_per_s=settings.ashby_requests_per_minute / 60.0,
            )
        finally:
            if redis is not None:
                await redis.aclose()


def validated(path: Path, catalog: Catalog) -> list[WrittenRule] | None:
    """The file's rules, or None after printing every problem (to stderr, one per line, with its line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: cannot read it ({exc})", file=sys.stderr)
        return None
    try:
        return resolve(text, catalog)
    except RulesInvalid as invalid:
        for problem in invalid.problems:
            print(f"{path}, {problem}", file=sys.stderr)
        print(f"{_count(len(invalid.problems), 'problem')}: nothing was applied", file=sys.stderr)
        return None


async def apply_rules(pool: asyncpg.Pool, written: list[WrittenRule], now: datetime, out: TextIO) -> int:
    changes = await rules_db.apply(pool, written, now=now)
    for change in changes:
        detail = f" (was v{change.previous})" if change.previous else ""
        print(f"{change.kind:<12} {change.name} v{change.version}{detail}", file=out)
    kinds = [c.kind for c in changes]
    summary = ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
    print(f"{_count(len(written), 'rule')} active" + (f": {summary}" if summary else ""), file=out)
    return 0


async def list_rules(pool: asyncpg.Pool, out: TextIO) -> int:
    rules = await rules_db.active_rules(pool)
    if not rules:
        print("No active rules (fleet rules apply FILE).", file=out)
        return 0
    catalog = await catalog_db.load(pool)
    rows = [("NAME", "VERSION", "MODE", "PRIORITY", "JOB / PLAN / STAGE")]
    rows += [(r.name, f"v{r.version}", r.mode, str(r.priority), scope(r, catalog)) for r in rules]
    widths = [max(len(row[n]) for row in rows) for n in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[4], file=out)
    return 0


async def show_rule(pool: asyncpg.Pool, name: str, out: TextIO) -> int:
    history = await rules_db.rule_history(pool, name)
    if not history:
        print(f"no rule is named '{name}'", file=sys.stderr)
        return 1
    current = next((stored for stored in history if stored.active), history[0])
    catalog = await catalog_db.load(pool)
    state = "active" if current.active else "not active (no longer in the applied file)"
    print(f"{name} v{current.rule.version}, {state}", file=out)
    for line in describe(current.rule, catalog):
        print(f"  {line}", file=out)
    print("as written:", file=out)
    for line in current.source.splitlines():
        print(f"  {line}", file=out)
    print("history:", file=out)
    for stored in history:
        until = f", until {stored.deactivated_at:%Y-%m-%d %H:%M}" if stored.deactivated_at else ""
        mark = " (active)" if stored.active else ""
        print(f"  v{stored.rule.version}  applied {stored.created_at:%Y-%m-%d %H:%M} UTC{until}{mark}", file=out)
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
