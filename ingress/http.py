"""HTTP plumbing for the ingress: bounded, timed body reading, msgspec JSON responses, request ids and access logs."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from typing import Any

import msgspec
import structlog
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    """The raw body, at most MAX_BODY_BYTES, all of it received within `timeout_s`; else BodyRefused.

    408 when the body does not arrive in time; 413 when it is too large. Both close the connection, and
    closing a socket that still holds unread bytes makes the kernel send a reset, which clients (httpx,
    requests, curl) report as a broken pipe instead of our answer. So a body over the limit but declared
    (or streamed) up to DRAIN_MAX_BYTES is read to its end and dropped, under the same deadline, before
    the 413. A body declared larger is refused at once: reading it would cost more than the answer is
    worth, and such a client may see the reset instead (curl with `Expect: 100-continue` never sends it).
    """
    declared = _declared_length(request)
    if declared is not None and declared > DRAIN_MAX_BYTES:
        raise BodyRefused(error(413, TOO_LARGE, Connection="close"))
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s), contextlib.aclosing(request.stream()) as stream:
            async for chunk in stream:
                size += len(chunk)
                if size > DRAIN_MAX_BYTES:
                    break
                if size <= MAX_BODY_BYTES:
                    chunks.append(chunk)
    except TimeoutError:
        raise BodyRefused(error(408, "request body not received in time", Connection="close")) from None
    except ClientDisconnect:
        raise BodyRefused(error(400, "request body incomplete: the client disconnected")) from None
    if size > MAX_BODY_BYTES:
        raise BodyRefused(error(413, TOO_LARGE, Connection="close"))
    return b"".join(chunks)


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length", "")
    if not (value.isascii() and value.isdigit()):
        return None  # absent (a chunked body) or unparseable: the limit applies while reading
    return int(value) if len(value) <= 18 else DRAIN_MAX_BYTES + 1  # int() refuses 4,300+ digits


# The ingress's routes: the only paths that become metric labels (any other is "other").
ROUTES = frozenset(
    {"/webhooks/ashby", "/slack/interactions", "/slack/events", "/slack/commands", "/health", "/ready", "/metrics"}
)
QUIET_ROUTES = frozenset({"/health", "/ready", "/metrics"})


class RequestLogMiddleware:
    """Binds a request id for every log line of the request (and the jobs it queues), counts the request, and
    writes one canonical line per request."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = (_header(scope, b"x-request-id") or "")[:64]
        # A caller's id is kept only if printable ASCII: control bytes would forge lines in a terminal log.
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            seconds = time.perf_counter() - started
            path = scope["path"]
            if self.metrics is not None:
                route = path if path in ROUTES else "other"
                self.metrics.requests.labels(route, str(status)).inc()
                self.metrics.request_seconds.labels(route).observe(seconds)
            if path not in QUIET_ROUTES:
                log.info("request", method=scope["method"], path=path, status=status, ms=round(seconds * 1000, 2))
            structlog.contextvars.unbind_contextvars("request_id")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
