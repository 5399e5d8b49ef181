"""Faults around the feedback form, end to end: a stale form is better than none, the interviewer's answers
are never dropped, and the interviewer is always told the outcome (issue "faults lose nothing", finding 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from shared.modal_cache import PREFIX as MODAL_PREFIX
from shared.modal_cache import modal_key
from shared.modal_views import FORM_UNAVAILABLE
from tests.e2e.test_feedback_scenarios import NOTES, block, feedback_due, open_form, submit_calls
from tests.e2e.world import fill_view, world
from workers.jobs.submissions import SUBMIT_MAX_TRIES

pytestmark = pytest.mark.e2e


async def test_a_stale_form_is_used_when_ashby_cannot_refresh_it(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        event, alex, _ = await feedback_due(w)
        w.clock.advance(timedelta(hours=3))  # the cached form is now hours old
        w.ashby_sim.faults.failure("feedbackFormDefinition.info", "not_found", times=100)
        await redis.delete(MODAL_PREFIX + modal_key(event, alex))  # and the pre-rendered modal is gone
        view = await open_form(w, alex)  # "Loading…", then the worker renders the stale copy
        await w.actor.submit_view(view.id, fill_view(view.view), user_id=w.slack_ids[alex])
        await w.drain()
        assert len(w.submissions(alex)) == 1 and submit_calls(w) == 1
        assert "Feedback submitted" in str(w.messages_to(alex)[-1].blocks)
        assert "in Ashby" in str(w.slack.views[view.id].view["blocks"])  # "Submitting…" became the outcome


async def test_answers_are_kept_and_the_interviewer_told_when_nothing_can_read_the_form(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        event, alex, _ = await feedback_due(w)
        view = await open_form(w, alex)
        # Ashby is down, the form was never cached here (another region's cache, a wiped table), and the
        # modal cache is gone: nothing can read the answers now.
        await w.pool.execute("DELETE FROM ashby_feedback_forms")
        await redis.delete(MODAL_PREFIX + modal_key(event, alex))
        w.ashby_sim.faults.server_error("*", status=503, times=1000)
        values = fill_view(view.view, **{NOTES: "Would hire again"})
        await w.actor.submit_view(view.id, values, user_id=w.slack_ids[alex])
        await w.redis.set(f"arq:retry:submit:{modal_key(event, alex)}", SUBMIT_MAX_TRIES - 1)  # the last try
        await w.drain()

        assert w.submissions(alex) == []
        failed = str(w.messages_to(alex)[-1].blocks)
        assert "could not be submitted" in failed and "reopen_feedback_form" in failed
        draft = await w.pool.fetchval("SELECT state_values FROM feedback_drafts WHERE event_id = $1", event)
        assert "Would hire again" in str(draft)
        assert "not answer" in str(w.slack.views[view.id].view["blocks"])  # no "Submitting…" forever

        # Ashby is back: the reopened form shows the answers, and they go in once.
        w.ashby_sim.faults = type(w.ashby_sim.faults)()
        reopened = await open_form(w, alex, "reopen_feedback_form")
        assert block(reopened, NOTES)["element"]["initial_value"] == "Would hire again"
        await w.actor.submit_view(reopened.id, fill_view(reopened.view), user_id=w.slack_ids[alex])
        await w.drain()
        assert len(w.submissions(alex)) == 1


async def test_a_form_that_cannot_load_never_leaves_loading_on_screen(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        event, alex, _ = await feedback_due(w)
        await w.pool.execute("DELETE FROM ashby_feedback_forms")
        await redis.delete(MODAL_PREFIX + modal_key(event, alex))
        w.ashby_sim.faults.server_error("*", status=503, times=1000)
        loading = await w.click(alex)
        assert loading is not None and loading.callback_id == "feedback_loading"
        await w.drain()
        shown = str(w.slack.views[loading.id].view["blocks"])
        assert FORM_UNAVAILABLE.split(",")[0] in shown and "Loading" not in shown


async def test_a_click_on_an_interview_taken_off_the_schedule_says_so(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        event, alex, _ = await feedback_due(w)
        await redis.delete(MODAL_PREFIX + modal_key(event, alex))
        await w.pool.execute("DELETE FROM reminders")
        await w.pool.execute("DELETE FROM event_interviewers WHERE event_id = $1", event)
        loading = await w.click(alex)
        assert loading is not None
        await w.drain()
        shown = str(w.slack.views[loading.id].view["blocks"])
        assert "no longer on Ashby's schedule" in shown and "another interviewer" not in shown
