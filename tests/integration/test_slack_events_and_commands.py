"""POST /slack/events and POST /slack/commands against a real Redis: Slack's URL check answered, the Home tab
queued once per person per burst (retries included), the /feedback answer queued with an ephemeral ack, and
every bad input refused with its status and no side effect (no job, nothing of it in the logs)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
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
from ingress.slack_commands import HELP, LOOKING
from shared.embedded import free_port
from shared.jobs import (
    ANSWER_FEEDBACK_COMMAND,
    PUBLISH_HOME,
    QUEUE_DEFAULT,
    QUEUE_INTERACTIVE,
    deserialize,
    home_job_id,
    queue_redis,
)
from shared.logs import configure_logging
from shared.signatures import slack_signature
from tests.helpers import SIGNING_SECRET, make_settings

T0 = 1_800_000_000
USER = "U0ALICE1"
RESPONSE_URL = "https://hooks.slack.com/commands/T0SIMTEAM/1234567890/s3cr3tpart"


class Clock:
    def __init__(self) -> None:
        self.value = float(T0)

    def __call__(self) -> float:
        return self.value


def signed(body: bytes, content_type: str, *, at: int = T0, secret: str = SIGNING_SECRET) -> dict[str, str]:
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(at),
        "X-Slack-Signature": slack_signature(secret, str(at), body),
    }


def event_body(event: dict[str, Any], *, event_time: int = T0, kind: str = "event_callback") -> bytes:
    envelope = {"token": "x", "team_id": "T0SIMTEAM", "api_app_id": "A0SIMAPP", "type": kind, "event": event,
                "event_id": f"Ev{event_time}", "event_time": event_time}  # fmt: skip
    return json.dumps(envelope).encode()


def home_opened(user: str = USER, *, tab: str = "home", event_time: int = T0) -> bytes:
    return event_body({"type": "app_home_opened", "user": user, "channel": "D1", "tab": tab}, event_time=event_time)


def command_body(**overrides: str) -> bytes:
    form = {"token": "x", "team_id": "T0SIMTEAM", "channel_id": "C1", "user_id": USER, "command": "/feedback",
            "text": "", "response_url": RESPONSE_URL, "trigger_id": "1.2.3", "api_app_id": "A0SIMAPP"}  # fmt: skip
    form.update(overrides)
    return urlencode(form).encode()


@dataclass
class Ingress:
    client: httpx.AsyncClient
    redis: ArqRedis
    clock: Clock

    async def event(self, body: bytes, **headers: str) -> httpx.Response:
        sent = {**signed(body, "application/json", at=int(self.clock())), **headers}
        return await self.client.post("/slack/events", content=body, headers=sent)

    async def command(self, body: bytes) -> httpx.Response:
        sent = signed(body, "application/x-www-form-urlencoded", at=int(self.clock()))
        return await self.client.post("/slack/commands", content=body, headers=sent)

    async def jobs(self) -> list[tuple[str, str, list[Any]]]:
        """(job id, function, args) of every job on the interactive queue, as a worker would read them."""
        found = []
        for job_id in await self.redis.zrange(QUEUE_INTERACTIVE, 0, -1):
            raw = await self.redis.get(job_key_prefix + job_id.decode())
            assert raw is not None
            job = deserialize(raw)
            found.append((job_id.decode(), str(job["f"]), list(job["a"])))
        return found

    async def assert_nothing_queued(self) -> None:
        assert await self.redis.zcard(QUEUE_INTERACTIVE) == await self.redis.zcard(QUEUE_DEFAULT) == 0


@contextlib.asynccontextmanager
async def ingress_on(queue_url: str) -> AsyncIterator[Ingress]:
    queue = queue_redis(queue_url)
    clock = Clock()
    settings = make_settings(redis_url=queue_url, slack_base_url="https://slack.com/api/")  # where hooks are Slack's
    app = create_app(settings, queue=queue, clock=clock)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress") as client:
            yield Ingress(client, queue, clock)
    finally:
        await queue.aclose()


@pytest.fixture
async def ingress(redis: aioredis.Redis, redis_url: str) -> AsyncIterator[Ingress]:
    async with ingress_on(redis_url) as world:
        yield world


@pytest.fixture
def log_output(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """Production JSON logging at DEBUG into a stream of the test's own (restored afterwards)."""
    stream = io.StringIO()
    saved = structlog.get_config()
    root = logging.getLogger()
    root_level, root_handlers = root.level, root.handlers[:]
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


# --- the Events API ---------------------------------------------------------------------------------


async def test_the_url_check_is_answered_with_its_challenge(ingress: Ingress) -> None:
    body = json.dumps({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()  # fmt: skip
    response = await ingress.event(body)
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    await ingress.assert_nothing_queued()


async def test_opening_the_home_tab_queues_one_publish_per_person_per_burst(ingress: Ingress) -> None:
    for seconds in (0, 3, 9):  # three tab switches within ten seconds: each delivery signed anew
        ingress.clock.value = T0 + seconds
        response = await ingress.event(home_opened(event_time=T0 + seconds))
        assert (response.status_code, response.content) == (200, b"")
    assert await ingress.jobs() == [(home_job_id(USER, T0), PUBLISH_HOME, [USER])]

    ingress.clock.value = T0 + 11
    assert (await ingress.event(home_opened(event_time=T0 + 11))).status_code == 200
    assert (await ingress.event(home_opened("U0BOB0001", event_time=T0 + 11))).status_code == 200
    assert sorted(args for _, _, args in await ingress.jobs()) == [[USER], [USER], ["U0BOB0001"]]


async def test_a_retried_delivery_is_acknowledged_and_queues_the_work_once(ingress: Ingress) -> None:
    first = home_opened(event_time=T0)
    ingress.clock.value = T0 + 60  # Slack's second retry, a minute later, signed with a new timestamp
    response = await ingress.event(first, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert response.status_code == 200
    assert [args for _, _, args in await ingress.jobs()] == [[USER]]  # the first delivery never reached us

    ingress.clock.value = T0 + 300
    response = await ingress.event(first, **{"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"})
    assert response.status_code == 200
    assert [args for _, _, args in await ingress.jobs()] == [[USER]]  # the same event: no second job


@pytest.mark.parametrize(
    "body",
    [
        home_opened(tab="messages"),
        event_body({"type": "member_joined_channel", "user": USER, "channel": "C1"}),
        event_body({"type": "app_rate_limited"}, kind="app_rate_limited"),
        json.dumps({"type": "something_new", "whatever": [1, 2]}).encode(),
    ],
    ids=["messages-tab", "other-event", "rate-limited-notice", "unknown-envelope"],
)
async def test_events_we_do_not_handle_are_acknowledged_and_ignored(ingress: Ingress, body: bytes) -> None:
    response = await ingress.event(body)
    assert (response.status_code, response.content) == (200, b"")
    await ingress.assert_nothing_queued()


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("unsigned", 401),
        ("wrong-secret", 401),
        ("stale", 401),
        ("tampered", 401),
        ("not-json", 400),
        ("no-event", 400),
        ("no-user", 400),
        ("odd-user", 400),
        ("challenge-not-text", 400),
        ("too-large", 413),
    ],
)
async def test_bad_events_are_refused_without_a_side_effect(ingress: Ingress, case: str, status: int) -> None:
    good = home_opened()
    cases: dict[str, tuple[bytes, dict[str, str]]] = {
        "unsigned": (good, {"Content-Type": "application/json"}),
        "wrong-secret": (good, signed(good, "application/json", secret="another-signing-secret-of-enough-length")),
        "stale": (good, signed(good, "application/json", at=T0 - 301)),
        "tampered": (good.replace(USER.encode(), b"U0MALLORY"), signed(good, "application/json")),
        "not-json": (b"{not json", signed(b"{not json", "application/json")),
        "no-event": (b'{"type": "event_callback"}', signed(b'{"type": "event_callback"}', "application/json")),
        "no-user": (event_body({"type": "app_home_opened", "tab": "home"}), {}),
        "odd-user": (home_opened("../../etc"), {}),
        "challenge-not-text": (b'{"type": "url_verification", "challenge": 7}', {}),
        "too-large": (b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}", {}),
    }
    body, headers = cases[case]
    headers = headers or signed(body, "application/json")
    response = await ingress.client.post("/slack/events", content=body, headers=headers)
    assert response.status_code == status
    await ingress.assert_nothing_queued()


async def test_a_replayed_event_is_refused(ingress: Ingress) -> None:
    body = home_opened()
    headers = signed(body, "application/json")
    assert (await ingress.client.post("/slack/events", content=body, headers=headers)).status_code == 200
    await ingress.redis.delete(QUEUE_INTERACTIVE, job_key_prefix + home_job_id(USER, T0))  # a worker took it

    replayed = await ingress.client.post("/slack/events", content=body, headers=headers)
    assert replayed.status_code == 401
    await ingress.assert_nothing_queued()


# --- /feedback ---------------------------------------------------------------------------------------


async def test_feedback_is_acknowledged_at_once_and_its_answer_queued(ingress: Ingress) -> None:
    response = await ingress.command(command_body())
    assert response.status_code == 200
    assert response.json() == {"response_type": "ephemeral", "text": LOOKING}
    [(job_id, function, args)] = await ingress.jobs()
    assert (function, args) == (ANSWER_FEEDBACK_COMMAND, [USER, RESPONSE_URL])
    assert "s3cr3tpart" not in job_id  # the URL can post: only its digest names the job


@pytest.mark.parametrize(
    ("overrides", "answer"),
    [
        ({"text": " Help "}, HELP),
        ({"command": "/other"}, "This app answers /feedback only."),
    ],
    ids=["help", "another-command"],
)
async def test_help_and_other_commands_are_answered_without_a_job(
    ingress: Ingress, overrides: dict[str, str], answer: str
) -> None:
    response = await ingress.command(command_body(**overrides))
    assert response.status_code == 200
    assert response.json() == {"response_type": "ephemeral", "text": answer}
    await ingress.assert_nothing_queued()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (command_body(response_url="https://attacker.example/collect"), 400),
        (command_body(response_url="http://hooks.slack.com/commands/T/1/x"), 400),
        (command_body(response_url="https://hooks.slack.com.attacker.example/x"), 400),
        (command_body(response_url="https://user@hooks.slack.com/commands/T/1/x"), 400),
        (command_body(response_url="https://hooks.slack.com:99999/x"), 400),
        (command_body(user_id="not a user"), 400),
        (command_body() + b"&user_id=U0MALLORY", 400),
        (urlencode({"command": "/feedback", "text": ""}).encode(), 400),
        (b"\xff\xfe", 400),
    ],
    ids=["elsewhere", "plain-http", "lookalike-host", "userinfo", "bad-port", "odd-user", "twice", "no-user", "bytes"],
)
async def test_malformed_commands_are_refused_without_a_job(ingress: Ingress, body: bytes, status: int) -> None:
    response = await ingress.command(body)
    assert response.status_code == status
    await ingress.assert_nothing_queued()


async def test_forged_stale_and_replayed_commands_are_refused(ingress: Ingress) -> None:
    body = command_body()
    forged = signed(body, "application/x-www-form-urlencoded", secret="another-signing-secret-of-enough-length")
    stale = signed(body, "application/x-www-form-urlencoded", at=T0 + 301)
    for headers in (forged, stale, {"Content-Type": "application/x-www-form-urlencoded"}):
        assert (await ingress.client.post("/slack/commands", content=body, headers=headers)).status_code == 401
    await ingress.assert_nothing_queued()

    good = signed(body, "application/x-www-form-urlencoded")
    assert (await ingress.client.post("/slack/commands", content=body, headers=good)).status_code == 200
    await ingress.redis.delete(QUEUE_INTERACTIVE)
    assert (await ingress.client.post("/slack/commands", content=body, headers=good)).status_code == 401
    await ingress.assert_nothing_queued()
    scraped = (await ingress.client.get("/metrics")).text  # what an operator alerts on
    assert 'fleet_signature_failures_total{source="slack"} 3.0' in scraped
    assert 'fleet_signature_failures_total{source="slack_replay"} 1.0' in scraped
    assert 'fleet_http_requests_total{route="/slack/commands",status="401"} 4.0' in scraped


async def test_slacks_ssl_check_is_acknowledged(ingress: Ingress) -> None:
    response = await ingress.command(urlencode({"ssl_check": "1", "token": "x"}).encode())
    assert (response.status_code, response.content) == (200, b"")
    await ingress.assert_nothing_queued()


# --- Redis down, and the logs -----------------------------------------------------------------------


async def test_redis_down_answers_503_so_slack_retries(redis: aioredis.Redis, log_output: Callable[[], str]) -> None:
    async with ingress_on(f"redis://127.0.0.1:{free_port()}/0") as down:
        assert (await down.event(home_opened())).status_code == 503
        assert (await down.command(command_body())).status_code == 503
    assert await redis.zcard(QUEUE_INTERACTIVE) == 0
    output = log_output()
    assert "Traceback" not in output
    logged = [json.loads(line)["event"] for line in output.splitlines() if line.startswith("{")]
    assert {"slack_event_not_queued", "slack_command_not_queued"} <= set(logged)


async def test_no_signature_or_response_url_reaches_the_logs(ingress: Ingress, log_output: Callable[[], str]) -> None:
    sent = [command_body(), command_body(response_url="https://attacker.example/collect"), home_opened()]
    signatures = []
    for body in sent:
        headers = signed(body, "application/x-www-form-urlencoded")
        signatures.append(headers["X-Slack-Signature"])
        await ingress.client.post("/slack/commands", content=body, headers=headers)
        await ingress.client.post("/slack/events", content=body, headers=headers)  # replayed, and a wrong route
    output = log_output()
    assert "slack_command_rejected" in output
    for value in [SIGNING_SECRET, "s3cr3tpart", "attacker.example", *signatures]:
        assert value not in output, value
