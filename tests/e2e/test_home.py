"""Slack where people already are, end to end: the Home tab opened in the Slack simulator reaches the real
ingress as a signed Events API callback, a real worker publishes it from PostgreSQL, and its buttons work
(the feedback form opens and submits; an approval carries out the decision); /feedback answers the same
list through the command's response_url."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from ingress.slack_commands import LOOKING
from shared.advancement.messages import APPROVE
from shared.db import advancement as advancement_db
from shared.db import people as people_db
from shared.modal_cache import modal_key
from sim.slack.state import SimView
from tests.e2e.test_advancement import SCREEN, give_feedback, install, moves
from tests.e2e.world import T0, World, fill_view, world

pytestmark = pytest.mark.e2e

START = T0 + timedelta(hours=2)
AFTER = START + timedelta(hours=2)


def text_of(blocks: list[dict[str, Any]]) -> str:
    parts = []
    for block in blocks:
        parts.append(str((block.get("text") or {}).get("text", "")))
        parts += [str(e.get("text", "")) for e in block.get("elements") or [] if isinstance(e.get("text"), str)]
    return "\n".join(parts)


def headers(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "header"]


def button_values(blocks: list[dict[str, Any]], action_id: str) -> list[str]:
    found = []
    for block in blocks:
        for element in [block.get("accessory"), *(block.get("elements") or [])]:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                found.append(element["value"])
    return found


async def open_home(w: World, slack_user_id: str) -> SimView:
    response = await w.actor.open_home(slack_user_id)
    assert (response.status_code, response.content) == (200, b"")
    await w.drain()
    return w.slack.home_views[slack_user_id]


async def test_an_interviewer_opens_home_sees_what_they_owe_and_fills_the_form_from_it(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        done = await w.schedule_panel(start=START, interviewers=2, shadows=0)
        await w.schedule_panel(start=START + timedelta(days=2), interviewers=1, shadows=0)
        alex = w.ashby.interviewer_ids[0]
        user = w.slack_ids[alex]
        w.clock.set(AFTER)
        saved = await w.actor.verify_events_url("a-challenge")  # Slack checks the URL when it is saved
        assert (saved.status_code, saved.json()) == (200, {"challenge": "a-challenge"})

        home = await open_home(w, user)

        assert headers(home.view["blocks"]) == ["Feedback you owe (1)", "Your upcoming interviews (1)"]
        assert "Jordan Rivers · Onsite Panel" in text_of(home.view["blocks"]).replace("*", "")
        key = modal_key(done.event_ids[0], alex)
        assert button_values(home.view["blocks"], "open_feedback_form") == [key]

        # "Open form" in the Home tab opens the interview's form, which submits to Ashby once.
        before = set(w.slack.views)
        assert (await w.actor.click_in_view(home.id, "open_feedback_form", user_id=user, value=key)).status_code == 200
        [opened] = [v for view_id, v in w.slack.views.items() if view_id not in before]
        await w.drain()  # the form replaces "Loading…"
        assert opened.callback_id == "feedback_submit"
        response = await w.actor.submit_view(opened.id, fill_view(opened.view), user_id=user)
        assert response.status_code == 200 and opened.errors is None
        await w.drain()
        assert [f.event_id for f in w.submissions(alex)] == [done.event_ids[0]]

        # Alex looked at the tab within the hour: it is published again, without what is now given.
        assert len(home.versions) == 1
        assert headers(home.view["blocks"])[0] == "Feedback you owe"
        assert "You owe no feedback." in text_of(home.view["blocks"])
        assert button_values(home.view["blocks"], "open_feedback_form") == []

        # Opening the Messages tab publishes nothing.
        assert (await w.actor.open_home(user, tab="messages")).status_code == 200
        await w.drain()
        assert len(home.versions) == 1


async def test_a_recruiter_sees_who_is_missing_and_approves_a_decision_from_home(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        await install(w, SCREEN.format(mode="approve", quiet=30))
        alex, blake = w.ashby.interviewer_ids[:2]
        decided = w.ashby.add_application("Casey Jones", stage="Phone Screen")
        waiting = w.ashby.add_application("Robin Banks", stage="Phone Screen")
        screens = {}
        for application, people in ((decided, 1), (waiting, 2)):
            screens[application.id] = w.ashby.panel(
                start=START, interviewers=people, shadows=0, application_id=application.id, interview="Phone Screen"
            )
        assert {status for _, status in await w.deliver_webhooks()} == {200}
        await w.drain()
        w.clock.set(AFTER)
        give_feedback(w, decided, screens[decided.id], alex, 4)
        await w.sync()
        await w.run("evaluate_advancement")
        w.clock.advance(timedelta(minutes=31))
        await w.run("evaluate_advancement")
        [decision] = await advancement_db.decisions(w.pool, application_id=decided.id)
        assert decision.state == "awaiting_approval"
        recruiter = w.slack_ids[w.ashby.users["recruiter"]]

        home = await open_home(w, recruiter)

        blocks = home.view["blocks"]
        assert headers(blocks) == [
            "Feedback you owe",
            "Decisions awaiting your approval (1)",
            "Candidates waiting on feedback (1)",
            "Your upcoming interviews",
        ]
        text = text_of(blocks)
        assert "Advance Casey Jones to Onsite?" in text
        missing = next(line for line in text.splitlines() if line.startswith("*Missing:*"))
        assert f"<@{w.slack_ids[alex]}>" in missing and f"<@{w.slack_ids[blake]}>" in missing
        assert "Robin Banks" in text and text.count("Casey Jones") == 1  # Casey's feedback is all in
        assert button_values(blocks, APPROVE) == [str(decision.id)]

        # Approve from the Home tab: the decision is carried out in Ashby, and the tab shows it is gone.
        assert (await w.actor.click_in_view(home.id, APPROVE, user_id=recruiter)).status_code == 200
        await w.drain()
        assert moves(w) == [w.ashby.stage_ids["Onsite"]]
        assert headers(home.view["blocks"])[1] == "Decisions awaiting your approval"
        assert button_values(home.view["blocks"], APPROVE) == []

        # The hiring manager was never looked up for a reminder: found by their Slack e-mail, then shown the same.
        manager = w.ashby.users["hiring_manager"]
        assert await people_db.get(w.pool, manager) is None
        manager_home = await open_home(w, w.slack_ids[manager])
        assert "Robin Banks" in text_of(manager_home.view["blocks"])
        found = await people_db.get(w.pool, manager)
        assert found is not None and (found.slack_user_id, found.status) == (w.slack_ids[manager], "matched")


async def test_the_feedback_command_answers_the_list_in_place_of_looking(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        done = await w.schedule_panel(start=START, interviewers=2, shadows=0)
        alex = w.ashby.interviewer_ids[0]
        w.clock.set(AFTER)

        command = await w.actor.run_command(w.slack_ids[alex], "/feedback")
        assert command.ack_status == 200
        assert command.shown == [{"response_type": "ephemeral", "text": LOOKING}]
        await w.drain()

        [answer] = command.shown  # posted to the response_url, replacing "Looking…"
        assert answer["response_type"] == "ephemeral" and answer["text"] == "You owe feedback for 1 interview(s)."
        assert button_values(answer["blocks"], "open_feedback_form") == [modal_key(done.event_ids[0], alex)]
        assert "Jordan Rivers" in text_of(answer["blocks"])
