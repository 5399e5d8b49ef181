"""The ingress served as `fleet ingress` serves it, over real sockets: no slow client holds a connection
past its deadline, the connection limit holds, and an oversized body's 413 reaches the client."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
import uvicorn

from fleet.processes import fleet_ingress
from ingress.app import create_app
from ingress.http import DRAIN_MAX_BYTES, TOO_LARGE
from ingress.server import ingress_config
from shared.jobs import QUEUE_DEFAULT, batching_queue, queue_redis
from sim.serving import listening_socket
from tests.helpers import WEBHOOK_SECRET, make_settings, signed_headers

TIMEOUT_S = 0.5  # header and body timeouts of the server under test
CLOSED_WITHIN_S = 10.0  # how long a test waits for the server to close a connection before failing
HALF_SENT = b"POST /webhooks/ashby HTTP/1.1\r\nHost: ingress\r\nContent-Le"
PING = b'{"action":"ping","data":{"webhookActionType":"ping"}}'


class RawClient(asyncio.Protocol):
    """One client connection that keeps every byte it receives, even when the connection is then reset,
    and records how it ended: None for an orderly close, the error for a reset."""

    def __init__(self) -> None:
        self.received = bytearray()
        self.ended: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += data

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended.set_result(exc)

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.write(data)

    async def closed_by_server(self) -> Exception | None:
        return await asyncio.wait_for(asyncio.shield(self.ended), CLOSED_WITHIN_S)

    def status(self) -> int:
        return int(self.received.split(b" ", 2)[1])


@contextlib.asynccontextmanager
async def clients(port: int, count: int) -> AsyncIterator[list[RawClient]]:
    loop = asyncio.get_running_loop()
    opened = [(await loop.create_connection(RawClient, "127.0.0.1", port))[1] for _ in range(count)]
    try:
        yield opened
    finally:
        for client in opened:
            if client.transport is not None:
                client.transport.abort()


@contextlib.asynccontextmanager
async def ingress_server(redis_url: str, **settings: Any) -> AsyncIterator[tuple[str, int]]:
    """The real app behind the uvicorn configuration `fleet ingress` uses, on a free port; (url, port)."""
    values = {"ingress_header_timeout_s": TIMEOUT_S, "ingress_body_timeout_s": TIMEOUT_S, **settings}
    config = make_settings(redis_url=redis_url, **values)
    queue = batching_queue(queue_redis(redis_url))
    sock = listening_socket()
    server = uvicorn.Server(ingress_config(config, create_app(config, queue=queue), host="127.0.0.1", port=0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    port = sock.getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", port
    finally:
        server.should_exit = True
        await task
        sock.close()
        await queue.aclose()


async def assert_answers_normally(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        health = await client.get("/health")
        ping = await client.post("/webhooks/ashby", content=PING, headers=signed_headers(PING))
    assert (health.status_code, ping.json()) == (200, {"status": "ok", "message": "pong"})


async def test_half_sent_headers_are_closed_after_the_header_timeout_while_others_are_served(
    redis: aioredis.Redis, redis_url: str
) -> None:
    async with ingress_server(redis_url) as (url, port):
        started = time.monotonic()
        async with clients(port, 300) as slow:
            for client in slow:
                client.send(HALF_SENT)
            await assert_answers_normally(url)
            ends = await asyncio.gather(*(client.closed_by_server() for client in slow))
            held_s = time.monotonic() - started
    assert ends == [None] * 300  # closed in order, with no answer owed
    assert all(client.received == b"" for client in slow)
    assert TIMEOUT_S * 0.9 <= held_s < CLOSED_WITHIN_S


async def test_headers_trickled_byte_by_byte_do_not_move_the_deadline(redis_url: str) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: ingress\r\nX-Padding: " + b"x" * 200 + b"\r\n\r\n"
    async with ingress_server(redis_url) as (_, port), clients(port, 1) as [client]:

        async def trickle() -> None:  # one byte every 20 ms: the whole request would take 5 s
            for byte in request:
                client.send(bytes([byte]))
                await asyncio.sleep(0.02)

        sender = asyncio.create_task(trickle())
        try:
            assert await client.closed_by_server() is None
        finally:
            sender.cancel()
    assert client.received == b""  # closed mid-request: a moved deadline would have let it through


async def test_the_next_request_on_a_kept_alive_connection_has_the_same_deadline(redis_url: str) -> None:
    async with ingress_server(redis_url, ingress_keepalive_s=60) as (_, port), clients(port, 1) as [client]:
        client.send(b"GET /health HTTP/1.1\r\nHost: ingress\r\n\r\n")
        await wait_for_bytes(client, b'{"status":"ok"}')
        started = time.monotonic()
        client.send(HALF_SENT)
        assert await client.closed_by_server() is None
        assert TIMEOUT_S * 0.9 <= time.monotonic() - started < CLOSED_WITHIN_S


async def test_a_trickling_body_gets_408_and_nothing_is_queued(redis: aioredis.Redis, redis_url: str) -> None:
    head = b"POST /webhooks/ashby HTTP/1.1\r\nHost: ingress\r\nContent-Length: 1000\r\n\r\n"
    async with ingress_server(redis_url) as (url, port), clients(port, 1) as [client]:
        client.send(head)

        async def trickle() -> None:  # one byte every 20 ms: the body would take 20 s
            for _ in range(1000):
                client.send(b" ")
                await asyncio.sleep(0.02)

        sender = asyncio.create_task(trickle())
        try:
            await client.closed_by_server()  # the 408, then the close (a reset if a byte was in flight)
        finally:
            sender.cancel()
        await assert_answers_normally(url)
    assert client.status() == 408
    assert b"connection: close" in client.received.lower()
    assert await redis.zcard(QUEUE_DEFAULT) == 0


async def test_an_oversized_body_gets_its_413_and_an_orderly_close(redis_url: str) -> None:
    """Before the 413 the body is read to its end: closing with unread bytes would reset the connection,
    and a client still sending would see a broken pipe instead of the answer."""
    body = b"x" * (2 * 1024 * 1024)
    head = b"POST /webhooks/ashby HTTP/1.1\r\nHost: ingress\r\nContent-Length: %d\r\n\r\n" % len(body)
    async with ingress_server(redis_url) as (_, port), clients(port, 1) as [client]:
        client.send(head + body)
        assert await client.closed_by_server() is None  # not a ConnectionResetError
    assert client.status() == 413
    assert client.received.endswith(b'{"error":"' + TOO_LARGE.encode() + b'"}')


async def test_fifty_2_mib_posts_with_httpx_each_read_their_413(redis_url: str) -> None:
    body = b"x" * (2 * 1024 * 1024)
    async with ingress_server(redis_url) as (url, _), httpx.AsyncClient(base_url=url) as client:
        statuses = [(await client.post("/webhooks/ashby", content=body)).status_code for _ in range(50)]
    assert statuses == [413] * 50


async def test_a_body_declared_beyond_the_drain_bound_is_refused_without_waiting_for_it(redis_url: str) -> None:
    head = b"POST /slack/interactions HTTP/1.1\r\nHost: ingress\r\nContent-Length: %d\r\n\r\n" % (DRAIN_MAX_BYTES + 1)
    async with ingress_server(redis_url, ingress_body_timeout_s=60) as (_, port), clients(port, 1) as [client]:
        client.send(head)
        await client.closed_by_server()  # long before the 60 s body timeout
    assert client.status() == 413


async def test_requests_beyond_the_connection_limit_get_503_until_slow_clients_are_closed(redis_url: str) -> None:
    async with ingress_server(redis_url, ingress_max_connections=5) as (url, port):
        async with clients(port, 5) as slow, httpx.AsyncClient(base_url=url) as client:
            for each in slow:
                each.send(HALF_SENT)
            assert (await client.get("/health")).status_code == 503
            await asyncio.gather(*(each.closed_by_server() for each in slow))
            assert (await client.get("/health")).status_code == 200


@pytest.mark.e2e
async def test_the_fleet_ingress_process_applies_the_ingress_settings(redis_url: str) -> None:
    env = {
        "REDIS_URL": redis_url,
        "ASHBY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "INGRESS_HEADER_TIMEOUT_S": str(TIMEOUT_S),
        "INGRESS_BODY_TIMEOUT_S": str(TIMEOUT_S),
    }
    async with fleet_ingress(env) as (_, url):
        port = int(url.rsplit(":", 1)[1])
        body = b"x" * (2 * 1024 * 1024)
        oversized = b"POST /webhooks/ashby HTTP/1.1\r\nHost: ingress\r\nContent-Length: %d\r\n\r\n" % len(body)
        async with clients(port, 2) as [slow, big]:
            started = time.monotonic()
            slow.send(HALF_SENT)
            big.send(oversized + body)
            await assert_answers_normally(url)
            assert await slow.closed_by_server() is None
            assert TIMEOUT_S * 0.9 <= time.monotonic() - started < CLOSED_WITHIN_S
            assert await big.closed_by_server() is None
        assert big.status() == 413


async def wait_for_bytes(client: RawClient, expected: bytes) -> None:
    deadline = time.monotonic() + CLOSED_WITHIN_S
    while expected not in client.received:
        assert time.monotonic() < deadline, f"no {expected!r} from the server"
        await asyncio.sleep(0.01)
