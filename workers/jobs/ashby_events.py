"""Mirror Ashby interview schedules into PostgreSQL: from webhooks (`ingest_ashby_event`, which stores queued
webhooks in batches: `workers/ingest_batch.py`) and from the periodic incremental sync that catches webhooks
Ashby never delivered (`reconcile_schedules`).

Idempotent: the same schedule applied twice leaves the same rows, and an older `updatedAt` changes
nothing. Then the interviewers' reminders are (re)planned from the stored schedule, and interviewers not
yet in the people directory are queued for a Slack lookup (`workers/schedule_store.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
import structlog

from shared import jobs
from shared.db import sync_tokens
from shared.db.schedules import STORED
from shared.errors import error_label, is_transient
from shared.payloads.ashby import InterviewSchedule, InterviewScheduleData, InterviewScheduleWebhook
from shared.webhook_batch import Webhook, subject_of
from workers.deps import Deps, deps
from workers.ingest_batch import UndecodableWebhook, ingest
from workers.job_boundary import dead_letter, job
from workers.run_lock import one_run
from workers.schedule_store import apply_application, apply_schedule

# Imported from here by other jobs and by dead letters' readers.
__all__ = ["UndecodableWebhook", "apply_application", "apply_schedule", "ingest_ashby_event", "reconcile_schedules"]

SCHEDULE_SYNC = "interviewSchedule.list"

log = structlog.get_logger("worker.ashby_events")


@job(subject=subject_of)
async def ingest_ashby_event(ctx: dict[str, Any], body: bytes) -> dict[str, Any]:
    """Store this webhook, and with it a batch of others still queued (`workers/ingest_batch.py`)."""
    enqueued = ctx.get("enqueue_time")
    own = Webhook(
        job_id=str(ctx.get("job_id")),
        body=body,
        kwargs={},
        job_try=int(ctx.get("job_try", 1)),
        enqueue_ms=int(enqueued.timestamp() * 1000) if isinstance(enqueued, datetime) else None,
    )
    return await ingest(deps(ctx), own)


@job(periodic=True)
async def reconcile_schedules(ctx: dict[str, Any]) -> dict[str, Any]:
    """Schedules changed since the stored syncToken (a full pass the first time or when Ashby expires it)."""
    d = deps(ctx)
    async with one_run(d.queue, SCHEDULE_SYNC) as mine:
        if not mine:
            return {"outcome": "already_running"}
        return await _reconcile(d)


async def _reconcile(d: Deps) -> dict[str, Any]:
    run = d.ashby.sync_interview_schedules(await sync_tokens.get(d.pool, SCHEDULE_SYNC))
    applied = skipped = 0
    async for schedule in run:
        try:
            change, _ = await apply_schedule(d, schedule)
        except Exception as exc:
            if is_transient(exc):
                raise  # the whole run stops; its token is not stored, so the next one reads these again
            # One record that cannot be stored must not stop the safety net: the rest of the run goes on,
            # and this schedule waits as a dead letter, replayable as the webhook it would have been.
            await _skip(d, schedule, exc)
            skipped += 1
            continue
        applied += change.outcome in STORED
    await sync_tokens.put(d.pool, SCHEDULE_SYNC, run.sync_token, full_sync=run.full_resync, now=d.clock())
    return {"seen": run.count, "applied": applied, "skipped": skipped, "full_resync": run.full_resync}


async def _skip(d: Deps, schedule: InterviewSchedule, exc: Exception) -> None:
    body = msgspec.json.encode(
        InterviewScheduleWebhook(action="interviewScheduleUpdate", data=InterviewScheduleData(schedule))
    )
    updated = schedule.updated_at.isoformat() if schedule.updated_at else "-"
    await dead_letter(
        d,
        job_id=f"reconcile:{schedule.id}:{updated}",
        job_name=jobs.INGEST_ASHBY_EVENT,
        queue=jobs.QUEUE_DEFAULT,
        args=(body,),
        kwargs={},
        subject=schedule.id,
        error=error_label(exc),
        attempts=1,
    )
    log.error("schedule_skipped", schedule_id=schedule.id, error=error_label(exc))
