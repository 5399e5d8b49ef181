"""A real `fleet worker` killed with SIGKILL in the middle of storing a batch of webhooks: nothing is lost and
nothing is stored twice. The batch's claims stay in the queue under a lease; when it runs out, the next worker
stores them all."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
from arq.constants import in_progress_key_prefix, result_key_prefix

from fleet.processes import fleet, wait_until
from shared import jobs
from tests.e2e.test_worker_kill import worker_env
from tests.e2e.world import world
from tests.helpers import event, interviewer, schedule_webhook
from workers.webhook_claims import LEASE_S

pytestmark = pytest.mark.e2e

WEBHOOKS = 40


async def test_worker_killed_mid_batch_loses_no_webhook_and_stores_none_twice(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        start = datetime.now(UTC) + timedelta(days=1)
        bodies = [
            schedule_webhook(
                f"schedule-{n}",
                updated_at=datetime.now(UTC),
                events=[event(f"event-{n}", start, interviewers=[interviewer("alice")])],
            )
            for n in range(WEBHOOKS)
        ]
        ids = [jobs.webhook_job_id(body) for body in bodies]
        for body in bodies:
            assert await jobs.enqueue_ashby_event(w.redis, body)  # type: ignore[arg-type]

        # Hold the batch inside its transaction: schedules cannot be written while the test holds this lock.
        async with w.pool.acquire() as blocker:
            transaction = blocker.transaction()
            await transaction.start()
            await blocker.execute("LOCK TABLE interview_schedules IN SHARE ROW EXCLUSIVE MODE")
            async with fleet("worker", "--queue", "default", env=worker_env(w)) as worker:

                async def all_claimed_and_waiting() -> bool:
                    if worker.process.returncode is not None:
                        raise AssertionError(f"the worker exited early (code {worker.process.returncode})")
                    claimed = sum([await redis.exists(in_progress_key_prefix + i) for i in ids])
                    # Not from the blocker: inside its transaction the statistics views keep their first snapshot.
                    waiting = await w.pool.fetchval(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fleet' "
                        "AND wait_event_type = 'Lock'"
                    )
                    return claimed == WEBHOOKS and waiting > 0

                await wait_until(all_claimed_and_waiting, what="every webhook claimed, its batch mid-transaction")
                worker.process.kill()
                assert await worker.process.wait() == -signal.SIGKILL
            await transaction.rollback()

        assert await w.pool.fetchval("SELECT count(*) FROM interview_schedules") == 0
        # Nothing is lost: every webhook is still queued, with its body; those the batch claimed come due when
        # the lease ends (until then no worker takes them: the killed one might only have been slow).
        queued = dict(await redis.zrange(jobs.QUEUE_DEFAULT, 0, -1, withscores=True))
        assert [i for i in ids if i.encode() not in queued or not await redis.exists("arq:job:" + i)] == []
        now_ms = time.time() * 1000
        leased = [i for i in ids if queued[i.encode()] > now_ms + (LEASE_S - 30) * 1000]
        assert len(leased) > WEBHOOKS / 2  # claimed by batches; the rest are the jobs arq itself started

        # The lease runs out (as arq's own mark on a dead worker's job does): moved forward instead of waited.
        await redis.delete(*(in_progress_key_prefix + i for i in ids))
        await redis.zadd(jobs.QUEUE_DEFAULT, dict.fromkeys(ids, now_ms - 1000))
        await w.drain()

        assert await w.pool.fetchval("SELECT count(*) FROM interview_schedules") == WEBHOOKS
        assert await w.pool.fetchval("SELECT count(*) FROM interview_event_times") == WEBHOOKS  # no history twice
        assert await w.pool.fetchval("SELECT count(*) FROM reminders") == WEBHOOKS * 6
        assert await w.pool.fetchval("SELECT count(*) FROM dead_letters") == 0
        assert [i for i in ids if not await redis.exists(result_key_prefix + i)] == []
        assert not [i for i in await redis.zrange(jobs.QUEUE_DEFAULT, 0, -1) if i.startswith(b"ashby:")]
