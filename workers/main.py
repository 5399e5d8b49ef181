"""arq worker processes: one WorkerSettings per queue, dependencies built once in on_startup.

`interactive` serves people waiting on Slack (modal hydration, submissions, drafts, clicks); `default`
serves everything else (webhook ingestion, reminders, syncs). Each queue is its own process and scales
alone. Periodic work is arq cron with unique=True, so N replicas run each tick once; except the reminder
dispatcher, which has its own timer in each `default` worker (`workers/dispatch_clock.py`) so that a backlog
of sends in the queue never delays it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from arq import cron, func
from arq.cron import CronJob
from arq.worker import Function, Worker

from shared.db.migrations import assert_up_to_date, default_directory, load_migrations
from shared.durability import check_redis_persistence
from shared.jobs import QUEUES, WEBHOOK_DEDUPE_S, deserialize, queue_redis, serialize
from shared.metrics import Metrics
from shared.settings import Settings
from workers import dispatch_clock
from workers.deps import Clock, build_deps, utc_now
from workers.job_boundary import ARQ_MAX_TRIES
from workers.jobs.advancement import (
    decide_click,
    evaluate_advancement,
    execute_decision,
    post_debrief,
    post_decision,
    refresh_catalog,
)
from workers.jobs.ashby_events import ingest_ashby_event, reconcile_schedules
from workers.jobs.forms import hydrate_modal, notify_open_failed, save_draft, send_resume_link
from workers.jobs.home import answer_feedback_command, publish_home
from workers.jobs.people import resolve_people
from workers.jobs.privacy import PURGE_TIMEOUT_S, purge_expired
from workers.jobs.reminders import dispatch_due_reminders, send_reminder
from workers.jobs.submissions import mark_feedback_submitted, notify_submission_failed, submit_feedback
from workers.jobs.sync import SYNC_TIMEOUT_S, sync_feedback
from workers.metadata_refresh import refresh_metadata
from workers.work_set import RUN_BUDGET_S

JOB_TIMEOUT_S = 60
WORK_SET_TIMEOUT_S = RUN_BUDGET_S + 45


def functions_for(queue: str) -> list[Function]:
    """The queue's job functions. Retries are decided by each job's boundary (`workers/job_boundary.py`), so
    arq's own cap is a backstop far above it; periodic runs (crons, work sets) are never retried by arq."""
    if queue == "default":
        return [
            _func(ingest_ashby_event, keep_result=WEBHOOK_DEDUPE_S),
            # keep_result=0: these ids are reused on purpose (a new claim, feedback seen again), never blocked.
            _func(send_reminder),
            _func(mark_feedback_submitted),
            # Run by each worker's own timer (workers/dispatch_clock.py), not a cron; registered so that a run
            # enqueued by hand (the end-to-end tests do) still runs.
            _func(dispatch_due_reminders),
            _func(sync_feedback, timeout=SYNC_TIMEOUT_S),
            _func(reconcile_schedules, timeout=SYNC_TIMEOUT_S),
            # Work sets, one job each at a time (fixed job id): they stop taking work after RUN_BUDGET_S, then
            # their last requests finish within the clients' own retry budgets.
            _func(refresh_metadata, timeout=WORK_SET_TIMEOUT_S),
            _func(resolve_people, timeout=WORK_SET_TIMEOUT_S),
            _func(evaluate_advancement, timeout=WORK_SET_TIMEOUT_S),
            _func(execute_decision),
            _func(post_decision),
            _func(post_debrief),
            _func(refresh_catalog, timeout=SYNC_TIMEOUT_S),
            _func(purge_expired, timeout=PURGE_TIMEOUT_S),
        ]
    if queue == "interactive":
        return [
            _func(hydrate_modal),
            # keep_result=0: a double submit is refused at enqueue while the first is queued or running, and by
            # the claim in Postgres after that; a kept result would also refuse the resubmission of a form
            # Ashby rejected (same job id), silently losing the corrected answers.
            _func(submit_feedback),
            _func(save_draft),
            _func(send_resume_link),
            _func(notify_open_failed),
            _func(notify_submission_failed),
            _func(decide_click),
            _func(publish_home),
            _func(answer_feedback_command),
        ]
    raise ValueError(f"unknown queue {queue!r}; expected one of {sorted(QUEUES)}")


def _func(coroutine: Any, *, keep_result: int = 0, timeout: int | None = None) -> Function:
    periodic = getattr(coroutine, "periodic", False)
    return func(
        coroutine,
        name=coroutine.__name__,
        keep_result=keep_result,
        max_tries=1 if periodic else ARQ_MAX_TRIES,
        timeout=timeout,
    )


def cron_jobs_for(queue: str) -> list[CronJob]:
    if queue != "default":
        return []
    return [
        cron(
            sync_feedback, name="cron:sync_feedback", second=5, unique=True, run_at_startup=True, timeout=SYNC_TIMEOUT_S
        ),
        # Carry on the work sets' jobs that stopped at their time budget or because Ashby or Slack was busy.
        cron(refresh_metadata, name="cron:refresh_metadata", second=50, unique=True, timeout=WORK_SET_TIMEOUT_S),
        cron(resolve_people, name="cron:resolve_people", second=55, unique=True, timeout=WORK_SET_TIMEOUT_S),
        # Applications whose evidence changed, and those whose quiet period or timeout fell due.
        cron(
            evaluate_advancement,
            name="cron:evaluate_advancement",
            second={20, 50},
            unique=True,
            run_at_startup=True,
            timeout=WORK_SET_TIMEOUT_S,
        ),
        cron(
            refresh_catalog,
            name="cron:refresh_catalog",
            minute=25,
            second=40,
            unique=True,
            run_at_startup=True,
            timeout=SYNC_TIMEOUT_S,
        ),
        # Personal data whose retention ran out (docs/privacy.md), at a quiet hour.
        cron(
            purge_expired, name="cron:purge_expired", hour=3, minute=17, second=0, unique=True, timeout=PURGE_TIMEOUT_S
        ),
        # Catches schedule webhooks that never arrived (Ashby gave up, or Redis lost the job).
        cron(
            reconcile_schedules,
            name="cron:reconcile_schedules",
            minute=set(range(0, 60, 10)),
            second=35,
            unique=True,
            run_at_startup=True,
            timeout=SYNC_TIMEOUT_S,
        ),
    ]


def worker_settings(
    settings: Settings,
    queue: str,
    *,
    clock: Clock = utc_now,
    burst: bool = False,
    on_ready: Callable[[], object] | None = None,
    metrics: Metrics | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker` serving `queue` ("interactive" or "default").

    `on_startup` runs at every (re)start of arq's main loop (`workers/process.py` restarts it after a Redis
    outage): it builds the dependencies once, and checks the schema and Redis's persistence every time."""
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError("DATABASE_URL and REDIS_URL are required to run a worker (or use `fleet demo`)")
    stack = contextlib.AsyncExitStack()

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["queue_name"] = QUEUES[queue]
        if "deps" not in ctx:
            ctx["deps"] = await stack.enter_async_context(
                build_deps(settings, ctx["redis"], clock=clock, metrics=metrics)
            )
        async with ctx["deps"].pool.acquire() as conn:
            await assert_up_to_date(conn, load_migrations(default_directory()))
        await check_redis_persistence(ctx["redis"], production=settings.is_production)
        if queue == "default" and not burst:
            dispatch_clock.start(ctx)
        if on_ready is not None:
            on_ready()

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await dispatch_clock.stop(ctx)
        await stack.aclose()

    return {
        "functions": functions_for(queue),
        "cron_jobs": [] if burst else cron_jobs_for(queue),
        "queue_name": QUEUES[queue],
        "redis_pool": queue_redis(settings.redis_url, connect_timeout_s=5, op_timeout_s=10),
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "job_serializer": serialize,
        "job_deserializer": deserialize,
        "max_jobs": settings.worker_max_jobs,
        "job_timeout": JOB_TIMEOUT_S,
        "health_check_interval": 30,
        "burst": burst,
        "poll_delay": 0.2,
        # Signals are ours (workers/process.py): a drain bounded by WORKER_SHUTDOWN_GRACE_S whatever the jobs do.
        "handle_signals": False,
    }


def create_worker(
    settings: Settings,
    queue: str,
    *,
    clock: Clock = utc_now,
    burst: bool = False,
    on_ready: Callable[[], object] | None = None,
    metrics: Metrics | None = None,
) -> Worker:
    worker = Worker(**worker_settings(settings, queue, clock=clock, burst=burst, on_ready=on_ready, metrics=metrics))
    # arq re-runs a job whose worker vanished once its in-progress mark expires, which it sets from the LONGEST
    # timeout of any function (the 30-minute syncs): a webhook in a killed worker would wait half an hour.
    # Every long job here also holds its own lock (`workers/run_lock.py`), so a second pick of a job still
    # running finds the lock taken and ends at once; the short jobs' bound is what matters.
    worker.in_progress_timeout_s = JOB_TIMEOUT_S + 10
    return worker
