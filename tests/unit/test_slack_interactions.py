"""The simulator acting as a person: signed interaction payloads to an ingress, shaped exactly as Slack's.

A small stand-in ingress verifies each request with slack_sdk's own `SignatureVerifier`, opens modals with
the production client within the trigger window, and answers view submissions.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk.signature import Clock, SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.clients.slack import SlackClient, TriggerExpired
from shared.signatures import verify_slack
from sim.serving import running
from sim.slack import SlackActor, SlackState, create_app
from sim.slack.state import APP_ID, TEAM_ID

TOKEN = "xoxb-test-token"
SECRET = "test-slack-signing-secret-with-32-chars!"
T0 = 1_700_000_000.0

BUTTON_MESSAGE = [
    {"type": "section", "block_id": "brief", "text": {"type": "mrkdwn", "text": "Feedback is due"}},
    {
        "type": "actions",
        "block_id": "act",
        "elements": [
            {
                "type": "button",
                "action_id": "open_feedback",
                "value": "event-1",
                "text": {"type": "plain_text", "text": "Give feedback"},
            }
        ],
    },
]


def _option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value.title()}, "value": value}


def _input(block_id: str, element: dict[str, Any], *, optional: bool = False) -> dict[str, Any]:
    label = {"type": "plain_text", "text": block_id}
    return {"type": "input", "block_id": block_id, "label": label, "element": element, "optional": optional}


FEEDBACK_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "feedback",
    "private_metadata": '{"event":"event-1"}',
    "notify_on_close": True,
    "title": {"type": "plain_text", "text": "Feedback"},
    "submit": {"type": "plain_text", "text": "Submit"},
    "blocks": [
        _input("why", {"type": "plain_text_input", "action_id": "text", "multiline": True}),
        _input("score", {"type": "static_select", "action_id": "pick", "options": [_option("yes"), _option("no")]}),
        _input("skills", {"type": "checkboxes", "action_id": "boxes", "options": [_option("sql"), _option("go")]}),
        _input("start", {"type": "datepicker", "action_id": "date"}),
        _input("years", {"type": "number_input", "action_id": "n", "is_decimal_allowed": False}),
        _input("notes", {"type": "plain_text_input", "action_id": "text"}, optional=True),
    ],
}


class SimClock(Clock):
    def __init__(self) -> None:
        self.value = T0

    def now(self) -> float:
        return self.value

    def __call__(self) -> float:
        return self.value


@dataclass
class World:
    state: SlackState
    clock: SimClock
    slack: SlackClient
    received: list[dict[str, Any]] = field(default_factory=list)
    ingress_delay_s: float = 0.0  # how long the ingress "works" before calling views.open
    actor: SlackActor = field(init=False)


def stand_in_ingress(world: World) -> Starlette:
    verifier = SignatureVerifier(SECRET, clock=world.clock)

    async def interactions(request: Request) -> Response:
        body = await request.body()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return Response(status_code=401)
        payload = json.loads(parse_qs(body.decode())["payload"][0])
        world.received.append(payload)
        if payload["type"] == "block_actions":
            world.clock.value += world.ingress_delay_s
            try:
                await world.slack.open_view(payload["trigger_id"], FEEDBACK_MODAL)
            except TriggerExpired:
                await world.slack.post_message(payload["user"]["id"], "That took too long; click again.")
        if payload["type"] == "view_submission" and not payload["view"]["state"]["values"]["why"]["text"]["value"]:
            return JSONResponse({"response_action": "errors", "errors": {"why": "Please say why"}})
        return Response(status_code=200)

    return Starlette(routes=[Route("/slack/interactions", interactions, methods=["POST"])])


@pytest.fixture
async def world() -> AsyncIterator[World]:
    state, clock = SlackState(), SimClock()
    state.add_user("U1", "alice@example.com", name="alice")
    sim = create_app(state, token=TOKEN, signing_secret=SECRET, interactions_url=None, clock=clock)
    async with running(sim) as url:
        slack = SlackClient(token=TOKEN, base_url=f"{url}/api/", limiter=None)
        world = World(state, clock, slack)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=stand_in_ingress(world)), base_url="http://ingress")
        world.actor = SlackActor(
            state, signing_secret=SECRET, interactions_url="http://ingress/slack/interactions", http=http, clock=clock
        )
        yield world
        await http.aclose()
        await slack.aclose()


async def _click(world: World) -> httpx.Response:
    await world.slack.post_message("U1", "Feedback is due", BUTTON_MESSAGE)
    [message] = world.state.messages_to("U1")
    return await world.actor.click_button(message, "open_feedback", user_id="U1")


async def test_click_sends_a_signed_block_actions_payload_and_the_modal_opens(world: World) -> None:
    response = await _click(world)

    assert response.status_code == 200
    [payload] = world.received
    [message] = world.state.messages_to("U1")
    assert payload["type"] == "block_actions"
    assert payload["user"] == {"id": "U1", "username": "alice", "name": "alice", "team_id": TEAM_ID}
    assert payload["team"]["id"] == TEAM_ID and payload["api_app_id"] == APP_ID
    assert payload["actions"][0] | {"action_ts": None} == {
        "type": "button",
        "action_id": "open_feedback",
        "block_id": "act",
        "value": "event-1",
        "text": {"type": "plain_text", "text": "Give feedback"},
        "action_ts": None,
    }
    assert payload["container"] == {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": message.channel,
        "is_ephemeral": False,
    }
    assert payload["channel"]["id"] == message.channel and payload["message"]["ts"] == message.ts
    assert payload["message"]["blocks"] == BUTTON_MESSAGE
    assert world.state.triggers[payload["trigger_id"]].created_at == T0
    [view] = world.state.views.values()
    assert (view.user_id, view.callback_id, view.is_open) == ("U1", "feedback", True)


async def test_slow_ingress_gets_an_expired_trigger_and_falls_back(world: World) -> None:
    world.ingress_delay_s = 3.5

    assert (await _click(world)).status_code == 200

    assert world.state.views == {}
    assert [m.text for m in world.state.messages_to("U1")][-1] == "That took too long; click again."
    [refusal] = world.state.calls("views.open")
    assert refusal.error == "expired_trigger_id"


async def test_submission_errors_are_surfaced_and_a_good_one_closes_the_modal(world: World) -> None:
    await _click(world)
    [view] = world.state.views.values()
    answers: dict[str, dict[str, Any]] = {
        "score": {"pick": "yes"},
        "skills": {"boxes": ["sql", "go"]},
        "start": {"date": "2026-04-01"},
        "years": {"n": 7},
    }

    refused = await world.actor.submit_view(view.id, {**answers, "why": {"text": ""}}, user_id="U1")

    assert refused.status_code == 200
    assert refused.json() == {"response_action": "errors", "errors": {"why": "Please say why"}}
    assert view.is_open and view.errors == {"why": "Please say why"}

    accepted = await world.actor.submit_view(view.id, {**answers, "why": {"text": "Strong SQL"}}, user_id="U1")

    assert accepted.status_code == 200 and not view.is_open
    submitted = world.received[-1]
    assert submitted["type"] == "view_submission"
    assert submitted["view"]["id"] == view.id and submitted["view"]["callback_id"] == "feedback"
    assert submitted["view"]["private_metadata"] == '{"event":"event-1"}'
    assert submitted["view"]["state"]["values"] == {
        "why": {"text": {"type": "plain_text_input", "value": "Strong SQL"}},
        "score": {"pick": {"type": "static_select", "selected_option": _option("yes")}},
        "skills": {"boxes": {"type": "checkboxes", "selected_options": [_option("sql"), _option("go")]}},
        "start": {"date": {"type": "datepicker", "selected_date": "2026-04-01"}},
        "years": {"n": {"type": "number_input", "value": "7"}},
        "notes": {"text": {"type": "plain_text_input", "value": None}},
    }


async def test_unknown_answers_are_a_test_bug_not_a_payload(world: World) -> None:
    await _click(world)
    [view] = world.state.views.values()
    with pytest.raises(ValueError):
        await world.actor.submit_view(view.id, {"score": {"pick": "maybe"}}, user_id="U1")
    with pytest.raises(ValueError):
        await world.actor.submit_view(view.id, {"nope": {"x": "1"}}, user_id="U1")
    with pytest.raises(ValueError):
        await world.actor.submit_view(view.id, {}, user_id="U2")


async def test_closing_notifies_the_app_only_when_asked(world: World) -> None:
    await _click(world)
    [view] = world.state.views.values()

    response = await world.actor.close_view(view.id, user_id="U1")

    assert response is not None and response.status_code == 200
    assert world.received[-1]["type"] == "view_closed"
    assert world.received[-1]["view"]["id"] == view.id and not view.is_open

    view.is_open, view.view = True, {**view.view, "notify_on_close": False}
    assert await world.actor.close_view(view.id, user_id="U1") is None
    assert world.received[-1]["type"] == "view_closed" and len(world.received) == 2


async def test_signatures_verify_with_slack_sdk_and_our_own_check(world: World) -> None:
    await _click(world)
    [interaction] = world.state.interactions
    body = b"payload=" + json.dumps(interaction.payload).encode()
    timestamp = str(int(world.clock.value))
    signature = world.actor.sign(timestamp, body)

    assert SignatureVerifier(SECRET, clock=world.clock).is_valid(body, timestamp, signature)
    assert verify_slack(SECRET, body, timestamp, signature, now=world.clock.value)
    assert not SignatureVerifier("another-secret-of-enough-length!", clock=world.clock).is_valid(
        body, timestamp, signature
    )
    assert not verify_slack(SECRET, body + b" ", timestamp, signature, now=world.clock.value)


async def test_unsigned_requests_are_what_the_ingress_refuses(world: World) -> None:
    impostor = SlackActor(
        world.state,
        signing_secret="not-the-real-secret-at-all-0000000",
        interactions_url="http://ingress/slack/interactions",
        http=world.actor._http,
        clock=world.clock,
    )
    await world.slack.post_message("U1", "Feedback is due", BUTTON_MESSAGE)
    [message] = world.state.messages_to("U1")

    assert (await impostor.click_button(message, "open_feedback", user_id="U1")).status_code == 401
    assert world.received == []
