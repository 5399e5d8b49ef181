"""Rate limits shared by every process through Redis: a GCRA whose slots are reserved atomically in Lua.

Each limit is a key holding its theoretical arrival time (TAT). A caller atomically reserves the
earliest slot that keeps the limit within `rate_per_s` with bursts of `burst`, then sleeps until it;
so bursts queue (first come, first served) instead of failing, and any number of processes sharing one
Redis share one budget.
A wait longer than `max_wait_s` reserves nothing and raises `RateLimitTimeout`, so a job can go back
to the queue instead of holding a worker slot. Time comes from the injected clock and is passed into
the script (never Redis' own TIME), which keeps tests deterministic.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from shared.errors import Transient

# KEYS[1]: the limit. ARGV: now, max_wait, interval (1 / rate), tolerance (interval * (burst - 1)).
# Returns {granted, wait}; floats travel as strings because Redis truncates Lua numbers to integers.
_RESERVE = """
local now = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local tolerance = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
-- Sums of intervals drift by floating-point crumbs; a microsecond is no wait at all.
if wait < 1e-6 then wait = 0 end
if wait > max_wait then
  return {0, string.format('%.6f', wait)}
end
tat = tat + interval
-- Once the TAT has passed the key means nothing; a second of slack covers clock skew between hosts.
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now + 1) * 1000))
return {1, string.format('%.6f', wait)}
"""


class RateLimitTimeout(Transient):
    """The next free slot is further away than the caller agreed to wait; `retry_after` says how far."""


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `rate_per_s` on average, with up to `burst` at once, for everything sharing `key`."""

    key: str
    rate_per_s: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.burst < 1:
            raise ValueError(f"invalid limit for {self.key!r}: rate_per_s must be > 0 and burst >= 1")


class RedisRateLimiter:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        prefix: str = "ratelimit",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._clock = clock
        self._sleep = sleep
        self._script = redis.register_script(_RESERVE)

    async def acquire(self, key: str, *, rate_per_s: float, burst: int, max_wait_s: float = 30.0) -> float:
        """Wait for a slot under one limit; return the seconds waited. Raises `RateLimitTimeout`."""
        return await self.acquire_all([Limit(key, rate_per_s, burst)], max_wait_s=max_wait_s)

    async def acquire_all(self, limits: Sequence[Limit], *, max_wait_s: float = 30.0) -> float:
        """Wait for a slot under each limit in turn (e.g. channel, then method tier, then workspace).

        Pass the narrowest limit first: each slot is reserved at the moment the caller reaches it, so a
        long queue on one channel never books workspace capacity in the future, which would hold up every
        other channel. A slot is reserved before sleeping, so a caller cancelled while waiting (or timed
        out on a later limit) still spends it: the limiter errs on the side of sending less, never more.
        """
        waited = 0.0
        for limit in limits:
            waited += await self._reserve(limit, max_wait_s - waited)
        return waited

    async def _reserve(self, limit: Limit, max_wait_s: float) -> float:
        interval = 1.0 / limit.rate_per_s
        # Lua's tonumber() cannot read "inf"; a century is forever enough.
        args = [self._clock(), min(max(max_wait_s, 0.0), 3.2e9), interval, interval * (limit.burst - 1)]
        granted, raw_wait = await self._script(keys=[f"{self._prefix}:{limit.key}"], args=[repr(a) for a in args])
        wait = float(raw_wait)
        if not int(granted):
            raise RateLimitTimeout(
                f"rate limit {limit.key!r}: next slot in {wait:.2f}s", retry_after=math.ceil(wait * 1000) / 1000
            )
        if wait > 0:
            await self._sleep(wait)
        return wait
