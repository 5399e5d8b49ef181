"""The boundary around every job: log context, one canonical line per job, the retry doctrine, and dead
letters.

A job raises; this decides. An infrastructure blip or a busy upstream (`shared.errors.is_transient`,
which reads the cause chain) goes back to the queue with capped exponential backoff and full jitter,
until the job has had `tries` attempts and RETRY_WINDOW has passed since it was queued (bounded in count
and in time: a saturated rate limit answers within seconds, and twelve quick refusals are not an outage).
A job that fails for good (any other error, or its tries and its window ran out)
is recorded in `dead_letters` with its arguments, for an operator to read and replay: never only in a log
line. If PostgreSQL is down even for that, the job goes back to the queue until the dead letter can be
written: arq's own `max_tries` (ARQ_MAX_TRIES) is only a backstop, our policy decides.

Periodic runs (crons and work-set drains) are not retried: their next tick does the work again. One that
fails on something other than a blip is dead-lettered once per job name, with its latest error.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from arq import Retry
from arq.typing import WorkerCoroutine

from shared import jobs
from shared.db import dead_letters
from shared.error_reporting import report_exception
from shared.errors import error_label, is_transient
from shared.retry import full_jitter
from workers.deps import Deps, deps

log = structlog.get_logger("worker")

# arq fails a job without running it once its try count passes max_tries; our boundary must see every try
# (to dead-letter the last), so arq's cap is far above any policy's.
ARQ_MAX_TRIES = 1000
DEFAULT_TRIES = 12  # about 12 minutes of backoff in all: outlives a database or Redis restart
RETRY_WINDOW = timedelta(minutes=15)
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
MIN_DEFER_S = 1.0

Subject = Callable[[tuple[Any, ...]], str]
# Called (best effort) when the boundary gives up on a job, before its dead letter: a person waiting on it
# is told, whatever went wrong.
GiveUp = Callable[[dict[str, Any], tuple[Any, ...], dict[str, Any]], Awaitable[None]]


def defer_for(exc: BaseException, job_try: int, *, rand: Callable[[], float] = random.random) -> float:
    """How long a transient failure waits: the upstream's `retry_after` if it named one, else backoff."""
    hinted = getattr(exc, "retry_after", None)
    if isinstance(hinted, int | float) and hinted >= 0:
        return max(MIN_DEFER_S, float(hinted))
    return max(MIN_DEFER_S, full_jitter(job_try - 1, base_s=BACKOFF_BASE_S, cap_s=BACKOFF_CAP_S, rand=rand()))


def id_args(args: tuple[Any, ...]) -> str:
    """The job's short string and integer arguments: ids (event, interviewer, reminder), never payloads."""
    return " ".join(str(a) for a in args if isinstance(a, int | str) and 0 < len(str(a)) <= 80 and " " not in str(a))


def job(
    fn: Callable[..., Awaitable[Any]] | None = None,
    *,
    tries: int = DEFAULT_TRIES,
    periodic: bool = False,
    subject: Subject = id_args,
    on_give_up: GiveUp | None = None,
) -> Any:
    """Wrap an arq job function with its log context, retry doctrine and dead letter.

    `@job` or `@job(tries=5)`; `periodic=True` for cron and work-set runs; `subject` names the job's
    object for the dead letter by ids only; `on_give_up` tells whoever waits on the job."""

    def wrap(fn: Callable[..., Awaitable[Any]]) -> WorkerCoroutine:
        @functools.wraps(fn)
        async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            job_try = int(ctx.get("job_try", 1))
            structlog.contextvars.bind_contextvars(job=fn.__name__, job_id=ctx.get("job_id"), job_try=job_try)
            request_id = kwargs.pop(jobs.REQUEST_ID, None)  # see `shared.jobs.enqueue_unique`
            if request_id is not None:
                structlog.contextvars.bind_contextvars(request_id=request_id)
            started = time.perf_counter()
            outcome = "error"
            try:
                if not periodic and given_up(job_try, tries, _queued_for(ctx)):
                    # Past its tries and its window without an outcome: its worker died mid-job every time.
                    await _give_up(on_give_up, ctx, args, kwargs)
                    await _dead_letter(ctx, fn.__name__, args, kwargs, "AttemptsExhausted", subject, periodic)
                    log.error("job_dead_lettered", error="AttemptsExhausted", ms=_ms(started))
                    outcome = "dead_lettered"
                    return {"outcome": outcome}
                result = await fn(ctx, *args, **kwargs)
            except Retry:
                outcome = "retry"
                raise
            except Exception as exc:
                if not (is_transient(exc) and (periodic or job_try < tries or _queued_for(ctx) < RETRY_WINDOW)):
                    await _give_up(on_give_up, ctx, args, kwargs)
                try:
                    failed = await _failed(
                        ctx, fn.__name__, args, kwargs, exc, job_try, tries, periodic, subject, started
                    )
                except Retry:
                    outcome = "retry"
                    raise
                outcome = failed["outcome"]
                return failed
            else:
                log.info("job_done", ms=_ms(started))
                outcome = "done"
                return result
            finally:
                _count(ctx, fn.__name__, outcome, time.perf_counter() - started)
                structlog.contextvars.unbind_contextvars("job", "job_id", "job_try", "request_id")

        run.tries = tries  # type: ignore[attr-defined]
        run.periodic = periodic  # type: ignore[attr-defined]
        return run

    return wrap(fn) if fn is not None else wrap


async def _failed(
    ctx: dict[str, Any],
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    exc: Exception,
    job_try: int,
    tries: int,
    periodic: bool,
    subject: Subject,
    started: float,
) -> Any:
    error = error_label(exc)
    if is_transient(exc) and periodic:
        log.warning("job_failed_transient", error=error, ms=_ms(started))  # the next tick runs it again
        return {"outcome": "transient_failure"}
    delay = await conclude_failure(
        deps(ctx),
        exc,
        **_identity(ctx, name, args, subject, periodic),
        args=args,
        kwargs=kwargs,
        job_try=job_try,
        tries=tries,
        queued_for=_queued_for(ctx),
    )
    if delay is not None:
        raise Retry(defer=delay) from exc
    log.error("job_dead_lettered", error=error, transient=is_transient(exc), ms=_ms(started))
    report_exception(exc)
    return {"outcome": "dead_lettered", "error": error}


async def conclude_failure(
    d: Deps,
    exc: BaseException,
    *,
    job_id: str,
    job_name: str,
    queue: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    subject: str,
    job_try: int,
    tries: int,
    queued_for: timedelta,
) -> float | None:
    """A failed try, under the one retry doctrine: the seconds until the next try (a blip, within the job's
    tries or its retry window), or None once the job is dead-lettered. For the jobs arq runs (through `job`)
    and for those a running job claimed into its batch (`workers/ingest_batch.py`)."""
    error = error_label(exc)
    if is_transient(exc) and (job_try < tries or queued_for < RETRY_WINDOW):
        delay = defer_for(exc, job_try)
        log.warning("job_retry", error=error, defer_s=round(delay, 2), job_id=job_id)
        return delay
    try:
        await dead_letter(
            d,
            job_id=job_id,
            job_name=job_name,
            queue=queue,
            args=args,
            kwargs=kwargs,
            subject=subject,
            error=error,
            attempts=job_try,
        )
    except Exception as record_exc:
        if not is_transient(record_exc):
            raise
        # The database is down too: keep the job in the queue until its dead letter can be written.
        log.warning("dead_letter_deferred", error=error, cause=error_label(record_exc), job_id=job_id)
        return BACKOFF_CAP_S
    return None


class AttemptsExhausted(Exception):
    """Past its tries and its retry window without an outcome: its worker died mid-job every time."""


def given_up(job_try: int, tries: int, queued_for: timedelta) -> bool:
    """Whether a job starting its try `job_try` is past its tries and its window (never retried after)."""
    return job_try > tries and queued_for >= RETRY_WINDOW


def _count(ctx: dict[str, Any], name: str, outcome: str, seconds: float) -> None:
    found = ctx.get("deps")
    if isinstance(found, Deps):  # absent only when the worker's start-up itself failed
        found.metrics.jobs.labels(name, outcome).inc()
        found.metrics.job_seconds.labels(name).observe(seconds)
        if outcome == "dead_lettered":
            found.metrics.dead_letters.labels(name).inc()


async def _give_up(hook: GiveUp | None, ctx: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if hook is None:
        return
    try:
        await hook(ctx, args, kwargs)
    except Exception as exc:  # telling is best effort; the dead letter still records the job
        log.warning("job_give_up_hook_failed", error=error_label(exc))


async def _dead_letter(
    ctx: dict[str, Any],
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: str,
    subject: Subject,
    periodic: bool,
) -> None:
    await dead_letter(
        deps(ctx),
        **_identity(ctx, name, args, subject, periodic),
        args=args,
        kwargs=kwargs,
        error=error,
        attempts=int(ctx.get("job_try", 1)),
    )


def _identity(
    ctx: dict[str, Any], name: str, args: tuple[Any, ...], subject: Subject, periodic: bool
) -> dict[str, str]:
    """What a dead letter names a job by: its id (one per periodic job), name, queue and subject."""
    try:
        about = subject(args)
    except Exception:  # naming the object must never lose the dead letter
        about = ""
    return {
        "job_id": f"periodic:{name}" if periodic else str(ctx.get("job_id")),
        "job_name": name,
        "queue": str(ctx.get("queue_name", jobs.QUEUE_DEFAULT)),
        "subject": about,
    }


async def dead_letter(
    d: Deps,
    *,
    job_id: str,
    job_name: str,
    queue: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    subject: str,
    error: str,
    attempts: int,
) -> None:
    """Record a job that failed for good, with what `fleet dead-letters replay` needs to run it again."""
    await dead_letters.record(
        d.pool,
        job_id=job_id,
        job_name=job_name,
        queue=queue,
        subject=subject,
        args=jobs.serialize([list(args), kwargs]),
        error=error,
        attempts=attempts,
        now=d.clock(),
    )


def _queued_for(ctx: dict[str, Any]) -> timedelta:
    """How long ago arq first queued this job (its enqueue time survives retries); unknown counts as long."""
    enqueued = ctx.get("enqueue_time")
    if not isinstance(enqueued, datetime):
        return timedelta.max
    return datetime.now(UTC) - (enqueued if enqueued.tzinfo else enqueued.replace(tzinfo=UTC))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
