"""The Slack simulator's Web API on its own: request encodings, auth, rate limits, Block Kit checks."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator

import httpx
import pytest

from fleet.processes import wait_until
from sim.slack import SlackState, create_app
from sim.slack.blockkit import message_problems, view_problems
from sim.slack.state import RandomRateLimits, SimCommand

TOKEN = "xoxb-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def state() -> SlackState:
    state = SlackState()
    state.add_user("U1", "Alice@Example.com")
    return state


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def api(state: SlackState, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(state, token=TOKEN, signing_secret="s" * 32, interactions_url=None, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://slack/api/") as client:
        yield client


async def test_form_json_and_query_arguments_are_all_read(api: httpx.AsyncClient, state: SlackState) -> None:
    blocks = json.dumps([{"type": "divider"}])
    form = await api.post("chat.postMessage", data={"channel": "U1", "text": "form", "blocks": blocks}, headers=AUTH)
    as_json = await api.post("chat.postMessage", json={"channel": "U1", "text": "json"}, headers=AUTH)
    query = await api.post("conversations.open", params={"users": "U1"}, headers=AUTH)
    get = await api.get("users.lookupByEmail", params={"email": "alice@example.com", "token": TOKEN})

    assert form.json()["ok"] and as_json.json()["ok"]
    assert [m.text for m in state.messages_to("U1")] == ["form", "json"]
    assert state.messages[0].blocks == [{"type": "divider"}]
    assert query.json() == {"ok": True, "channel": {"id": form.json()["channel"]}, "no_op": True, "already_open": True}
    assert get.json()["user"]["id"] == "U1"


async def test_auth_is_checked(api: httpx.AsyncClient) -> None:
    missing = await api.post("chat.postMessage", json={"channel": "U1", "text": "x"})
    wrong = await api.post(
        "chat.postMessage", json={"channel": "U1", "text": "x"}, headers={"Authorization": "Bearer no"}
    )
    assert missing.json() == {"ok": False, "error": "not_authed"}
    assert wrong.json() == {"ok": False, "error": "invalid_auth"}


async def test_email_lookup_ignores_case_unless_told_otherwise(api: httpx.AsyncClient, state: SlackState) -> None:
    async def lookup(email: str) -> str:
        response = await api.get("users.lookupByEmail", params={"email": email}, headers=AUTH)
        return response.json().get("user", {}).get("id") or response.json()["error"]

    assert await lookup("ALICE@example.COM") == "U1"
    state.email_lookup_case_sensitive = True
    assert await lookup("alice@example.com") == "users_not_found"
    assert await lookup("Alice@Example.com") == "U1"


async def test_method_tiers_answer_429_with_retry_after(
    api: httpx.AsyncClient, state: SlackState, clock: Clock
) -> None:
    async def lookup() -> httpx.Response:
        return await api.get("users.lookupByEmail", params={"email": "alice@example.com"}, headers=AUTH)

    statuses = [(await lookup()).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]  # Tier 3: 50/min with a burst of 5
    limited = await lookup()
    assert limited.headers["Retry-After"] == "2" and limited.json() == {"ok": False, "error": "ratelimited"}

    clock.now += 1.2  # one slot every 1.2 s
    assert (await lookup()).status_code == 200

    state.rate_limits.enabled = False
    assert {(await lookup()).status_code for _ in range(20)} == {200}


async def test_messages_per_channel_are_limited_per_channel(api: httpx.AsyncClient, clock: Clock) -> None:
    async def post(channel: str) -> int:
        response = await api.post("chat.postMessage", json={"channel": channel, "text": "x"}, headers=AUTH)
        return response.status_code

    assert [await post("U1") for _ in range(3)] == [200, 200, 429]  # 1/s with a burst of 2
    clock.now += 1.0
    assert await post("U1") == 200


async def test_users_list_pages_with_a_cursor(api: httpx.AsyncClient, state: SlackState) -> None:
    state.rate_limits.enabled = False
    for i in range(2, 6):
        state.add_user(f"U{i}", None)
    first = (await api.get("users.list", params={"limit": 3}, headers=AUTH)).json()
    cursor = first["response_metadata"]["next_cursor"]
    second = (await api.get("users.list", params={"limit": 3, "cursor": cursor}, headers=AUTH)).json()
    bad = (await api.get("users.list", params={"cursor": "%%%"}, headers=AUTH)).json()

    assert [m["id"] for m in first["members"] + second["members"]] == ["U1", "U2", "U3", "U4", "U5"]
    assert second["response_metadata"]["next_cursor"] == ""
    assert bad == {"ok": False, "error": "invalid_cursor"}


async def test_messages_can_only_go_where_a_person_can_read_them(api: httpx.AsyncClient, state: SlackState) -> None:
    state.add_user("U9", "gone@example.com", deleted=True)
    state.add_user("B1", "bot@example.com", is_bot=True)
    state.rate_limits.enabled = False

    async def error(channel: str, text: str = "x") -> str | None:
        response = await api.post("chat.postMessage", json={"channel": channel, "text": text}, headers=AUTH)
        return response.json().get("error")

    assert await error("U9") == "user_disabled"
    assert await error("B1") == "cannot_dm_bot"
    assert await error("C1") == "channel_not_found"
    assert await error("U1", "") == "no_text"
    assert await error("U1", "x" * 40_001) == "msg_too_long"
    state.add_channel("C1", "hiring")
    assert await error("C1") is None


def test_block_kit_message_limits() -> None:
    def section(**extra: object) -> dict[str, object]:
        return {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}, **extra}

    assert message_problems("hi", [section()] * 50) == []
    assert message_problems("hi", [section()] * 51)
    assert message_problems("hi", [section(block_id="a"), section(block_id="a")])
    assert message_problems("hi", [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    assert message_problems("hi", [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}])
    assert message_problems("hi", [{"type": "nonsense"}])
    button = {"type": "button", "text": {"type": "plain_text", "text": "Go"}}
    assert message_problems("hi", [section(accessory={**button, "action_id": "a" * 255})]) == []
    assert message_problems("hi", [section(accessory={**button, "action_id": "a" * 256})])


def test_block_kit_view_limits() -> None:
    def modal(**extra: object) -> dict[str, object]:
        return {"type": "modal", "title": {"type": "plain_text", "text": "Feedback"}, "blocks": [], **extra}

    def select(options: int, *, text: str = "t", value: str = "v", kind: str = "static_select") -> dict[str, object]:
        element = {
            "type": kind,
            "action_id": "a",
            "options": [{"text": {"type": "plain_text", "text": text}, "value": f"{value}{i}"} for i in range(options)],
        }
        label = {"type": "plain_text", "text": "Q"}
        return modal(
            submit={"type": "plain_text", "text": "Submit"},
            blocks=[{"type": "input", "block_id": "q", "label": label, "element": element}],
        )

    assert view_problems(modal()) == []
    assert view_problems(modal(title={"type": "plain_text", "text": "x" * 24})) == []
    assert view_problems(modal(title={"type": "plain_text", "text": "x" * 25}))
    assert view_problems(modal(blocks=[{"type": "divider"}] * 100)) == []
    assert view_problems(modal(blocks=[{"type": "divider"}] * 101))
    assert view_problems(modal(private_metadata="x" * 3000)) == []
    assert view_problems(modal(private_metadata="x" * 3001))
    assert view_problems(modal(callback_id="x" * 256))
    assert view_problems(select(100)) == []
    assert view_problems(select(101))
    assert view_problems(select(10, kind="radio_buttons")) == []
    assert view_problems(select(11, kind="radio_buttons"))
    assert view_problems(select(1, text="x" * 75)) == []
    assert view_problems(select(1, text="x" * 76))
    assert view_problems(select(1, value="x" * 149)) == []  # the index makes it 150
    assert view_problems(select(1, value="x" * 150))
    no_submit = select(1)
    del no_submit["submit"]
    assert view_problems(no_submit)
    assert view_problems({"type": "home", "blocks": [{"type": "divider"}] * 100}) == []


async def test_control_api_seeds_reads_and_switches_limits(api: httpx.AsyncClient, state: SlackState) -> None:
    control = "http://slack/_sim/"
    seeded = await api.post(f"{control}users", json={"id": "U7", "email": "bo@example.com", "tz": "Asia/Tokyo"})
    assert seeded.status_code == 200 and state.users["U7"].tz == "Asia/Tokyo"

    await api.post(f"{control}rate-limits", json={"enabled": False})
    for _ in range(3):
        assert (await api.post("chat.postMessage", json={"channel": "U7", "text": "x"}, headers=AUTH)).json()["ok"]
    channel = state.dm_channel("U7")
    listed = (await api.get(f"{control}messages", params={"channel": channel})).json()
    assert [m["text"] for m in listed] == ["x", "x", "x"]

    unknown = await api.post(
        f"{control}click", json={"channel": channel, "ts": "1.0", "action_id": "a", "user_id": "U7"}
    )
    assert unknown.status_code == 404


async def test_a_held_call_has_no_effect_even_once_released(api: httpx.AsyncClient, state: SlackState) -> None:
    state.hang_next("chat.postMessage")
    held = asyncio.create_task(api.post("chat.postMessage", json={"channel": "U1", "text": "held"}, headers=AUTH))

    async def held_in_the_simulator() -> bool:
        return bool(state.hung)

    await wait_until(held_in_the_simulator, timeout_s=5, what="the call to reach the simulator and wait there")
    passed = await api.post("chat.postMessage", json={"channel": "U1", "text": "next"}, headers=AUTH)
    assert passed.json()["ok"] and not held.done()

    state.release_hangs()
    assert (await held).status_code == 503
    assert [m.text for m in state.messages_to("U1")] == ["next"]
    assert [r.error for r in state.hung] == ["hung"]


async def test_random_rate_limits_refuse_a_seeded_share_of_any_method(
    api: httpx.AsyncClient, state: SlackState
) -> None:
    state.rate_limits.enabled = False

    async def statuses(seed: int) -> list[int]:
        state.random_rate_limits = RandomRateLimits(0.3, random.Random(seed), retry_after_s=1)
        answers = []
        for n in range(100):
            method, args = ("chat.postMessage", {"channel": "U1", "text": "x"}) if n % 2 else ("auth.test", {})
            response = await api.post(method, json=args, headers=AUTH)
            if response.status_code == 429:
                assert response.headers["Retry-After"] == "1" and response.json()["error"] == "ratelimited"
            answers.append(response.status_code)
        return answers

    first = await statuses(3)
    assert first == await statuses(3)
    refused = first.count(429)
    assert 15 <= refused <= 45 and set(first) == {200, 429}
    assert state.random_rate_limits is not None and state.random_rate_limits.refused == refused
    assert {first[n] for n in range(1, 100, 2)} == {200, 429}  # posts too, not only some methods
    posted = sum(1 for n in range(1, 100, 2) if first[n] == 200)
    assert len(state.messages_to("U1")) == 2 * posted  # a refused post has no effect (both runs)
    assert sum(1 for r in state.requests if r.status == 429) == 2 * refused


async def test_a_commands_response_url_posts_five_times_then_says_so(api: httpx.AsyncClient, state: SlackState) -> None:
    state.commands["tok"] = SimCommand("tok", "U1", "C1", "/feedback", "", created_at=1_700_000_000.0)
    answers = [await api.post("http://slack/_sim/respond/tok", json={"text": f"answer {n}"}) for n in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [404]
    assert answers[-1].text == "used_url"
    assert [m["text"] for m in state.commands["tok"].shown] == [f"answer {n}" for n in range(5)]
    state.commands["tok"].uses = 0
    replaced = await api.post("http://slack/_sim/respond/tok", json={"text": "again", "replace_original": True})
    assert replaced.status_code == 200 and state.commands["tok"].shown[-1]["text"] == "again"
    assert len(state.commands["tok"].shown) == 5
    assert (await api.post("http://slack/_sim/respond/other", json={"text": "x"})).status_code == 404
    assert (await api.post("http://slack/_sim/respond/tok", json={"text": "", "blocks": []})).text == "no_text"


async def test_users_info_answers_by_id(api: httpx.AsyncClient) -> None:
    found = await api.post("users.info", data={"user": "U1"}, headers=AUTH)
    assert found.json()["user"]["profile"]["email"] == "Alice@Example.com"
    assert (await api.post("users.info", data={"user": "U9"}, headers=AUTH)).json()["error"] == "user_not_found"
