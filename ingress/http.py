"""HTTP plumbing for the ingress: bounded, timed body reading, msgspec JSON responses, request ids and access logs."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import time
from typing import Any

import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logs import ConfiguredLogger
from shared.metrics import Metrics

MAX_BODY_BYTES = 1024 * 1024
# An over-limit body up to this size is read to its end (and dropped) before the 413: see `read_body`.
DRAIN_MAX_BYTES = 8 * 1024 * 1024
TOO_LARGE = "body larger than 1 MiB"
_REQUEST_ID = re.compile(r"[!-~]+")
log = structlog.get_logger("ingress")


class BodyRefused(Exception):
    """The request body was not accepted; `response` is the answer to send."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return msgspec.json.encode(content)


def error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


async def read_body(request: Request, *, timeout_s: float) -> bytes:
    """The raw body of a Starlette request, read once: see `receive_body`. A body another layer has already read
    through `Request.body()` (Sentry's Starlette integration does, to describe requests) is no longer in the
    server's messages, only in Starlette's cache on the request, which `Request.stream` also reads first:
    waiting on the messages would answer 408 after the deadline."""
    cached: bytes | None = getattr(request, "_body", None)
    if cached is None:
        return await receive_body(request.scope, request.receive, timeout_s=timeout_s)
    if len(cached) > MAX_BODY_BYTES:
        raise BodyRefused(error(413, TOO_LARGE, Connection="close"))
    return cached


async def receive_body(scope: Scope, receive: Receive, *, timeout_s: float) -> bytes:
    """The raw body, at most MAX_BODY_BYTES, all of it received within `timeout_s`; else BodyRefused.

    408 when the body does not arrive in time; 413 when it is too large. Both close the connection, and
    closing a socket that still holds unread bytes makes the kernel send a reset, which clients (httpx,
    requests, curl) report as a broken pipe instead of our answer. So a body over the limit but declared
    (or streamed) up to DRAIN_MAX_BYTES is read to its end and dropped, under the same deadline, before
    the 413. A body declared larger is refused at once: reading it would cost more than the answer is
    worth, and such a client may see the reset instead (curl with `Expect: 100-continue` never sends it).
    """
    declared = _declared_length(header(scope, b"content-length") or "")
    if declared is not None and declared > DRAIN_MAX_BYTES:
        raise BodyRefused(error(413, TOO_LARGE, Connection="close"))
    chunks: list[bytes] = []
    size = 0
    # The deadline is a timer that cancels this task, turned into a 408 when it fired: what asyncio.timeout
    # does, without its context manager's bookkeeping, which cost 4% of a webhook's CPU.
    task = asyncio.current_task()
    assert task is not None
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_later(timeout_s, expire)
    try:
        # The server's messages read directly (Starlette's Request.stream, without its async generator): a
        # webhook's body usually comes in one message.
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise BodyRefused(error(400, "request body incomplete: the client disconnected"))
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > DRAIN_MAX_BYTES:
                break
            if size <= MAX_BODY_BYTES:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
    except asyncio.CancelledError:
        if expired and task.uncancel() == 0:  # our timer's cancellation, and no one else's
            raise BodyRefused(error(408, "request body not received in time", Connection="close")) from None
        raise
    finally:
        timer.cancel()
    if size > MAX_BODY_BYTES:
        raise BodyRefused(error(413, TOO_LARGE, Connection="close"))
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _declared_length(value: str) -> int | None:
    if not (value.isascii() and value.isdigit()):
        return None  # absent (a chunked body) or unparseable: the limit applies while reading
    return int(value) if len(value) <= 18 else DRAIN_MAX_BYTES + 1  # int() refuses 4,300+ digits


# The ingress's routes: the only paths that become metric labels (any other is "other").
ROUTES = frozenset(
    {"/webhooks/ashby", "/slack/interactions", "/slack/events", "/slack/commands", "/health", "/ready", "/metrics"}
)
QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})


_SERVER_ERROR = Response("Internal Server Error", status_code=500, media_type="text/plain")


class RequestIds:
    """Request ids for requests that bring none: 32 hex digits, a random per-process prefix and a counter, as
    unique as uuid4 across processes without asking the kernel for randomness on every request."""

    def __init__(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count()

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


class RequestLogMiddleware:
    """Binds a request id for every log line of the request (and the jobs it queues), counts the request, and
    writes one canonical line per request. An exception before the answer gets a 500 here (and is raised on to
    the server, which logs it), so an app may run behind this middleware alone (`ingress.app.Ingress`)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.new_id = RequestIds()
        self.log = ConfiguredLogger("ingress")
        # prometheus_client's labels() takes a lock and hashes its labels on every call: keep the children.
        self.counted: dict[tuple[str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = header(scope, b"x-request-id")
        # A caller's id is kept only if printable ASCII: control bytes would forge lines in a terminal log.
        request_id = given[:64] if given and _REQUEST_ID.fullmatch(given[:64]) else self.new_id()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        except Exception:
            if not status:
                status = 500
                await _SERVER_ERROR(scope, receive, send)
            raise
        finally:
            seconds = time.perf_counter() - started
            path = scope["path"]
            status = status or 500
            if self.metrics is not None:
                self._count(path if path in ROUTES else "other", status, seconds)
            if path not in QUIET_ROUTES:
                self.log.get().info(
                    "request", method=scope["method"], path=path, status=status, ms=round(seconds * 1000, 2)
                )
            structlog.contextvars.unbind_contextvars("request_id")

    def _count(self, route: str, status: int, seconds: float) -> None:
        assert self.metrics is not None
        children = self.counted.get((route, status))
        if children is None:
            children = (self.metrics.requests.labels(route, str(status)), self.metrics.request_seconds.labels(route))
            self.counted[(route, status)] = children
        children[0].inc()
        children[1].observe(seconds)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header `name` (lower case) in an ASGI scope."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
