"""Ashby's POST-RPC transport: one injected httpx client, one error mapping, bounded retries, pages and
incremental syncs. The typed endpoints are `shared/clients/ashby.py`.

Every response is checked in one place (`_check`): 401/403 -> `AshbyAuthError`, 429 (with its
`Retry-After`), 5xx and network errors -> `AshbyTransientError`, HTTP 200 with `success:false` ->
`AshbyApiError` carrying Ashby's `errorInfo.code` and `requestId`. Transient failures are retried with
exponential backoff and full jitter (`shared/retry.py`), bounded by attempts and by total time;
`success:false` is never retried. Writes without an idempotency key (`applicationFeedback.submit`,
`application.changeStage`) are retried only when the request provably did not run (429, connection
refused): after a 5xx or a read timeout the caller must re-check Ashby before trying again.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, cast

import httpx
import msgspec
import structlog

from shared.errors import FleetError, Permanent, Transient
from shared.metrics import Metrics, failure_kind
from shared.retry import full_jitter, parse_retry_after
from shared.storable import storable_json

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

ASHBY_VERSION = "2026-01-01"
MAX_PAGE_SIZE = 100
# A stored syncToken that Ashby refuses with one of these is discarded for a full sync.
SYNC_RESET_CODES = frozenset({"sync_token_expired", "sync_token_invalid", "incremental_sync_too_large"})
# `success:false` codes where sending the same request again cannot succeed.
_FINAL_CODES = SYNC_RESET_CODES | {
    "invalid_input",
    "missing_endpoint_permission",
    "next_cursor_expired",
    "invalid_next_cursor",
    "communication_template_not_allowed",
}

log = structlog.get_logger("shared.clients.ashby")


class AshbyError(FleetError):
    """Any failure of an Ashby call; `endpoint` names the RPC, e.g. `application.info`."""

    endpoint: str


class AshbyTransientError(AshbyError, Transient):
    """429, 5xx, timeout or network error that outlived the retry budget; `retry_after` is Ashby's hint."""

    def __init__(self, message: str, *, endpoint: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message, retry_after=retry_after)
        self.endpoint = endpoint
        self.status = status

    @property
    def code(self) -> str:
        return f"http_{self.status}" if self.status else "network"


class AshbyApiError(AshbyError, Permanent):
    """Ashby refused the request (`success:false`). `retryable` says whether the same request might
    succeed later (e.g. an unknown server-side code); the client itself never retries it."""

    def __init__(self, message: str, *, endpoint: str, code: str, request_id: str | None = None) -> None:
        super().__init__(message, code=code)
        self.endpoint = endpoint
        self.request_id = request_id
        self.code: str = code

    @property
    def retryable(self) -> bool:
        return not (self.code in _FINAL_CODES or self.code.endswith(("_not_found", "_not_allowed")))


class AshbyAuthError(AshbyApiError):
    """HTTP 401 (no key) or 403 (wrong key, or `missing_endpoint_permission`): fix the configuration."""

    @property
    def retryable(self) -> bool:
        return False


class AshbyResponseError(AshbyApiError):
    """An answer that is not Ashby's envelope (unexpected status, undecodable body, schema drift)."""

    @property
    def retryable(self) -> bool:
        return False


class RateLimiter(Protocol):
    """The seam to `shared.ratelimit.RedisRateLimiter`: one budget per API key across all processes."""

    async def acquire(self, key: str, *, rate_per_s: float, burst: int, max_wait_s: float = 30.0) -> float: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`attempts` counts the first try; `budget_s` bounds the time from the first try to the last retry."""

    attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    budget_s: float = 30.0

    def backoff(self, retry: int, rand: float) -> float:
        """Full jitter (`shared.retry`); `retry` is 0 for the first retry."""
        return full_jitter(retry, base_s=self.base_delay_s, cap_s=self.max_delay_s, rand=rand)


class _ErrorInfo(msgspec.Struct, rename="camel"):
    code: str = "unknown"
    message: str = ""
    request_id: str | None = None


class Envelope(msgspec.Struct, rename="camel"):
    """Ashby's answer: `results` stays raw until decoded into the type the caller asked for."""

    success: bool
    results: msgspec.Raw = msgspec.Raw(b"null")
    more_data_available: bool = False
    next_cursor: str | None = None
    sync_token: str | None = None
    error_info: _ErrorInfo | None = None
    errors: list[str] = []


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    results: list[T]
    sync_token: str | None


_envelope_decoder = msgspec.json.Decoder(Envelope)
_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    if kind not in _decoders:
        _decoders[kind] = msgspec.json.Decoder(kind)
    return _decoders[kind]


class AshbyRpc:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        http: httpx.AsyncClient,
        version: str = ASHBY_VERSION,
        limiter: RateLimiter | None = None,
        rate_per_s: float = 5.0,
        burst: int = 10,
        limiter_max_wait_s: float = 10.0,
        retry: RetryPolicy | None = None,
        page_size: int | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        metrics: Metrics | None = None,
    ) -> None:
        """`http` is the process' shared client (keep-alive, timeouts set by the caller); `page_size`
        (<= 100) is sent as `limit`, None leaves Ashby's default (100). Rate is per API key, shared by every
        client holding the same `limiter` key."""
        self._url = base_url.rstrip("/") + "/"
        self._http = http
        token = base64.b64encode(f"{api_key}:".encode()).decode()
        self._headers = {
            "Authorization": f"Basic {token}",
            "Accept": "application/json; version=1",
            "Content-Type": "application/json",
            "Ashby-Version": version,
        }
        # The limiter key names the API key without revealing it (Redis keys show up in monitoring).
        self._limit_key = "ashby:" + hashlib.sha256(api_key.encode()).hexdigest()[:16]
        self._limiter = limiter
        self._rate_per_s = rate_per_s
        self._burst = burst
        self._limiter_max_wait_s = limiter_max_wait_s
        self._retry = retry or RetryPolicy()
        self._page_size = min(page_size, MAX_PAGE_SIZE) if page_size else None
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._jitter = jitter
        self._metrics = metrics

    def __repr__(self) -> str:  # the headers hold the key
        return f"{type(self).__name__}(base_url={self._url!r})"

    # --- transport -------------------------------------------------------------------------------

    async def call(self, endpoint: str, body: Mapping[str, Any], *, idempotent: bool = True) -> Envelope:
        """POST one RPC and return the checked envelope; retries per the policy (see the module docstring)."""
        content = msgspec.json.encode(body)
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                envelope = await self._attempt(endpoint, content)
            except AshbyTransientError as exc:
                delay = (
                    exc.retry_after if exc.retry_after is not None else self._retry.backoff(attempt - 1, self._jitter())
                )
                # 429 and refused connections never reached Ashby's handlers, so even writes may be resent.
                unsent = exc.status == 429 or isinstance(exc.__cause__, (httpx.ConnectError, httpx.ConnectTimeout))
                elapsed = self._clock() - started
                give_up = (
                    attempt >= self._retry.attempts
                    or elapsed + delay > self._retry.budget_s
                    or not (idempotent or unsent)
                )
                log.warning(
                    "ashby_call_failed",
                    endpoint=endpoint,
                    code=exc.code,
                    attempt=attempt,
                    retry_in_s=None if give_up else round(delay, 3),
                )
                if give_up:
                    if exc.retry_after is None:
                        exc.retry_after = delay
                    self._count(endpoint, failure_kind(exc.status))
                    raise
                if self._metrics is not None:
                    self._metrics.upstream_retries.labels("ashby", failure_kind(exc.status)).inc()
                await self._sleep(delay)
            except AshbyApiError as exc:
                log.warning(
                    "ashby_call_failed", endpoint=endpoint, code=exc.code, request_id=exc.request_id, attempt=attempt
                )
                self._count(endpoint, "refused")
                raise
            else:
                self._count(endpoint, "ok")
                return envelope

    def _count(self, endpoint: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.upstream_calls.labels("ashby", endpoint, outcome).inc()

    async def _attempt(self, endpoint: str, content: bytes) -> Envelope:
        if self._limiter is not None:
            await self._limiter.acquire(
                self._limit_key, rate_per_s=self._rate_per_s, burst=self._burst, max_wait_s=self._limiter_max_wait_s
            )
        try:
            response = await self._http.post(self._url + endpoint, content=content, headers=self._headers)
        except httpx.RequestError as exc:  # timeouts, refused or dropped connections, broken bodies
            raise AshbyTransientError(f"ashby {endpoint}: {type(exc).__name__}", endpoint=endpoint) from exc
        return self._check(endpoint, response)

    def _check(self, endpoint: str, response: httpx.Response) -> Envelope:
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(response.headers.get("retry-after"), now=self._wall_clock())
            raise AshbyTransientError(
                f"ashby {endpoint}: HTTP {status}", endpoint=endpoint, status=status, retry_after=retry_after
            )
        try:
            envelope = _envelope_decoder.decode(storable_json(response.content))
        except (msgspec.DecodeError, msgspec.ValidationError):
            envelope = None
        info = envelope.error_info if envelope is not None else None
        if status in (401, 403):
            code = info.code if info else ("unauthorized" if status == 401 else "forbidden")
            raise AshbyAuthError(f"ashby {endpoint}: HTTP {status} {code}", endpoint=endpoint, code=code)
        if not 200 <= status < 300 or envelope is None:
            raise AshbyResponseError(
                f"ashby {endpoint}: unexpected HTTP {status} answer", endpoint=endpoint, code=f"http_{status}"
            )
        if not envelope.success:
            code = info.code if info else (envelope.errors[0] if envelope.errors else "unknown")
            raise AshbyApiError(
                f"ashby {endpoint}: {code}: {info.message if info else ''}".rstrip(": "),
                endpoint=endpoint,
                code=code,
                request_id=info.request_id if info else None,
            )
        return envelope

    async def _result(self, endpoint: str, body: Mapping[str, Any], kind: type[T], *, idempotent: bool = True) -> T:
        envelope = await self.call(endpoint, body, idempotent=idempotent)
        return cast(T, self._decode(endpoint, envelope.results, kind))

    def _decode(self, endpoint: str, raw: msgspec.Raw, kind: Any) -> Any:
        try:
            return _decoder(kind).decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            # The message names the field path, never its value.
            raise AshbyResponseError(
                f"ashby {endpoint}: results do not decode: {exc}", endpoint=endpoint, code="unexpected_response"
            ) from exc

    async def pages(self, endpoint: str, body: Mapping[str, Any], kind: type[T]) -> AsyncIterator[Page[T]]:
        """Follow `nextCursor` while `moreDataAvailable`; the `syncToken` comes on the last page."""
        request = dict(body)
        if self._page_size and endpoint != "interviewEvent.list":
            # interviewEvent.list's published schema forbids properties beyond its own (see docs).
            request["limit"] = self._page_size
        while True:
            envelope = await self.call(endpoint, request)
            yield Page(self._decode(endpoint, envelope.results, list[kind]), envelope.sync_token)  # type: ignore[valid-type]
            if not envelope.more_data_available:
                return
            if not envelope.next_cursor:
                raise AshbyResponseError(
                    f"ashby {endpoint}: moreDataAvailable without nextCursor", endpoint=endpoint, code="bad_page"
                )
            request["cursor"] = envelope.next_cursor

    async def items(self, endpoint: str, body: Mapping[str, Any], kind: type[T]) -> AsyncIterator[T]:
        async for page in self.pages(endpoint, body, kind):
            for item in page.results:
                yield item

    def sync(self, endpoint: str, body: Mapping[str, Any], kind: type[T], sync_token: str | None) -> SyncRun[T]:
        return SyncRun(self, endpoint, body, kind, sync_token)


class SyncRun(Generic[T]):
    """An incremental sync: iterate the records changed since `sync_token`, then read `.sync_token`.

    If Ashby refuses the stored token (`SYNC_RESET_CODES`) the run restarts as a full sync and sets
    `full_resync` / `reset_code`; records yielded before the restart may come again (consumers upsert).
    `.sync_token` is set only once the iteration completes; store it then, never earlier.
    """

    def __init__(self, client: AshbyRpc, endpoint: str, body: Mapping[str, Any], kind: type[T], token: str | None):
        self._client = client
        self._endpoint = endpoint
        self._body = dict(body)
        self._kind = kind
        self._start_token = token
        self.sync_token: str | None = None
        self.full_resync = token is None
        self.reset_code: str | None = None
        self.count = 0

    def __aiter__(self) -> AsyncIterator[T]:
        return self._run()

    async def _run(self) -> AsyncIterator[T]:
        token = self._start_token
        while True:
            body = dict(self._body, syncToken=token) if token else self._body
            last: str | None = None
            try:
                async for page in self._client.pages(self._endpoint, body, self._kind):
                    last = page.sync_token or last
                    for item in page.results:
                        self.count += 1
                        yield item
            except AshbyApiError as exc:
                if token is None or exc.code not in SYNC_RESET_CODES:
                    raise
                log.info("ashby_sync_reset", endpoint=self._endpoint, code=exc.code)
                token, self.full_resync, self.reset_code = None, True, exc.code
                continue
            # Without a new token (an endpoint that does not issue one) the old one is still the right start.
            self.sync_token = last or token
            return
