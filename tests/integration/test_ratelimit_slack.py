"""Slack calls paced by the shared Redis limiter, measured on the simulator's clock (which enforces limits too)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis

from shared.clients.slack import SlackClient, SlackLimits
from shared.errors import Transient
from shared.ratelimit import RateLimitTimeout, RedisRateLimiter
from sim.serving import running
from sim.slack import SlackState, create_app

TOKEN = "xoxb-test-token"


class SharedClock:
    """One clock for the simulator and every limiter; with `advance`, a limiter's sleep moves it."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.advance = True
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.advance:
            self.now += seconds


@dataclass
class Setup:
    state: SlackState
    clock: SharedClock
    base_url: str
    redis_url: str

    def client(self, redis: aioredis.Redis, limits: SlackLimits | None = None) -> SlackClient:
        limiter = RedisRateLimiter(redis, clock=self.clock, sleep=self.clock.sleep)
        return SlackClient(token=TOKEN, base_url=self.base_url, limiter=limiter, limits=limits, sleep=self.clock.sleep)


@pytest.fixture
async def setup(redis_url: str, redis: aioredis.Redis) -> AsyncIterator[Setup]:
    state, clock = SlackState(), SharedClock()
    for user in ("U1", "U2"):
        state.add_user(user, f"{user.lower()}@example.com")
    app = create_app(state, token=TOKEN, signing_secret="s" * 32, interactions_url=None, clock=clock)
    async with running(app) as url:
        yield Setup(state, clock, f"{url}/api/", redis_url)


async def test_messages_to_one_channel_are_spaced_a_second_apart(setup: Setup, redis: aioredis.Redis) -> None:
    slack = setup.client(redis)
    try:
        for i in range(5):
            await slack.post_message("U1", f"reminder {i}")
            await slack.post_message("U2", f"reminder {i}")
    finally:
        await slack.aclose()

    for user in ("U1", "U2"):
        times = [m.posted_at for m in setup.state.messages_to(user)]
        assert len(times) == 5
        assert all(later - earlier >= 1.0 - 1e-6 for earlier, later in itertools.pairwise(times))
    # Another channel is not held up by the first one's queue: U2 went out alongside U1 each second.
    assert setup.state.messages_to("U2")[0].posted_at == setup.state.messages_to("U1")[0].posted_at
    assert setup.clock.now - 1_700_000_000.0 == pytest.approx(4.0)
    assert {r.status for r in setup.state.requests} == {200}  # the simulator never had to say 429


async def test_two_processes_share_the_channel_budget(setup: Setup, redis: aioredis.Redis) -> None:
    other_redis = aioredis.Redis.from_url(setup.redis_url)
    a, b = setup.client(redis), setup.client(other_redis)
    try:
        for i in range(3):
            await a.post_message("U1", f"from a {i}")
            await b.post_message("U1", f"from b {i}")
    finally:
        await a.aclose()
        await b.aclose()
        await other_redis.aclose()

    times = [m.posted_at for m in setup.state.messages_to("U1")]
    assert [t - times[0] for t in times] == pytest.approx([0, 1, 2, 3, 4, 5])
    assert {r.status for r in setup.state.requests} == {200}


async def test_a_long_queue_goes_back_to_the_job_queue(setup: Setup, redis: aioredis.Redis) -> None:
    setup.clock.advance = False  # everything below happens at one instant...
    setup.state.rate_limits.enabled = False  # ...which the simulator would refuse; here only our limiter counts
    slack = setup.client(redis, SlackLimits(max_wait_s=2.0))
    try:
        for _ in range(3):
            await slack.post_message("U1", "queued")
        with pytest.raises(RateLimitTimeout) as caught:
            await slack.post_message("U1", "one too many")
    finally:
        await slack.aclose()

    assert isinstance(caught.value, Transient) and caught.value.retry_after == pytest.approx(3.0)
    assert setup.clock.slept == pytest.approx([1.0, 2.0])  # queued, not refused, up to max_wait_s
    assert len(setup.state.calls("chat.postMessage")) == 3


async def test_views_open_never_waits_long_for_a_slot(setup: Setup, redis: aioredis.Redis) -> None:
    setup.clock.advance = False
    setup.state.rate_limits.enabled = False
    limits = SlackLimits(tier_per_min={2: 20, 3: 50, 4: 60}, tier_burst={2: 2, 3: 5, 4: 1})
    slack = setup.client(redis, limits)
    try:
        await slack.open_view(setup.state.mint_trigger("U1", setup.clock.now), {"type": "modal", **_MODAL})
        with pytest.raises(RateLimitTimeout):  # the next slot is 1 s away; the trigger has 3 s in all
            await slack.open_view(setup.state.mint_trigger("U1", setup.clock.now), {"type": "modal", **_MODAL})
    finally:
        await slack.aclose()

    assert len(setup.state.calls("views.open")) == 1
    assert setup.clock.slept == []


_MODAL = {"title": {"type": "plain_text", "text": "Feedback"}, "blocks": []}
