"""Storing what Ashby says about schedules and applications, and what follows from it: the interviewers'
reminder plan, the application's advancement mark, and the people lookups and metadata refreshes to queue.

`apply_schedules` stores a whole batch of schedules in one transaction with a fixed number of statements per
round; `apply_schedule` stores one (the reconcile sync, and a batch PostgreSQL refused, record by record).
Both leave the same rows. Idempotent: the same schedule applied twice leaves the same rows, and an older
`updatedAt` changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import asyncpg
import structlog

from shared.db import advancement as advancement_db
from shared.db import ashby_cache
from shared.db import people as people_db
from shared.db import privacy as privacy_db
from shared.db import reminders as reminders_db
from shared.db.schedule_batch import upsert_round
from shared.db.schedules import CANDIDATE_DELETED, STORED, ScheduleChange, upsert_schedule
from shared.errors import error_label, is_transient
from shared.payloads.ashby import Application, InterviewSchedule
from shared.webhook_batch import rounds
from workers.deps import Deps
from workers.jobs.people import queue_lookups
from workers.metadata_refresh import queue_refresh

log = structlog.get_logger("worker.ashby_events")


async def apply_schedule(d: Deps, schedule: InterviewSchedule) -> tuple[ScheduleChange, int]:
    """Store one schedule and plan its reminders; returns the change and how many reminders were added."""
    [result] = await apply_schedules(d, [schedule], one_by_one=True)
    return result


Applied = tuple[ScheduleChange, int]


async def apply_each(d: Deps, schedules: Sequence[InterviewSchedule]) -> list[Applied | Exception]:
    """`apply_schedules`, with each schedule's own outcome: when PostgreSQL refuses the batch for a value or a
    constraint, the schedules are stored again one per transaction, so only the refused one fails. A blip
    (PostgreSQL or Redis gone) fails them all: the caller hands them back to the queue."""
    try:
        return list(await apply_schedules(d, schedules))
    except Exception as exc:
        if is_transient(exc) or len(schedules) == 1:
            return [exc] * len(schedules)
        log.warning("ashby_batch_refused", error=error_label(exc), webhooks=len(schedules))
    results: list[Applied | Exception] = []
    for schedule in schedules:
        try:
            results.append(await apply_schedule(d, schedule))
        except Exception as exc:
            results.append(exc)
    return results


async def apply_schedules(
    d: Deps, schedules: Sequence[InterviewSchedule], *, one_by_one: bool = False
) -> list[tuple[ScheduleChange, int]]:
    """Store schedules in queue order and plan their reminders, all in one transaction (which makes no network
    call); then queue the lookups and refreshes they need. A change and the reminders added, per schedule."""
    now = d.clock()
    results: list[tuple[ScheduleChange, int]] = [(ScheduleChange("stale"), 0)] * len(schedules)
    async with d.pool.acquire() as conn, conn.transaction():
        candidates, applications = await privacy_db.deleted_of(
            conn,
            candidate_ids=_unique(s.candidate_id for s in schedules),
            application_ids=_unique(s.application_id for s in schedules),
        )
        kept = [
            i
            for i, s in enumerate(schedules)
            if s.candidate_id not in candidates and s.application_id not in applications
        ]
        for i in set(range(len(schedules))) - set(kept):
            results[i] = (ScheduleChange(CANDIDATE_DELETED), 0)
        groups = [kept] if one_by_one else [[kept[j] for j in group] for group in rounds([schedules[i] for i in kept])]
        for indexes in groups:
            changes = await _store(conn, [schedules[i] for i in indexes], now=now, one_by_one=one_by_one)
            event_ids = list(dict.fromkeys(e for change in changes for e in change.event_ids))
            if not event_ids:
                for i, change in zip(indexes, changes, strict=True):
                    results[i] = (change, 0)
                continue
            planned = await reminders_db.plan_events_in(conn, event_ids, d.policy, now=now)
            for i, change in zip(indexes, changes, strict=True):
                results[i] = (change, sum(planned.inserted_by_event.get(e, 0) for e in dict.fromkeys(change.event_ids)))
        touched = list(dict.fromkeys(e for change, _ in results for e in change.event_ids))
        if not touched:
            return results
        unknown = await people_db.unknown_interviewers(conn, touched)
        reminding = await reminders_db.events_with_pending(conn, touched)
        # A schedule's events and interviewers are part of its application's evidence for advancement.
        applied = [s for s, (change, _) in zip(schedules, results, strict=True) if change.outcome in STORED]
        await advancement_db.mark_dirty(conn, [s.application_id or "" for s in applied], reason="schedule", at=now)
    await queue_lookups(d, unknown)
    # Warm the metadata reminders will show, now, days ahead, so sends never wait on the Ashby budget; only
    # for events with reminders to come (a first full sync brings years of past interviews).
    if reminding:
        await queue_refresh(
            d,
            applications=_unique(s.application_id for s in applied if _reminds(s, reminding)),
            interviews=_unique(e.interview_id for s in applied for e in s.interview_events if e.id in reminding),
        )
    return results


async def _store(
    conn: asyncpg.Connection, schedules: list[InterviewSchedule], *, now: datetime, one_by_one: bool
) -> list[ScheduleChange]:
    if one_by_one:
        return [await upsert_schedule(conn, s, now=now) for s in schedules]
    return await upsert_round(conn, schedules, now=now)


def _reminds(schedule: InterviewSchedule, reminding: set[str]) -> bool:
    return any(e.id in reminding for e in schedule.interview_events)


def _unique(values: Iterable[str | None]) -> list[str]:
    return [v for v in dict.fromkeys(values) if v]


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
