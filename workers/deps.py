"""What every job needs, built once per worker process in `on_startup` and read through `deps(ctx)`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from arq.connections import ArqRedis

from shared.clients.ashby import AshbyClient
from shared.clients.slack import SlackClient, SlackLimits
from shared.db.pool import create_pool
from shared.metrics import Metrics, build_metrics
from shared.ratelimit import RedisRateLimiter
from shared.reminders import ReminderPolicy
from shared.settings import Settings, parse_quiet_hours

Clock = Callable[[], datetime]
POOL_CLOSE_TIMEOUT_S = 5.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    settings: Settings
    pool: asyncpg.Pool
    queue: ArqRedis
    clock: Clock
    ashby: AshbyClient
    slack: SlackClient
    policy: ReminderPolicy
    metrics: Metrics = field(default_factory=build_metrics)
    # Ashby fetches in flight in this process, by object: concurrent misses of one object share one request.
    fetches: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    # Webhook batches this process stores at once (`workers/ingest_batch.py`): two keep it busy while
    # PostgreSQL works on the other's statements.
    ingest_lanes: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))


def deps(ctx: dict[str, Any]) -> Deps:
    found: Deps = ctx["deps"]
    return found


def reminder_policy(settings: Settings) -> ReminderPolicy:
    quiet_start, quiet_end = parse_quiet_hours(settings.reminder_quiet_hours)
    return ReminderPolicy(
        brief_before=timedelta(minutes=settings.reminder_brief_minutes),
        due_after=timedelta(minutes=settings.reminder_due_minutes),
        overdue_every=timedelta(hours=settings.reminder_overdue_hours),
        overdue_max=settings.reminder_overdue_max,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        escalate=settings.reminder_escalate,
    )


@contextlib.asynccontextmanager
async def build_deps(
    settings: Settings, queue: ArqRedis, *, clock: Clock = utc_now, metrics: Metrics | None = None
) -> AsyncIterator[Deps]:
    """Open the pool and the HTTP clients for one process; close them on exit."""
    assert settings.database_url is not None
    metrics = metrics or build_metrics()
    limiter = RedisRateLimiter(queue)
    async with contextlib.AsyncExitStack() as stack:
        pool = await create_pool(settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
        stack.push_async_callback(close_pool, pool)
        http = await stack.enter_async_context(
            httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0), limits=httpx.Limits(max_connections=50))
        )
        ashby = AshbyClient(
            api_key=settings.ashby_api_key,
            base_url=settings.ashby_base_url,
            http=http,
            limiter=limiter,
            rate_per_s=settings.ashby_requests_per_minute / 60.0,
            metrics=metrics,
        )
        slack = SlackClient(
            token=settings.slack_bot_token,
            base_url=settings.slack_base_url,
            limiter=limiter,
            limits=SlackLimits(workspace_per_s=settings.slack_messages_per_second),
            metrics=metrics,
        )
        stack.push_async_callback(slack.aclose)
        fetches: dict[str, asyncio.Future[Any]] = {}
        # Runs first on exit: a fetch a cancelled job left behind must end before its client closes.
        stack.push_async_callback(cancel_all, fetches)
        yield Deps(
            settings=settings,
            pool=pool,
            queue=queue,
            clock=clock,
            ashby=ashby,
            slack=slack,
            policy=reminder_policy(settings),
            metrics=metrics,
            fetches=fetches,
        )


async def cancel_all(futures: dict[str, asyncio.Future[Any]]) -> None:
    pending = [f for f in futures.values() if not f.done()]
    for future in pending:
        future.cancel()
    if pending:
        await asyncio.wait(pending, timeout=POOL_CLOSE_TIMEOUT_S)


async def close_pool(pool: asyncpg.Pool) -> None:
    """Close gracefully, or terminate: `Pool.close()` waits for every connection to be released, forever."""
    try:
        await asyncio.wait_for(pool.close(), POOL_CLOSE_TIMEOUT_S)
    except TimeoutError:
        pool.terminate()
