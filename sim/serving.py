"""Serve an ASGI app on a local socket inside the running event loop (simulators in tests and demos)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Literal

import uvicorn
from starlette.types import ASGIApp


def listening_socket(host: str = "127.0.0.1", *, backlog: int = 1024) -> socket.socket:
    """A socket bound to a free port and already listening: connections made before the server task
    starts wait in the backlog, so nobody polls for readiness.

    The explicit IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on accepted sockets whose protocol
    says TCP, and without it Nagle plus delayed ACKs added ~44 ms to every response."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@contextlib.asynccontextmanager
async def running(
    app: ASGIApp, *, sock: socket.socket | None = None, lifespan: Literal["on", "off"] = "on"
) -> AsyncIterator[str]:
    """Serve `app` (on `sock`, or a new free port) until the block exits; yields the base URL."""
    sock = sock or listening_socket()
    config = uvicorn.Config(app, lifespan=lifespan, log_level="warning", access_log=False, ws="none")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        await task
        sock.close()
