"""One run at a time across every worker process, for periodic work that may outlast its cron interval.

arq's `unique=True` cron makes each tick run once, not each run exclusive: a first full sync of a large
organisation's feedback can take many minutes, and without this every following tick would start another
one on the same Ashby budget. The lock is short-lived and renewed while the run lives, so a worker killed
mid-run (SIGKILL, a lost host) holds it up for at most LOCK_TTL_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from arq.connections import ArqRedis

from shared.jobs import awaited

LOCK_PREFIX = "fleet:alone:"
LOCK_TTL_S = 90
# Only while the lock is still ours (it may have expired and been taken by a later run).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@contextlib.asynccontextmanager
async def alone(
    queue: ArqRedis,
    name: str,
    *,
    ttl_s: int = LOCK_TTL_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncIterator[bool]:
    """Yield True while holding the lock for `name`, or False (holding nothing) when another run has it."""
    key, token = LOCK_PREFIX + name, uuid.uuid4().hex
    if not await queue.set(key, token, nx=True, ex=ttl_s):
        yield False
        return

    async def renew() -> None:
        while True:
            await sleep(ttl_s / 3)
            await awaited(queue.eval(_RENEW, 1, key, token, str(ttl_s)))

    renewing = asyncio.create_task(renew())
    try:
        yield True
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        await awaited(queue.eval(_RELEASE, 1, key, token))
