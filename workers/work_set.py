"""Work paced by an upstream budget, kept in a Redis set and drained by one job at a time.

A job per item would wait on the budget (Ashby's 5 requests/s, Slack's 50 lookups/min) while holding a
worker slot, and a burst of items would hold every slot: reminders and the dispatch cron waited behind
them (a 45 s stall in the reminders benchmark). Items go into a set instead, and one job with a fixed id
takes them with a few in flight (its cron's run steps aside while it drains: `workers/run_lock.py`), so
waiting holds one slot. The set is a to-do list, not a record: an item lost with a killed worker is
queued again by whatever needed it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog
from arq.connections import ArqRedis

from shared import jobs
from shared.errors import Permanent, Transient
from shared.jobs import awaited
from workers.run_lock import one_run

log = structlog.get_logger("worker.work_set")

# A run stops taking items after this long (under its job timeout); the job's cron carries on.
RUN_BUDGET_S = 40.0


async def add(queue: ArqRedis, key: str, items: list[str], *, job: str) -> None:
    """Add items to the set and make sure its job is queued (the fixed job id makes it one)."""
    if items and await awaited(queue.sadd(key, *items)):
        await queue_drain(queue, job)


async def queue_drain(queue: ArqRedis, job: str) -> None:
    """Make sure the set's drain job is queued: its id is its name, so this queues it at most once."""
    await jobs.enqueue_default(queue, job, job_id=job)


async def drain(
    queue: ArqRedis,
    key: str,
    handle: Callable[[str], Awaitable[None]],
    *,
    in_flight: int,
    budget_s: float = RUN_BUDGET_S,
) -> dict[str, int]:
    """Handle items until the set is empty, the upstream is busy (`Transient`: the item goes back, the rest
    waits for the next run) or the run's time is up. An item refused for good (`Permanent`) is dropped."""
    async with one_run(queue, key) as mine:  # the fixed-id job and the cron's may overlap: one drains
        if not mine:
            return {"already_running": 1}
        return await _drain(queue, key, handle, in_flight=in_flight, budget_s=budget_s)


async def _drain(
    queue: ArqRedis, key: str, handle: Callable[[str], Awaitable[None]], *, in_flight: int, budget_s: float
) -> dict[str, int]:
    deadline = time.monotonic() + budget_s
    counts = {"done": 0, "refused": 0, "busy": 0}

    async def worker() -> None:
        while time.monotonic() < deadline and not counts["busy"]:
            member = await awaited(queue.spop(key))
            if member is None:
                return
            item = member.decode() if isinstance(member, bytes) else str(member)
            if counts["busy"]:  # the upstream said wait while this pop was on its way
                await awaited(queue.sadd(key, item))
                return
            try:
                await handle(item)
            except Transient:
                # Flag first: a sibling whose pop returns this item after the SADD below sees the flag.
                counts["busy"] += 1
                await awaited(queue.sadd(key, item))
                return
            except Permanent as exc:
                log.warning("work_item_refused", set=key, error=type(exc).__name__)
                counts["refused"] += 1
            else:
                counts["done"] += 1

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    counts["left"] = await awaited(queue.scard(key))
    return counts
