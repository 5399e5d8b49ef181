"""Reminder jobs: dispatch due rows, send one reminder.

Effects are claimed, performed, recorded: `dispatch_due_reminders` claims due rows with a lease and
enqueues one `send_reminder` per claim. A send reads top to bottom: renew the claim; load the interview
(and, for due reminders, whether the feedback is in); decide (`skip_reason`, pure); load the person it goes
to; act (post in Slack); record (`channel`/`ts`). A lease that expires (the worker died) is claimed again
by a later dispatch; a row that keeps failing is parked as `failed` with its reason after MAX_FAILURES.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from redis.exceptions import RedisError

from shared import jobs
from shared.blocks import EscalationItem, MissingInterviewer, brief_message, due_message, escalation_message
from shared.db import feedback as feedback_db
from shared.db import reminders as reminders_db
from shared.db.reminders import ReminderRow
from shared.errors import Permanent, Transient, error_label, is_transient
from shared.modal_cache import modal_key
from shared.people import resolve_person
from workers.deps import Deps, deps
from workers.interview import Interview, InterviewGone, load_interview
from workers.job_boundary import job
from workers.modals import PEOPLE_MAX_AGE, FormUnavailable, person_of, prerender

# Longer than the job timeout (60 s), so a claim is only taken back from a worker that is gone.
LEASE = timedelta(minutes=2)
MAX_FAILURES = 3
# Slack has no idempotency key: between a post Slack accepted and its record in PostgreSQL (which may be
# failing over just then) the post is remembered in Redis, so the retry records it instead of posting again.
POSTED_PREFIX = "fleet:posted:"
POSTED_TTL_S = 24 * 3600
log = structlog.get_logger("worker.reminders")


@job(periodic=True)
async def dispatch_due_reminders(ctx: dict[str, Any]) -> dict[str, Any]:
    d = deps(ctx)
    claims = await reminders_db.claim_due(d.pool, now=d.clock(), lease=LEASE, max_failures=MAX_FAILURES)
    for reminder_id, attempt in claims.claimed:
        await jobs.enqueue_default(
            d.queue, jobs.SEND_REMINDER, reminder_id, attempt, job_id=f"reminder:{reminder_id}:{attempt}"
        )
    if claims.parked:
        log.error("reminders_parked", count=claims.parked, reason="worker_lost_mid_send")
    return {"claimed": len(claims.claimed), "parked": claims.parked}


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
    except InterviewGone:
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
    except Exception as exc:
        if is_transient(exc):
            raise  # the database or Redis blinked: the boundary retries, and the claim is renewed then
        # A bug or bad data: counted on the row, which is parked after MAX_FAILURES instead of wedging.
        state = await reminders_db.record_failure(
            d.pool, row.id, attempt=row.attempts, error=error_label(exc), max_failures=MAX_FAILURES
        )
        log.error("reminder_failed", reminder_id=row.id, kind=row.kind, error=error_label(exc), state=state)
        outcome = "failed"
    return {"outcome": outcome}


async def _send(d: Deps, row: ReminderRow) -> str:
    posted = await _posted(d, row.id)
    if posted is not None:  # an earlier try posted it, then could not record it
        await reminders_db.mark_sent(
            d.pool, row.id, attempt=row.attempts, channel=posted[0], ts=posted[1], now=d.clock()
        )
        return "sent"
    key = modal_key(row.event_id, row.interviewer_id)
    interview = await load_interview(d, row.event_id, row.interviewer_id, resume_key=key)
    answered = row.kind in ("due", "overdue") and await feedback_db.has_feedback(
        d.pool, row.event_id, row.interviewer_id
    )
    reason = skip_reason(row, interview, answered=answered, now=d.clock())
    if reason:
        await reminders_db.mark_skipped(d.pool, [row.id], reason)
        return "skipped"
    if row.kind == "escalation":
        return await _escalate(d, row, interview)
    person = await person_of(d, interview)
    if person.status != "matched" or person.slack_user_id is None:
        await reminders_db.mark_skipped(d.pool, [row.id], f"no_slack_user:{person.status}")
        return "skipped"
    tz = person.tz or "UTC"
    if row.kind == "brief":
        text, blocks = brief_message(interview.info, tz=tz)
    else:
        text, blocks = due_message(interview.info, tz=tz, kind=row.kind, sequence=row.sequence, reminder_key=key)  # type: ignore[arg-type]
        try:
            await prerender(d, interview, person.slack_user_id)  # the form is ready before its button exists
        except FormUnavailable:
            pass  # the reminder matters more; a click opens "Loading…" and a worker renders it then
    channel, ts = await d.slack.post_message(person.slack_user_id, text, blocks)
    await _remember_post(d, row.id, channel, ts)
    await reminders_db.mark_sent(d.pool, row.id, attempt=row.attempts, channel=channel, ts=ts, now=d.clock())
    log.info("reminder_sent", reminder_id=row.id, kind=row.kind, sequence=row.sequence)
    return "sent"


async def _remember_post(d: Deps, reminder_id: int, channel: str, ts: str, *, recipient: str = "") -> None:
    try:
        await d.queue.set(f"{POSTED_PREFIX}{reminder_id}:{recipient}", f"{channel} {ts}", ex=POSTED_TTL_S)
    except (RedisError, OSError):
        pass  # Redis is down too: the record below is the only guard left


async def _posted(d: Deps, reminder_id: int, *, recipient: str = "") -> tuple[str, str] | None:
    raw = await d.queue.get(f"{POSTED_PREFIX}{reminder_id}:{recipient}")
    if raw is None:
        return None
    channel, _, ts = (raw.decode() if isinstance(raw, bytes) else str(raw)).partition(" ")
    return channel, ts


def skip_reason(row: ReminderRow, interview: Interview, *, answered: bool, now: datetime) -> str | None:
    """Why this reminder should not go out any more, if it should not (pure)."""
    if interview.seat.cancelled:
        return "event_cancelled"
    if interview.removed:
        return "event_or_interviewer_removed"
    if row.kind == "brief" and now >= interview.start:
        return "event_started"
    if answered:
        return "feedback_submitted"
    return None


async def _escalate(d: Deps, row: ReminderRow, interview: Interview) -> str:
    """One message per event to its recruiter and coordinator, listing whose feedback is still missing."""
    missing = await reminders_db.missing_feedback(d.pool, row.event_id)
    siblings = await reminders_db.pending_escalations(d.pool, row.event_id)
    if not missing:
        await reminders_db.mark_skipped(d.pool, siblings, "feedback_complete")
        return "skipped"
    if not await reminders_db.claim_escalation(d.pool, row.event_id, row.id, attempt=row.attempts):
        return "not_claimed"  # a sibling escalation of this event won, or was sent already
    slack_ids: list[str] = []
    for member in interview.hiring_team:
        if not (member.recruits and member.email):
            continue
        person = await resolve_person(
            d.pool, d.slack, ashby_user_id=member.user_id, email=member.email, now=d.clock(), max_age=PEOPLE_MAX_AGE
        )
        if person.status == "matched" and person.slack_user_id and person.slack_user_id not in slack_ids:
            slack_ids.append(person.slack_user_id)
    if not slack_ids:
        await reminders_db.mark_skipped(d.pool, [row.id], "no_recruiter_in_slack")
        return "skipped"
    item = EscalationItem(
        candidate_name=interview.candidate_name,
        interview_title=interview.title,
        start=interview.start,
        end=interview.end,
        missing=[MissingInterviewer(name=name, slack_user_id=slack_id) for name, slack_id in missing],
        job_title=interview.application.job_title,
        candidate_url=interview.application.candidate_url,
    )
    text, blocks = escalation_message([item], tz="UTC")
    channel = ts = ""
    reached = await reminders_db.escalated_to(d.pool, row.id)
    for slack_id in slack_ids:
        if slack_id in reached:
            continue  # an earlier try reached them before Slack refused the next post
        # A Transient failure here releases the row; the retry skips everyone recorded so far.
        posted = await _posted(d, row.id, recipient=slack_id)
        if posted is None:
            posted = await d.slack.post_message(slack_id, text, blocks)
            await _remember_post(d, row.id, *posted, recipient=slack_id)
        channel, ts = posted
        await reminders_db.record_escalation_delivery(
            d.pool, row.id, slack_user_id=slack_id, channel=channel, ts=ts, now=d.clock()
        )
    await reminders_db.mark_sent(d.pool, row.id, attempt=row.attempts, channel=channel, ts=ts, now=d.clock())
    return "sent"
