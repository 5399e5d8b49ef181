"""Reminder jobs: dispatch due rows, send one reminder.

Effects are claimed, performed, recorded: `dispatch_due_reminders` (every 15 s, on its own clock in each
worker: `workers/dispatch_clock.py`) claims due rows with a lease, and the briefs that must leave early for
the Slack budget to deliver every one on time, and enqueues one `send_reminder` per claim. A send reads top
to bottom: renew the claim; load the facts (`workers/loads.py`); decide (`shared/reminder_sends.py`, pure);
act (cache the form, post in Slack, remember the post until it is recorded); record. A lease that expires
(the worker died) is claimed again by a later dispatch; a row that keeps failing is parked as `failed` with
its reason after MAX_FAILURES.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import structlog

from shared import jobs, post_marks
from shared.db import reminders as reminders_db
from shared.errors import Permanent, Transient, error_label, is_transient
from shared.modal_cache import store_modal
from shared.reminder_sends import Deliver, decide_send
from shared.reminders import Pace
from shared.settings import Settings
from workers import loads
from workers.deps import deps
from workers.interview import InterviewGone
from workers.job_boundary import job

# Longer than the job timeout (60 s), so a claim is only taken back from a worker that is gone.
LEASE = timedelta(minutes=2)
# Briefs are spread at this share of the Slack budget: the rest is for what cannot move (due, overdue and
# escalation reminders, decisions) and for sends slower than the budget, so a crowd still finishes in time.
PLAN_SHARE = 0.8
# A row left unclaimed waits for the next dispatch tick (TICK in workers/dispatch_clock.py): that, and a margin.
HORIZON = timedelta(seconds=30)
# Claims not yet sent are kept to this many seconds of the budget, a third of the lease: every claimed send
# starts (and renews its claim) well before its lease runs out, however many rows fall due at once.
IN_FLIGHT = timedelta(seconds=40)
MAX_FAILURES = 3
log = structlog.get_logger("worker.reminders")


def pace(settings: Settings) -> Pace:
    """The dispatcher's share of the workspace's Slack budget (see `shared.reminders.Pace`)."""
    per_s = settings.slack_messages_per_second
    return Pace(
        per_s=per_s * PLAN_SHARE,
        early=timedelta(minutes=settings.reminder_brief_early_minutes),
        horizon=HORIZON,
        max_in_flight=max(1, math.floor(per_s * IN_FLIGHT.total_seconds())),
    )


@job(periodic=True)
async def dispatch_due_reminders(ctx: dict[str, Any]) -> dict[str, Any]:
    d = deps(ctx)
    claims = await reminders_db.claim_due(
        d.pool, now=d.clock(), lease=LEASE, max_failures=MAX_FAILURES, pace=pace(d.settings)
    )
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
        facts = await loads.send_facts(d, row)
        plan = decide_send(facts, now=d.clock())
        if isinstance(plan, Deliver):
            if plan.modal is not None:
                await store_modal(d.queue, plan.modal)  # the form is ready before its button exists
            if plan.escalation and not await reminders_db.claim_escalation(
                d.pool, row.event_id, row.id, attempt=row.attempts
            ):
                return {"outcome": "not_claimed"}  # a sibling escalation of this event won, or was sent already
            channel = ts = ""
            for recipient in plan.recipients:
                # A Transient failure here releases the row; the retry skips everyone recorded so far.
                posted = plan.posted.get(recipient)
                channel, ts = posted or await d.slack.post_message(recipient, plan.text, plan.blocks)
                await post_marks.remember(d.queue, row.id, recipient, channel, ts)
                if plan.escalation:
                    await reminders_db.record_escalation_delivery(
                        d.pool, row.id, slack_user_id=recipient, channel=channel, ts=ts, now=d.clock()
                    )
            await reminders_db.mark_sent(d.pool, row.id, attempt=row.attempts, channel=channel, ts=ts, now=d.clock())
            outcome = "sent"
        elif plan.every_escalation_of_the_event:
            await reminders_db.skip_escalations(d.pool, row.event_id, plan.reason)
            outcome = "skipped"
        else:
            await reminders_db.mark_skipped(d.pool, [row.id], plan.reason)
            outcome = "skipped"
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
    if outcome == "sent":
        log.info("reminder_sent", reminder_id=row.id, kind=row.kind, sequence=row.sequence)
    d.metrics.reminders.labels(row.kind, outcome).inc()
    return {"outcome": outcome}
