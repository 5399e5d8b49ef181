"""How `fleet ingress` serves the app: uvicorn on httptools, with every client's time and number bounded.

uvicorn bounds idle keep-alive connections and concurrent connections, but not a client that opens a
connection and sends half a request's headers: HeaderDeadlineProtocol closes it. The body's deadline is
`ingress.http.receive_body`'s, where the app reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any, cast

import structlog
import uvicorn
from starlette.types import ASGIApp
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ingress.app import create_app
from shared.settings import Settings

log = structlog.get_logger("ingress")


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request line and headers are not complete
    within `header_timeout_s` of the connection opening or of the previous response ending.

    The deadline is not moved by data arriving: a client trickling a byte a second is closed all the same.
    """

    def __init__(self, *args: Any, header_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = header_timeout_s
        self.header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._cancel_header_deadline()
        super().on_headers_complete()
        self.cycle.transport = OneWriteResponses(self.transport)  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        next_headers_pending = not self.pipeline  # a pipelined request's headers are already complete
        if isinstance(self.cycle.transport, OneWriteResponses):
            self.cycle.transport.flush()
        super().on_response_complete()
        if next_headers_pending and not self.transport.is_closing():
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self.header_deadline = self.loop.call_later(self.header_timeout_s, self._headers_timed_out)

    def _cancel_header_deadline(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _headers_timed_out(self) -> None:
        self.header_deadline = None
        if not self.transport.is_closing():
            log.debug("connection_closed", reason="request headers not complete in time")
            self.transport.close()


class OneWriteResponses:
    """The transport as one response sees it: the response head is held until the body's first part, and both go
    out in one write. uvicorn writes the head as soon as the app starts its answer, then the body: two system
    calls and two TCP segments (uvloop sets TCP_NODELAY) for every small JSON answer, where one does.

    Only a final response's head is held (`HTTP/1.1 100 Continue` goes out at once: the client waits for it);
    whatever is held goes out before a close and when the response completes (an answer without a body).
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.head = b""

    def write(self, data: bytes) -> None:
        if self.head:
            self.transport.writelines((self.head, data))  # one writev: the body is not copied
            self.head = b""
            return
        if data.startswith(b"HTTP/1.1 ") and not data.startswith(b"HTTP/1.1 1"):
            self.head = data
            return
        self.transport.write(data)

    def flush(self) -> None:
        if self.head:
            self.transport.write(self.head)
            self.head = b""

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, ...: the transport's own
        return getattr(self.transport, name)


def ingress_config(settings: Settings, app: ASGIApp, *, host: str, port: int) -> uvicorn.Config:
    protocol = functools.partial(HeaderDeadlineProtocol, header_timeout_s=settings.ingress_header_timeout_s)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=cast("type[asyncio.Protocol]", protocol),  # uvicorn calls it with the protocol's own arguments
        ws="none",
        timeout_keep_alive=settings.ingress_keepalive_s,
        limit_concurrency=settings.ingress_max_connections,
        log_config=None,
        access_log=False,
        server_header=False,
    )


def serve(settings: Settings, *, host: str, port: int, app: ASGIApp | None = None) -> int:
    """Run the ingress (or `app`, served the same way: the benchmark's baseline) until SIGINT/SIGTERM (uvicorn's
    graceful shutdown); the process exit code."""
    server = uvicorn.Server(ingress_config(settings, app or create_app(settings), host=host, port=port))
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else STARTUP_FAILURE
