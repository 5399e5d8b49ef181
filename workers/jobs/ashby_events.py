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
from shared.db import advancement as advancement_db
from shared.db import ashby_cache, sync_tokens
from shared.db import people as people_db
from shared.db import reminders as reminders_db
from shared.db.schedules import ScheduleChange, upsert_schedule
from shared.errors import Permanent, error_label, is_transient
from shared.payloads.ashby import (
    APPLICATION_ACTIONS,
    CANDIDATE_ACTIONS,
    Application,
    InterviewSchedule,
    InterviewScheduleData,
    InterviewScheduleWebhook,
    decode_application_webhook,
    decode_candidate_webhook,
    decode_schedule_webhook,
    envelope_decoder,
)
from workers.deps import Deps, deps
from workers.job_boundary import dead_letter, job
from workers.jobs.people import queue_lookups
from workers.jobs.privacy import apply_candidate_event
from workers.metadata_refresh import queue_refresh
from workers.run_lock import one_run

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
        # A schedule's events and interviewers are part of its application's evidence for advancement.
        await advancement_db.mark_dirty(conn, [schedule.application_id or ""], reason="schedule", at=now)
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


async def apply_application(d: Deps, application: Application) -> bool:
    """An application moved or changed in Ashby: keep its place (stage, plan, status) and queue it for
    advancement, in one transaction; False when it was never cached (the refresher fetches it whole)."""
    stage = application.current_interview_stage
    async with d.pool.acquire() as conn, conn.transaction():
        known = await ashby_cache.update_place(
            conn,
            application.id,
            job_id=application.job.id if application.job else None,
            stage_id=stage.id if stage else None,
            stage_title=stage.title if stage else None,
            plan_id=stage.interview_plan_id if stage else None,
            status=application.status,
        )
        await advancement_db.mark_dirty(conn, [application.id], reason="stage_change", at=d.clock())
    if not known:
        await queue_refresh(d, applications=[application.id])
    return known


def _subject_of(args: tuple[Any, ...]) -> str:
    """The dead letter's subject: the schedule's, the application's or the candidate's id, read from the body."""
    action = envelope_decoder.decode(args[0]).action
    if action in APPLICATION_ACTIONS:
        return str(decode_application_webhook(args[0]).data.application.id)
    if action in CANDIDATE_ACTIONS:
        return decode_candidate_webhook(args[0]).candidate_id
    return str(decode_schedule_webhook(args[0]).data.interview_schedule.id)


@job(subject=_subject_of)
async def ingest_ashby_event(ctx: dict[str, Any], body: bytes) -> dict[str, Any]:
    d = deps(ctx)
    try:
        action = envelope_decoder.decode(body).action
        if action in CANDIDATE_ACTIONS:
            candidate_event = decode_candidate_webhook(body)
        elif action in APPLICATION_ACTIONS:
            application = decode_application_webhook(body).data.application
        else:
            schedule = decode_schedule_webhook(body).data.interview_schedule
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        # The ingress validated this body; a failure here means the contract drifted: a dead letter, no retry.
        raise UndecodableWebhook("the webhook body no longer decodes") from exc
    if action in CANDIDATE_ACTIONS:
        return await apply_candidate_event(d, candidate_event)
    if action in APPLICATION_ACTIONS:
        known = await apply_application(d, application)
        log.info("ashby_application_ingested", application_id=application.id, action=action, cached=known)
        return {"outcome": "recorded" if known else "refresh_queued"}
    change, planned = await apply_schedule(d, schedule)
    log.info("ashby_schedule_ingested", schedule_id=schedule.id, outcome=change.outcome, events=len(change.event_ids))
    return {"outcome": change.outcome, "events": len(change.event_ids), "reminders_planned": planned}


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
