"""The Ashby simulator as a Starlette app: `POST /<endpoint>` with Basic auth, faults, latency, a request log
and signed webhooks for the changes Ashby announces. `app.state.sim` is the `AshbySim` tests drive.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sim.ashby import wire
from sim.ashby.api import AshbyApi
from sim.ashby.failure import ApiFailure
from sim.ashby.faults import Fault, FaultPlan
from sim.ashby.org import AshbyOrg
from sim.ashby.webhooks import WebhookSender, WebhookTarget

Sleep = Callable[[float], Awaitable[None]]
VERSION = "2026-01-01"


@dataclass(frozen=True)
class RecordedCall:
    """One request as the simulator saw it (never the Authorization header) and what it answered."""

    endpoint: str
    body: Any
    status: int
    response: Any
    fault: str | None
    at: float
    version: str | None


class AshbySim:
    def __init__(
        self,
        org: AshbyOrg,
        *,
        api_key: str,
        faults: FaultPlan | None = None,
        webhook: WebhookTarget | None = None,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.org = org
        self.api = AshbyApi(org)
        self.faults = faults or FaultPlan()
        self.calls: list[RecordedCall] = []
        self.webhooks = WebhookSender(webhook, http=http) if webhook else None
        self._api_key = api_key
        self._clock = clock
        self._sleep = sleep
        self._released = asyncio.Event()
        self._request_ids = 0
        org.subscribe(self._on_change)

    def calls_to(self, endpoint: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.endpoint == endpoint]

    async def flush_webhooks(self) -> list[tuple[str, int]]:
        """Send every queued webhook now; (action, HTTP status or 0 for no answer) per attempt."""
        return await self.webhooks.flush() if self.webhooks else []

    def release_hangs(self) -> None:
        self._released.set()

    async def aclose(self) -> None:
        self.release_hangs()
        if self.webhooks is not None:
            await self.webhooks.aclose()

    def _on_change(self, action: str, kind: str, record_id: str) -> None:
        if self.webhooks is None:
            return
        if kind == "schedule":
            schedule = self.org.schedules[record_id]
            payload = wire.schedule(self.org, schedule)
            if action == "interviewScheduleUpdate":
                payload["candidateId"] = self.org.applications[schedule.application_id].candidate_id
            self.webhooks.enqueue(action, {"interviewSchedule": payload})
        elif kind == "application":
            self.webhooks.enqueue(action, {"application": wire.application(self.org, self.org.applications[record_id])})
        elif action == "candidateDelete":
            self.webhooks.enqueue(action, {"candidate": {"id": record_id}})
        elif action == "candidateMerge":
            merged = {"deletedCandidate": {"id": record_id}, "mergedCandidate": {"id": self.org.merged_into[record_id]}}
            self.webhooks.enqueue(action, merged)

    # --- HTTP ------------------------------------------------------------------------------------

    async def endpoint(self, request: Request) -> Response:
        name = request.path_params["endpoint"]
        raw = await request.body()
        try:
            body: Any = msgspec.json.decode(raw) if raw else {}
        except msgspec.DecodeError:
            body = None
        status, payload, headers, fault = await self._answer(name, request, body)
        self.calls.append(
            RecordedCall(name, body, status, payload, fault, self._clock(), request.headers.get("ashby-version"))
        )
        if isinstance(payload, dict):
            return Response(msgspec.json.encode(payload), status, headers, media_type="application/json")
        return Response(str(payload), status, headers, media_type="text/plain")

    async def _answer(self, name: str, request: Request, body: Any) -> tuple[int, Any, dict[str, str], str | None]:
        headers = {"Ashby-Version": VERSION, "Ashby-Version-Status": "active"}
        if name not in self.api.handlers:
            return 404, {"success": False, "errorInfo": {"code": "not_found", "message": "no such endpoint"}}, {}, None
        authorization = request.headers.get("authorization")
        key = _basic_key(authorization) if authorization else None
        if key is None:
            return 401, self._error("unauthorized", "missing API key (HTTP Basic, key as username)"), headers, None
        if not hmac.compare_digest(key.encode(), self._api_key.encode()):
            return 403, self._error("forbidden", "invalid or deactivated API key"), headers, None
        delay = self.faults.delay(name)
        if delay:
            await self._sleep(delay)
        fault = self.faults.take(name)
        if fault is not None and fault.kind != "hang" and not fault.processed:
            return self._fault(fault, headers)
        if not isinstance(body, dict):
            payload = self._error("invalid_input", "the body must be a JSON object")
        else:
            try:
                payload = {"success": True, **self.api.handle(name, body)}
            except ApiFailure as failure:
                payload = self._error(failure.code, failure.message)
        if fault is not None and fault.processed:  # it took effect, but the client sees only the error
            return self._fault(fault, headers)
        if fault is not None:  # processed, but the answer comes too late for the client
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), fault.seconds)
        return 200, payload, headers, fault.kind if fault else None

    def _fault(self, fault: Fault, headers: dict[str, str]) -> tuple[int, Any, dict[str, str], str]:
        if fault.kind == "rate_limit":
            if fault.retry_after is not None:
                headers = {**headers, "Retry-After": f"{fault.retry_after:g}"}
            return 429, self._error("rate_limit_exceeded", "too many requests"), headers, fault.kind
        if fault.kind == "server_error":
            return fault.status, "upstream error", headers, fault.kind
        return 200, self._error(fault.code, fault.message or fault.code), headers, fault.kind

    def _error(self, code: str, message: str) -> dict[str, Any]:
        self._request_ids += 1
        request_id = f"req_{self._request_ids:08d}"
        return {
            "success": False,
            "errors": [code],
            "errorInfo": {"code": code, "message": message, "requestId": request_id},
        }


def _basic_key(authorization: str) -> str | None:
    """The key from `Basic base64("<key>:")`, or None when the header is not that shape."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, colon, _password = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return username if colon else None


def create_app(
    org: AshbyOrg,
    *,
    api_key: str,
    faults: FaultPlan | None = None,
    webhook: WebhookTarget | None = None,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Sleep = asyncio.sleep,
) -> Starlette:
    """`http` carries webhooks (e.g. an ASGITransport client into the ingress); with a lifespan running
    (uvicorn), webhooks are delivered in the background, otherwise on `app.state.sim.flush_webhooks()`."""
    sim = AshbySim(org, api_key=api_key, faults=faults, webhook=webhook, http=http, clock=clock, sleep=sleep)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(sim.webhooks.run()) if sim.webhooks else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await sim.aclose()

    app = Starlette(routes=[Route("/{endpoint}", sim.endpoint, methods=["POST"])], lifespan=lifespan)
    app.state.sim = sim
    return app


def sim_of(app: Starlette) -> AshbySim:
    """The typed handle on a simulator app's state."""
    sim: AshbySim = app.state.sim
    return sim
