"""Issue 4 end to end, reminders: reschedules, cancellations, removed interviewers, duplicate webhook
deliveries, escalation and interviewers Slack cannot match, through the real ingress and workers against
both simulators with a controlled clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import redis.asyncio as aioredis
from arq.constants import result_key_prefix

from shared import jobs
from shared.people import list_unmatched
from sim.ashby import FaultPlan
from tests.e2e.world import T0, World, fill_view, world
from workers.jobs.reminders import LEASE

pytestmark = pytest.mark.e2e

START = T0 + timedelta(hours=2)  # Monday 11:00 UTC, one hour long
END = START + timedelta(hours=1)
BRIEF = timedelta(minutes=10)
DUE = timedelta(minutes=15)


async def due_at(w: World, user: str, kind: str, sequence: int = 1) -> datetime:
    value: datetime = await w.pool.fetchval(
        "SELECT due_at FROM reminders WHERE interviewer_id = $1 AND kind = $2 AND sequence = $3", user, kind, sequence
    )
    return value


async def test_reschedule_moves_pending_reminders_and_never_resends_a_sent_brief(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        event = (await w.schedule_panel(start=START)).event_ids[0]
        alex, blake, shadow = w.ashby.interviewer_ids[:3]
        people = (alex, blake, shadow)

        # Moved three hours later before the brief: every pending reminder follows the event.
        moved = START + timedelta(hours=3)
        w.ashby.org.update_event(event, start=moved, end=moved + timedelta(hours=1))
        await w.deliver_webhooks()
        await w.drain()
        assert await due_at(w, alex, "brief") == moved - BRIEF
        assert await due_at(w, alex, "due") == moved + timedelta(hours=1) + DUE

        w.clock.set(START - BRIEF)  # the old brief time: nothing goes out
        await w.dispatch()
        assert [w.kinds_to(p) for p in people] == [[], [], []]
        w.clock.set(moved - BRIEF)
        await w.dispatch()
        assert [w.kinds_to(p) for p in people] == [["Upcoming interview"]] * 3
        brief_text = str(w.messages_to(alex)[0].blocks)
        assert f"<!date^{int(moved.timestamp())}^" in brief_text  # it shows the new time, not the old one
        assert f"<!date^{int(START.timestamp())}^" not in brief_text

        # Moved again, a day later, after the brief went out: the sent brief is final, never sent again.
        later = moved + timedelta(days=1)
        w.ashby.org.update_event(event, start=later, end=later + timedelta(hours=1))
        await w.deliver_webhooks()
        await w.drain()
        assert await due_at(w, alex, "brief") == moved - BRIEF  # the sent row keeps its history
        assert await due_at(w, alex, "due") == later + timedelta(hours=1) + DUE
        await w.walk(later + timedelta(hours=1))
        assert [w.kinds_to(p) for p in people] == [["Upcoming interview"]] * 3
        w.clock.set(later + timedelta(hours=1) + DUE)
        await w.dispatch()
        assert w.kinds_to(alex) == w.kinds_to(blake) == ["Upcoming interview", "Feedback due"]
        assert w.kinds_to(shadow) == ["Upcoming interview"]
        brief = await w.pool.fetchrow("SELECT state, attempts FROM reminders WHERE interviewer_id = $1", shadow)
        assert (brief["state"], brief["attempts"]) == ("sent", 1)


@pytest.mark.parametrize("cancel", ["event", "schedule"])
async def test_cancellation_skips_pending_reminders_and_keeps_the_rows(
    db_url: str, redis_url: str, redis: aioredis.Redis, cancel: str
) -> None:
    async with world(db_url, redis_url, redis) as w:
        schedule = await w.schedule_panel(start=START)
        alex, blake, shadow = w.ashby.interviewer_ids[:3]
        w.clock.set(START - BRIEF)
        await w.dispatch()
        assert [w.kinds_to(p) for p in (alex, blake, shadow)] == [["Upcoming interview"]] * 3
        planned = await w.pool.fetchval("SELECT count(*) FROM reminders")
        assert planned == 2 * 6 + 1  # brief, due, 3 overdue, escalation each; the shadow's brief

        if cancel == "event":
            w.ashby.org.cancel_event(schedule.event_ids[0])
        else:
            w.ashby.org.cancel_schedule(schedule.id)
        assert {status for _, status in await w.deliver_webhooks()} == {200}
        await w.drain()
        # Skipped at once, not left pending until each falls due.
        assert await w.pool.fetchval("SELECT count(*) FROM reminders WHERE state = 'pending'") == 0

        sent_before = len(w.slack.messages)
        await w.walk(START + timedelta(days=10))
        assert len(w.slack.messages) == sent_before  # nothing more, to anyone
        rows = await w.pool.fetch("SELECT kind, state, skip_reason FROM reminders")
        assert len(rows) == planned  # nothing deleted
        assert sorted(r["state"] for r in rows if r["kind"] == "brief") == ["sent"] * 3
        later = [r for r in rows if r["kind"] != "brief"]
        assert {r["state"] for r in later} == {"skipped"}
        assert all(r["skip_reason"] for r in later)
        expected = "event_cancelled" if cancel == "schedule" else "event_removed"
        assert {r["skip_reason"] for r in later} == {expected}


async def test_removed_interviewer_gets_nothing_more(db_url: str, redis_url: str, redis: aioredis.Redis) -> None:
    async with world(db_url, redis_url, redis) as w:
        event = (await w.schedule_panel(start=START)).event_ids[0]
        alex, blake, shadow = w.ashby.interviewer_ids[:3]
        kept = [person for person in w.ashby.org.events[event].interviewers if person.user_id != blake]
        w.ashby.org.update_event(event, interviewers=kept)
        await w.deliver_webhooks()
        await w.drain()
        assert {(r["state"], r["skip_reason"]) for r in await w.reminder_rows(blake)} == {
            ("skipped", "interviewer_removed")
        }

        w.clock.set(START - BRIEF)
        await w.dispatch()
        w.clock.set(END + DUE)
        await w.dispatch()
        assert w.kinds_to(blake) == []
        assert w.kinds_to(alex) == ["Upcoming interview", "Feedback due"]
        assert w.kinds_to(shadow) == ["Upcoming interview"]


async def test_duplicate_webhook_deliveries_give_one_set_of_reminders(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        w.ashby.panel(start=START, interviewers=3, shadows=1)
        assert {status for _, status in await w.deliver_webhooks()} == {200}
        bodies = [d.body for d in w.ashby_sim.webhooks.deliveries]  # type: ignore[union-attr]
        assert len(bodies) == 1  # interviewScheduleUpdate (the subscribed action)

        # Ashby retries (it saw no answer in time): the same bodies again while the first ones are queued...
        for _ in range(3):
            answers = [await w.post_webhook(body) for body in bodies]
            assert [a.json()["status"] for a in answers] == ["duplicate"]
        assert await redis.zcard(jobs.QUEUE_DEFAULT) == 1
        await w.drain()
        planned = await w.pool.fetchval("SELECT count(*) FROM reminders")
        assert planned == 2 * 6 + 1

        # ...and once the dedupe window is over (its kept results gone), the worker must be idempotent itself.
        for body in bodies:
            await redis.delete(result_key_prefix + jobs.webhook_job_id(body))
            assert (await w.post_webhook(body)).json()["status"] == "queued"
        await w.drain()
        assert await w.pool.fetchval("SELECT count(*) FROM reminders") == planned

        alex, blake, shadow = w.ashby.interviewer_ids[:3]
        w.clock.set(START - BRIEF)
        await w.dispatch()
        for body in bodies:  # a late duplicate after the brief went out changes nothing either
            await redis.delete(result_key_prefix + jobs.webhook_job_id(body))
            await w.post_webhook(body)
        await w.drain()
        await w.dispatch()
        assert [w.kinds_to(p) for p in (alex, blake, shadow)] == [["Upcoming interview"]] * 3
        assert len(w.slack.messages) == 3


async def test_escalation_once_to_the_hiring_team_then_feedback_stops_everything(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        event = (await w.schedule_panel(start=START, interviewers=2, shadows=0)).event_ids[0]
        alex, blake = w.ashby.interviewer_ids[:2]
        recruiter, coordinator, manager = (w.ashby.users[r] for r in ("recruiter", "coordinator", "hiring_manager"))

        # Blake answers on time; Alex never does.
        w.clock.set(END + DUE)
        await w.dispatch()
        view = await w.click(blake)
        assert view is not None
        await w.actor.submit_view(view.id, fill_view(view.view), user_id=w.slack_ids[blake])
        await w.drain()
        assert len(w.submissions(blake)) == 1

        escalation_at = await due_at(w, alex, "escalation")
        await w.walk(escalation_at - timedelta(minutes=1))
        assert w.kinds_to(alex) == [
            "Feedback due",  # (the brief's time had passed when the clock jumped)
            "Feedback overdue",
            "Feedback overdue (reminder 2)",
            "Feedback overdue (reminder 3)",
        ]
        assert w.messages_to(recruiter) == w.messages_to(coordinator) == []

        w.clock.set(escalation_at)
        await w.dispatch()
        for person in (recruiter, coordinator):
            [escalation] = w.messages_to(person)
            assert "Interview feedback overdue" in str(escalation.blocks)
            assert f"<@{w.slack_ids[alex]}>" in str(escalation.blocks)  # names the missing interviewer...
            assert f"<@{w.slack_ids[blake]}>" not in str(escalation.blocks)  # ...and only them
        assert w.messages_to(manager) == []
        escalations = await w.pool.fetch("SELECT state, skip_reason FROM reminders WHERE kind = 'escalation'")
        assert sorted(r["state"] for r in escalations) == ["sent", "skipped"]  # one per event, not per interviewer
        counted = w.metrics.registry.get_sample_value
        assert counted("fleet_reminders_total", {"kind": "escalation", "outcome": "sent"}) == 1
        assert counted("fleet_reminders_total", {"kind": "overdue", "outcome": "sent"}) == 3

        # Alex finally submits in Ashby's UI: the sync stops everything, the last nudge shows it.
        w.submit_in_ashby(alex, event)
        await w.sync()
        assert "Feedback submitted" in str(w.messages_to(alex)[-1].blocks)
        sent_before = len(w.slack.messages)
        await w.walk(escalation_at + timedelta(days=10))
        assert len(w.slack.messages) == sent_before
        assert await w.pool.fetchval("SELECT count(*) FROM reminders WHERE state IN ('pending', 'sending')") == 0


async def test_an_escalation_slack_defers_halfway_reaches_each_recipient_once(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await w.schedule_panel(start=START, interviewers=1, shadows=0)
        [alex] = w.ashby.interviewer_ids[:1]
        team = [w.ashby.users[role] for role in ("recruiter", "coordinator")]
        escalation_at = await due_at(w, alex, "escalation")
        await w.walk(escalation_at - timedelta(minutes=1))

        # Slack takes the first recipient's post, then rate-limits the second for longer than a job waits.
        w.slack.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=60, after=1)
        w.clock.set(escalation_at)
        await w.dispatch()
        assert sorted(len(w.messages_to(person)) for person in team) == [0, 1]
        assert await w.pool.fetchval("SELECT state FROM reminders WHERE kind = 'escalation'") == "pending"

        w.clock.advance(timedelta(minutes=2))
        await w.dispatch()
        assert [len(w.messages_to(person)) for person in team] == [1, 1]  # the first is not posted to again
        assert await w.pool.fetchval("SELECT state FROM reminders WHERE kind = 'escalation'") == "sent"
        assert await w.pool.fetchval("SELECT count(*) FROM escalation_deliveries") == 2


async def test_escalation_is_not_sent_when_everyone_submitted_after_the_nudges(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await w.schedule_panel(start=START, interviewers=1, shadows=0)
        [alex] = w.ashby.interviewer_ids[:1]
        escalation_at = await due_at(w, alex, "escalation")
        await w.walk(escalation_at - timedelta(hours=1))
        assert w.kinds_to(alex)[-1] == "Feedback overdue (reminder 3)"
        view = await w.click(alex)
        assert view is not None
        await w.actor.submit_view(view.id, fill_view(view.view), user_id=w.slack_ids[alex])
        await w.drain()
        await w.walk(escalation_at + timedelta(days=2))
        assert w.messages_to(w.ashby.users["recruiter"]) == []
        assert await w.pool.fetchval("SELECT state FROM reminders WHERE kind = 'escalation'") == "skipped"


async def test_unmatched_interviewer_is_skipped_and_listed(db_url: str, redis_url: str, redis: aioredis.Redis) -> None:
    async with world(db_url, redis_url, redis) as w:
        alex, blake = w.ashby.interviewer_ids[:2]
        del w.slack.users[w.slack_ids[blake]]  # Blake has no Slack account with their Ashby e-mail
        await w.schedule_panel(start=START)

        w.clock.set(START - BRIEF)
        await w.dispatch()
        w.clock.set(END + DUE)
        await w.dispatch()
        assert w.kinds_to(alex) == ["Upcoming interview", "Feedback due"]
        assert w.slack.messages_to(w.slack_ids[blake]) == []
        rows = {(r["kind"], r["state"], r["skip_reason"]) for r in await w.reminder_rows(blake)}
        assert ("brief", "skipped", "no_slack_user:unmatched") in rows
        assert ("due", "skipped", "no_slack_user:unmatched") in rows

        unmatched = await list_unmatched(w.pool, now=T0)
        assert [(p.ashby_user_id, p.status) for p in unmatched] == [(blake, "unmatched")]
        assert unmatched[0].upcoming_interviews == 1


async def test_a_reminder_slack_refuses_for_good_is_recorded_not_claimed_again_every_lease(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await w.schedule_panel(start=START, interviewers=2, shadows=0)
        alex, blake = w.ashby.interviewer_ids[:2]
        w.slack.fail_next("chat.postMessage", status=200, error="user_disabled")  # the first brief's post
        w.clock.set(START - BRIEF)
        await w.dispatch()
        for _ in range(3):  # well past the claim's lease, several ticks
            w.clock.advance(LEASE)
            await w.dispatch()

        assert len(w.slack.calls("chat.postMessage")) == 2  # the refused one was not tried again
        briefs = await w.pool.fetch("SELECT state, skip_reason FROM reminders WHERE kind = 'brief' ORDER BY state")
        assert [(r["state"], r["skip_reason"]) for r in briefs] == [
            ("sent", None),
            ("skipped", "refused:user_disabled"),
        ]
        assert len(w.messages_to(alex)) + len(w.messages_to(blake)) == 1
        w.clock.set(END + DUE)
        await w.dispatch()  # only that one reminder was given up, not the interviewer
        assert w.kinds_to(alex)[-1] == w.kinds_to(blake)[-1] == "Feedback due"


async def test_reminders_use_cached_ashby_metadata_even_when_ashby_is_down(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        start = T0 + timedelta(days=2)  # scheduled days ahead: ingestion warmed the metadata cache then
        await w.schedule_panel(start=start, interviewers=2, shadows=0)
        warmed = len(w.ashby_sim.calls_to("application.info"))
        assert warmed == 1 and await w.pool.fetchval("SELECT count(*) FROM ashby_applications") == 1

        # By the brief the copy is stale and Ashby refuses every read: the briefs still go out on time,
        # from the cached copy, and the refresh is left to its own job.
        faults: FaultPlan = w.ashby_sim.faults
        for endpoint in ("application.info", "candidate.info", "interview.info"):
            faults.failure(endpoint, "internal_error", times=100)
        await w.walk(start - timedelta(minutes=10))
        alex, blake = w.ashby.interviewer_ids[:2]
        assert w.kinds_to(alex) == w.kinds_to(blake) == ["Upcoming interview"]
        assert "Onsite Panel" in str(w.messages_to(alex)[0].blocks)
        assert len(w.ashby_sim.calls_to("application.info")) == warmed + 1  # one refresh attempt, not one per send


async def test_a_post_whose_record_fails_is_recorded_on_the_retry_not_posted_again(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await w.schedule_panel(start=START, interviewers=1, shadows=0)
        [alex] = w.ashby.interviewer_ids[:1]
        # PostgreSQL fails the record right after Slack took the post (a failover at the wrong moment), once.
        await w.pool.execute(
            """
            CREATE SEQUENCE fail_first_record_calls;
            CREATE FUNCTION fail_first_record() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.state = 'sent' AND nextval('fail_first_record_calls') = 1 THEN
                    RAISE EXCEPTION 'the server is shutting down' USING ERRCODE = '57P01';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER fail_first_record BEFORE UPDATE ON reminders FOR EACH ROW
                EXECUTE FUNCTION fail_first_record();
            """
        )
        w.clock.set(START - BRIEF)
        await w.dispatch()

        assert w.kinds_to(alex) == ["Upcoming interview"]  # posted once
        assert await w.pool.fetchval("SELECT nextval('fail_first_record_calls')") == 3  # failed, then recorded
        assert await w.pool.fetchval("SELECT state FROM reminders WHERE kind = 'brief'") == "sent"
