"""One run at a time across every worker process, for periodic work that may outlast its cron interval.

arq's `unique=True` cron makes each tick run once, not each run exclusive: a first full sync of a large
organisation's feedback can take many minutes, and without this every following tick would start another
one on the same Ashby budget. The lock is redis-py's `Lock`: short-lived, and extended while the run
lives, so a worker killed mid-run (SIGKILL, a lost host) holds it up for at most LOCK_TTL_S; a run whose
lock expired and was taken by a later one never releases the later one's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from redis.asyncio import Redis
from redis.exceptions import LockError

LOCK_PREFIX = "fleet:alone:"
LOCK_TTL_S = 90
log = structlog.get_logger("worker.run_lock")


@contextlib.asynccontextmanager
async def one_run(
    redis: Redis,
    name: str,
    *,
    ttl_s: int = LOCK_TTL_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[bool]:
    """Yield True while holding the lock for `name`, or False (holding nothing) when another run has it."""
    lock = redis.lock(LOCK_PREFIX + name, timeout=ttl_s, thread_local=False)
    if not await lock.acquire(blocking=False):
        yield False
        return

    async def extend() -> None:
        while True:
            await sleep(ttl_s / 3)
            try:
                await lock.extend(ttl_s, replace_ttl=True)
            except LockError:  # expired and taken by a later run (we were stalled longer than its TTL)
                log.warning("run_lock_lost", name=name)
                return

    extending = asyncio.create_task(extend())
    try:
        yield True
    finally:
        extending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await extending
        with contextlib.suppress(LockError):  # not ours any more: leave the later run's lock alone
            await lock.release()
