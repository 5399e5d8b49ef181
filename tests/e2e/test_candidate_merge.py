"""Ashby merges two candidates, then deletes the one that remains, through both simulators, the real ingress
and real workers: the merge re-keys without losing history and a replay changes nothing; the deletion then
takes both candidates' names from every table."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import redis.asyncio as aioredis
from arq.constants import result_key_prefix

from shared import jobs
from tests.e2e.world import T0, world
from tests.integration.privacy_rows import text_of_every_table
from workers.metadata_refresh import REQUEUE_AFTER

pytestmark = pytest.mark.e2e


async def test_a_merge_rekeys_to_the_remaining_candidate_and_a_deletion_then_forgets_both(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        org, jordan = w.ashby.org, w.ashby.candidate_id
        moved = w.ashby.add_application("Sam Lee")
        sam = moved.candidate_id
        schedule = await w.schedule_panel(
            start=T0 + timedelta(days=1), interviewers=2, shadows=0, application_id=moved.id
        )
        cached = "SELECT candidate_id, candidate_name FROM ashby_applications WHERE id = $1"
        assert tuple(await w.pool.fetchrow(cached, moved.id)) == (sam, "Sam Lee")
        reminders = await w.pool.fetch("SELECT id, state FROM reminders ORDER BY id")
        assert reminders and {r["state"] for r in reminders} == {"pending"}

        w.clock.advance(REQUEUE_AFTER * 2)  # the application may be fetched again
        org.merge_candidates(sam, jordan)
        assert await w.deliver_webhooks() == [("candidateMerge", 200)]
        await w.drain()

        # Every row names the remaining candidate; the copy of the application is Ashby's new one; nothing lost.
        assert tuple(await w.pool.fetchrow(cached, moved.id)) == (jordan, "Jordan Rivers")
        assert (
            await w.pool.fetchval("SELECT candidate_id FROM interview_schedules WHERE id = $1", schedule.id) == jordan
        )
        assert await w.pool.fetch("SELECT id, state FROM reminders ORDER BY id") == reminders
        removal = await w.pool.fetchrow("SELECT * FROM candidate_removals")
        assert (removal["candidate_id"], removal["kind"], removal["merged_into"], removal["application_ids"]) == (
            sam,
            "merged",
            jordan,
            [moved.id],
        )
        body = w.ashby_sim.webhooks.deliveries[-1].body  # type: ignore[union-attr]
        assert (await w.post_webhook(body)).json() == {"status": "duplicate"}
        again = json.dumps(json.loads(body), indent=1).encode()  # delivered again after our dedupe window
        assert (await w.post_webhook(again)).json() == {"status": "queued"}
        await w.drain()
        replayed = jobs.deserialize(await redis.get(result_key_prefix + jobs.webhook_job_id(again)))["r"]
        assert replayed == {"outcome": "merged", "applications": 0, "schedules": 0}
        assert await w.pool.fetchval("SELECT count(*) FROM candidate_removals") == 1

        org.delete_candidate(jordan)
        assert await w.deliver_webhooks() == [("candidateDelete", 200)]
        await w.drain()
        everything = await text_of_every_table(w.pool)
        assert "Sam Lee" not in everything and "Jordan Rivers" not in everything
        states = {r["state"] for r in await w.pool.fetch("SELECT state FROM reminders")}
        assert states == {"skipped"}, "no reminder about a deleted candidate"
        kinds = await w.pool.fetch("SELECT candidate_id, kind FROM candidate_removals ORDER BY kind")
        assert [tuple(r) for r in kinds] == [(jordan, "deleted"), (sam, "merged")]
