"""A schedule whose webhooks never arrived is picked up by the periodic incremental sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from shared import jobs
from shared.dead_letter_replay import replay
from tests.e2e.world import T0, world
from workers.jobs.ashby_events import SCHEDULE_SYNC
from workers.jobs.sync import FEEDBACK_SYNC
from workers.run_lock import LOCK_PREFIX

pytestmark = pytest.mark.e2e


async def test_missed_webhooks_are_caught_up_by_reconcile_schedules(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        schedule = w.ashby.panel(start=T0 + timedelta(hours=2), interviewers=2, shadows=0)  # webhooks never delivered
        await w.run(jobs.RECONCILE_SCHEDULES)
        assert await w.pool.fetchval("SELECT count(*) FROM interview_events WHERE id = $1", schedule.event_ids[0]) == 1
        assert await w.pool.fetchval("SELECT count(*) FROM reminders WHERE kind = 'brief'") == 2

        # The next pass is incremental: only what changed since is read, and a move is applied.
        w.ashby.org.update_event(schedule.event_ids[0], start=T0 + timedelta(hours=3), end=T0 + timedelta(hours=4))
        await w.run(jobs.RECONCILE_SCHEDULES)
        brief_due = await w.pool.fetchval("SELECT min(due_at) FROM reminders WHERE kind = 'brief'")
        assert brief_due == T0 + timedelta(hours=3) - timedelta(minutes=10)
        calls = w.ashby_sim.calls_to("interviewSchedule.list")
        assert len(calls) >= 2 and "syncToken" in str(calls[-1])


async def test_a_sync_still_running_makes_the_next_tick_skip(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        schedule = w.ashby.panel(start=T0 + timedelta(hours=2), interviewers=2, shadows=0)
        for name in (SCHEDULE_SYNC, FEEDBACK_SYNC):  # a long first full sync of each holds its lock
            await redis.set(LOCK_PREFIX + name, "another worker's run", ex=60)
        await w.run(jobs.RECONCILE_SCHEDULES)
        await w.sync()
        assert w.ashby_sim.calls_to("interviewSchedule.list") == []
        assert w.ashby_sim.calls_to("applicationFeedback.list") == []

        await redis.delete(*(LOCK_PREFIX + name for name in (SCHEDULE_SYNC, FEEDBACK_SYNC)))  # it finished
        await w.run(jobs.RECONCILE_SCHEDULES)
        await w.sync()
        assert await w.pool.fetchval("SELECT count(*) FROM interview_events WHERE id = $1", schedule.event_ids[0]) == 1
        assert len(w.ashby_sim.calls_to("applicationFeedback.list")) >= 1
        assert await redis.keys(LOCK_PREFIX + "*") == []  # each run released its lock


async def test_a_first_full_sync_of_past_interviews_reminds_nobody(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        earlier_candidate = w.ashby.add_application("Earlier Candidate").id
        old = w.ashby.panel(  # before the fleet existed
            start=T0 - timedelta(days=200), interviewers=2, shadows=1, application_id=earlier_candidate
        )
        recent = w.ashby.panel(start=T0 - timedelta(hours=3), interviewers=1, shadows=0)  # ended this morning
        await w.run(jobs.RECONCILE_SCHEDULES)
        await w.dispatch()
        assert await w.pool.fetchval("SELECT count(*) FROM interview_events WHERE id = $1", old.event_ids[0]) == 1
        assert await w.pool.fetchval("SELECT count(*) FROM reminders WHERE event_id = $1", old.event_ids[0]) == 0
        # Only the interview that just happened gets its feedback nudge.
        alex, blake = w.ashby.interviewer_ids[:2]  # both were on the old panel; Alex alone on the recent one
        assert await w.pool.fetchval("SELECT count(*) FROM reminders WHERE event_id = $1", recent.event_ids[0]) > 0
        assert w.kinds_to(alex) == ["Feedback due"]
        assert w.messages_to(blake) == []
        assert len(w.slack.messages) == 1
        # Nobody is looked up in Slack for the old panel alone (Blake has no reminder to come), and only the
        # recent panel's metadata was fetched ahead.
        assert await w.pool.fetchval("SELECT array_agg(ashby_user_id) FROM people") == [alex]
        assert [c.body["applicationId"] for c in w.ashby_sim.calls_to("application.info")] == [w.ashby.application_id]


async def test_feedback_synced_before_its_schedule_is_known_still_counts(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        schedule = w.ashby.panel(start=T0 - timedelta(hours=3), interviewers=2, shadows=0)  # webhooks lost
        alex, blake = w.ashby.interviewer_ids[:2]
        w.submit_in_ashby(alex, schedule.event_ids[0])
        await w.sync()  # the feedback sync runs first (as on a first start) and knows no schedule yet
        await w.run(jobs.RECONCILE_SCHEDULES)
        await w.dispatch()
        assert w.messages_to(alex) == []  # already submitted: never asked
        assert w.kinds_to(blake) == ["Feedback due"]


async def test_a_nul_character_pasted_into_ashby_is_stored_without_it(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        schedule = w.ashby.panel(start=T0 + timedelta(hours=2), interviewers=2, shadows=0)
        # Stored first: the simulator's two payloads can carry the same millisecond updatedAt, and run together
        # the creation (no location yet) could be stored last.
        assert {status for _, status in await w.deliver_webhooks()} == {200}
        await w.drain()
        w.ashby.org.events[schedule.event_ids[0]].location = "Room\x00 4"  # pasted from somewhere
        w.ashby.org.update_event(schedule.event_ids[0], start=T0 + timedelta(hours=3), end=T0 + timedelta(hours=4))
        assert {status for _, status in await w.deliver_webhooks()} == {200}  # the webhook path
        await w.drain()
        assert await w.pool.fetchval("SELECT location FROM interview_events") == "Room 4"
        await w.run(jobs.RECONCILE_SCHEDULES)  # the sync path reads the same text from the API
        assert await w.pool.fetchval("SELECT count(*) FROM dead_letters") == 0


async def test_one_unstorable_schedule_does_not_stop_the_reconcile_run(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        first = w.ashby.panel(start=T0 + timedelta(hours=2), interviewers=1, shadows=0)
        bad = w.ashby.panel(start=T0 + timedelta(hours=3), interviewers=1, shadows=0)
        last = w.ashby.panel(start=T0 + timedelta(hours=4), interviewers=1, shadows=0)
        # Whatever makes one record unstorable (a constraint, a value PostgreSQL refuses): a trigger stands in.
        await w.pool.execute(
            f"""
            CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.id = '{bad.id}' THEN RAISE EXCEPTION 'unstorable'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER refuse_one BEFORE INSERT ON interview_schedules FOR EACH ROW EXECUTE FUNCTION refuse_one();
            """
        )
        await w.run(jobs.RECONCILE_SCHEDULES)
        stored = {r["id"] for r in await w.pool.fetch("SELECT id FROM interview_schedules")}
        assert stored == {first.id, last.id}
        assert await w.pool.fetchval("SELECT sync_token FROM ashby_sync_tokens WHERE name = $1", SCHEDULE_SYNC)
        [letter] = await w.pool.fetch("SELECT job_name, subject, error FROM dead_letters")
        assert (letter["job_name"], letter["subject"], letter["error"]) == (
            "ingest_ashby_event",
            bad.id,
            "RaiseError (P0001)",
        )

        # Fixed, the dead letter replays as the webhook it would have been.
        await w.pool.execute("DROP TRIGGER refuse_one ON interview_schedules")
        letter_id = await w.pool.fetchval("SELECT id FROM dead_letters")
        await replay(w.pool, w.redis, letter_id, now=datetime.now(UTC))  # type: ignore[arg-type]
        await w.drain()
        assert await w.pool.fetchval("SELECT count(*) FROM interview_schedules") == 3
