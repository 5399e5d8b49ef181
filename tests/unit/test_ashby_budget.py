"""One Ashby key, several clients: the request budget is shared through the real Redis limiter (fake time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
import redis.asyncio as aioredis

from shared.clients.ashby import AshbyClient
from shared.errors import Transient
from shared.ratelimit import RateLimitTimeout, RedisRateLimiter
from sim.ashby import AshbySim, create_app, seed_org, sim_of

KEY = "budget-key"
RATE, BURST = 5.0, 2


@dataclass
class FakeTime:
    now: float = 1_000.0
    advance: bool = True
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.advance:
            self.now += seconds
        await asyncio.sleep(0)  # let the other clients' tasks run, as a real sleep would


@dataclass
class Fleet:
    sim: AshbySim
    time: FakeTime
    limiter: RedisRateLimiter
    app: object

    def client(self, api_key: str = KEY, app: object = None, **options: object) -> AshbyClient:
        # Its own httpx client per AshbyClient: as two processes would have.
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app or self.app))  # type: ignore[arg-type]
        self._https.append(http)
        return AshbyClient(
            api_key=api_key,
            base_url="http://ashby.sim",
            http=http,
            limiter=self.limiter,
            rate_per_s=RATE,
            burst=BURST,
            sleep=self.time.sleep,
            clock=self.time.clock,
            **options,  # type: ignore[arg-type]
        )

    _https: list[httpx.AsyncClient] = field(default_factory=list)


@pytest.fixture
async def fleet(redis: aioredis.Redis) -> AsyncIterator[Fleet]:
    seeded = seed_org(clock=lambda: datetime(2026, 3, 2, tzinfo=UTC))
    fake = FakeTime()
    app = create_app(seeded.org, api_key=KEY, clock=fake.clock)
    limiter = RedisRateLimiter(redis, clock=fake.clock, sleep=fake.sleep)
    fleet = Fleet(sim_of(app), fake, limiter, app)
    yield fleet
    for http in fleet._https:
        await http.aclose()


async def test_two_clients_on_one_key_share_one_budget(fleet: Fleet, redis: aioredis.Redis) -> None:
    first, second = fleet.client(), fleet.client()
    for _ in range(10):
        await first.search_users("riley@example.com")
        await second.search_users("riley@example.com")
    arrivals = [call.at - fleet.sim.calls[0].at for call in fleet.sim.calls]
    assert len(arrivals) == 20
    # GCRA: the n-th request (0-based) goes no earlier than (n - burst + 1) / rate, whichever client sends it...
    for n, at in enumerate(arrivals):
        assert at >= max(0.0, (n - BURST + 1) / RATE) - 1e-6, (n, at)
    # ...and the budget is used, not wasted: 20 requests take (20 - burst) / rate seconds, not twice that.
    assert arrivals[-1] == pytest.approx((20 - BURST) / RATE, abs=1e-5)
    keys = await redis.keys("ratelimit:ashby:*")
    assert len(keys) == 1 and KEY.encode() not in keys[0]


async def test_concurrent_requests_get_distinct_slots(fleet: Fleet) -> None:
    fleet.time.advance = False  # frozen clock: each wait is exactly the slot the limiter reserved
    clients = [fleet.client(), fleet.client()]
    await asyncio.gather(*(clients[n % 2].search_users("casey@example.com") for n in range(12)))
    assert len(fleet.sim.calls) == 12
    assert sorted(fleet.time.sleeps) == pytest.approx([n / RATE for n in range(1, 11)], abs=1e-5)


async def test_another_key_has_its_own_budget(fleet: Fleet) -> None:
    busy = fleet.client()
    for _ in range(6):
        await busy.search_users("riley@example.com")
    waited = len(fleet.time.sleeps)
    assert waited == 4
    other_org = create_app(seed_org().org, api_key="another-key")
    other = fleet.client(api_key="another-key", app=other_org)
    for _ in range(BURST):
        assert await other.search_users("riley@example.com")
    assert len(fleet.time.sleeps) == waited  # the busy key's queue did not hold the other key up


async def test_a_wait_longer_than_allowed_goes_back_to_the_queue(fleet: Fleet) -> None:
    fleet.time.advance = False
    impatient = fleet.client(limiter_max_wait_s=0.3)
    await impatient.search_users("riley@example.com")
    await impatient.search_users("riley@example.com")  # the burst
    await impatient.search_users("riley@example.com")  # waits 0.2 s
    with pytest.raises(RateLimitTimeout) as caught:
        await impatient.search_users("riley@example.com")  # would wait 0.4 s
    assert isinstance(caught.value, Transient) and caught.value.retry_after == pytest.approx(0.4)
    assert len(fleet.sim.calls) == 3
