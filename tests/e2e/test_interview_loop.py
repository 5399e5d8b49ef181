"""Issue 4 end to end: reminders and feedback forms in Slack, through the real ingress and workers,
against the Ashby and Slack simulators, with a controlled clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from tests.e2e.world import T0, World, fill_view, world

pytestmark = pytest.mark.e2e

START = T0 + timedelta(hours=2)  # Monday 11:00 UTC, one hour long
END = START + timedelta(hours=1)


async def scheduled_panel(w: World) -> tuple[str, str, str, str]:
    """A panel (two interviewers and a shadow) scheduled in Ashby; returns (event, alex, blake, shadow)."""
    schedule = w.ashby.panel(start=START, interviewers=3, shadows=1)
    assert {status for _, status in await w.deliver_webhooks()} == {200}
    await w.drain()
    alex, blake, shadow = w.ashby.interviewer_ids[:3]
    return schedule.event_ids[0], alex, blake, shadow


async def open_form(w: World, user: str) -> str:
    """Click "Open feedback form" on the interviewer's latest reminder; returns the opened view's id."""
    message = w.messages_to(user)[-1]
    response = await w.actor.click_button(message, "open_feedback_form", user_id=w.slack_ids[user])
    assert response.status_code == 200
    views = [v for v in w.slack.views.values() if v.user_id == w.slack_ids[user] and v.is_open]
    assert len(views) == 1
    return views[0].id


async def test_panel_interview_from_webhook_to_submission(db_url: str, redis_url: str, redis: aioredis.Redis) -> None:
    async with world(db_url, redis_url, redis) as w:
        event, alex, blake, shadow = await scheduled_panel(w)

        w.clock.set(START - timedelta(minutes=10))
        await w.dispatch()
        assert [w.kinds_to(p) for p in (alex, blake, shadow)] == [["Upcoming interview"]] * 3

        w.clock.set(END + timedelta(minutes=15))
        await w.dispatch()
        assert w.kinds_to(alex) == w.kinds_to(blake) == ["Upcoming interview", "Feedback due"]
        assert w.kinds_to(shadow) == ["Upcoming interview"]  # shadows get the brief only

        # 24 h later is Tuesday 07:15 in New York, inside quiet hours: the nudge waits until 08:00 local.
        w.clock.advance(timedelta(hours=24))
        await w.dispatch()
        assert w.kinds_to(alex)[-1] == "Feedback due"
        w.clock.advance(timedelta(minutes=45))
        await w.dispatch()
        assert w.kinds_to(alex)[-1] == w.kinds_to(blake)[-1] == "Feedback overdue"

        # Alex fills the form in Slack.
        view_id = await open_form(w, alex)
        view = w.slack.views[view_id]
        assert view.callback_id == "feedback_submit"
        response = await w.actor.submit_view(view_id, fill_view(view.view), user_id=w.slack_ids[alex])
        assert response.status_code == 200 and view.errors is None
        await w.drain()
        submitted = [f for f in w.ashby.org.feedback.values() if f.user_id == alex]
        assert len(submitted) == 1 and submitted[0].event_id == event
        latest = w.messages_to(alex)[-1]
        assert "Feedback submitted" in str(latest.blocks) and latest.versions  # updated in place by chat.update
        assert "open_feedback_form" not in str(latest.blocks)

        # Blake submits in Ashby's own UI; the feedback sync notices and stops Blake's reminders too.
        w.submit_in_ashby(blake, event)
        await w.sync()
        assert "Feedback submitted" in str(w.messages_to(blake)[-1].blocks)

        # Nothing more is sent to anyone, and nobody is escalated: all required feedback is in.
        sent_before = len(w.slack.messages)
        w.clock.advance(timedelta(days=10))
        await w.dispatch()
        assert len(w.slack.messages) == sent_before
        for person in (alex, blake):
            assert {state for _, _, state in await w.reminders(person)} <= {"sent", "skipped"}
        assert await w.pool.fetchval("SELECT count(*) FROM reminders WHERE state = 'pending'") == 0
