"""`fleet doctor`: can this deployment work? Each check says PASS, WARN or FAIL, and what to fix.

Read-only: it connects and asks, and changes nothing (no migration, no job queued). It doubles as the smoke
check after a deploy: exit 1 when any check fails. It prints no secret and no connection string.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TextIO

import asyncpg
import httpx
from redis.exceptions import RedisError

from shared.clients.ashby import AshbyApiError, AshbyClient, RetryPolicy
from shared.clients.slack import SlackApiFailure, SlackClient
from shared.db.migrations import MigrationError, assert_up_to_date, default_directory, load_migrations
from shared.durability import redis_persistence
from shared.errors import FleetError
from shared.jobs import queue_redis
from shared.logs import configure_logging
from shared.settings import Settings, SettingsError, load_settings

Status = Literal["PASS", "WARN", "FAIL"]
CHECK_TIMEOUT_S = 15.0

# The bot scopes the fleet needs and what for, as slack-manifest.yaml grants them (views.* need none).
SLACK_SCOPES = {
    "chat:write": "chat.postMessage, chat.update",
    "commands": "the /feedback slash command",
    "im:write": "conversations.open",
    "users:read": "users.list, users.info, time zones",
    "users:read.email": "users.lookupByEmail",
}
# Ashby permissions by module and access, as docs/ashby-and-slack.md lists them.
ASHBY_PERMISSIONS = (
    ("candidates", "read"),
    ("candidates", "write"),
    ("interviews", "read"),
    ("hiringProcessMetadata", "read"),
    ("jobs", "read"),
    ("organization", "read"),
)


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def _normal(scope: str) -> str:
    return re.sub(r"[^a-z]", "", scope.lower())


def missing_ashby_permissions(scopes: tuple[str, ...]) -> list[str]:
    """The permissions the fleet needs that `scopes` lack (pure). Ashby's spellings vary ("jobs:read" in its
    spec's example, "jobsRead" in its docs), so both compare alike; a module's write access covers its read."""
    granted = {_normal(s) for s in scopes}
    missing = []
    for module, access in ASHBY_PERMISSIONS:
        covering = {_normal(module + access)} | ({_normal(module + "write")} if access == "read" else set())
        if module == "hiringProcessMetadata":  # the module is titled "Hiring Process" in Ashby's settings
            covering |= {"hiringprocessread", "hiringprocesswrite"}
        if not granted & covering:
            missing.append(f"{module}:{access}")
    return missing


def check_configuration(environ: Mapping[str, str]) -> tuple[Check, Settings | None]:
    try:
        settings = load_settings(environ)
    except SettingsError as exc:
        problems = "\n".join(exc.problems)
        return Check("configuration", "FAIL", problems, "fix the variables named (see .env.example)"), None
    generated = list(settings.generated_secrets)
    if generated:
        detail = f"loaded ({settings.environment}); not set, random for this run: {', '.join(generated)}"
        return Check("configuration", "WARN", detail, "set them; the checks that need them fail until then"), settings
    return Check("configuration", "PASS", f"loaded ({settings.environment})"), settings


def check_secrets(settings: Settings) -> Check:
    missing = [n for n in ("ASHBY_WEBHOOK_SECRET", "SLACK_SIGNING_SECRET") if n in settings.generated_secrets]
    if missing:
        return Check(
            "webhook secrets",
            "FAIL",
            f"{' and '.join(missing)} not set: every webhook or Slack interaction would be refused",
            "set ASHBY_WEBHOOK_SECRET to the Ashby webhook's secret token and SLACK_SIGNING_SECRET to the Slack "
            "app's signing secret",
        )
    return Check("webhook secrets", "PASS", "ASHBY_WEBHOOK_SECRET and SLACK_SIGNING_SECRET are set")


async def check_database(settings: Settings) -> Check:
    if not settings.database_url:
        return Check("database", "FAIL", "DATABASE_URL is not set", "set DATABASE_URL to the PostgreSQL server")
    conn = await asyncpg.connect(settings.database_url, timeout=5)
    try:
        await assert_up_to_date(conn, load_migrations(default_directory()))
    except MigrationError as exc:
        return Check("database", "FAIL", f"reachable, but {exc}", "run `fleet migrate` (it is safe from any replica)")
    finally:
        await conn.close()
    return Check("database", "PASS", "reachable, migrations up to date")


async def check_redis(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check("redis", "FAIL", "REDIS_URL is not set", "set REDIS_URL to the Redis server")
    redis = queue_redis(settings.redis_url, connect_timeout_s=5, op_timeout_s=5)
    try:
        await redis.ping()
        persistence = await redis_persistence(redis)
    finally:
        await redis.aclose()
    if persistence == "appendonly":
        return Check("redis", "PASS", "reachable, append-only file on")
    if persistence == "unknown":
        return Check(
            "redis",
            "WARN",
            "reachable; CONFIG is disabled, so its persistence is unknown",
            "make sure the service keeps an append-only file (docs/operations.md)",
        )
    return Check(
        "redis",
        "FAIL" if settings.is_production else "WARN",
        f"reachable, but without an append-only file ({persistence}): a restart loses queued jobs",
        "start Redis with --appendonly yes (docs/operations.md)",
    )


async def check_ashby(settings: Settings) -> Check:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)) as http:
        client = AshbyClient(
            api_key=settings.ashby_api_key, base_url=settings.ashby_base_url, http=http, retry=RetryPolicy(attempts=2)
        )
        try:
            info = await client.api_key_info()
        except AshbyApiError as exc:
            if exc.code == "missing_endpoint_permission":
                return Check(
                    "ashby key",
                    "WARN",
                    "the key is accepted, but may not read its own permissions",
                    "grant the key API Keys read so doctor can check the others",
                )
            return Check("ashby key", "FAIL", f"Ashby refused the key ({exc.code})", "check ASHBY_API_KEY")
    missing = missing_ashby_permissions(info.scopes)
    if missing:
        return Check(
            "ashby key",
            "FAIL",
            f"the key lacks {', '.join(missing)}",
            "grant those permissions to the key in Ashby (Admin > API Keys)",
        )
    return Check("ashby key", "PASS", "accepted, with every permission the fleet uses")


async def check_slack(settings: Settings) -> Check:
    client = SlackClient(token=settings.slack_bot_token, base_url=settings.slack_base_url, limiter=None)
    try:
        auth = await client.auth_test()
    except SlackApiFailure as exc:
        return Check("slack token", "FAIL", f"Slack refused the token ({exc.code})", "check SLACK_BOT_TOKEN (xoxb-…)")
    finally:
        await client.aclose()
    if auth.scopes is None:
        return Check("slack token", "WARN", "accepted, but Slack did not say its scopes", "")
    missing = sorted(set(SLACK_SCOPES) - auth.scopes)
    if missing:
        needed = "; ".join(f"{s} ({SLACK_SCOPES[s]})" for s in missing)
        return Check(
            "slack token",
            "FAIL",
            f"the token lacks {needed}",
            "add the scopes under OAuth & Permissions, then reinstall the app",
        )
    return Check("slack token", "PASS", f"accepted (team {auth.team_id}), with every scope the fleet uses")


async def _bounded(
    name: str, check: Callable[[Settings], Awaitable[Check]], settings: Settings, *, address: str
) -> Check:
    """A check that cannot hang the doctor and reports any failure as FAIL, by type (messages may hold URLs)."""
    where = f"check {address} and that the server answers from here"
    try:
        return await asyncio.wait_for(check(settings), CHECK_TIMEOUT_S)
    except TimeoutError:
        return Check(name, "FAIL", f"no answer within {CHECK_TIMEOUT_S:g} s", where)
    except (FleetError, OSError, RedisError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return Check(name, "FAIL", f"unreachable or refused ({type(exc).__name__})", where)
    except Exception as exc:  # the doctor's boundary: one broken check must not hide the others
        return Check(name, "FAIL", f"unexpected {type(exc).__name__}", where)


async def run_checks(environ: Mapping[str, str]) -> list[Check]:
    configuration, settings = check_configuration(environ)
    if settings is None:
        return [configuration]
    remote = (
        ("database", check_database, "DATABASE_URL"),
        ("redis", check_redis, "REDIS_URL"),
        ("ashby key", check_ashby, "ASHBY_BASE_URL"),
        ("slack token", check_slack, "SLACK_BASE_URL"),
    )
    results = await asyncio.gather(*(_bounded(name, check, settings, address=at) for name, check, at in remote))
    return [configuration, check_secrets(settings), *results]


def render(checks: list[Check]) -> str:
    lines = []
    for check in checks:
        first, *more = check.detail.splitlines() or [""]
        lines.append(f"{check.status}  {check.name:<16} {first}")
        lines.extend(f"{'':23}{line}" for line in more)
        if check.fix and check.status != "PASS":
            lines.append(f"{'':23}fix: {check.fix}")
    failing = sum(c.status == "FAIL" for c in checks)
    lines.append(
        f"doctor: {failing} of {len(checks)} checks failing" if failing else f"doctor: all {len(checks)} checks pass"
    )
    return "\n".join(lines)


async def run_doctor(environ: Mapping[str, str], *, out: TextIO = sys.stdout) -> int:
    configure_logging(level="ERROR")  # the clients' retry warnings would interleave with the report
    checks = await run_checks(environ)
    print(render(checks), file=out)
    return 1 if any(c.status == "FAIL" for c in checks) else 0
