"""Issue 4 end to end: a real `fleet worker` process killed with SIGKILL in the middle of sending a
reminder loses nothing and sends nothing twice; the claim's lease hands the reminder to another worker."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
from arq.constants import in_progress_key_prefix

from fleet.processes import fleet, wait_until
from shared.jobs import queue_redis
from tests.e2e.world import World, world
from tests.helpers import ASHBY_KEY, SIGNING_SECRET, SLACK_TOKEN, WEBHOOK_SECRET
from workers.deps import build_deps
from workers.jobs.reminders import LEASE, dispatch_due_reminders

pytestmark = pytest.mark.e2e


def worker_env(w: World) -> dict[str, str]:
    """A `fleet worker` configured like the world's in-process workers (it runs on the real clock)."""
    assert w.settings.database_url and w.settings.redis_url
    return {
        "ENVIRONMENT": "test",
        "DATABASE_URL": w.settings.database_url,
        "REDIS_URL": w.settings.redis_url,
        "ASHBY_BASE_URL": w.settings.ashby_base_url,
        "SLACK_BASE_URL": w.settings.slack_base_url,
        "ASHBY_API_KEY": ASHBY_KEY,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "ASHBY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
    }


async def dispatch_in_process(w: World) -> None:
    """One tick of the dispatcher, as another replica's cron would run it, on the world's clock."""
    assert w.settings.redis_url
    queue = queue_redis(w.settings.redis_url)
    try:
        async with build_deps(w.settings, queue, clock=w.clock.now) as deps:
            await dispatch_due_reminders({"deps": deps})
    finally:
        await queue.aclose()


async def test_worker_killed_mid_send_loses_no_reminder_and_sends_it_once(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        # The child process reads the real clock, so this world runs on it too.
        now = datetime.now(UTC)
        w.clock.set(now)
        await w.schedule_panel(start=now + timedelta(minutes=5), interviewers=1, shadows=0)  # brief due already
        [alex] = w.ashby.interviewer_ids[:1]
        w.slack.hang_next("chat.postMessage")

        async with fleet("worker", "--queue", "default", env=worker_env(w)) as worker:

            async def mid_send() -> bool:
                if worker.process.returncode is not None:
                    raise RuntimeError(f"the worker exited early (code {worker.process.returncode})")
                return bool(w.slack.hung)

            await wait_until(mid_send, what="the worker to be stuck posting the brief")
            claim = await w.pool.fetchrow("SELECT id, state, attempts, lease_until FROM reminders WHERE kind = 'brief'")
            assert (claim["state"], claim["attempts"]) == ("sending", 1)
            worker.process.kill()
            assert await worker.process.wait() == -signal.SIGKILL

        w.slack.release_hangs()
        assert w.messages_to(alex) == []  # the post never reached Slack
        assert await w.pool.fetchval("SELECT state FROM reminders WHERE id = $1", claim["id"]) == "sending"

        # Before the lease runs out nobody takes the reminder over (the worker might only be slow)...
        await w.refill_rate_limits()
        await dispatch_in_process(w)
        assert await w.pool.fetchval("SELECT attempts FROM reminders WHERE id = $1", claim["id"]) == 1
        # ...after it, the next tick claims it again.
        w.clock.set(claim["lease_until"] + timedelta(seconds=1))
        assert claim["lease_until"] <= now + LEASE + timedelta(seconds=30)
        await dispatch_in_process(w)
        # The killed worker's arq job is still queued, marked in progress for ~70 s of real time; once that
        # marker expires any worker runs it again. Expire it now: that run must find its claim superseded.
        markers = [key async for key in redis.scan_iter(match=in_progress_key_prefix + "*")]
        assert in_progress_key_prefix.encode() + f"reminder:{claim['id']}:1".encode() in markers
        await redis.delete(*markers)
        await w.drain()

        assert w.kinds_to(alex) == ["Upcoming interview"]
        row = await w.pool.fetchrow("SELECT state, attempts FROM reminders WHERE id = $1", claim["id"])
        assert (row["state"], row["attempts"]) == ("sent", 2)
        await w.dispatch()
        assert len(w.messages_to(alex)) == 1
