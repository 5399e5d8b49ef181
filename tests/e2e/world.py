"""The end-to-end world (`fill_view` re-exported for the tests): the real ingress on a socket, real arq
workers on real Redis and PostgreSQL, and the Ashby and Slack simulators reached over HTTP by the
production clients. Workers run in burst mode with a controlled clock, so a test decides when time passes
and when work happens.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from ingress.app import create_app as create_ingress
from shared import jobs
from shared.metrics import Metrics, build_metrics
from shared.settings import Settings
from sim.ashby import sample_answers
from sim.ashby.app import AshbySim, sim_of
from sim.ashby.app import create_app as create_ashby
from sim.ashby.records import SimFeedback, SimSchedule
from sim.ashby.seed import SeededOrg, seed_org
from sim.ashby.webhooks import WebhookTarget, sign
from sim.pairing import fill_view, mirror_users
from sim.serving import listening_socket, running, url_of
from sim.slack import SlackActor, SlackState
from sim.slack import create_app as create_slack
from sim.slack.state import Message, SimView
from tests.helpers import ASHBY_KEY, SIGNING_SECRET, SLACK_TOKEN, WEBHOOK_SECRET, make_settings
from workers.main import create_worker

# A Monday morning, so business-day rules are easy to read in assertions.
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
# Burst workers poll their queue this often while their jobs run: short, so a drain takes milliseconds.
POLL_S = 0.01
RATE_LIMIT_KEYS = "ratelimit:*"


@dataclass
class Clock:
    at: datetime = T0

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta

    def set(self, at: datetime) -> None:
        self.at = at


@dataclass
class World:
    settings: Settings
    clock: Clock
    ashby: SeededOrg
    ashby_sim: AshbySim
    slack: SlackState
    actor: SlackActor
    pool: asyncpg.Pool
    redis: aioredis.Redis
    slack_ids: dict[str, str] = field(default_factory=dict)  # Ashby user id -> Slack user id
    ingress_url: str = ""
    metrics: Metrics = field(default_factory=build_metrics)  # what the workers counted, across their runs

    async def deliver_webhooks(self) -> list[tuple[str, int]]:
        """Ashby sends what its state changes queued, signed, to the ingress."""
        return await self.ashby_sim.flush_webhooks()

    async def drain(self) -> None:
        """Run both queues' workers until neither has anything left (jobs enqueue jobs on the other)."""
        for _ in range(10):
            for queue in ("default", "interactive"):
                worker = create_worker(self.settings, queue, clock=self.clock.now, burst=True, metrics=self.metrics)
                worker.poll_delay_s = POLL_S
                try:
                    await worker.main()
                finally:
                    await worker.close()
            if not await self.redis.zcard(jobs.QUEUE_DEFAULT) and not await self.redis.zcard(jobs.QUEUE_INTERACTIVE):
                return
        raise AssertionError("queues did not drain")

    async def run(self, function: str) -> None:
        """Run one of the periodic jobs now (the cron would, on its tick) and everything it enqueues.

        Ticks are minutes to days apart on the controlled clock but milliseconds apart in real time, which
        the rate limiters (ours in Redis, the Slack simulator's) count in: their budgets refill first."""
        await self.refill_rate_limits()
        await jobs.enqueue_default(self.redis, function, job_id=f"{function}:{uuid.uuid4().hex}")  # type: ignore[arg-type]
        await self.drain()

    async def refill_rate_limits(self) -> None:
        keys = [key async for key in self.redis.scan_iter(match=RATE_LIMIT_KEYS)]
        if keys:
            await self.redis.delete(*keys)
        self.slack.rate_limits.reset()

    async def dispatch(self) -> None:
        await self.run(jobs.DISPATCH_DUE_REMINDERS)

    async def walk(self, until: datetime) -> None:
        """Let time pass up to `until`, the dispatcher ticking whenever a reminder (in any state) falls due,
        then once at `until`."""
        while True:
            due = await self.pool.fetchval("SELECT min(due_at) FROM reminders WHERE due_at > $1", self.clock.now())
            if due is None or due >= until:
                break
            self.clock.set(due)
            await self.dispatch()
        self.clock.set(until)
        await self.dispatch()

    async def sync(self) -> None:
        await self.run(jobs.SYNC_FEEDBACK)

    async def schedule_panel(
        self, *, start: datetime, interviewers: int = 3, shadows: int = 1, **kw: Any
    ) -> SimSchedule:
        """Schedule a panel in Ashby, deliver its webhooks and let the workers plan it."""
        schedule = self.ashby.panel(start=start, interviewers=interviewers, shadows=shadows, **kw)
        assert {status for _, status in await self.deliver_webhooks()} == {200}
        await self.drain()
        return schedule

    async def post_webhook(self, body: bytes, *, request_id: str | None = None) -> httpx.Response:
        """Deliver one Ashby webhook body to the ingress again, signed as Ashby would (a retried delivery)."""
        headers = {"Content-Type": "application/json", "Ashby-Signature": sign(WEBHOOK_SECRET, body)}
        if request_id is not None:
            headers["X-Request-Id"] = request_id
        async with httpx.AsyncClient() as client:
            return await client.post(self.ingress_url + "/webhooks/ashby", content=body, headers=headers)

    async def click(
        self,
        ashby_user_id: str,
        action_id: str = "open_feedback_form",
        *,
        by: str | None = None,
        message: Message | None = None,
    ) -> SimView | None:
        """`by` (default: the interviewer) clicks `action_id` on the interviewer's latest message that has it;
        returns the view the click opened, if any."""
        clicker = self.slack_ids[by or ashby_user_id]
        if message is None:
            message = next(m for m in reversed(self.messages_to(ashby_user_id)) if action_id in str(m.blocks))
        before = set(self.slack.views)
        response = await self.actor.click_button(message, action_id, user_id=clicker)
        assert response.status_code == 200
        opened = [v for key, v in self.slack.views.items() if key not in before]
        assert len(opened) <= 1
        return opened[0] if opened else None

    def submit_in_ashby(self, ashby_user_id: str, event_id: str) -> SimFeedback:
        """A scorecard for the seeded form, submitted in Ashby's own UI (no Slack, no webhook)."""
        form = self.ashby.org.forms[self.ashby.form_id]
        return self.ashby.org.submit_feedback(
            form_id=form.id,
            application_id=self.ashby.application_id,
            submissions=sample_answers(form.sections),
            user_id=ashby_user_id,
            event_id=event_id,
        )

    def submissions(self, ashby_user_id: str) -> list[SimFeedback]:
        """The scorecards this user has in the Ashby simulator."""
        return [f for f in self.ashby.org.feedback.values() if f.user_id == ashby_user_id]

    async def reminder_rows(self, ashby_user_id: str) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.pool.fetch(
            "SELECT * FROM reminders WHERE interviewer_id = $1 ORDER BY due_at, kind", ashby_user_id
        )
        return rows

    def messages_to(self, ashby_user_id: str) -> list[Message]:
        return self.slack.messages_to(self.slack_ids[ashby_user_id])

    def kinds_to(self, ashby_user_id: str) -> list[str]:
        """The title line of every message sent to this interviewer, in order."""
        return [_title(m) for m in self.messages_to(ashby_user_id)]

    async def reminders(self, ashby_user_id: str) -> list[tuple[str, int, str]]:
        rows = await self.pool.fetch(
            "SELECT kind, sequence, state FROM reminders WHERE interviewer_id = $1 ORDER BY due_at, kind", ashby_user_id
        )
        return [(r["kind"], r["sequence"], r["state"]) for r in rows]


def _title(message: Message) -> str:
    """ "Upcoming interview", "Feedback due", ...: a message's header without the candidate's name."""
    header = next((b for b in message.blocks if b.get("type") == "header"), None)
    return str(header["text"]["text"]).split(":")[0] if header else message.text


@contextlib.asynccontextmanager
async def world(db_url: str, redis_url: str, redis: aioredis.Redis, **overrides: Any) -> AsyncIterator[World]:
    clock = Clock()
    seeded = seed_org()
    ingress_sock = listening_socket()
    ingress_url = url_of(ingress_sock)
    ashby_app = create_ashby(
        seeded.org, api_key=ASHBY_KEY, webhook=WebhookTarget(ingress_url + "/webhooks/ashby", WEBHOOK_SECRET)
    )
    slack_state = SlackState()
    slack_ids = mirror_users(seeded.org, slack_state)
    slack_app = create_slack(
        slack_state,
        token=SLACK_TOKEN,
        signing_secret=SIGNING_SECRET,
        interactions_url=ingress_url + "/slack/interactions",
        events_url=ingress_url + "/slack/events",
        commands_url=ingress_url + "/slack/commands",
    )
    # Ashby's simulator serves without its lifespan: webhooks leave only when a test delivers them.
    async with running(ashby_app, lifespan="off") as ashby_url, running(slack_app) as slack_url:
        slack_app.state.actor.public_url = slack_url  # slash commands' response_urls lead back to it
        settings = make_settings(
            db_url=db_url,
            redis_url=redis_url,
            ashby_base_url=ashby_url,
            slack_base_url=slack_url + "/api/",
            **overrides,
        )
        pool = await asyncpg.create_pool(db_url, min_size=1, max_size=3)
        try:
            async with running(create_ingress(settings), sock=ingress_sock):
                yield World(
                    settings=settings,
                    clock=clock,
                    ashby=seeded,
                    ashby_sim=sim_of(ashby_app),
                    slack=slack_state,
                    actor=slack_app.state.actor,
                    pool=pool,
                    redis=redis,
                    slack_ids=slack_ids,
                    ingress_url=ingress_url,
                )
        finally:
            slack_state.release_hangs()  # a held request would keep the Slack simulator from shutting down
            await pool.close()
            await sim_of(ashby_app).aclose()


__all__ = ["T0", "Clock", "World", "fill_view", "world"]
