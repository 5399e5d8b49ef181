"""Advancement end to end: rules from a YAML file, feedback submitted in the Ashby simulator and synced, real
workers evaluating on a controlled clock, decisions executed against the simulator (which records every
`application.changeStage`), approvals clicked in the Slack simulator."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis
from arq.constants import in_progress_key_prefix

from fleet.processes import fleet, wait_until
from shared import jobs
from shared.advancement.messages import APPROVE, HOLD
from shared.advancement.rules_file import resolve
from shared.catalog_sync import sync_catalog
from shared.db import advancement as advancement_db
from shared.db import catalog as catalog_db
from shared.db import rules as rules_db
from shared.jobs import queue_redis
from sim.ashby import sample_answers
from sim.ashby.records import SimApplication, SimSchedule
from tests.e2e.test_worker_kill import worker_env
from tests.e2e.world import T0, World, world
from workers.deps import Deps, build_deps

pytestmark = pytest.mark.e2e

START = T0 + timedelta(hours=2)
AFTER = START + timedelta(hours=2)  # the interview is over; feedback comes in now

SCREEN = """
rules:
  - name: screen
    job: Senior Backend Engineer
    stage: Phone Screen
    mode: {mode}
    require:
      - {{field: Overall recommendation, each: ">= 3"}}
    on_pass: advance
    on_fail:
      reject: {{reason: Not a fit}}
    quiet_minutes: {quiet}
    timeout_days: 7
    debrief_channel: C0DEBRIEF1
"""


@contextlib.asynccontextmanager
async def deps_of(w: World) -> AsyncIterator[Deps]:
    assert w.settings.redis_url
    queue = queue_redis(w.settings.redis_url)
    try:
        async with build_deps(w.settings, queue, clock=w.clock.now) as d:
            yield d
    finally:
        await queue.aclose()


async def install(w: World, text: str) -> None:
    """What `fleet rules apply` does: read Ashby's catalog, resolve the file against it, store the rules.
    Ashby's clock follows the world's from here: feedback's `submittedAt` starts the quiet period."""
    w.ashby.org.clock = w.clock.now
    if "C0DEBRIEF1" not in w.slack.channels:
        w.slack.add_channel("C0DEBRIEF1", "hiring-backend")
    async with deps_of(w) as d:
        await sync_catalog(d.ashby, d.pool, now=w.clock.now())
        written = resolve(text, await catalog_db.load(d.pool))
        await rules_db.apply(d.pool, written, now=w.clock.now())


async def phone_screen(w: World, *, interviewers: int = 2, shadows: int = 0) -> tuple[SimApplication, SimSchedule]:
    application = w.ashby.add_application("Casey Jones", stage="Phone Screen")
    schedule = w.ashby.panel(
        start=START, interviewers=interviewers, shadows=shadows, application_id=application.id, interview="Phone Screen"
    )
    assert {status for _, status in await w.deliver_webhooks()} == {200}
    await w.drain()
    return application, schedule


def give_feedback(w: World, application: SimApplication, schedule: SimSchedule, user: str, score: int) -> None:
    form = w.ashby.org.forms[w.ashby.short_form_id]
    w.ashby.org.submit_feedback(
        form_id=form.id,
        application_id=application.id,
        submissions=sample_answers(form.sections, score=score),
        user_id=user,
        event_id=schedule.event_ids[0],
    )


async def evaluate(w: World) -> None:
    await w.sync()
    await w.run(jobs.EVALUATE_ADVANCEMENT)


def application_stage(w: World, application: SimApplication) -> str:
    return w.ashby.org.applications[application.id].stage_id


def moves(w: World) -> list[str]:
    return [c.body["interviewStageId"] for c in w.ashby_sim.calls_to("application.changeStage") if c.status == 200]


async def test_passing_feedback_advances_automatically_after_the_quiet_period(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await install(w, SCREEN.format(mode="auto", quiet=30))
        application, schedule = await phone_screen(w, interviewers=3, shadows=1)
        alex, blake = w.ashby.interviewer_ids[:2]  # the third, a shadow, never submits
        w.clock.set(AFTER)
        give_feedback(w, application, schedule, alex, 4)
        await evaluate(w)
        assert moves(w) == []  # Blake's feedback is still missing: wait (and never reject for it)
        give_feedback(w, application, schedule, blake, 3)
        await evaluate(w)
        assert moves(w) == []  # the quiet period after the last feedback
        w.clock.advance(timedelta(minutes=31))
        await w.run(jobs.EVALUATE_ADVANCEMENT)  # the shadow is not waited for

        assert moves(w) == [w.ashby.stage_ids["Onsite"]]
        assert w.ashby.org.applications[application.id].stage_id == w.ashby.stage_ids["Onsite"]
        [decision] = await advancement_db.decisions(w.pool, application_id=application.id)
        assert (decision.outcome, decision.state, decision.decided_by) == ("advance", "done", "rule")
        assert {p["name"] for p in decision.evidence["interviewers"]} == {"Alex Chen", "Blake Okafor"}
        # Evaluating again (a duplicate webhook, the next tick) decides nothing twice and moves nobody again.
        await advancement_db.mark_dirty(w.pool, [application.id], reason="test", at=w.clock.now())
        await w.run(jobs.EVALUATE_ADVANCEMENT)
        assert len(moves(w)) == 1
        debriefs = w.slack.messages_in("C0DEBRIEF1")
        assert len(debriefs) == 1 and "Debrief" in debriefs[0].text


async def test_an_application_whose_place_was_not_cached_is_evaluated_once_the_refresh_caches_it(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await install(w, SCREEN.format(mode="auto", quiet=0))
        application, schedule = await phone_screen(w, interviewers=1)
        w.clock.set(AFTER)
        give_feedback(w, application, schedule, w.ashby.interviewer_ids[0], 4)
        await w.sync()
        # The cache has not caught up with this application: the evaluation cannot place it in its plan.
        await w.pool.execute("DELETE FROM ashby_applications WHERE id = $1", application.id)
        w.clock.advance(timedelta(minutes=5))  # past the window in which the sync's own refresh counts
        await w.run(jobs.EVALUATE_ADVANCEMENT)  # waits, and queues the refresh (which runs in the same drain)
        assert moves(w) == []
        assert await w.pool.fetchval("SELECT stage_id FROM ashby_applications WHERE id = $1", application.id)

        await w.run(jobs.EVALUATE_ADVANCEMENT)  # the same minute: the cached place ended the wait
        assert moves(w) == [w.ashby.stage_ids["Onsite"]]


async def test_failing_feedback_rejects_only_after_an_authorised_click(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await install(w, SCREEN.format(mode="approve", quiet=30))
        application, schedule = await phone_screen(w, interviewers=1)
        [alex] = w.ashby.interviewer_ids[:1]
        w.clock.set(AFTER)
        give_feedback(w, application, schedule, alex, 1)
        await evaluate(w)
        w.clock.advance(timedelta(minutes=31))
        await w.run(jobs.EVALUATE_ADVANCEMENT)
        assert moves(w) == []
        recruiter = w.slack_ids[w.ashby.users["recruiter"]]
        [message] = w.slack.messages_to(recruiter)
        assert "Reject Casey Jones?" in message.text and APPROVE in str(message.blocks)

        # Someone not on the hiring team clicks: refused, told why, nothing called.
        outsider = w.slack_ids[alex]
        await w.actor.click_button(message, APPROVE, user_id=outsider)
        await w.drain()
        assert moves(w) == []
        assert "cannot decide" in w.slack.messages_to(outsider)[-1].text

        # The recruiter approves, twice (a double click): one move to Archived with the reason.
        await w.actor.click_button(message, APPROVE, user_id=recruiter)
        await w.actor.click_button(message, APPROVE, user_id=recruiter)
        await w.drain()
        assert moves(w) == [w.ashby.archived_stage_id]
        archived = w.ashby.org.applications[application.id]
        assert archived.archive_reason_id == w.ashby.archive_reason_ids["Not a fit"]
        [decision] = await advancement_db.decisions(w.pool, application_id=application.id)
        assert (decision.state, decision.decided_by) == ("done", recruiter)
        updated = w.slack.find_message(message.channel, message.ts)
        assert updated is not None and f"<@{recruiter}>" in str(updated.blocks) and APPROVE not in str(updated.blocks)
        counted = w.metrics.registry.get_sample_value
        assert counted("fleet_decisions_total", {"outcome": "decided", "state": "awaiting_approval"}) == 1
        assert counted("fleet_decisions_total", {"outcome": "executed", "state": "done"}) == 1


async def test_a_dry_run_never_calls_ashby_and_posts_no_buttons(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await install(w, SCREEN.format(mode="dry_run", quiet=30))
        application, schedule = await phone_screen(w, interviewers=1)
        w.clock.set(AFTER)
        give_feedback(w, application, schedule, w.ashby.interviewer_ids[0], 4)
        await evaluate(w)
        w.clock.advance(timedelta(minutes=31))
        await w.run(jobs.EVALUATE_ADVANCEMENT)
        assert w.ashby_sim.calls_to("application.changeStage") == []
        recruiter = w.slack_ids[w.ashby.users["recruiter"]]
        [message] = w.slack.messages_to(recruiter)
        assert message.text.startswith("Dry run") and "actions" not in str(message.blocks)
        [decision] = await advancement_db.decisions(w.pool, application_id=application.id)
        assert decision.state == "dry_run"


async def test_a_timeout_holds_naming_who_is_missing(db_url: str, redis_url: str, redis: aioredis.Redis) -> None:
    async with world(db_url, redis_url, redis) as w:
        await install(w, SCREEN.format(mode="auto", quiet=30))
        application, schedule = await phone_screen(w, interviewers=2)
        alex = w.ashby.interviewer_ids[0]  # Blake, the second, never submits
        w.clock.set(AFTER)
        give_feedback(w, application, schedule, alex, 4)
        await evaluate(w)
        w.clock.set(START + timedelta(days=8))  # the timeout (7 days after the interview) is queued: it fires
        await w.run(jobs.EVALUATE_ADVANCEMENT)
        assert moves(w) == []
        [decision] = await advancement_db.decisions(w.pool, application_id=application.id)
        assert (decision.outcome, decision.state) == ("hold", "held")
        assert decision.reason == "timeout: missing Blake Okafor"
        recruiter = w.slack_ids[w.ashby.users["recruiter"]]
        assert "needs a decision" in w.slack.messages_to(recruiter)[-1].text


async def test_a_candidate_moved_by_hand_meanwhile_supersedes_the_decision(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await install(w, SCREEN.format(mode="approve", quiet=30))
        application, schedule = await phone_screen(w, interviewers=1)
        w.clock.set(AFTER)
        give_feedback(w, application, schedule, w.ashby.interviewer_ids[0], 4)
        await evaluate(w)
        w.clock.advance(timedelta(minutes=31))
        await w.run(jobs.EVALUATE_ADVANCEMENT)
        w.ashby.org.change_stage(application.id, w.ashby.stage_ids["Onsite"])  # a recruiter, in Ashby
        calls_before = len(w.ashby_sim.calls_to("application.changeStage"))
        recruiter = w.slack_ids[w.ashby.users["recruiter"]]
        [message] = w.slack.messages_to(recruiter)
        await w.actor.click_button(message, APPROVE, user_id=recruiter)
        await w.drain()
        assert len(w.ashby_sim.calls_to("application.changeStage")) == calls_before  # nothing called
        [decision] = await advancement_db.decisions(w.pool, application_id=application.id)
        assert decision.state == "superseded"


async def test_a_move_whose_answer_was_lost_is_recorded_not_repeated(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await install(w, SCREEN.format(mode="auto", quiet=30))
        application, schedule = await phone_screen(w, interviewers=1)
        w.clock.set(AFTER)
        give_feedback(w, application, schedule, w.ashby.interviewer_ids[0], 4)
        await evaluate(w)
        w.clock.advance(timedelta(minutes=31))
        # Ashby moves the candidate, then its answer is lost (a 502 from a proxy, or the worker died right
        # after the call): the retry re-reads the application and records the move instead of repeating it.
        w.ashby_sim.faults.server_error("application.changeStage", status=502, times=1)
        await w.run(jobs.EVALUATE_ADVANCEMENT)
        [decision] = await advancement_db.decisions(w.pool, application_id=application.id)
        assert decision.state == "done" and decision.ashby_result is not None
        assert w.ashby.org.applications[application.id].stage_id == w.ashby.stage_ids["Onsite"]
        assert len([c for c in w.ashby_sim.calls_to("application.changeStage") if c.fault is None]) <= 1


async def test_hold_button_and_an_already_taken_decision(db_url: str, redis_url: str, redis: aioredis.Redis) -> None:
    async with world(db_url, redis_url, redis) as w:
        await install(w, SCREEN.format(mode="approve", quiet=30))
        application, schedule = await phone_screen(w, interviewers=1)
        w.clock.set(AFTER)
        give_feedback(w, application, schedule, w.ashby.interviewer_ids[0], 4)
        await evaluate(w)
        w.clock.advance(timedelta(minutes=31))
        await w.run(jobs.EVALUATE_ADVANCEMENT)
        recruiter = w.slack_ids[w.ashby.users["recruiter"]]
        [message] = w.slack.messages_to(recruiter)
        await w.actor.click_button(message, HOLD, user_id=recruiter)
        await w.actor.click_button(message, APPROVE, user_id=recruiter)  # before the message changed: too late
        await w.drain()
        assert "already taken" in w.slack.messages_to(recruiter)[-1].text
        assert moves(w) == []
        [decision] = await advancement_db.decisions(w.pool, application_id=application.id)
        assert decision.state == "held"


async def test_a_worker_killed_right_after_change_stage_moves_the_candidate_once(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        w.clock.set(datetime.now(UTC) - timedelta(hours=3))  # the worker process runs on the real clock
        await install(w, SCREEN.format(mode="auto", quiet=0))
        application, schedule = await phone_screen(w, interviewers=1)
        give_feedback(w, application, schedule, w.ashby.interviewer_ids[0], 4)
        await w.sync()
        # Ashby takes the move but its answer never comes back; the worker is killed while it waits.
        w.ashby_sim.faults.hang("application.changeStage", seconds=600)
        [decision] = await w.pool.fetch("SELECT application_id FROM advancement_queue")
        async with fleet("worker", "--queue", "default", env=worker_env(w)) as worker:

            async def moved_in_ashby() -> bool:
                if worker.process.returncode is not None:
                    raise AssertionError("the worker exited early")
                # The call is marked before it is sent: wait for Ashby to have taken the move as well.
                called = await w.pool.fetchval("SELECT count(*) FROM decisions WHERE called_at IS NOT NULL")
                return bool(called) and application_stage(w, application) == w.ashby.stage_ids["Onsite"]

            await wait_until(moved_in_ashby, timeout_s=60, what="the decision's changeStage call to reach Ashby")
            worker.process.kill()
            await worker.process.wait()
        w.ashby_sim.release_hangs()
        # arq re-runs the killed job once its in-progress mark expires (70 s): expire it now.
        markers = [key async for key in redis.scan_iter(match=in_progress_key_prefix + "*")]
        if markers:
            await redis.delete(*markers)
        await w.drain()
        [row] = await advancement_db.decisions(w.pool, application_id=decision["application_id"])
        assert row.state == "done" and row.ashby_result == {
            "stage_id": w.ashby.stage_ids["Onsite"],
            "landed_earlier": True,
        }
        assert len(w.ashby_sim.calls_to("application.changeStage")) <= 1  # the hung call, never a second one
