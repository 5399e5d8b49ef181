"""One run at a time across every worker process, for periodic work that may outlast its cron interval.

arq's `unique=True` cron makes each tick run once, not each run exclusive: a first full sync of a large
organisation's feedback can take many minutes, and without this every following tick would start another
one on the same Ashby budget.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from arq.connections import ArqRedis

from shared.jobs import awaited

LOCK_PREFIX = "fleet:alone:"
# Delete the lock only if it is still ours (it may have expired and been taken by a later run).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@contextlib.asynccontextmanager
async def alone(queue: ArqRedis, name: str, *, ttl_s: int) -> AsyncIterator[bool]:
    """Yield True while holding the lock for `name`, or False (holding nothing) when another run has it.

    `ttl_s` should exceed the job's timeout: it frees the lock of a worker killed mid-run."""
    key, token = LOCK_PREFIX + name, uuid.uuid4().hex
    held = bool(await queue.set(key, token, nx=True, ex=ttl_s))
    try:
        yield held
    finally:
        if held:
            await awaited(queue.eval(_RELEASE, 1, key, token))
