"""How `fleet ingress` serves the app: uvicorn on httptools, with every client's time and number bounded.

uvicorn bounds idle keep-alive connections and concurrent connections, but not a client that opens a
connection and sends half a request's headers: HeaderDeadlineProtocol closes it. The body's deadline is
`ingress.http.read_body`'s, where the app reads it.
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

    def on_response_complete(self) -> None:
        next_headers_pending = not self.pipeline  # a pipelined request's headers are already complete
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
