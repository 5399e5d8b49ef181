"""The shared Redis rate limiter on a real Redis: two limiter instances stand in for two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from shared.errors import Transient
from shared.ratelimit import Limit, RateLimitTimeout, RedisRateLimiter

T0 = 1_700_000_000.0


class FakeTime:
    """A clock that moves only by the test or, with `advance`, by the sleeps it records instead of sleeping."""

    def __init__(self, *, advance: bool = False) -> None:
        self.now = T0
        self.advance = advance
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.advance:
            self.now += seconds


@pytest.fixture
async def second_redis(redis_url: str, redis: aioredis.Redis) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def assert_within_rate(grants: list[float], *, rate_per_s: float, burst: int) -> None:
    """No window [a, b] holds more than burst + rate * (b - a) grants."""
    grants = sorted(grants)
    for i in range(len(grants)):
        for j in range(i, len(grants)):
            allowed = burst + rate_per_s * (grants[j] - grants[i]) + 1e-6
            assert j - i + 1 <= allowed, f"{j - i + 1} grants in {grants[j] - grants[i]:.3f}s"


async def test_two_processes_share_one_budget(redis: aioredis.Redis, second_redis: aioredis.Redis) -> None:
    time = FakeTime()
    a = RedisRateLimiter(redis, clock=time.clock, sleep=time.sleep)
    b = RedisRateLimiter(second_redis, clock=time.clock, sleep=time.sleep)

    async def one(limiter: RedisRateLimiter) -> float:
        return time.now + await limiter.acquire("slack:chan:C1", rate_per_s=2.0, burst=3)

    grants = await asyncio.gather(*(one(a if i % 2 else b) for i in range(20)))

    assert_within_rate(list(grants), rate_per_s=2.0, burst=3)
    # Bursts queue instead of failing: the first three go at once, then one slot every half second.
    assert sorted(grants) == pytest.approx([T0] * 3 + [T0 + 0.5 * k for k in range(1, 18)])
    assert sorted(time.slept) == pytest.approx([0.5 * k for k in range(1, 18)])


async def test_budget_refills_with_time(redis: aioredis.Redis) -> None:
    time = FakeTime()
    limiter = RedisRateLimiter(redis, clock=time.clock, sleep=time.sleep)
    waits = [await limiter.acquire("k", rate_per_s=1.0, burst=2) for _ in range(3)]
    assert waits == pytest.approx([0.0, 0.0, 1.0])

    time.now += 0.5  # half a slot later the queue is half a second shorter
    assert await limiter.acquire("k", rate_per_s=1.0, burst=2) == pytest.approx(1.5)

    time.now += 60  # idle long enough: the whole burst is available again
    waits = [await limiter.acquire("k", rate_per_s=1.0, burst=2) for _ in range(3)]
    assert waits == pytest.approx([0.0, 0.0, 1.0])


async def test_wait_beyond_max_raises_and_reserves_nothing(redis: aioredis.Redis) -> None:
    time = FakeTime()
    limiter = RedisRateLimiter(redis, clock=time.clock, sleep=time.sleep)
    waits = [await limiter.acquire("k", rate_per_s=1.0, burst=1, max_wait_s=2.0) for _ in range(3)]
    assert waits == pytest.approx([0.0, 1.0, 2.0])

    for _ in range(2):  # a refusal must not push the queue further back
        with pytest.raises(RateLimitTimeout) as caught:
            await limiter.acquire("k", rate_per_s=1.0, burst=1, max_wait_s=2.0)
        assert isinstance(caught.value, Transient)
        assert caught.value.retry_after == pytest.approx(3.0)

    assert await limiter.acquire("k", rate_per_s=1.0, burst=1, max_wait_s=5.0) == pytest.approx(3.0)


async def test_several_limits_are_taken_in_turn(redis: aioredis.Redis) -> None:
    time = FakeTime(advance=True)
    limiter = RedisRateLimiter(redis, clock=time.clock, sleep=time.sleep)
    workspace = Limit("workspace", rate_per_s=2.0)

    def message_to(channel: str) -> list[Limit]:
        return [Limit(f"chan:{channel}", rate_per_s=1.0), workspace]

    assert await limiter.acquire_all(message_to("C1")) == 0.0
    # The channel allows the next one after a second; by then the workspace has room again.
    assert await limiter.acquire_all(message_to("C1")) == pytest.approx(1.0)
    # Another channel is free, but the workspace budget spaces it half a second after the last send.
    assert await limiter.acquire_all(message_to("C2")) == pytest.approx(0.5)
    assert time.now == pytest.approx(T0 + 1.5)

    # Refused on the channel (0.5 s away) before the workspace key is touched.
    with pytest.raises(RateLimitTimeout) as caught:
        await limiter.acquire_all(message_to("C1"), max_wait_s=0.2)
    assert caught.value.retry_after == pytest.approx(0.5)
    assert await limiter.acquire_all([workspace]) == pytest.approx(0.5)


async def test_keys_expire_once_idle(redis: aioredis.Redis) -> None:
    limiter = RedisRateLimiter(redis, prefix="rl", clock=FakeTime().clock)
    await limiter.acquire("k", rate_per_s=0.5, burst=1)
    ttl_ms = await redis.pttl("rl:k")
    assert 0 < ttl_ms <= 3000


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        Limit("k", rate_per_s=0)
    with pytest.raises(ValueError):
        Limit("k", rate_per_s=1, burst=0)
