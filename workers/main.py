"""arq worker processes: one WorkerSettings per queue, dependencies built once in on_startup.

`interactive` serves people waiting on Slack (modal hydration, submissions, drafts, clicks); `default`
serves everything else (webhook ingestion, reminders, syncs). Each queue is its own process and scales
alone. Periodic work is arq cron with unique=True, so N replicas run each tick once.
"""

from __future__ import annotations

import contextlib
from typing import Any

from arq import cron, func
from arq.cron import CronJob
from arq.worker import Function, Worker

from shared.db.migrations import assert_up_to_date, default_directory, load_migrations
from shared.jobs import QUEUES, WEBHOOK_DEDUPE_S, deserialize, queue_redis, serialize
from shared.settings import Settings
from workers.deps import Clock, build_deps, utc_now
from workers.jobs.ashby_events import ingest_ashby_event, reconcile_schedules
from workers.jobs.feedback import (
    SUBMIT_MAX_TRIES,
    hydrate_modal,
    mark_feedback_submitted,
    notify_open_failed,
    save_draft,
    send_resume_link,
    submit_feedback,
)
from workers.jobs.people import resolve_people
from workers.jobs.reminders import dispatch_due_reminders, send_reminder
from workers.jobs.sync import SYNC_TIMEOUT_S, sync_feedback
from workers.metadata import refresh_metadata
from workers.work_set import RUN_BUDGET_S

JOB_TIMEOUT_S = 60
WORK_SET_TIMEOUT_S = RUN_BUDGET_S + 45


def functions_for(queue: str) -> list[Function]:
    if queue == "default":
        return [
            func(ingest_ashby_event, name="ingest_ashby_event", keep_result=WEBHOOK_DEDUPE_S, max_tries=10),
            # keep_result=0: these ids are reused on purpose (a new claim, feedback seen again), never blocked.
            func(send_reminder, name="send_reminder", keep_result=0, max_tries=5),
            func(mark_feedback_submitted, name="mark_feedback_submitted", keep_result=0, max_tries=5),
            func(dispatch_due_reminders, name="dispatch_due_reminders", keep_result=0, max_tries=1),
            func(sync_feedback, name="sync_feedback", keep_result=0, max_tries=1, timeout=SYNC_TIMEOUT_S),
            func(reconcile_schedules, name="reconcile_schedules", keep_result=0, max_tries=1, timeout=SYNC_TIMEOUT_S),
            # Work sets, one job each at a time (fixed job id): they stop taking work after RUN_BUDGET_S, then
            # their last requests finish within the clients' own retry budgets.
            func(refresh_metadata, name="refresh_metadata", keep_result=0, max_tries=1, timeout=WORK_SET_TIMEOUT_S),
            func(resolve_people, name="resolve_people", keep_result=0, max_tries=1, timeout=WORK_SET_TIMEOUT_S),
        ]
    if queue == "interactive":
        return [
            func(hydrate_modal, name="hydrate_modal", keep_result=0, max_tries=3),
            # keep_result=0: a double submit is refused at enqueue while the first is queued or running, and by
            # the claim in Postgres after that; a kept result would also refuse the resubmission of a form
            # Ashby rejected (same job id), silently losing the corrected answers.
            func(submit_feedback, name="submit_feedback", keep_result=0, max_tries=SUBMIT_MAX_TRIES),
            func(save_draft, name="save_draft", keep_result=0, max_tries=3),
            func(send_resume_link, name="send_resume_link", keep_result=0, max_tries=3),
            func(notify_open_failed, name="notify_open_failed", keep_result=0, max_tries=3),
        ]
    raise ValueError(f"unknown queue {queue!r}; expected one of {sorted(QUEUES)}")


def cron_jobs_for(queue: str) -> list[CronJob]:
    if queue != "default":
        return []
    return [
        cron(
            dispatch_due_reminders,
            name="cron:dispatch_due_reminders",
            second={0, 15, 30, 45},
            unique=True,
            run_at_startup=True,
            timeout=JOB_TIMEOUT_S,
        ),
        cron(
            sync_feedback, name="cron:sync_feedback", second=5, unique=True, run_at_startup=True, timeout=SYNC_TIMEOUT_S
        ),
        # Carry on the work sets' jobs that stopped at their time budget or because Ashby or Slack was busy.
        cron(refresh_metadata, name="cron:refresh_metadata", second=50, unique=True, timeout=WORK_SET_TIMEOUT_S),
        cron(resolve_people, name="cron:resolve_people", second=55, unique=True, timeout=WORK_SET_TIMEOUT_S),
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


def worker_settings(settings: Settings, queue: str, *, clock: Clock = utc_now, burst: bool = False) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker` serving `queue` ("interactive" or "default")."""
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError("DATABASE_URL and REDIS_URL are required to run a worker (or use `fleet demo`)")
    stack = contextlib.AsyncExitStack()

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["deps"] = await stack.enter_async_context(build_deps(settings, ctx["redis"], clock=clock))
        async with ctx["deps"].pool.acquire() as conn:
            await assert_up_to_date(conn, load_migrations(default_directory()))

    async def on_shutdown(ctx: dict[str, Any]) -> None:
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
        # A deploy's SIGTERM drains: no new jobs, running ones finish (or are cancelled and run again elsewhere).
        "job_completion_wait": settings.worker_shutdown_grace_s,
        "job_timeout": JOB_TIMEOUT_S,
        "health_check_interval": 30,
        "burst": burst,
        "poll_delay": 0.2,
        "handle_signals": not burst,
    }


def create_worker(settings: Settings, queue: str, *, clock: Clock = utc_now, burst: bool = False) -> Worker:
    return Worker(**worker_settings(settings, queue, clock=clock, burst=burst))
