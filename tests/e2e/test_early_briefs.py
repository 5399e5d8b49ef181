"""Issue 11 end to end: when the Slack budget cannot send a crowd of briefs by their due time, the first ones
go early, within REMINDER_BRIEF_EARLY_MINUTES; nothing else goes early, and nothing goes twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from tests.e2e.world import T0, world

pytestmark = pytest.mark.e2e

START = T0 + timedelta(minutes=18)  # the briefs are due at T0 + 8 min
BRIEF_DUE = START - timedelta(minutes=10)


async def test_a_brief_due_in_8_minutes_goes_now_when_the_budget_cannot_send_its_crowd_in_time(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    # A budget of one message per 100 s (the plan counts on 80 %: one per 125 s): the panel's five briefs due
    # at one instant need 625 s, more than the 480 s left. The first must leave now.
    async with world(db_url, redis_url, redis, slack_messages_per_second=0.01, reminder_brief_early_minutes=10) as w:
        users = w.ashby.interviewer_ids[:5]
        await w.schedule_panel(start=START, interviewers=5, shadows=0)
        await w.dispatch()
        sent_now = [u for u in users if w.kinds_to(u)]
        assert len(sent_now) == 1 and w.kinds_to(sent_now[0]) == ["Upcoming interview"]

        # Walking the clock in dispatch ticks, each brief leaves when its slot comes, never after its due time.
        sent_at = {sent_now[0]: T0}
        at = T0
        while at < BRIEF_DUE:
            at += timedelta(seconds=15)
            w.clock.set(at)
            await w.dispatch()
            for user in users:
                if w.kinds_to(user) and user not in sent_at:
                    sent_at[user] = at
        # Slots, 125 s apart back from the due time: -20, 105, 230, 355, 480 s. Each is claimed at the first tick
        # from which the slot lies within the 30 s horizon (the next tick, and a margin).
        assert sorted(sent_at.values()) == [T0 + timedelta(seconds=s) for s in (0, 75, 210, 330, 450)]
        assert set(sent_at) == set(users)
        assert all(w.kinds_to(u) == ["Upcoming interview"] for u in users)  # once each, and nothing else yet

        # The "feedback due" reminders are never early, whatever the budget.
        w.clock.set(START + timedelta(hours=1, minutes=14, seconds=59))
        await w.dispatch()
        assert all(w.kinds_to(u) == ["Upcoming interview"] for u in users)
        w.clock.set(START + timedelta(hours=1, minutes=15))
        await w.dispatch()
        assert sum("Feedback due" in w.kinds_to(u) for u in users) >= 1
        states = await w.pool.fetch("SELECT state, attempts FROM reminders WHERE kind = 'brief'")
        assert [(r["state"], r["attempts"]) for r in states] == [("sent", 1)] * 5


async def test_with_no_tolerance_briefs_wait_for_their_time(db_url: str, redis_url: str, redis: aioredis.Redis) -> None:
    async with world(db_url, redis_url, redis, slack_messages_per_second=0.01, reminder_brief_early_minutes=0) as w:
        users = w.ashby.interviewer_ids[:5]
        await w.schedule_panel(start=START, interviewers=5, shadows=0)
        w.clock.set(BRIEF_DUE - timedelta(seconds=1))
        await w.dispatch()
        assert not any(w.kinds_to(u) for u in users)
        w.clock.set(BRIEF_DUE)
        await w.dispatch()
        assert sum(bool(w.kinds_to(u)) for u in users) == 1  # one claim in flight at a time at this budget
