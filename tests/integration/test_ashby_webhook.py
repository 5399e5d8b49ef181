"""POST /webhooks/ashby against a real Redis: every bad input gets its status and queues nothing."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.types import Message

from ingress.app import create_app
from shared.embedded import free_port
from shared.jobs import QUEUE_DEFAULT, queue_redis, webhook_job_id
from tests.helpers import event, make_settings, schedule_webhook, signed_headers

START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
BODY = schedule_webhook(updated_at=START, events=[event("event-1", START)])


@contextlib.asynccontextmanager
async def client_for(queue_url: str, db_url: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    queue = queue_redis(queue_url)
    app = create_app(make_settings(db_url=db_url, redis_url=queue_url), queue=queue)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress") as client:
            yield client
    finally:
        await queue.aclose()


@pytest.fixture
async def client(redis: aioredis.Redis, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(redis_url) as c:
        yield c


async def queued_jobs(redis: aioredis.Redis) -> int:
    return int(await redis.zcard(QUEUE_DEFAULT))


async def test_valid_signed_webhook_is_queued_with_a_deterministic_id(
    client: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    response = await client.post("/webhooks/ashby", content=BODY, headers=signed_headers(BODY))
    assert response.status_code == 200
    assert response.json() == {"status": "queued"}
    assert await redis.zrange(QUEUE_DEFAULT, 0, -1) == [webhook_job_id(BODY).encode()]


async def test_duplicate_delivery_queues_one_job(client: httpx.AsyncClient, redis: aioredis.Redis) -> None:
    first = await client.post("/webhooks/ashby", content=BODY, headers=signed_headers(BODY))
    second = await client.post("/webhooks/ashby", content=BODY, headers=signed_headers(BODY))
    assert (first.json()["status"], second.json()["status"]) == ("queued", "duplicate")
    assert second.status_code == 200
    assert await queued_jobs(redis) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Ashby-Signature": ""},
        {"Ashby-Signature": "sha1=" + "0" * 40},
        {"Ashby-Signature": signed_headers(BODY)["Ashby-Signature"].removeprefix("sha256=")},
        {"Ashby-Signature": signed_headers(BODY + b" ")["Ashby-Signature"]},
        {"Ashby-Signature": signed_headers(BODY, secret="another-secret-of-sufficient-length!!")["Ashby-Signature"]},
    ],
    ids=["missing", "empty", "wrong-prefix", "no-prefix", "tampered-body", "wrong-secret"],
)
async def test_bad_signatures_get_401_and_queue_nothing(
    client: httpx.AsyncClient, redis: aioredis.Redis, headers: dict[str, str]
) -> None:
    response = await client.post("/webhooks/ashby", content=BODY, headers=headers)
    assert response.status_code == 401
    assert "signature" in response.json()["error"].lower()
    assert await queued_jobs(redis) == 0


async def test_signed_ping_answers_pong(client: httpx.AsyncClient, redis: aioredis.Redis) -> None:
    body = b'{"action":"ping","data":{"webhookActionType":"ping"}}'
    response = await client.post("/webhooks/ashby", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "message": "pong"}
    assert await queued_jobs(redis) == 0


async def test_unsigned_ping_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/ashby", content=b'{"action":"ping"}')
    assert response.status_code == 401


async def test_oversized_body_is_413_declared_or_streamed(client: httpx.AsyncClient, redis: aioredis.Redis) -> None:
    big = b"{" + b" " * (1024 * 1024) + b"}"
    declared = await client.post("/webhooks/ashby", content=big, headers=signed_headers(big))
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit applies while streaming
        for _ in range(17):
            yield b" " * 65536

    streamed = await client.post("/webhooks/ashby", content=chunks(), headers={"Ashby-Signature": "sha256=00"})
    assert streamed.status_code == 413
    assert await queued_jobs(redis) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2, 3]",
        b'{"data": {}}',
        b'{"action": "interviewScheduleUpdate", "data": {"interviewSchedule": {"status": "Scheduled"}}}',
        b'{"action": "interviewScheduleUpdate", "data": {"interviewSchedule": {"id": "s", "status": "Scheduled",'
        b' "interviewEvents": [{"id": "e", "interviewId": "i", "startTime": "yesterday", "endTime": "x"}]}}}',
        b'{"action": "ping", "data": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
        b'{"action": "ping\xff"}',
        BODY.replace(b'"schedule-1"', b'"schedule-\xed\xa0\x80"', 1),
    ],
    ids=[
        "invalid-json",
        "not-an-object",
        "no-action",
        "schedule-without-id",
        "bad-timestamp",
        "nested-too-deep",
        "invalid-utf8-in-action",
        "invalid-utf8-in-schedule",
    ],
)
async def test_malformed_bodies_get_400_with_a_clear_error(
    client: httpx.AsyncClient, redis: aioredis.Redis, body: bytes
) -> None:
    response = await client.post("/webhooks/ashby", content=body, headers=signed_headers(body))
    assert response.status_code == 400
    assert response.json()["error"].startswith("malformed webhook body")
    assert await queued_jobs(redis) == 0


@pytest.mark.parametrize(
    "declared", ["\xb2", "1" * 5000, "-1", "0"], ids=["unicode-digit", "5000-digits", "negative", "zero"]
)
async def test_an_odd_content_length_is_no_server_error(client: httpx.AsyncClient, declared: str) -> None:
    """uvicorn's parser refuses these; the app behind any other server must not fail on them either."""
    headers = [(name.encode(), value.encode()) for name, value in signed_headers(BODY).items()]
    response = await client.post(
        "/webhooks/ashby", content=BODY, headers=[*headers, (b"content-length", declared.encode("latin-1"))]
    )
    assert response.status_code in (200, 413)


async def test_a_client_leaving_mid_body_is_a_400_not_a_server_error(redis_url: str) -> None:
    app = create_app(make_settings(redis_url=redis_url), queue=queue_redis(redis_url))  # no lifespan runs here
    incoming: list[Message] = [
        {"type": "http.request", "body": BODY[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/webhooks/ashby", "headers": [], "query_string": b""}
    await app(scope, receive, send)
    assert sent[0]["status"] == 400


async def test_a_wrong_method_or_path_is_refused_and_queues_nothing(
    client: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    signed = signed_headers(BODY)
    assert (await client.get("/webhooks/ashby")).status_code == 405
    assert (await client.put("/webhooks/ashby", content=BODY, headers=signed)).status_code == 405
    slash = await client.post("/webhooks/ashby/", content=BODY, headers=signed)
    assert (slash.status_code, slash.headers["location"]) == (307, "http://ingress/webhooks/ashby")  # keeps POST
    assert (await client.post("/webhook", content=BODY, headers=signed)).status_code == 404
    assert (await client.post("/health", content=BODY, headers=signed)).status_code == 405
    assert await redis.dbsize() == 0


async def test_unknown_action_is_acknowledged_and_not_queued(client: httpx.AsyncClient, redis: aioredis.Redis) -> None:
    body = b'{"action": "surveySubmit", "data": {"anything": true}}'
    response = await client.post("/webhooks/ashby", content=body, headers=signed_headers(body))
    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "action": "surveySubmit"}
    assert await queued_jobs(redis) == 0


async def test_every_schedule_status_is_accepted(client: httpx.AsyncClient, redis: aioredis.Redis) -> None:
    for status in ("NeedsScheduling", "WaitingOnFeedback", "OnHold", "Unknown", "SomethingAshbyAddsNextYear"):
        body = schedule_webhook(status=status, updated_at=START, events=[])
        response = await client.post("/webhooks/ashby", content=body, headers=signed_headers(body))
        assert response.status_code == 200, status
    assert await queued_jobs(redis) == 5


async def test_redis_down_answers_503_and_the_retry_is_queued_once_it_is_back(
    client: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    async with client_for(f"redis://127.0.0.1:{free_port()}/0") as down:
        response = await down.post("/webhooks/ashby", content=BODY, headers=signed_headers(BODY))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "10"
    assert await queued_jobs(redis) == 0
    # Ashby retries 5xx: the same delivery now reaches the live queue.
    retried = await client.post("/webhooks/ashby", content=BODY, headers=signed_headers(BODY))
    assert retried.json() == {"status": "queued"}
    assert await queued_jobs(redis) == 1


async def test_health_needs_nothing(redis_url: str) -> None:
    async with client_for(f"redis://127.0.0.1:{free_port()}/0") as c:
        response = await c.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_ready_reports_latencies_and_names_what_is_down(db_url: str, redis_url: str) -> None:
    async with client_for(redis_url, db_url) as c:
        up = await c.get("/ready")
    assert up.status_code == 200
    assert up.json()["checks"]["postgres"]["ok"] and up.json()["checks"]["redis"]["ok"]
    assert isinstance(up.json()["checks"]["redis"]["ms"], float)

    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    dead_pg = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
    async with client_for(dead_redis, dead_pg) as c:
        down = await c.get("/ready")
    assert down.status_code == 503
    assert down.json()["down"] == ["postgres", "redis"]


async def test_metrics_count_requests_by_route_and_signature_failures(client: httpx.AsyncClient) -> None:
    await client.post("/webhooks/ashby", content=BODY, headers=signed_headers(BODY))
    await client.post("/webhooks/ashby", content=BODY, headers={})
    await client.get("/no-such-path")
    scraped = await client.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert 'fleet_http_requests_total{route="/webhooks/ashby",status="200"} 1.0' in text
    assert 'fleet_http_requests_total{route="/webhooks/ashby",status="401"} 1.0' in text
    assert 'fleet_http_requests_total{route="other",status="404"} 1.0' in text  # paths never become labels
    assert 'fleet_signature_failures_total{source="ashby"} 1.0' in text
    assert 'fleet_http_request_seconds_count{route="/webhooks/ashby"} 2.0' in text


async def test_an_unexpected_failure_on_the_webhook_path_is_a_500_counted_and_raised_to_the_server(
    redis_url: str,
) -> None:
    """The webhook path skips Starlette's error middleware: the request log answers the 500 in its place."""
    queue = queue_redis(redis_url)
    app = create_app(make_settings(redis_url=redis_url), queue=queue)

    class Broken:
        async def call(self, *args: object) -> object:
            raise RuntimeError("a bug")

    app.state.ingress = dataclasses.replace(app.state.ingress, batcher=Broken())
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [(name.lower().encode(), value.encode()) for name, value in signed_headers(BODY).items()]
    scope = {"type": "http", "method": "POST", "path": "/webhooks/ashby", "headers": headers, "query_string": b""}
    try:
        with pytest.raises(RuntimeError, match="a bug"):
            await app(scope, receive, send)
        assert sent[0]["status"] == 500 and sent[1]["body"] == b"Internal Server Error"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
            scraped = (await client.get("http://ingress/metrics")).text
        assert 'fleet_http_requests_total{route="/webhooks/ashby",status="500"} 1.0' in scraped
    finally:
        await queue.aclose()
