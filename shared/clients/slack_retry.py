"""slack-sdk's retry handlers with the fleet's doctrine (`shared/retry.py`): an injected sleep (tests
control time), full jitter, a long Retry-After handed back to the queue instead of slept, 502/504 retried
like 500/503, and every retry counted in the metrics."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from shared.metrics import Metrics
from shared.retry import full_jitter, parse_retry_after

Sleep = Callable[[float], Awaitable[None]]
SERVER_ERROR_STATUSES = frozenset({500, 502, 503, 504})


def retry_after_of(headers: Mapping[str, Any] | None) -> float | None:
    """Slack's `Retry-After` (seconds, or an HTTP date), read by the one parser every client shares."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            return parse_retry_after(str(raw), now=time.time())
    return None


def _count_retry(metrics: Metrics | None, reason: str) -> None:
    if metrics is not None:
        metrics.upstream_retries.labels("slack", reason).inc()


class RateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's 429 handler with an injected sleep; a long Retry-After goes back to the queue instead."""

    def __init__(
        self, *, max_retry_count: int, max_retry_after_s: float, sleep: Sleep, metrics: Metrics | None
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._metrics = metrics

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        retry_after = retry_after_of(response.headers)
        return retry_after is None or retry_after <= self._max_retry_after_s

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        _count_retry(self._metrics, "rate_limited")
        retry_after = retry_after_of(response.headers if response is not None else None)
        # Slack's hint plus up to a second of jitter, so replicas refused together do not come back together.
        await self._sleep(
            (1.0 if retry_after is None else retry_after) + full_jitter(0, base_s=1.0, cap_s=1.0, rand=random.random())
        )
        state.increment_current_attempt()


class _BackoffWithInjectedSleep(AsyncRetryHandler):
    """Backoff between attempts with the fleet's doctrine (`shared/retry.py`: exponential, full jitter,
    capped), slept through the injected `sleep` (tests control time)."""

    _sleep: Sleep
    _metrics: Metrics | None
    reason: str

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        _count_retry(self._metrics, self.reason)
        await self._sleep(full_jitter(state.current_attempt, base_s=0.5, cap_s=4.0, rand=random.random()))
        state.increment_current_attempt()


class ConnectionRetry(_BackoffWithInjectedSleep, AsyncConnectionErrorRetryHandler):
    """slack-sdk's one retry on a reset or dropped connection, with an injected sleep."""

    reason = "network"

    def __init__(self, *, sleep: Sleep, metrics: Metrics | None) -> None:
        AsyncConnectionErrorRetryHandler.__init__(self, max_retry_count=1)
        self._sleep = sleep
        self._metrics = metrics


class ServerErrorRetry(_BackoffWithInjectedSleep, AsyncServerErrorRetryHandler):
    """slack-sdk's 5xx handler (exponential backoff with jitter) with an injected sleep and 502/504 too."""

    reason = "server_error"

    def __init__(self, *, max_retry_count: int, sleep: Sleep, metrics: Metrics | None) -> None:
        AsyncServerErrorRetryHandler.__init__(self, max_retry_count=max_retry_count)
        self._sleep = sleep
        self._metrics = metrics

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in SERVER_ERROR_STATUSES
