"""The boundary around every job: log context, one canonical line per job, and retry classification.

A job raises; this decides. Transient failures (connection loss, timeouts, upstream 429/5xx) go back to
the queue with exponential backoff and jitter, bounded by the function's max_tries; anything else fails
the job once, logged without its payload.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import structlog
from arq import Retry
from arq.typing import WorkerCoroutine
from redis.exceptions import ConnectionError as RedisConnectionError

from shared.errors import Transient

log = structlog.get_logger("worker")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
    RedisConnectionError,
    ConnectionError,
    TimeoutError,
    OSError,
    Transient,
)


def backoff_s(
    job_try: int, *, base_s: float = 2.0, cap_s: float = 300.0, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with full jitter: a random delay in [base, min(cap, base * 2**(try-1))]."""
    ceiling: float = min(cap_s, base_s * 2 ** max(job_try - 1, 0))
    return base_s + (ceiling - base_s) * rand()


def retry_after(exc: BaseException) -> float | None:
    value: object = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)


def job(fn: Callable[..., Awaitable[Any]]) -> WorkerCoroutine:
    """Wrap an arq job function with its log context and retry classification."""

    @functools.wraps(fn)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        job_try = int(ctx.get("job_try", 1))
        structlog.contextvars.bind_contextvars(job=fn.__name__, job_id=ctx.get("job_id"), job_try=job_try)
        if "request_id" in kwargs:
            structlog.contextvars.bind_contextvars(request_id=kwargs["request_id"])
        started = time.perf_counter()
        try:
            result = await fn(ctx, *args, **kwargs)
        except Retry:
            raise
        except Exception as exc:
            ms = round((time.perf_counter() - started) * 1000, 2)
            if is_transient(exc):
                defer = retry_after(exc) or backoff_s(job_try)
                log.warning("job_retry", error=type(exc).__name__, defer_s=round(defer, 2), ms=ms)
                raise Retry(defer=defer) from exc
            log.error("job_failed", error=type(exc).__name__, ms=ms)
            raise
        else:
            log.info("job_done", ms=round((time.perf_counter() - started) * 1000, 2))
            return result
        finally:
            structlog.contextvars.unbind_contextvars("job", "job_id", "job_try", "request_id")

    return run
