"""New interviewers are looked up in Slack by one job at a time; a busy Slack leaves the rest for later."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from shared import jobs
from tests.e2e.world import T0, world
from workers.jobs.people import PENDING_LOOKUPS
from workers.run_lock import LOCK_PREFIX

pytestmark = pytest.mark.e2e

START = T0 + timedelta(days=1)


async def test_lookups_run_in_one_job_and_wait_out_a_rate_limit(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        # Slack answers one lookup, then rate-limits the method for longer than a job waits.
        w.slack.fail_next("users.lookupByEmail", status=429, error="ratelimited", retry_after=60, after=1)
        await w.schedule_panel(start=START, interviewers=3, shadows=0)
        matched = await w.pool.fetchval("SELECT count(*) FROM people WHERE status = 'matched'")
        pending = await redis.scard(PENDING_LOOKUPS)
        # Two lookups run at once, so the refused one's sibling may have finished a second person first.
        assert matched in (1, 2) and matched + pending == 3  # the rest kept for the next run, not failed
        assert len(w.slack.calls("users.lookupByEmail")) == matched + 1

        await w.run(jobs.RESOLVE_PEOPLE)  # the cron's next run
        people = await w.pool.fetch("SELECT ashby_user_id, slack_user_id, slack_tz FROM people ORDER BY 1")
        assert {p["ashby_user_id"]: p["slack_user_id"] for p in people} == {
            user: w.slack_ids[user] for user in w.ashby.interviewer_ids[:3]
        }
        assert await redis.scard(PENDING_LOOKUPS) == 0
        assert len(w.slack.calls("users.lookupByEmail")) == 4  # each person once, plus the refused call


async def test_a_second_drainer_steps_aside_while_one_runs(db_url: str, redis_url: str, redis: aioredis.Redis) -> None:
    async with world(db_url, redis_url, redis) as w:
        await redis.set(LOCK_PREFIX + PENDING_LOOKUPS, "the cron's run, still going", ex=60)
        await w.schedule_panel(start=START, interviewers=2, shadows=0)
        assert await redis.scard(PENDING_LOOKUPS) == 2  # left to the run that holds the set
        assert w.slack.calls("users.lookupByEmail") == []
        await redis.delete(LOCK_PREFIX + PENDING_LOOKUPS)
        await w.run(jobs.RESOLVE_PEOPLE)
        assert await redis.scard(PENDING_LOOKUPS) == 0
        assert await w.pool.fetchval("SELECT count(*) FROM people WHERE status = 'matched'") == 2
