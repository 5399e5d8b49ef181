"""Redis's persistence, checked where it matters: a queued job lives only in Redis until a worker runs it.

PostgreSQL is the source of truth and reconcilers rebuild most of what a lost queue held (docs/operations.md
lists each loss and its recovery), but an interviewer's submitted answers live only in their job until it
runs: production requires Redis's append-only file. Managed Redis services often refuse CONFIG; then we
cannot tell, and say so.
"""

from __future__ import annotations

from typing import Literal

import structlog
from redis.asyncio import Redis
from redis.exceptions import ResponseError

Persistence = Literal["appendonly", "snapshots_only", "none", "unknown"]
log = structlog.get_logger("durability")


class RedisNotDurable(Exception):
    """Production refuses a Redis that would lose queued jobs on a restart."""


async def redis_persistence(redis: Redis) -> Persistence:
    try:
        appendonly = await redis.config_get("appendonly")
        save = await redis.config_get("save")
    except ResponseError:  # CONFIG disabled or renamed (common on managed services)
        return "unknown"
    if _value(appendonly, "appendonly") == "yes":
        return "appendonly"
    return "snapshots_only" if _value(save, "save") else "none"


def _value(reply: dict[bytes | str, bytes | str], name: str) -> str:
    for key, value in reply.items():
        if (key.decode() if isinstance(key, bytes) else key) == name:
            return value.decode() if isinstance(value, bytes) else str(value)
    return ""


async def check_redis_persistence(redis: Redis, *, production: bool) -> Persistence:
    """Refuse (production) or warn when Redis would lose queued jobs on a restart; warn when we cannot tell."""
    persistence = await redis_persistence(redis)
    if persistence in ("none", "snapshots_only"):
        problem = (
            "Redis has no append-only file (appendonly no): a restart loses queued jobs, including submitted "
            "scorecards. Start Redis with --appendonly yes (see docs/operations.md)."
        )
        if production:
            raise RedisNotDurable(problem)
        log.warning("redis_not_durable", persistence=persistence)
    elif persistence == "unknown":
        log.warning("redis_persistence_unknown", hint="CONFIG is disabled; make sure the service keeps an AOF")
    return persistence
