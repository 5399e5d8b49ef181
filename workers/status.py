"""A worker's own state, and the small HTTP listener that reports it to health checks and probes.

`/health` answers 200 while the process and its event loop live (whatever Redis or PostgreSQL are doing: a
worker waiting for Redis is healthy, and restarting it would not help); `/ready` answers 200 only while the
worker is connected and taking jobs, 503 with the state otherwise; `/metrics` is Prometheus's scrape.
State changes are logged once each, not once per reconnect attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal

import msgspec
import structlog

from shared.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

State = Literal["starting", "waiting_for_redis", "waiting_for_postgres", "running", "draining", "stopped"]
REQUEST_TIMEOUT_S = 5.0
MAX_REQUEST_LINE = 4096
log = structlog.get_logger("worker.status")


class WorkerStatus:
    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.state: State = "starting"
        self.since = time.monotonic()
        self.reason: str | None = None

    def set(self, state: State, *, reason: str | None = None) -> bool:
        """Move to `state`; True (and one log line) when that is a change."""
        if state == self.state:
            return False
        log.info("worker_state", queue=self.queue, state=state, previous=self.state, reason=reason)
        self.state, self.reason, self.since = state, reason, time.monotonic()
        return True

    @property
    def ready(self) -> bool:
        return self.state == "running"

    def to_json(self) -> dict[str, object]:
        return {
            "queue": self.queue,
            "state": self.state,
            "reason": self.reason,
            "for_s": round(time.monotonic() - self.since, 1),
        }


@contextlib.asynccontextmanager
async def status_server(
    status: WorkerStatus, *, host: str, port: int, scrape: Callable[[], Awaitable[bytes]] | None = None
) -> AsyncIterator[asyncio.Server]:
    """Serve GET /health, GET /ready and (with `scrape`, Prometheus's text format) GET /metrics on
    `host:port` while the context is open."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), REQUEST_TIMEOUT_S)
            parts = line[:MAX_REQUEST_LINE].split()
            path = parts[1].decode("latin-1").split("?", 1)[0] if len(parts) >= 2 and parts[0] == b"GET" else ""
            if path == "/metrics" and scrape is not None:
                code, content_type, body = "200 OK", METRICS_CONTENT_TYPE, await scrape()
            else:
                code, body = _answer(status, path)
                content_type = "application/json"
            writer.write(
                f"HTTP/1.1 {code}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass  # a probe that hung up or never spoke
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port, limit=MAX_REQUEST_LINE)
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()


def _answer(status: WorkerStatus, path: str) -> tuple[str, bytes]:
    if path == "/health":
        return "200 OK", msgspec.json.encode({"status": "ok", **status.to_json()})
    if path == "/ready":
        code = "200 OK" if status.ready else "503 Service Unavailable"
        return code, msgspec.json.encode({"status": "ready" if status.ready else "unavailable", **status.to_json()})
    return "404 Not Found", b'{"error": "not found"}'
