"""Mirror Ashby interview schedules into PostgreSQL: from webhooks (`ingest_ashby_event`) and from the
periodic incremental sync that catches webhooks Ashby never delivered (`reconcile_schedules`).

Idempotent: the same schedule applied twice leaves the same rows, and an older `updatedAt` changes
nothing. Then the interviewers' reminders are (re)planned from the stored schedule, and interviewers not
yet in the people directory are queued for a Slack lookup.
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog

from shared import jobs
from shared.db import people as people_db
from shared.db import reminders as reminders_db
from shared.db import sync_tokens
from shared.db.schedules import ScheduleChange, upsert_schedule
from shared.errors import Permanent, error_label, is_transient
from shared.payloads.ashby import (
    InterviewSchedule,
    InterviewScheduleData,
    InterviewScheduleWebhook,
    decode_schedule_webhook,
)
from workers.alone import alone
from workers.deps import Deps, deps
from workers.job_boundary import dead_letter, job
from workers.jobs.people import queue_lookups
from workers.metadata import queue_refresh

SCHEDULE_SYNC = "interviewSchedule.list"


class UndecodableWebhook(Permanent):
    """A stored webhook body that no longer decodes (the contract drifted)."""


log = structlog.get_logger("worker.ashby_events")


async def apply_schedule(d: Deps, schedule: InterviewSchedule) -> tuple[ScheduleChange, int]:
    """Store one schedule and plan its reminders; returns the change and how many reminders were added."""
    now = d.clock()
    # One transaction for the schedule and its plan: fewer round trips, and never one without the other.
    async with d.pool.acquire() as conn, conn.transaction():
        change = await upsert_schedule(conn, schedule, now=now)
        if change.outcome == "stale":
            return change, 0
        planned = await reminders_db.plan_events_in(conn, change.event_ids, d.policy, now=now)
        unknown = await people_db.unknown_interviewers(conn, change.event_ids)
        reminding = await reminders_db.events_with_pending(conn, change.event_ids)
    await queue_lookups(d, unknown)
    # Warm the metadata reminders will show, now, days ahead, so sends never wait on the Ashby budget; only
    # for events with reminders to come (a first full sync brings years of past interviews).
    if reminding:
        await queue_refresh(
            d,
            applications=[schedule.application_id] if schedule.application_id else [],
            interviews={e.interview_id for e in schedule.interview_events if e.id in reminding},
        )
    return change, planned.inserted


def _schedule_of(args: tuple[Any, ...]) -> str:
    """The dead letter's subject: the schedule's id, read from the webhook body."""
    return str(decode_schedule_webhook(args[0]).data.interview_schedule.id)


@job(subject=_schedule_of)
async def ingest_ashby_event(ctx: dict[str, Any], body: bytes, request_id: str | None = None) -> dict[str, Any]:
    d = deps(ctx)
    try:
        webhook = decode_schedule_webhook(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        # The ingress validated this body; a failure here means the contract drifted: a dead letter, no retry.
        raise UndecodableWebhook("the webhook body no longer decodes") from exc
    schedule = webhook.data.interview_schedule
    change, planned = await apply_schedule(d, schedule)
    log.info("ashby_schedule_ingested", schedule_id=schedule.id, outcome=change.outcome, events=len(change.event_ids))
    return {"outcome": change.outcome, "events": len(change.event_ids), "reminders_planned": planned}


@job(periodic=True)
async def reconcile_schedules(ctx: dict[str, Any]) -> dict[str, Any]:
    """Schedules changed since the stored syncToken (a full pass the first time or when Ashby expires it)."""
    d = deps(ctx)
    async with alone(d.queue, SCHEDULE_SYNC) as mine:
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
        applied += change.outcome != "stale"
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
