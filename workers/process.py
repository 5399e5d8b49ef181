"""A worker process: one arq Worker kept running through Redis and PostgreSQL outages, and drained on
SIGTERM within WORKER_SHUTDOWN_GRACE_S whatever its jobs are doing.

arq's own run loop raises on the first Redis error, and its signal handling drains without a bound: its
`close()` gathers every job task with no timeout (a task slow to unwind holds the process), then writes to
Redis (which raises again if Redis is the reason we stop). So this module owns both: a failed main loop
waits with capped, jittered backoff (logging each state change once) and resumes, for as long as it takes;
the first SIGTERM stops taking jobs, lets running ones finish for the grace period, cancels the rest,
and closes every client, all under a hard deadline; a second SIGTERM skips the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import threading
from collections.abc import Iterable

import structlog
from arq.worker import Worker
from redis import exceptions as redis_errors

from shared.db.migrations import MigrationError
from shared.durability import RedisNotDurable
from shared.errors import error_label, is_transient
from shared.logs import flush_logs
from shared.metrics import build_metrics
from shared.retry import full_jitter
from shared.settings import Settings
from workers.deps import Clock, utc_now
from workers.main import create_worker
from workers.observed import observe
from workers.status import State, WorkerStatus, status_server

RECONNECT_BASE_S = 0.5
RECONNECT_CAP_S = 30.0
CANCEL_WAIT_S = 5.0  # for cancelled jobs to unwind (their claims go back, their locks are released)
CLOSE_WAIT_S = 5.0  # for the pool and clients to close
HARD_EXIT_MARGIN_S = CANCEL_WAIT_S + CLOSE_WAIT_S + 5.0
log = structlog.get_logger("worker.process")


class Shutdown:
    """SIGTERM/SIGINT once: drain; twice: stop waiting for running jobs. From the first signal a watchdog
    thread bounds the whole exit, whatever the event loop is doing (a library that swallows a cancellation,
    a close that never returns)."""

    def __init__(self, *, grace_s: float) -> None:
        self.requested = asyncio.Event()
        self.forced = asyncio.Event()
        self.deadline_s = grace_s + HARD_EXIT_MARGIN_S
        self._watchdog = threading.Timer(self.deadline_s, _hard_exit, args=(self.deadline_s,))
        self._watchdog.daemon = True

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.signal, signum)

    def signal(self, signum: int) -> None:
        if self.requested.is_set():
            log.warning("shutdown_forced", signal=signal.Signals(signum).name)
            self.forced.set()
        else:
            log.info("shutdown_requested", signal=signal.Signals(signum).name)
            self.requested.set()
            self._watchdog.start()  # a daemon thread: a normal exit does not wait for it

    async def sleep(self, seconds: float) -> None:
        """Sleep, or return early when a shutdown is requested."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.requested.wait(), seconds)


async def serve_worker(settings: Settings, queue: str, *, burst: bool = False, clock: Clock = utc_now) -> int:
    """Run a worker for `queue` until SIGTERM (or, with `burst`, until the queue is empty); the exit code."""
    status = WorkerStatus(queue)
    metrics = build_metrics()
    worker = create_worker(
        settings, queue, clock=clock, burst=burst, on_ready=lambda: status.set("running"), metrics=metrics
    )
    shutdown = Shutdown(grace_s=settings.worker_shutdown_grace_s)
    shutdown.install(asyncio.get_running_loop())

    async def scrape() -> bytes:
        found = worker.ctx.get("deps")
        try:
            await observe(metrics, worker.pool, found.pool if found else None, now=clock())
        except Exception as exc:  # a scrape during an outage still serves the counters
            log.debug("metrics_observe_failed", error=error_label(exc))
        return metrics.exposition()

    async with contextlib.AsyncExitStack() as stack:
        if settings.metrics_port is not None:
            server = status_server(status, host=settings.host, port=settings.metrics_port, scrape=scrape)
            await stack.enter_async_context(server)
        try:
            return await _supervise(worker, status, shutdown)
        finally:
            await _drain_and_close(worker, status, shutdown, grace_s=settings.worker_shutdown_grace_s)


async def _supervise(worker: Worker, status: WorkerStatus, shutdown: Shutdown) -> int:
    failures = 0
    while not shutdown.requested.is_set():
        main = asyncio.create_task(worker.main())
        stop = asyncio.create_task(shutdown.requested.wait())
        await asyncio.wait({main, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not main.done():
            main.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(main, CANCEL_WAIT_S)
            return 0
        exc = main.exception()
        if exc is None:
            return 0  # a burst worker found its queue empty
        if isinstance(exc, MigrationError | RedisNotDurable):
            print(f"worker refused to start: {exc}", file=sys.stderr)
            return 2
        if not is_transient(exc):
            raise exc
        failures = 1 if status.ready else failures + 1
        state = _waiting_state(exc)
        status.set(state, reason=error_label(exc))
        if state == "waiting_for_redis":
            # Idle connections to a restarted Redis are dead: each would fail once more after it is back.
            with contextlib.suppress(redis_errors.RedisError, OSError):
                await worker.pool.connection_pool.disconnect(inuse_connections=False)
        await shutdown.sleep(reconnect_delay(failures))
        _reap(worker)
    return 0


def _reap(worker: Worker) -> None:
    """Drop finished job tasks before arq's loop resumes: it re-raises a finished task's error (there, a job
    that could not report its end to the Redis that was down), which would stop the loop once more."""
    for job_id, task in list(worker.tasks.items()):
        if task.done():
            del worker.tasks[job_id]
            if not task.cancelled() and task.exception() is not None:
                log.warning("job_lost_its_redis", error=error_label(task.exception()))  # type: ignore[arg-type]


def reconnect_delay(failures: int, *, rand: float | None = None) -> float:
    """Capped exponential backoff with jitter between attempts to resume: 0.5 s, then up to 30 s."""
    jitter = random.random() if rand is None else rand
    return RECONNECT_BASE_S + full_jitter(failures - 1, base_s=RECONNECT_BASE_S, cap_s=RECONNECT_CAP_S, rand=jitter)


def _waiting_state(exc: BaseException) -> State:
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, redis_errors.RedisError):
            return "waiting_for_redis"
        current = current.__cause__ or current.__context__
    return "waiting_for_postgres"


async def _drain_and_close(worker: Worker, status: WorkerStatus, shutdown: Shutdown, *, grace_s: float) -> None:
    status.set("draining")
    try:
        worker.allow_pick_jobs = False
        running = [task for task in worker.tasks.values() if not task.done()]
        if running:
            log.info("draining_jobs", jobs=len(running), grace_s=grace_s)
            await _wait_unless_forced(running, shutdown, timeout_s=grace_s)
        await _cancel(worker.tasks.values())
        with contextlib.suppress(Exception):
            await asyncio.wait_for(_close(worker), CLOSE_WAIT_S)
    finally:
        status.set("stopped")


async def _wait_unless_forced(tasks: list[asyncio.Task[object]], shutdown: Shutdown, *, timeout_s: float) -> None:
    """Wait until every task is done, the timeout passes, or a second signal asks us to stop waiting."""
    every = asyncio.ensure_future(asyncio.wait(tasks))
    forced = asyncio.ensure_future(shutdown.forced.wait())
    await asyncio.wait({every, forced}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    every.cancel()  # cancels the waiting, not the tasks
    forced.cancel()


async def _cancel(tasks: Iterable[asyncio.Task[object]]) -> None:
    """Cancel what is still running (arq puts those jobs back in the queue) and wait a little for them."""
    left = [task for task in tasks if not task.done()]
    for task in left:
        task.cancel()
    if left:
        log.warning("jobs_cancelled_at_shutdown", jobs=len(left))
        await asyncio.wait(left, timeout=CANCEL_WAIT_S)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: a job's failure was already logged by its boundary


async def _close(worker: Worker) -> None:
    """arq's `close()` without its unbounded gather and its Redis writes: our clients, then the Redis pool."""
    try:
        if worker.on_shutdown is not None:
            await worker.on_shutdown(worker.ctx)
    finally:
        with contextlib.suppress(redis_errors.RedisError, OSError):
            await worker.pool.close(close_connection_pool=True)


def _hard_exit(after_s: float) -> None:
    # The loop is stuck (a job blocking it, or a close that never returns): a platform would SIGKILL us
    # soon anyway, and arq re-runs whatever was in flight.
    flush_logs()  # os._exit skips the exit handlers that would write them
    print(f"worker did not stop within {after_s:.0f} s of SIGTERM; exiting", file=sys.stderr, flush=True)
    os._exit(3)
