"""POST /slack/interactions against a real Redis and the Slack simulator: every bad input gets its status and
has no side effect (no job, no Slack call), and the good ones open, validate and enqueue exactly once."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import redis.asyncio as aioredis
import structlog
from arq.connections import ArqRedis
from arq.constants import job_key_prefix

from ingress.app import create_app
from ingress.http import MAX_BODY_BYTES
from shared.blocks import OPEN_RESUME
from shared.clients.slack import SlackClient
from shared.embedded import free_port
from shared.feedback_form import CALLBACK_ID, Modal, ModalContext, render_modal
from shared.jobs import (
    HYDRATE_MODAL,
    NOTIFY_OPEN_FAILED,
    QUEUE_DEFAULT,
    QUEUE_INTERACTIVE,
    SAVE_DRAFT,
    SEND_RESUME_LINK,
    SUBMIT_FEEDBACK,
    batching_queue,
    deserialize,
    queue_redis,
)
from shared.logs import configure_logging
from shared.modal_cache import CachedModal, modal_key, store_modal
from shared.modal_views import (
    ALREADY_SUBMITTED,
    EXPIRED,
    LOADING_CALLBACK,
    NOT_YOURS,
    SUBMITTING,
    notice_view,
)
from shared.payloads.ashby import FeedbackFormDefinition, FieldDefinition, FormDefinition, FormField, FormSection
from shared.ratelimit import RedisRateLimiter
from shared.signatures import slack_signature
from sim.serving import running
from sim.slack import SlackActor, SlackState
from sim.slack import create_app as create_slack_sim
from sim.slack.state import Message
from tests.helpers import SIGNING_SECRET, SLACK_TOKEN, make_settings

T0 = 1_800_000_000.0
INTERVIEWER, OTHER_USER = "U_ALICE", "U_MALLORY"
INTERVIEWER_EMAIL, OTHER_EMAIL = "alice.interviewer@example.com", "mallory@example.com"
CANDIDATE = "Ada Lovelace"
ANSWER = "Ada explained sharding trade-offs very clearly"
EVENT_ID, ASHBY_USER = "event-1", "ashby-user-alice"
KEY = modal_key(EVENT_ID, ASHBY_USER)
URL = "/slack/interactions"
REFUSED_SIGNATURE = {"error": "missing, invalid or expired Slack signature"}

FORM = FeedbackFormDefinition(
    id="form-1",
    title="Scorecard",
    form_definition=FormDefinition(
        sections=[
            FormSection(
                fields=[
                    FormField(field=FieldDefinition(id="f-1", type="String", path="summary", title="Summary")),
                    FormField(
                        field=FieldDefinition(id="f-2", type="LongText", path="notes", title="Notes"),
                        is_required=False,
                    ),
                ]
            )
        ]
    ),
)


def _render() -> Modal:
    context = ModalContext(
        submission_key=KEY, candidate_name=CANDIDATE, interview_title="System design", job_title="Staff Engineer"
    )
    rendered = render_modal(FORM, context=context)
    assert isinstance(rendered, Modal)
    return rendered


RENDERED = _render()
SUMMARY, NOTES = (entry.block_id for entry in RENDERED.field_map.fields)


class Clock:
    """One controlled clock for the ingress's signature window and the simulator's trigger expiry."""

    def __init__(self) -> None:
        self.value = T0

    def __call__(self) -> float:
        return self.value


async def _no_sleep(seconds: float) -> None:
    return None


# --- request builders -------------------------------------------------------------------------------


def form_body(payload: dict[str, Any] | str) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return urlencode({"payload": text}).encode()


def signed(body: bytes, *, timestamp: str | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    ts = timestamp if timestamp is not None else str(int(T0))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(secret, ts, body),
    }


def user(user_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": "T0SIMTEAM"}


def block_actions(
    user_id: str, trigger_id: str, *, action_id: str = "open_feedback_form", value: str | None = KEY
) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "button", "action_id": action_id, "block_id": "actions", "action_ts": "1.0"}
    if value is not None:
        action["value"] = value
    return {
        "type": "block_actions",
        "user": user(user_id),
        "api_app_id": "A0SIMAPP",
        "team": {"id": "T0SIMTEAM", "domain": "simulated"},
        "trigger_id": trigger_id,
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": "D1", "is_ephemeral": False},
        "actions": [action],
    }


def answers(summary: str | None = ANSWER, notes: str | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        SUMMARY: {SUMMARY: {"type": "plain_text_input", "value": summary}},
        NOTES: {NOTES: {"type": "plain_text_input", "value": notes}},
    }


def view(
    *, callback_id: str = CALLBACK_ID, private_metadata: str = KEY, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": "V0FORM",
        "team_id": "T0SIMTEAM",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "hash": "1.h",
        "state": {"values": answers() if values is None else values},
    }


def view_submission(user_id: str, the_view: dict[str, Any], *, trigger_id: str = "sub.1") -> dict[str, Any]:
    return {"type": "view_submission", "user": user(user_id), "trigger_id": trigger_id, "view": the_view}


def view_closed(user_id: str, the_view: dict[str, Any]) -> dict[str, Any]:
    return {"type": "view_closed", "user": user(user_id), "view": the_view, "is_cleared": False}


def text_of(a_view: dict[str, Any]) -> str:
    return "\n".join(str((block.get("text") or {}).get("text", "")) for block in a_view.get("blocks") or [])


# --- the world --------------------------------------------------------------------------------------


@dataclass
class Ingress:
    client: httpx.AsyncClient
    redis: aioredis.Redis
    slack_state: SlackState
    slack: SlackClient
    clock: Clock
    signatures: list[str] = field(default_factory=list)  # every signature sent, for the log check

    async def post(self, body: bytes | Any, headers: dict[str, str] | None = None) -> httpx.Response:
        if headers and "X-Slack-Signature" in headers:
            self.signatures.append(headers["X-Slack-Signature"])
        return await self.client.post(URL, content=body, headers=headers or {})

    async def send(self, payload: dict[str, Any] | str, *, timestamp: str | None = None) -> httpx.Response:
        body = form_body(payload)
        return await self.post(body, signed(body, timestamp=timestamp))

    def trigger(self, user_id: str, *, age_s: float = 0.0) -> str:
        return self.slack_state.mint_trigger(user_id, self.clock() - age_s)

    async def queued(self) -> tuple[int, int]:
        return int(await self.redis.zcard(QUEUE_INTERACTIVE)), int(await self.redis.zcard(QUEUE_DEFAULT))

    async def jobs(self) -> list[tuple[str, list[Any]]]:
        """(function, args) of every job on the interactive queue, as a worker would read them."""
        found = []
        for job_id in await self.redis.zrange(QUEUE_INTERACTIVE, 0, -1):
            raw = await self.redis.get(job_key_prefix + job_id.decode())
            assert raw is not None
            job = deserialize(raw)
            found.append((str(job["f"]), list(job["a"])))
        return found

    def slack_calls(self, method: str | None = None) -> list[str]:
        return [r.method for r in self.slack_state.requests if method is None or r.method == method]

    async def assert_no_side_effect(self) -> None:
        assert await self.queued() == (0, 0)
        assert self.slack_calls() == []


async def cache_modal(redis: aioredis.Redis, *, submitted: bool = False, slack_user_id: str = INTERVIEWER) -> None:
    await store_modal(
        redis,
        CachedModal(
            event_id=EVENT_ID,
            interviewer_id=ASHBY_USER,
            slack_user_id=slack_user_id,
            view=RENDERED.view,
            field_map=RENDERED.field_map,
            submitted=submitted,
        ),
    )


@contextlib.asynccontextmanager
async def ingress_on(queue_url: str, slack_state: SlackState, clock: Clock) -> AsyncIterator[Ingress]:
    """The ingress as production builds it (batching queue, Slack client with the Redis rate limiter), with the
    simulator as Slack. The Ingress's `redis` is the queue's own client."""
    queue: ArqRedis = batching_queue(queue_redis(queue_url))
    sim = create_slack_sim(
        slack_state, token=SLACK_TOKEN, signing_secret=SIGNING_SECRET, interactions_url=None, clock=clock
    )
    async with running(sim) as sim_url:
        slack = SlackClient(
            token=SLACK_TOKEN, base_url=f"{sim_url}/api/", limiter=RedisRateLimiter(queue), sleep=_no_sleep
        )
        app = create_app(make_settings(redis_url=queue_url), queue=queue, slack=slack, clock=clock)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress") as client:
                yield Ingress(client, queue, slack_state, slack, clock)
        finally:
            await slack.aclose()
            await queue.aclose()


@pytest.fixture
def slack_state() -> SlackState:
    state = SlackState()
    state.add_user(INTERVIEWER, INTERVIEWER_EMAIL, name="alice")
    state.add_user(OTHER_USER, OTHER_EMAIL, name="mallory")
    return state


@pytest.fixture
async def ingress(redis: aioredis.Redis, redis_url: str, slack_state: SlackState) -> AsyncIterator[Ingress]:
    async with ingress_on(redis_url, slack_state, Clock()) as world:
        yield world


@pytest.fixture
def log_output(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """Production logging (JSON lines from structlog and the standard library) at DEBUG, so that even debug
    lines are checked, written to a stream of the test's own; the previous configuration is restored
    afterwards. The returned function reads that stream and stderr (where a traceback would go)."""
    stream = io.StringIO()
    saved = structlog.get_config()
    root = logging.getLogger()
    root_level, root_handlers = root.level, root.handlers[:]
    levels = {name: logging.getLogger(name).level for name in ("httpx", "pgserver", "arq.worker")}
    configure_logging(level="DEBUG", fmt="json")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=stream))
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(stream)
    try:
        yield lambda: stream.getvalue() + capsys.readouterr().err
    finally:
        structlog.configure(**saved)
        root.handlers[:] = root_handlers
        root.setLevel(root_level)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def events(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


# --- forged, replayed, oversized --------------------------------------------------------------------

GOOD = form_body(view_closed(INTERVIEWER, view()))


def _headers_for(case: str) -> tuple[bytes, dict[str, str]]:
    good = signed(GOOD)
    ts = good["X-Slack-Request-Timestamp"]
    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "unsigned": (GOOD, {"Content-Type": "application/x-www-form-urlencoded"}),
        "no-timestamp": (GOOD, {"X-Slack-Signature": good["X-Slack-Signature"]}),
        "no-signature": (GOOD, {"X-Slack-Request-Timestamp": ts}),
        "empty-signature": (GOOD, {**good, "X-Slack-Signature": ""}),
        "wrong-secret": (GOOD, signed(GOOD, secret="another-signing-secret-of-enough-length")),
        "wrong-version": (GOOD, {**good, "X-Slack-Signature": good["X-Slack-Signature"].replace("v0=", "v1=")}),
        "upper-case-hex": (GOOD, {**good, "X-Slack-Signature": "v0=" + good["X-Slack-Signature"][3:].upper()}),
        "tampered-body": (GOOD.replace(b"U_ALICE", b"U_ALICF"), good),
        "appended-body": (GOOD + b"&x=1", good),
        "signed-other-timestamp": (GOOD, {**signed(GOOD, timestamp=str(int(T0) - 1)), "X-Slack-Request-Timestamp": ts}),
        "too-old": (GOOD, signed(GOOD, timestamp=str(int(T0) - 301))),
        "too-far-ahead": (GOOD, signed(GOOD, timestamp=str(int(T0) + 301))),
        "non-numeric-timestamp": (GOOD, signed(GOOD, timestamp="yesterday")),
        "decimal-timestamp": (GOOD, signed(GOOD, timestamp=f"{T0:.3f}")),
        "empty-timestamp": (GOOD, signed(GOOD, timestamp="")),
        "negative-timestamp": (GOOD, signed(GOOD, timestamp="-1")),
        "huge-timestamp": (GOOD, signed(GOOD, timestamp="1" + "0" * 400)),
        "signed-padded-timestamp": (GOOD, signed(GOOD, timestamp=f" {int(T0)}")),
        "signed-underscored-timestamp": (GOOD, signed(GOOD, timestamp="1_800_000_000")),
        "signed-plus-timestamp": (GOOD, signed(GOOD, timestamp=f"+{int(T0)}")),
    }
    return cases[case]


@pytest.mark.parametrize(
    "case",
    [
        "unsigned",
        "no-timestamp",
        "no-signature",
        "empty-signature",
        "wrong-secret",
        "wrong-version",
        "upper-case-hex",
        "tampered-body",
        "appended-body",
        "signed-other-timestamp",
        "too-old",
        "too-far-ahead",
        "non-numeric-timestamp",
        "decimal-timestamp",
        "empty-timestamp",
        "negative-timestamp",
        "huge-timestamp",
        "signed-padded-timestamp",
        "signed-underscored-timestamp",
        "signed-plus-timestamp",
    ],
)
async def test_forged_or_expired_requests_get_401_and_leave_no_trace(
    ingress: Ingress, redis: aioredis.Redis, case: str
) -> None:
    await cache_modal(redis)
    cached = await redis.dbsize()
    body, headers = _headers_for(case)

    response = await ingress.post(body, headers)

    assert response.status_code == 401
    assert response.json() == REFUSED_SIGNATURE
    await ingress.assert_no_side_effect()
    assert await redis.dbsize() == cached  # not even a replay marker


async def test_the_window_is_five_minutes_either_way(ingress: Ingress) -> None:
    for offset in (-300, 300):
        payload = view_closed(INTERVIEWER, view(values=answers(notes=str(offset))))
        assert (await ingress.send(payload, timestamp=str(int(T0) + offset))).status_code == 200
    assert await ingress.queued() == (2, 0)


async def test_an_identical_replay_is_refused_and_queues_nothing_more(ingress: Ingress) -> None:
    body = form_body(block_actions(INTERVIEWER, ingress.trigger(INTERVIEWER)))  # a cache miss: loading view + job
    headers = signed(body)

    first = await ingress.post(body, headers)
    replay = await ingress.post(body, headers)

    assert first.status_code == 200
    assert replay.status_code == 401
    assert replay.json() == {"error": "replayed Slack request"}
    assert [function for function, _ in await ingress.jobs()] == [HYDRATE_MODAL]
    assert ingress.slack_calls("views.open") == ["views.open"]


async def test_the_same_payload_signed_again_later_is_a_new_delivery(ingress: Ingress) -> None:
    """Replay protection is per signature: Slack signs each delivery anew, so only exact copies are refused."""
    payload = view_closed(INTERVIEWER, view())
    assert (await ingress.send(payload)).status_code == 200
    assert (await ingress.send(payload, timestamp=str(int(T0) + 1))).status_code == 200
    assert [function for function, _ in await ingress.jobs()] == [SAVE_DRAFT]  # the job id dedupes the draft


async def test_oversized_bodies_get_413_declared_or_streamed(ingress: Ingress, redis: aioredis.Redis) -> None:
    big = form_body("x" * MAX_BODY_BYTES)
    declared = await ingress.post(big, signed(big))

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit applies while streaming
        yield big[: MAX_BODY_BYTES // 2]
        yield big[MAX_BODY_BYTES // 2 :]

    streamed = await ingress.post(chunks(), signed(big))

    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert declared.json() == streamed.json() == {"error": "body larger than 1 MiB"}
    await ingress.assert_no_side_effect()
    assert await redis.dbsize() == 0


async def test_a_body_of_exactly_the_limit_is_read(ingress: Ingress) -> None:
    body = b"payload=" + b"x" * (MAX_BODY_BYTES - len("payload="))
    response = await ingress.post(body, signed(body))
    assert response.status_code == 400  # read, verified and found malformed: not refused for its size


# --- malformed and unknown payloads -----------------------------------------------------------------

NESTED = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"token=abc&team=T1",
        b"payload=",
        form_body(json.dumps({"type": "view_closed"})) + b"&" + form_body(json.dumps({"type": "view_closed"})),
        form_body("{not json"),
        b"payload=\xff\xfe",
        form_body("[1, 2, 3]"),
        form_body("{}"),
        form_body('{"type": 42}'),
        form_body({"type": "block_actions", "trigger_id": "1.2.3", "actions": []}),
        form_body({"type": "block_actions", "user": user(INTERVIEWER), "actions": []}),
        form_body({"type": "block_actions", "user": {"name": "x"}, "trigger_id": "1.2.3", "actions": []}),
        form_body({"type": "block_actions", "user": user(INTERVIEWER), "trigger_id": "1", "actions": {"a": 1}}),
        form_body({"type": "block_actions", "user": user(INTERVIEWER), "trigger_id": "1", "actions": [{}]}),
        form_body({"type": "view_submission", "user": user(INTERVIEWER)}),
        form_body({"type": "view_submission", "user": user(INTERVIEWER), "view": {"callback_id": CALLBACK_ID}}),
        form_body(view_submission(INTERVIEWER, view(values={SUMMARY: {SUMMARY: "not an object"}}))),
        form_body(view_closed(INTERVIEWER, {**view(), "state": {"values": [1]}})),
        form_body(NESTED),
        form_body('{"type": "view_closed", "deep": ' + NESTED + "}"),
        form_body('{"type": "shortcut", "deep": ' + NESTED + "}"),
        form_body(view_closed(INTERVIEWER, view(values={NOTES: {NOTES: {"value": 2**64}}}))),
    ],
    ids=[
        "empty-body",
        "no-payload-field",
        "empty-payload",
        "two-payload-fields",
        "payload-not-json",
        "body-not-utf8",
        "payload-not-an-object",
        "payload-without-type",
        "type-not-a-string",
        "block-actions-without-user",
        "block-actions-without-trigger",
        "user-without-id",
        "actions-not-a-list",
        "action-without-id",
        "submission-without-view",
        "view-without-id",
        "state-value-not-an-object",
        "state-values-not-an-object",
        "deeply-nested-payload",
        "deeply-nested-field",
        "deeply-nested-unknown-type",
        "integer-too-large-for-a-job",
    ],
)
async def test_malformed_payloads_get_400_with_a_clear_error(
    ingress: Ingress, redis: aioredis.Redis, body: bytes
) -> None:
    await cache_modal(redis)

    response = await ingress.post(body, signed(body))

    assert response.status_code == 400
    assert response.json()["error"].startswith("malformed interaction payload: ")
    await ingress.assert_no_side_effect()


@pytest.mark.parametrize("kind", ["shortcut", "message_action", "block_suggestion", "view_something_new"])
async def test_unknown_interaction_types_are_acknowledged_and_ignored(
    ingress: Ingress, redis: aioredis.Redis, kind: str
) -> None:
    await cache_modal(redis)
    payload = {"type": kind, "user": user(INTERVIEWER), "trigger_id": ingress.trigger(INTERVIEWER), "callback_id": "x"}

    response = await ingress.send(payload)

    assert (response.status_code, response.content) == (200, b"")
    await ingress.assert_no_side_effect()


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("some_other_button", KEY),
        ("open_feedback_form", None),
        ("open_feedback_form", "not-a-key"),
        ("open_feedback_form", "a|b|c"),
        ("open_feedback_form", "|" + ASHBY_USER),
    ],
)
async def test_actions_we_do_not_own_do_nothing(
    ingress: Ingress, redis: aioredis.Redis, action_id: str, value: str | None
) -> None:
    await cache_modal(redis)
    response = await ingress.send(
        block_actions(INTERVIEWER, ingress.trigger(INTERVIEWER), action_id=action_id, value=value)
    )
    assert (response.status_code, response.content) == (200, b"")
    await ingress.assert_no_side_effect()


async def test_block_actions_without_actions_do_nothing(ingress: Ingress) -> None:
    payload = {**block_actions(INTERVIEWER, ingress.trigger(INTERVIEWER)), "actions": []}
    assert (await ingress.send(payload)).status_code == 200
    await ingress.assert_no_side_effect()


# --- opening the form -------------------------------------------------------------------------------


async def test_cache_hit_opens_the_cached_modal_and_queues_nothing(ingress: Ingress, redis: aioredis.Redis) -> None:
    await cache_modal(redis)

    response = await ingress.send(block_actions(INTERVIEWER, ingress.trigger(INTERVIEWER)))

    assert (response.status_code, response.content) == (200, b"")
    [opened] = ingress.slack_state.views.values()
    assert opened.view == RENDERED.view and opened.user_id == INTERVIEWER
    assert ingress.slack_calls() == ["views.open"]
    assert await ingress.queued() == (0, 0)


async def test_cache_miss_opens_a_loading_view_and_queues_one_hydrate_job(ingress: Ingress) -> None:
    response = await ingress.send(block_actions(INTERVIEWER, ingress.trigger(INTERVIEWER)))

    assert response.status_code == 200
    [loading] = ingress.slack_state.views.values()
    assert (loading.callback_id, loading.private_metadata) == (LOADING_CALLBACK, KEY)
    assert await ingress.jobs() == [(HYDRATE_MODAL, [KEY, loading.id, INTERVIEWER])]
    assert await ingress.queued() == (1, 0)


async def test_another_user_clicking_sees_a_notice_and_nothing_is_queued(
    ingress: Ingress, redis: aioredis.Redis, log_output: Callable[[], str]
) -> None:
    await cache_modal(redis)

    response = await ingress.send(block_actions(OTHER_USER, ingress.trigger(OTHER_USER)))

    assert response.status_code == 200
    [notice] = ingress.slack_state.views.values()
    assert notice.user_id == OTHER_USER and text_of(notice.view) == NOT_YOURS
    assert RENDERED.view["blocks"] != notice.view["blocks"]  # the form itself was never shown to them
    assert await ingress.queued() == (0, 0)
    output = log_output()
    [refused] = [e for e in events(output) if e["event"] == "feedback_form_refused"]
    assert refused["level"] == "warning"
    for private in (CANDIDATE, INTERVIEWER_EMAIL, OTHER_EMAIL, SIGNING_SECRET, SLACK_TOKEN):
        assert private not in output


async def test_an_already_submitted_form_opens_as_a_notice(ingress: Ingress, redis: aioredis.Redis) -> None:
    await cache_modal(redis, submitted=True)

    response = await ingress.send(block_actions(INTERVIEWER, ingress.trigger(INTERVIEWER)))

    assert response.status_code == 200
    [notice] = ingress.slack_state.views.values()
    assert text_of(notice.view) == ALREADY_SUBMITTED
    assert await ingress.queued() == (0, 0)


@pytest.mark.parametrize("cached", [True, False], ids=["cache-hit", "cache-miss"])
async def test_an_expired_trigger_is_acknowledged_and_the_user_told_by_a_job(
    ingress: Ingress, redis: aioredis.Redis, cached: bool
) -> None:
    if cached:
        await cache_modal(redis)
    trigger = ingress.trigger(INTERVIEWER, age_s=4.0)  # Slack took its time: the trigger is 4 s old

    response = await ingress.send(block_actions(INTERVIEWER, trigger))

    assert (response.status_code, response.content) == (200, b"")
    [refusal] = ingress.slack_state.calls("views.open")
    assert refusal.error == "expired_trigger_id"
    assert ingress.slack_state.views == {}
    assert await ingress.jobs() == [(NOTIFY_OPEN_FAILED, [KEY, INTERVIEWER])]


async def test_a_click_and_submission_shaped_by_the_slack_simulator(ingress: Ingress, redis: aioredis.Redis) -> None:
    """The payloads Slack itself sends (every field, not only those we read) go through the same way."""
    await cache_modal(redis)
    button = {
        "type": "actions",
        "block_id": "reminder_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "open_feedback_form",
                "value": KEY,
                "text": {"type": "plain_text", "text": "Open feedback form"},
            }
        ],
    }
    channel, ts = await ingress.slack.post_message(INTERVIEWER, "Feedback is due", [button])
    message = ingress.slack_state.find_message(channel, ts)
    assert isinstance(message, Message)
    actor = SlackActor(
        ingress.slack_state,
        signing_secret=SIGNING_SECRET,
        interactions_url=f"http://ingress{URL}",
        http=ingress.client,
        clock=ingress.clock,
    )

    assert (await actor.click_button(message, "open_feedback_form", user_id=INTERVIEWER)).status_code == 200
    [opened] = ingress.slack_state.views.values()
    refused = await actor.submit_view(opened.id, {}, user_id=INTERVIEWER)
    accepted = await actor.submit_view(opened.id, {SUMMARY: {SUMMARY: ANSWER}}, user_id=INTERVIEWER)

    assert refused.json() == {"response_action": "errors", "errors": {SUMMARY: "This question is required."}}
    assert accepted.json() == {"response_action": "update", "view": notice_view(SUBMITTING)}
    assert text_of(opened.view) == SUBMITTING
    [(function, args)] = await ingress.jobs()
    assert (function, args[:2]) == (SUBMIT_FEEDBACK, [KEY, INTERVIEWER])
    assert args[2][SUMMARY][SUMMARY]["value"] == ANSWER


@pytest.mark.parametrize("cached", [True, False], ids=["cache-hit", "cache-miss"])
async def test_the_resume_button_queues_one_job_for_the_interviewer(
    ingress: Ingress, redis: aioredis.Redis, cached: bool
) -> None:
    if cached:
        await cache_modal(redis)
    response = await ingress.send(block_actions(INTERVIEWER, "1.2.3", action_id=OPEN_RESUME))
    assert (response.status_code, response.content) == (200, b"")
    assert await ingress.jobs() == [(SEND_RESUME_LINK, [KEY, INTERVIEWER])]
    assert ingress.slack_calls() == []


async def test_another_user_clicking_the_resume_button_queues_nothing(
    ingress: Ingress, redis: aioredis.Redis, log_output: Callable[[], str]
) -> None:
    await cache_modal(redis)

    response = await ingress.send(block_actions(OTHER_USER, "1.2.3", action_id=OPEN_RESUME))

    assert (response.status_code, response.content) == (200, b"")
    await ingress.assert_no_side_effect()
    assert "resume_link_refused" in [e["event"] for e in events(log_output())]


# --- submitting and closing -------------------------------------------------------------------------


async def test_an_invalid_submission_gets_inline_errors_and_queues_nothing(
    ingress: Ingress, redis: aioredis.Redis
) -> None:
    await cache_modal(redis)
    for missing in (None, "   "):
        response = await ingress.send(view_submission(INTERVIEWER, view(values=answers(summary=missing))))
        assert response.status_code == 200
        assert response.json() == {"response_action": "errors", "errors": {SUMMARY: "This question is required."}}
    response = await ingress.send(view_submission(INTERVIEWER, view(values={}), trigger_id="sub.2"))
    assert response.json() == {"response_action": "errors", "errors": {SUMMARY: "This question is required."}}
    await ingress.assert_no_side_effect()


async def test_a_valid_submission_queues_one_job_even_when_submitted_twice(
    ingress: Ingress, redis: aioredis.Redis
) -> None:
    await cache_modal(redis)

    first = await ingress.send(view_submission(INTERVIEWER, view(), trigger_id="sub.1"))
    second = await ingress.send(view_submission(INTERVIEWER, view(), trigger_id="sub.2"))  # a double click

    expected = {"response_action": "update", "view": notice_view(SUBMITTING)}
    assert (first.status_code, first.json()) == (200, expected)
    assert (second.status_code, second.json()) == (200, expected)
    # The view id lets the job replace "Submitting…" with the outcome.
    assert await ingress.jobs() == [(SUBMIT_FEEDBACK, [KEY, INTERVIEWER, answers(), "V0FORM"])]
    assert await ingress.queued() == (1, 0)
    assert ingress.slack_calls() == []  # the ingress answers in the ack; Ashby and Slack are the job's business


async def test_submitting_a_form_whose_feedback_is_already_in_queues_nothing(
    ingress: Ingress, redis: aioredis.Redis
) -> None:
    await cache_modal(redis, submitted=True)

    response = await ingress.send(view_submission(INTERVIEWER, view()))

    assert response.json() == {"response_action": "update", "view": notice_view(ALREADY_SUBMITTED)}
    await ingress.assert_no_side_effect()


async def test_views_open_failing_for_someone_elses_form_tells_nobody(ingress: Ingress, redis: aioredis.Redis) -> None:
    await cache_modal(redis)
    trigger = ingress.trigger(OTHER_USER, age_s=4.0)

    response = await ingress.send(block_actions(OTHER_USER, trigger))

    assert response.status_code == 200
    assert await ingress.queued() == (0, 0)  # the interviewer is not DMed about someone else's click


async def test_a_submission_by_another_user_is_refused_logged_and_not_queued(
    ingress: Ingress, redis: aioredis.Redis, log_output: Callable[[], str]
) -> None:
    await cache_modal(redis)

    response = await ingress.send(view_submission(OTHER_USER, view()))

    assert response.status_code == 200
    assert response.json() == {"response_action": "errors", "errors": {SUMMARY: NOT_YOURS}}
    await ingress.assert_no_side_effect()
    output = log_output()
    assert [e["event"] for e in events(output) if e["level"] == "warning"] == ["feedback_submission_refused"]
    for private in (ANSWER, CANDIDATE, INTERVIEWER_EMAIL, OTHER_EMAIL):
        assert private not in output


@pytest.mark.parametrize("private_metadata", ["", "no-separator", "a|b|c"])
async def test_a_submission_for_an_unknown_or_expired_form_is_told_so(
    ingress: Ingress, redis: aioredis.Redis, private_metadata: str
) -> None:
    await cache_modal(redis)

    response = await ingress.send(view_submission(INTERVIEWER, view(private_metadata=private_metadata)))

    assert response.status_code == 200
    assert response.json() == {"response_action": "update", "view": notice_view(EXPIRED)}
    await ingress.assert_no_side_effect()


@pytest.mark.parametrize("private_metadata", [modal_key("event-unknown", ASHBY_USER), modal_key(EVENT_ID, "someone")])
async def test_answers_for_a_form_no_longer_cached_are_queued_not_dropped(
    ingress: Ingress, redis: aioredis.Redis, private_metadata: str
) -> None:
    # The modal cache expired or Redis lost it: nothing here can validate the answers, so the worker does
    # (and refuses a form that is not the sender's, or an interview no longer on the schedule, in the modal).
    response = await ingress.send(view_submission(INTERVIEWER, view(private_metadata=private_metadata)))

    assert response.json() == {"response_action": "update", "view": notice_view(SUBMITTING)}
    assert await ingress.jobs() == [(SUBMIT_FEEDBACK, [private_metadata, INTERVIEWER, answers(), "V0FORM"])]


async def test_a_link_only_form_cannot_be_submitted(ingress: Ingress, redis: aioredis.Redis) -> None:
    modal = CachedModal(event_id=EVENT_ID, interviewer_id=ASHBY_USER, slack_user_id=INTERVIEWER, view=RENDERED.view)
    await store_modal(redis, modal)  # field_map None: the form is only fillable in Ashby

    response = await ingress.send(view_submission(INTERVIEWER, view()))

    assert response.json() == {"response_action": "update", "view": notice_view(EXPIRED)}
    await ingress.assert_no_side_effect()


@pytest.mark.parametrize("build", [view_submission, view_closed], ids=["submission", "closed"])
async def test_views_of_other_callbacks_are_acknowledged_and_ignored(
    ingress: Ingress, redis: aioredis.Redis, build: Callable[[str, dict[str, Any]], dict[str, Any]]
) -> None:
    await cache_modal(redis)
    for callback_id in ("feedback_notice", LOADING_CALLBACK, "someone_elses_modal", ""):
        response = await ingress.send(build(INTERVIEWER, view(callback_id=callback_id)))
        assert (response.status_code, response.content) == (200, b"")
    await ingress.assert_no_side_effect()


async def test_closing_the_form_queues_one_save_draft_job(ingress: Ingress, redis: aioredis.Redis) -> None:
    await cache_modal(redis)

    response = await ingress.send(view_closed(INTERVIEWER, view()))

    assert (response.status_code, response.content) == (200, b"")
    assert await ingress.jobs() == [(SAVE_DRAFT, [KEY, INTERVIEWER, answers()])]
    assert await ingress.queued() == (1, 0)
    assert ingress.slack_calls() == []


async def test_a_nul_typed_into_the_form_never_reaches_the_queue(ingress: Ingress, redis: aioredis.Redis) -> None:
    await cache_modal(redis)

    response = await ingress.send(view_closed(INTERVIEWER, view(values=answers(summary="pasted\x00text"))))

    assert response.status_code == 200
    assert await ingress.jobs() == [(SAVE_DRAFT, [KEY, INTERVIEWER, answers(summary="pastedtext")])]


async def test_closing_a_view_without_a_form_key_queues_nothing(ingress: Ingress) -> None:
    assert (await ingress.send(view_closed(INTERVIEWER, view(private_metadata="")))).status_code == 200
    await ingress.assert_no_side_effect()


async def test_another_user_closing_the_form_queues_nothing(
    ingress: Ingress, redis: aioredis.Redis, log_output: Callable[[], str]
) -> None:
    await cache_modal(redis)

    response = await ingress.send(view_closed(OTHER_USER, view()))

    assert (response.status_code, response.content) == (200, b"")
    await ingress.assert_no_side_effect()
    assert "feedback_draft_refused" in [e["event"] for e in events(log_output())]


# --- Redis down, and what reaches the logs ----------------------------------------------------------


@pytest.mark.parametrize("build", [view_closed, view_submission], ids=["closed", "submission"])
async def test_redis_down_answers_503_without_a_traceback(
    redis: aioredis.Redis,
    slack_state: SlackState,
    log_output: Callable[[], str],
    build: Callable[[str, dict[str, Any]], dict[str, Any]],
) -> None:
    async with ingress_on(f"redis://127.0.0.1:{free_port()}/0", slack_state, Clock()) as down:
        response = await down.send(build(INTERVIEWER, view()))

    assert response.status_code == 503
    assert response.json() == {"error": "queue unavailable, retry later"}
    assert slack_state.requests == []
    assert await redis.zcard(QUEUE_INTERACTIVE) == 0
    output = log_output()
    assert "Traceback" not in output
    [line] = [e for e in events(output) if e["event"] == "slack_interaction_not_queued"]
    assert line["level"] == "error" and line["error"] == "ConnectionError"


@pytest.mark.parametrize(
    ("given", "kept"),
    [("req-42.abc", True), ("x" * 64, True), ("a\nforged line", False), ("\x1b[31mred", False), ("\xb2", False)],
)
async def test_a_callers_request_id_is_logged_only_when_printable(
    ingress: Ingress, log_output: Callable[[], str], given: str, kept: bool
) -> None:
    await ingress.post(b"", {"X-Request-Id": given.encode("latin-1")})  # type: ignore[dict-item]

    [line] = [e for e in events(log_output()) if e["event"] == "request"]
    assert (line["request_id"] == given) is kept
    assert kept or len(line["request_id"]) == 32  # a fresh id instead


async def test_no_secret_signature_token_email_or_candidate_data_reaches_the_logs(
    ingress: Ingress, redis: aioredis.Redis, log_output: Callable[[], str]
) -> None:
    """Every path of the endpoint once, at DEBUG, then a search of everything logged."""
    await cache_modal(redis)
    forged = form_body(view_closed(INTERVIEWER, view()))
    await ingress.post(forged, signed(forged, secret="another-signing-secret-of-enough-length"))
    click = form_body(block_actions(INTERVIEWER, ingress.trigger(INTERVIEWER)))
    await ingress.post(click, signed(click))
    await ingress.post(click, signed(click))  # replay
    await ingress.send(block_actions(OTHER_USER, ingress.trigger(OTHER_USER)))
    await ingress.send(block_actions(INTERVIEWER, ingress.trigger(INTERVIEWER, age_s=4.0), value=KEY))
    await ingress.send(view_submission(INTERVIEWER, view(values=answers(summary=None), private_metadata=KEY)))
    await ingress.send(view_submission(OTHER_USER, view()))
    await ingress.send(view_submission(INTERVIEWER, view(values=answers(notes=INTERVIEWER_EMAIL))))
    await ingress.send(view_closed(INTERVIEWER, view(values=answers(notes=CANDIDATE))))
    await ingress.send(f'{{"type": "block_actions", "user": {{"name": "{CANDIDATE}"}}}}')
    await ingress.send(f"not json {INTERVIEWER_EMAIL}")
    await redis.delete(*[k async for k in redis.scan_iter("fleet:modal:*")])
    await ingress.send(block_actions(INTERVIEWER, ingress.trigger(INTERVIEWER)))  # cache miss

    output = log_output()

    logged = {e["event"] for e in events(output)}
    assert {"request", "slack_interaction_rejected", "feedback_form_refused", "feedback_submission_refused"} <= logged
    assert {"views_open", "views_open_failed"} <= logged
    secrets = [SIGNING_SECRET, SLACK_TOKEN, *ingress.signatures, *(s.removeprefix("v0=") for s in ingress.signatures)]
    personal = [INTERVIEWER_EMAIL, OTHER_EMAIL, CANDIDATE, ANSWER, "Staff Engineer", "System design"]
    for value in secrets + personal:
        assert value not in output, value
