"""Keeping the Ashby metadata cache warm: stale objects go into a work set (`workers/work_set.py`) drained by
one `refresh_metadata` job at a time, so waiting on the Ashby key's budget holds one worker slot.

An object is queued at most once per REQUEUE_AFTER (on the workers' clock): when Ashby keeps failing it,
the reads that keep finding its copy stale must not each ask again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import structlog

from shared import jobs
from shared.db import advancement as advancement_db
from shared.db import ashby_cache
from shared.jobs import awaited
from workers import work_set
from workers.ashby_fetch import FETCHERS
from workers.deps import Deps, deps
from workers.job_boundary import job

STALE_SET = "fleet:metadata:stale"
QUEUED_PREFIX = "fleet:metadata:queued:"
REQUEUE_AFTER = timedelta(minutes=5)
MARKER_TTL_S = 24 * 3600
IN_FLIGHT = 4

log = structlog.get_logger("worker.metadata")


async def queue_refresh(
    d: Deps, *, applications: Iterable[str] = (), interviews: Iterable[str] = (), forms: Iterable[str] = ()
) -> None:
    """Add objects to the refresh set and make sure a refresher is queued (its fixed id makes it one).

    An object is queued at most once per REQUEUE_AFTER (on the workers' clock): when Ashby keeps failing
    it, the sends that keep finding its copy stale must not each ask again."""
    members = (
        [f"application:{a}" for a in applications]
        + [f"interview:{i}" for i in interviews]
        + [f"form:{f}" for f in forms]
    )
    if not members:
        return
    now_ms = int(d.clock().timestamp() * 1000)
    window_ms = int(REQUEUE_AFTER.total_seconds() * 1000)
    added = await awaited(
        d.queue.eval(
            _QUEUE_REFRESH,
            1 + len(members),
            STALE_SET,
            *(QUEUED_PREFIX + m for m in members),
            str(now_ms),
            str(window_ms),
            str(MARKER_TTL_S),
            *members,
        )
    )
    if added:
        await work_set.queue_drain(d.queue, jobs.REFRESH_METADATA)


# KEYS: the refresh set, then one marker per member; ARGV: now (ms), window (ms), marker TTL (s), members.
# A member is added unless its marker says it was queued less than a window ago.
_QUEUE_REFRESH = """
local now, window, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local added = 0
for i = 2, #KEYS do
  local last = tonumber(redis.call('GET', KEYS[i]))
  if not last or now - last >= window then
    redis.call('SET', KEYS[i], ARGV[1], 'EX', ttl)
    added = added + redis.call('SADD', KEYS[1], ARGV[i + 2])
  end
end
return added
"""


async def _refresh(d: Deps, member: str) -> None:
    kind, _, object_id = member.partition(":")
    fetch = FETCHERS.get(kind)
    if fetch is None:
        log.error("metadata_refresh_unknown_member", kind=kind)
        return
    await ashby_cache.put(d.pool, await fetch(d, object_id))
    if kind == "application":  # an evaluation that waited for this place need not wait out its retry
        await advancement_db.evaluate_once_placed(d.pool, [object_id], at=d.clock())


@job(periodic=True)
async def refresh_metadata(ctx: dict[str, Any]) -> dict[str, Any]:
    """Fetch the queued applications and interviews from Ashby into the cache. A refresh Ashby refuses for
    good (e.g. the application was deleted) leaves the cached copy as it is."""
    d = deps(ctx)
    return await work_set.drain(d.queue, STALE_SET, lambda member: _refresh(d, member), in_flight=IN_FLIGHT)
