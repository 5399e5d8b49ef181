"""The reminder dispatcher's own clock: `dispatch_due_reminders` every TICK, once per tick across workers.

Not an arq cron: a cron run is a job in the FIFO `default` queue, so it waited behind the sends earlier
dispatches had queued (up to 73 s late in the reminders benchmark), and so did the rows it was to claim. Each
`default` worker instead runs this timer beside arq's loop, taking no worker slot and no place in any queue.
At each multiple of TICK on the clock, the process that sets the tick's mark in Redis first (SET NX, expiring)
runs the dispatch, under the one-run lock (`workers/run_lock.py`) so that a slow dispatch is never overlapped
by the next; the others skip the tick. A killed worker leaves the others ticking (its lock lapses within
LOCK_TTL_S); an outage of Redis or PostgreSQL costs the ticks it lasts, each failure logged, and the timer
carries on. Two dispatches that still meet (a mark lost with a Redis restart) claim each row once anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from shared.errors import error_label
from workers.deps import deps
from workers.jobs.reminders import dispatch_due_reminders
from workers.run_lock import one_run

TICK = timedelta(seconds=15)
NAME = "dispatch_due_reminders"
MARK_PREFIX = "fleet:tick:" + NAME + ":"
MARK_TTL_S = 60  # longer than any clock skew between workers: a tick is run once, not again by a slow clock
LOCK_TTL_S = 20  # extended while the dispatch lives; a killed dispatcher holds the next tick up at most this
# As the cron's job timeout was: a dispatch stuck on a dead connection must not hold the lock, extended, forever.
DISPATCH_TIMEOUT_S = 60
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
log = structlog.get_logger("worker.dispatch_clock")

Sleep = Callable[[float], Awaitable[None]]


def next_tick(now: datetime, step: timedelta = TICK) -> datetime:
    """The first multiple of `step` (counted from the Unix epoch) strictly after `now`: every worker agrees."""
    step_us = step // timedelta(microseconds=1)
    elapsed_us = (now - EPOCH) // timedelta(microseconds=1)
    return EPOCH + timedelta(microseconds=(elapsed_us // step_us + 1) * step_us)


async def tick_once(ctx: dict[str, Any], tick: datetime) -> bool:
    """Run the dispatch for `tick` in this process unless another has: whether this one ran it."""
    redis = deps(ctx).queue
    ms = int(tick.timestamp() * 1000)
    if not await redis.set(f"{MARK_PREFIX}{ms}", b"1", nx=True, ex=MARK_TTL_S):
        return False
    async with one_run(redis, NAME, ttl_s=LOCK_TTL_S) as mine:
        if not mine:
            return False  # the previous tick's dispatch is still running
        # The job's own boundary logs its line (job id `tick:<name>:<tick ms>`), counts it, dead-letters a bug.
        async with asyncio.timeout(DISPATCH_TIMEOUT_S):
            await dispatch_due_reminders({**ctx, "job_id": f"tick:{NAME}:{ms}", "job_try": 1})
    return True


async def run(ctx: dict[str, Any], *, sleep: Sleep = asyncio.sleep) -> None:
    """Tick until cancelled: once at start (as the cron's `run_at_startup` did), then on every TICK."""
    clock = deps(ctx).clock
    tick = clock()
    while True:
        try:
            await tick_once(ctx, tick)
        except Exception as exc:  # the worker's boundary: this tick is lost, the next one runs
            log.warning("dispatch_tick_failed", error=error_label(exc))
        tick = next_tick(clock())
        await sleep(max(0.0, (tick - clock()).total_seconds()))


def start(ctx: dict[str, Any]) -> None:
    """Start this process's timer, once: arq's `on_startup` runs again after every Redis outage."""
    running = ctx.get("dispatch_clock")
    if running is None or running.done():
        ctx["dispatch_clock"] = asyncio.create_task(run(ctx), name="dispatch_clock")


async def stop(ctx: dict[str, Any]) -> None:
    running = ctx.pop("dispatch_clock", None)
    if running is not None:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
