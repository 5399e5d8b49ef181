"""The production Slack client (slack_sdk's AsyncWebClient over aiohttp) against the simulator on a local port."""

from __future__ import annotations

import pickle
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock
from slack_sdk.models.views import View

from shared.clients.slack import SlackApiFailure, SlackClient, SlackLimits, SlackUser, TriggerExpired
from shared.errors import Permanent, Transient
from sim.serving import running
from sim.slack import SimCommand, SlackState, create_app

TOKEN = "xoxb-test-token"
T0 = 1_700_000_000.0


class SimClock:
    """The simulator's clock; the client's retry sleeps advance it instead of sleeping."""

    def __init__(self) -> None:
        self.now = T0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Sim:
    state: SlackState
    clock: SimClock
    base_url: str


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    state, clock = SlackState(), SimClock()
    state.add_user("U1", "alice@example.com", tz="Europe/Paris")
    app = create_app(state, token=TOKEN, signing_secret="s" * 32, interactions_url=None, clock=clock)
    async with running(app) as url:
        yield Sim(state, clock, f"{url}/api/")


@pytest.fixture
async def slack(sim: Sim) -> AsyncIterator[SlackClient]:
    client = SlackClient(token=TOKEN, base_url=sim.base_url, limiter=None, sleep=sim.clock.sleep)
    yield client
    await client.aclose()


def modal(title: str = "Feedback", **extra: object) -> dict[str, object]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": [], **extra}


async def test_post_to_a_user_opens_the_dm_and_update_replaces_it(sim: Sim, slack: SlackClient) -> None:
    blocks = [
        SectionBlock(text="Feedback for *Jane* is due", block_id="brief"),
        ActionsBlock(block_id="act", elements=[ButtonElement(text="Give feedback", action_id="open", value="e1")]),
    ]
    channel, ts = await slack.post_message("U1", "Feedback is due", blocks)

    assert channel.startswith("D") and channel == sim.state.dm_channel("U1")
    assert await slack.open_conversation("U1") == channel
    [message] = sim.state.messages_to("U1")
    assert (message.ts, message.text) == (ts, "Feedback is due")
    assert message.blocks[1]["elements"][0]["action_id"] == "open"

    await slack.update_message(channel, ts, "Submitted", [SectionBlock(text="Submitted, thank you")])
    assert message.text == "Submitted"
    assert message.versions == [{"text": "Feedback is due", "blocks": message.versions[0]["blocks"]}]


async def test_users_are_found_by_email_or_not(sim: Sim, slack: SlackClient) -> None:
    sim.state.add_user("U2", "gone@example.com", deleted=True)
    sim.state.add_user("B1", "bot@example.com", is_bot=True)

    assert await slack.lookup_user_by_email("alice@example.com") == SlackUser(
        id="U1", email="alice@example.com", tz="Europe/Paris"
    )
    assert await slack.lookup_user_by_email("nobody@example.com") is None
    assert (await slack.lookup_user_by_email("gone@example.com")).deleted  # type: ignore[union-attr]
    assert (await slack.lookup_user_by_email("bot@example.com")).is_bot  # type: ignore[union-attr]


async def test_list_users_follows_the_cursor(sim: Sim, slack: SlackClient) -> None:
    sim.state.rate_limits.enabled = False
    for i in range(2, 451):
        sim.state.add_user(f"U{i}", f"user{i}@example.com")

    ids = [user.id async for user in slack.list_users()]

    assert ids == [f"U{i}" for i in range(1, 451)]
    assert [call.args.get("limit") for call in sim.state.calls("users.list")] == ["200", "200", "200"]


async def test_rate_limited_post_is_retried_after_retry_after(sim: Sim, slack: SlackClient) -> None:
    # The simulator allows 1 message/s per channel with a burst of 2; nothing paces this client.
    for i in range(3):
        await slack.post_message("U1", f"message {i}")

    assert [r.status for r in sim.state.calls("chat.postMessage")] == [200, 200, 429, 200]
    assert len(sim.state.messages_to("U1")) == 3
    [pause] = sim.clock.slept
    assert 1.0 <= pause < 2.0  # Retry-After: 1, plus up to a second of jitter


async def test_long_retry_after_goes_back_to_the_queue(sim: Sim, slack: SlackClient) -> None:
    sim.state.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=60)

    with pytest.raises(Transient) as caught:
        await slack.post_message("U1", "hello")

    assert caught.value.retry_after == 60
    assert sim.clock.slept == []
    assert sim.state.messages == []


async def test_server_errors_are_retried_then_transient(sim: Sim, slack: SlackClient) -> None:
    sim.state.fail_next("chat.postMessage", status=503, error="service_unavailable")
    await slack.post_message("U1", "after one 503")
    assert len(sim.state.messages) == 1 and len(sim.clock.slept) == 1

    sim.state.fail_next("chat.postMessage", status=500, times=10)
    with pytest.raises(Transient):
        await slack.post_message("U1", "never")
    assert len(sim.state.calls("chat.postMessage")) == 2 + 3  # first try and two retries, bounded


async def test_expired_trigger_is_a_typed_error(sim: Sim, slack: SlackClient) -> None:
    fresh = sim.state.mint_trigger("U1", sim.clock.now)
    stale = sim.state.mint_trigger("U1", sim.clock.now)
    sim.clock.now += 2.9
    view_id = await slack.open_view(fresh, modal())
    assert sim.state.views[view_id].user_id == "U1"

    sim.clock.now += 0.2  # 3.1 s after the click
    with pytest.raises(TriggerExpired) as caught:
        await slack.open_view(stale, modal())
    assert caught.value.code == "expired_trigger_id"
    assert isinstance(caught.value, Permanent)

    with pytest.raises(TriggerExpired) as caught:  # a trigger opens one view only
        await slack.open_view(fresh, modal())
    assert caught.value.code == "exchanged_trigger_id"


async def test_views_update_by_external_id_and_hash(sim: Sim, slack: SlackClient) -> None:
    view_id = await slack.open_view(sim.state.mint_trigger("U1", sim.clock.now), modal(external_id="fb-e1-U1"))
    stale_hash = sim.state.views[view_id].hash

    assert await slack.update_view(modal("Loaded"), external_id="fb-e1-U1", hash=stale_hash) == view_id
    assert sim.state.views[view_id].view["title"]["text"] == "Loaded"
    with pytest.raises(SlackApiFailure) as caught:
        await slack.update_view(modal("Late"), view_id=view_id, hash=stale_hash)
    assert caught.value.code == "hash_conflict"

    await slack.publish_view("U1", {"type": "home", "blocks": []})
    assert sim.state.home_views["U1"].view["type"] == "home"


@pytest.mark.parametrize(
    ("what", "view"),
    [
        ("title over 24", modal("x" * 25)),
        ("private_metadata over 3000", modal(private_metadata="x" * 3001)),
        ("101 blocks", modal(blocks=[{"type": "divider"}] * 101)),
        (
            "101 options",
            modal(
                submit={"type": "plain_text", "text": "Submit"},
                blocks=[
                    {
                        "type": "input",
                        "block_id": "q",
                        "label": {"type": "plain_text", "text": "Pick"},
                        "element": {
                            "type": "static_select",
                            "action_id": "a",
                            "options": [
                                {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)} for i in range(101)
                            ],
                        },
                    }
                ],
            ),
        ),
    ],
)
async def test_block_kit_limits_are_enforced_on_views(sim: Sim, slack: SlackClient, what: str, view: dict) -> None:
    with pytest.raises(SlackApiFailure) as caught:
        await slack.open_view(sim.state.mint_trigger("U1", sim.clock.now), view)
    assert caught.value.code == "invalid_blocks" and caught.value.invalid_content, what
    assert sim.state.views == {}


@pytest.mark.parametrize(
    "blocks",
    [
        [{"type": "divider"}] * 51,
        [{"type": "divider", "block_id": "b" * 256}],
        [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": "pick",
                        "options": [{"text": {"type": "plain_text", "text": "x" * 76}, "value": "v"}],
                    }
                ],
            }
        ],
        [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "overflow",
                        "action_id": "o",
                        "options": [{"text": {"type": "plain_text", "text": "t"}, "value": "v" * 151}],
                    }
                ],
            }
        ],
    ],
)
async def test_block_kit_limits_are_enforced_on_messages(sim: Sim, slack: SlackClient, blocks: list) -> None:
    with pytest.raises(SlackApiFailure) as caught:
        await slack.post_message("U1", "text", blocks)
    assert caught.value.code == "invalid_blocks"
    assert sim.state.messages == []


async def test_slack_sdk_models_are_validated_before_sending(sim: Sim, slack: SlackClient) -> None:
    with pytest.raises(SlackApiFailure) as caught:
        await slack.open_view("any-trigger", View(type="modal", title="x" * 25, blocks=[]))
    assert caught.value.code == "invalid_blocks"
    assert sim.state.requests == []


async def test_refusals_carry_slacks_error_code(sim: Sim, slack: SlackClient) -> None:
    with pytest.raises(SlackApiFailure) as caught:
        await slack.post_message("C404", "hello")
    assert caught.value.code == "channel_not_found" and not caught.value.invalid_content

    wrong = SlackClient(token="xoxb-wrong", base_url=sim.base_url, limiter=None)
    try:
        with pytest.raises(SlackApiFailure) as caught:
            await wrong.post_message("U1", "hello")
        assert caught.value.code == "invalid_auth"
    finally:
        await wrong.aclose()


async def test_connection_failure_is_transient() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clock = SimClock()
    slack = SlackClient(token=TOKEN, base_url=f"http://127.0.0.1:{port}/api/", limiter=None, sleep=clock.sleep)
    try:
        with pytest.raises(Transient):
            await slack.post_message("U1", "hello")
        assert len(clock.slept) == 1  # slack-sdk's single connection retry, then back to the queue
    finally:
        await slack.aclose()


async def test_base_url_must_end_with_a_slash() -> None:
    with pytest.raises(ValueError):
        SlackClient(token=TOKEN, base_url="https://slack.com/api", limiter=None)


def test_default_limits_follow_slack_tiers() -> None:
    limits = SlackLimits()
    assert limits.tier_per_min == {2: 20.0, 3: 50.0, 4: 100.0}
    assert limits.view_open_max_wait_s <= 0.5 < 3.0


def test_retry_after_is_read_by_the_shared_parser_http_dates_included() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    from shared.clients.slack_retry import retry_after_of as _retry_after

    assert _retry_after({"Retry-After": "7"}) == 7.0
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    hinted = _retry_after({"retry-after": soon})
    assert hinted is not None and 25 <= hinted <= 31
    assert _retry_after({"Retry-After": "later"}) is None
    assert _retry_after(None) is None


def test_failures_survive_pickling_like_arq_results() -> None:
    for error in (
        SlackApiFailure("chat.postMessage", "channel_not_found"),
        TriggerExpired("views.open", "expired_trigger_id"),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), copy.method, copy.code, str(copy)) == (type(error), error.method, error.code, str(error))


async def test_auth_test_reads_the_tokens_scopes_from_the_header(sim: Sim, slack: SlackClient) -> None:
    auth = await slack.auth_test()
    assert (auth.team_id, auth.user_id, auth.bot_id) == ("T0SIMTEAM", "U0SIMBOT", "B0SIMBOT")
    assert auth.scopes == {"chat:write", "commands", "im:write", "users:read", "users:read.email"}
    sim.state.token_scopes = ["chat:write"]
    assert (await slack.auth_test()).scopes == {"chat:write"}
    stranger = SlackClient(token="xoxb-someone-else", base_url=sim.base_url, limiter=None)
    with pytest.raises(SlackApiFailure) as refused:
        await stranger.auth_test()
    await stranger.aclose()
    assert refused.value.code == "invalid_auth"


async def test_user_info_reads_a_user_and_says_none_for_a_stranger(sim: Sim, slack: SlackClient) -> None:
    assert await slack.user_info("U1") == SlackUser(id="U1", email="alice@example.com", tz="Europe/Paris")
    assert await slack.user_info("U0NOBODY") is None


async def test_respond_answers_a_command_in_place_and_maps_slacks_refusals(sim: Sim, slack: SlackClient) -> None:
    base = sim.base_url.removesuffix("/api/")
    command = SimCommand("tok", "U1", "C1", "/feedback", "", created_at=T0, shown=[{"text": "Looking…"}])
    sim.state.commands["tok"] = command
    await slack.respond(f"{base}/_sim/respond/tok", "Here it is", [SectionBlock(text="*Ada* · System design")])
    assert command.shown == [
        {"response_type": "ephemeral", "replace_original": True, "text": "Here it is",
         "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Ada* · System design"}}]}
    ]  # fmt: skip
    sim.clock.now += 31 * 60  # a response_url posts for 30 minutes
    with pytest.raises(SlackApiFailure) as expired:
        await slack.respond(f"{base}/_sim/respond/tok", "Too late")
    assert (expired.value.code, str(expired.value)) == ("expired_url", "slack response_url: expired_url")
    with pytest.raises(SlackApiFailure) as unknown:
        await slack.respond(f"{base}/_sim/respond/nope", "Nobody asked")
    assert unknown.value.code == "no_service" and "nope" not in str(unknown.value)


async def test_respond_hands_a_refused_connection_back_to_the_queue(slack: SlackClient) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(Transient) as refused:
        await slack.respond(f"http://127.0.0.1:{port}/commands/secret-part", "Here it is")
    assert "secret-part" not in str(refused.value)
