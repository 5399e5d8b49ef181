"""GET /health (the process is alive) and GET /ready (PostgreSQL and Redis answer, with latencies)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from ingress.http import JSONResponse
from ingress.state import state_of
from shared.metrics import CONTENT_TYPE

CHECK_TIMEOUT_S = 2.0


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus's scrape: this process's counters (requests, signature failures, queue errors)."""
    return Response(state_of(request).metrics.exposition(), media_type=CONTENT_TYPE)


async def ready(request: Request) -> Response:
    state = state_of(request)
    checks = {"redis": lambda: state.queue.ping()}
    if state.settings.database_url:
        checks["postgres"] = lambda: _postgres_round_trip(state.settings.database_url)
    results = dict(zip(checks, await asyncio.gather(*(_timed(check) for check in checks.values())), strict=True))
    down = sorted(name for name, result in results.items() if not result["ok"])
    body = {"status": "ready" if not down else "unavailable", "down": down, "checks": results}
    return JSONResponse(body, status_code=503 if down else 200)


async def _postgres_round_trip(dsn: str) -> None:
    # The ingress keeps no pool and never queries on the request path; readiness alone opens one short
    # connection so an operator sees whether the fleet's source of truth answers from this network.
    conn = await asyncpg.connect(dsn, timeout=CHECK_TIMEOUT_S)
    try:
        await conn.fetchval("SELECT 1")
    finally:
        await conn.close()


async def _timed(check: Callable[[], Awaitable[object]]) -> dict[str, object]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except Exception as exc:  # a readiness probe reports any failure; it never raises
        return {"ok": False, "error": type(exc).__name__, "ms": _ms(started)}
    return {"ok": True, "ms": _ms(started)}


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
