"""The Ashby metadata cache: applications (with their candidate), interviews and feedback forms, served at
any age and kept warm.

Stale-while-revalidate: a copy older than CACHE_TTL is served and queued for the refresher, never refreshed
inline, so a burst of reminders due at once is paced by Slack alone, not by the Ashby key's budget, and an
Ashby outage never takes away a form we already have (a stale form is better than none). Objects to
refresh go into a work set (`workers/work_set.py`) drained by one `refresh_metadata` job at a time, so
waiting on the budget holds one worker slot. Only a copy never cached is fetched inline (outside any
transaction; ingestion warms ahead), and concurrent misses of one object in a process share that fetch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import structlog

from shared import jobs
from shared.db import ashby_cache
from shared.db.ashby_cache import CachedApplication, CachedForm, CachedInterview
from shared.jobs import awaited
from workers import work_set
from workers.deps import Deps, deps
from workers.job_boundary import job

CACHE_TTL = timedelta(hours=1)
STALE_SET = "fleet:metadata:stale"
QUEUED_PREFIX = "fleet:metadata:queued:"
REQUEUE_AFTER = timedelta(minutes=5)
MARKER_TTL_S = 24 * 3600
IN_FLIGHT = 4

log = structlog.get_logger("worker.metadata")


class _Cached(Protocol):
    @property
    def fetched_at(self) -> datetime: ...


C = TypeVar("C", bound=_Cached)


async def cached_interview(d: Deps, interview_id: str | None) -> CachedInterview | None:
    if not interview_id:
        return None
    return await _serve(
        d, "interview", interview_id, lambda: ashby_cache.get_interview(d.pool, interview_id), fetch_interview
    )


async def cached_application(d: Deps, application_id: str | None) -> CachedApplication | None:
    if not application_id:
        return None
    return await _serve(
        d, "application", application_id, lambda: ashby_cache.get_application(d.pool, application_id), fetch_application
    )


async def cached_form(d: Deps, form_id: str) -> CachedForm | None:
    return await _serve(d, "form", form_id, lambda: ashby_cache.get_form(d.pool, form_id), fetch_form)


async def _serve(
    d: Deps,
    kind: str,
    object_id: str,
    get: Callable[[], Awaitable[C | None]],
    fetch: Callable[[Deps, str], Awaitable[None]],
) -> C | None:
    """The cached copy at any age (queued for a refresh when stale); a copy never cached is fetched now."""
    cached = await get()
    if cached is not None:
        if d.clock() - cached.fetched_at >= CACHE_TTL:
            await queue_refresh(d, **{f"{kind}s": [object_id]})
        return cached
    await fetch(d, object_id)
    return await get()


async def fetch_interview(d: Deps, interview_id: str) -> None:
    async def fetch() -> None:
        await ashby_cache.put_interview(d.pool, await d.ashby.interview_info(interview_id), now=d.clock())

    await fetch_once(d, f"interview:{interview_id}", fetch)


async def fetch_application(d: Deps, application_id: str) -> None:
    async def fetch() -> None:
        application = await d.ashby.application_info(application_id)
        candidate = await d.ashby.candidate_info(application.candidate.id)
        await ashby_cache.put_application(d.pool, application, candidate, now=d.clock())

    await fetch_once(d, f"application:{application_id}", fetch)


async def fetch_form(d: Deps, form_id: str) -> None:
    async def fetch() -> None:
        await ashby_cache.put_form(d.pool, await d.ashby.feedback_form_definition_info(form_id), now=d.clock())

    await fetch_once(d, f"form:{form_id}", fetch)


async def fetch_once(d: Deps, key: str, fetch: Callable[[], Awaitable[None]]) -> None:
    """Run `fetch`, or wait for the same fetch already running in this process. The three sends of a
    panel's briefs miss an uncached application together; without this each asked Ashby for it."""
    running = d.fetches.get(key)
    if running is None:
        running = asyncio.ensure_future(fetch())
        d.fetches[key] = running
        running.add_done_callback(lambda _: d.fetches.pop(key, None))
    await asyncio.shield(running)  # one waiter cancelled (its job timed out) leaves the fetch to the others


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
        await work_set.kick(d.queue, jobs.REFRESH_METADATA)


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


_FETCHERS: dict[str, Callable[[Deps, str], Awaitable[None]]] = {
    "application": fetch_application,
    "interview": fetch_interview,
    "form": fetch_form,
}


async def _refresh(d: Deps, member: str) -> None:
    kind, _, object_id = member.partition(":")
    fetch = _FETCHERS.get(kind)
    if fetch is None:
        log.error("metadata_refresh_unknown_member", kind=kind)
        return
    await fetch(d, object_id)


@job(periodic=True)
async def refresh_metadata(ctx: dict[str, Any]) -> dict[str, Any]:
    """Fetch the queued applications and interviews from Ashby into the cache. A refresh Ashby refuses for
    good (e.g. the application was deleted) leaves the cached copy as it is."""
    d = deps(ctx)
    return await work_set.drain(d.queue, STALE_SET, lambda member: _refresh(d, member), in_flight=IN_FLIGHT)
