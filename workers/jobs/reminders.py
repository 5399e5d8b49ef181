"""Reminder jobs: plan after a schedule changes, dispatch due rows, send one reminder.

Effects are claimed, performed, recorded: `dispatch_due_reminders` claims due rows with a lease and
enqueues one `send_reminder` per claim; the send checks it still holds the claim, posts, then records
`channel`/`ts`. A lease that expires (the worker died) is claimed again by a later dispatch.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from shared import jobs
from shared.blocks import EscalationItem, MissingInterviewer, brief_message, due_message, escalation_message
from shared.db import feedback as feedback_db
from shared.db import reminders as reminders_db
from shared.db.ashby_cache import RECRUITING_ROLES
from shared.errors import Permanent, Transient
from shared.modal_cache import modal_key
from shared.people import resolve_person
from workers.context import InterviewContext, MissingContext, load_context
from workers.deps import Deps, deps
from workers.job_boundary import job
from workers.modals import PEOPLE_MAX_AGE, person_of, prerender

# Longer than the job timeout (60 s), so a claim is only taken back from a worker that is gone.
LEASE = timedelta(minutes=2)
log = structlog.get_logger("worker.reminders")


@job(periodic=True)
async def dispatch_due_reminders(ctx: dict[str, Any]) -> dict[str, Any]:
    d = deps(ctx)
    claimed = await reminders_db.claim_due(d.pool, now=d.clock(), lease=LEASE)
    for reminder_id, attempt in claimed:
        await jobs.enqueue_default(
            d.queue, jobs.SEND_REMINDER, reminder_id, attempt, job_id=f"reminder:{reminder_id}:{attempt}"
        )
    return {"claimed": len(claimed)}


@job
async def send_reminder(ctx: dict[str, Any], reminder_id: int, attempt: int) -> dict[str, Any]:
    d = deps(ctx)
    # Renew the claim as the job starts: a claim may have waited in a long queue (Slack's budget paces
    # sends) until its lease ran out and a later dispatch took the row; renewing succeeds only for the
    # current holder, and then nobody else can take the row before this job (timeout < LEASE) is done.
    row = await reminders_db.renew_claim(d.pool, reminder_id, attempt=attempt, now=d.clock(), lease=LEASE)
    if row is None:
        return {"outcome": "not_claimed"}  # sent, skipped, or claimed again by a later dispatch
    try:
        outcome = await _send(d, row)
    except MissingContext:
        await reminders_db.mark_skipped(d.pool, [row.id], "unknown_event_or_interviewer")
        outcome = "skipped"
    except Transient as exc:
        # Slack or Ashby is busy: hand the claim back; the next dispatch takes it (no worker slot held).
        await reminders_db.release(d.pool, row.id)
        log.warning("reminder_released", reminder_id=row.id, error=type(exc).__name__)
        outcome = "released"
    except Permanent as exc:
        # Refused for good (e.g. Slack's user_disabled or channel_not_found): left `sending`, the row would be
        # claimed and refused again every lease, forever. Recorded with the reason instead, like a skip.
        await reminders_db.mark_skipped(d.pool, [row.id], f"refused:{exc.code or type(exc).__name__}")
        log.error("reminder_refused", reminder_id=row.id, kind=row.kind, code=exc.code)
        outcome = "refused"
    return {"outcome": outcome}


async def _send(d: Deps, row: reminders_db.ReminderRow) -> str:
    key = modal_key(row.event_id, row.interviewer_id)
    ctx = await load_context(d, row.event_id, row.interviewer_id, resume_key=key)
    reason = await _skip_reason(d, row, ctx)
    if reason:
        await reminders_db.mark_skipped(d.pool, [row.id], reason)
        return "skipped"
    if row.kind == "escalation":
        return await _escalate(d, row, ctx)
    person = await person_of(d, ctx)
    if person.status != "matched" or person.slack_user_id is None:
        await reminders_db.mark_skipped(d.pool, [row.id], f"no_slack_user:{person.status}")
        return "skipped"
    tz = person.tz or "UTC"
    if row.kind == "brief":
        text, blocks = brief_message(ctx.info, tz=tz)
    else:
        # The modal is ready in Redis before the button that opens it exists.
        await prerender(d, ctx, person.slack_user_id)
        text, blocks = due_message(ctx.info, tz=tz, kind=row.kind, sequence=row.sequence, reminder_key=key)  # type: ignore[arg-type]
    channel, ts = await d.slack.post_message(person.slack_user_id, text, blocks)
    await reminders_db.mark_sent(d.pool, row.id, attempt=row.attempts, channel=channel, ts=ts, now=d.clock())
    log.info("reminder_sent", reminder_id=row.id, kind=row.kind, sequence=row.sequence)
    return "sent"


async def _skip_reason(d: Deps, row: reminders_db.ReminderRow, ctx: InterviewContext) -> str | None:
    if ctx.cancelled:
        return "event_cancelled"
    if ctx.removed:
        return "event_or_interviewer_removed"
    if row.kind == "brief" and d.clock() >= ctx.start:
        return "event_started"
    if row.kind in ("due", "overdue") and await feedback_db.has_feedback(d.pool, row.event_id, row.interviewer_id):
        return "feedback_submitted"
    return None


async def _escalate(d: Deps, row: reminders_db.ReminderRow, ctx: InterviewContext) -> str:
    """One message per event to its recruiter and coordinator, listing whose feedback is still missing."""
    missing = await reminders_db.missing_feedback(d.pool, row.event_id)
    siblings = await reminders_db.pending_escalations(d.pool, row.event_id)
    if not missing:
        await reminders_db.mark_skipped(d.pool, siblings, "feedback_complete")
        return "skipped"
    if not await reminders_db.claim_escalation(d.pool, row.event_id, row.id, attempt=row.attempts):
        return "not_claimed"  # a sibling escalation of this event won, or was sent already
    recipients = [m for m in ctx.hiring_team if m.get("role") in RECRUITING_ROLES and m.get("email")]
    slack_ids: list[str] = []
    for member in recipients:
        person = await resolve_person(
            d.pool,
            d.slack,
            ashby_user_id=member["userId"],
            email=member["email"],
            now=d.clock(),
            max_age=PEOPLE_MAX_AGE,
        )
        if person.status == "matched" and person.slack_user_id and person.slack_user_id not in slack_ids:
            slack_ids.append(person.slack_user_id)
    if not slack_ids:
        await reminders_db.mark_skipped(d.pool, [row.id], "no_recruiter_in_slack")
        return "skipped"
    people = [MissingInterviewer(name=name, slack_user_id=slack_id) for name, slack_id in missing]
    item = EscalationItem(
        candidate_name=ctx.info.candidate_name,
        interview_title=ctx.interview_title,
        start=ctx.start,
        end=ctx.end,
        missing=people,
        job_title=ctx.info.job_title,
        candidate_url=ctx.info.candidate_url,
    )
    text, blocks = escalation_message([item], tz="UTC")
    channel = ts = ""
    reached = await reminders_db.escalated_to(d.pool, row.id)
    for slack_id in slack_ids:
        if slack_id in reached:
            continue  # an earlier try reached them before Slack refused the next post
        # A Transient failure here releases the row; the retry skips everyone recorded so far.
        channel, ts = await d.slack.post_message(slack_id, text, blocks)
        await reminders_db.record_escalation_delivery(
            d.pool, row.id, slack_user_id=slack_id, channel=channel, ts=ts, now=d.clock()
        )
    await reminders_db.mark_sent(d.pool, row.id, attempt=row.attempts, channel=channel, ts=ts, now=d.clock())
    return "sent"
