"""Scorecards: an interviewer's answers submitted to Ashby exactly once, and feedback that appeared in Ashby.

`submit_feedback` reads top to bottom: load (the interview, who may submit it, the field map the ingress
validated the answers against) -> decide (`shared/submissions.py`, pure: refuse, keep as a draft, or submit
these values) -> act (claim the row; ask Ashby whether this scorecard exists already, as after a timeout or
a double click, since `applicationFeedback.submit` has no idempotency key; submit only if not) -> record
(submitted and received in one transaction, or the answers kept as a draft) -> tell, by a queued job of its
own (the modal, the last reminder, or a DM with the reason and a Reopen button). The answers are never
dropped: whatever fails, they are kept and the interviewer is told; a job the boundary gives up on too.
"""

from __future__ import annotations

from typing import Any

import structlog

from shared import home_openers, jobs
from shared.blocks import submission_failed_message, submitted_message
from shared.clients.ashby import AshbyApiError, FieldSubmission
from shared.db import feedback as feedback_db
from shared.db import reminders as reminders_db
from shared.errors import Transient
from shared.feedback_modal import modal_for
from shared.modal_cache import load_modal, modal_key, parse_modal_key, store_modal
from shared.modal_views import SUBMITTED, notice_view
from shared.storable import bounded_state_values
from shared.submissions import KeepAsDraft, Refuse, decide_submission
from workers import loads
from workers.deps import deps
from workers.interview import InterviewGone, load_interview
from workers.job_boundary import job

SUBMIT_MAX_TRIES = 5
UNAVAILABLE = "Ashby did not answer, even after several tries. Your answers were kept; please submit again later."
BROKEN = "Something went wrong on our side. Your answers were kept; please try again, or submit in Ashby."
log = structlog.get_logger("worker.submissions")


async def _give_up(ctx: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """The boundary gave up (a bug, or PostgreSQL down too long): keep the answers and tell the interviewer."""
    key, slack_user_id, state_values = args[:3]
    parsed = parse_modal_key(key)
    if parsed is None:
        return
    d = deps(ctx)
    await feedback_db.save_draft(
        d.pool, event_id=parsed[0], interviewer_id=parsed[1], state_values=bounded_state_values(state_values)
    )
    view_id = args[3] if len(args) > 3 else kwargs.get("view_id")
    await jobs.enqueue_interactive(
        d.queue,
        jobs.NOTIFY_SUBMISSION_FAILED,
        key,
        slack_user_id,
        BROKEN,
        view_id,
        job_id=f"submit-failed:{key}:gave-up:{ctx['job_try']}",
    )


@job(tries=SUBMIT_MAX_TRIES, on_give_up=_give_up)
async def submit_feedback(
    ctx: dict[str, Any], key: str, slack_user_id: str, state_values: dict[str, Any], view_id: str | None = None
) -> dict[str, Any]:
    d = deps(ctx)
    last_try = int(ctx.get("job_try", 1)) >= SUBMIT_MAX_TRIES
    asked = await loads.form_request(d, key, with_form=True)
    interview = asked.interview
    if interview is not None and interview.form_unavailable and asked.field_map is None and not last_try:
        raise Transient("the feedback form is unavailable")
    plan = decide_submission(
        interview,
        sender=slack_user_id,
        interviewer=asked.interviewer_slack_id,
        cached_field_map=asked.field_map,
        state_values=state_values,
    )
    if isinstance(plan, Refuse):
        log.warning("feedback_refused", reason=plan.notice[:40])
        if view_id:
            await d.slack.update_open_view(view_id, notice_view(plan.notice))
        d.metrics.submissions.labels("refused").inc()
        return {"outcome": "refused"}
    assert interview is not None and interview.form_id is not None and interview.application_id is not None

    error = "invalid"
    if not isinstance(plan, KeepAsDraft):
        attempt = await feedback_db.claim_submission(
            d.pool,
            event_id=interview.event_id,
            interviewer_id=interview.interviewer_id,
            slack_user_id=slack_user_id,
            field_submissions=plan.values,
        )
        if attempt is None:  # submitted already (a double submit, or a retry after the record)
            submission_id = None
        else:
            try:
                submission_id = await d.ashby.feedback_of(
                    application_id=interview.application_id,
                    interview_event_id=interview.event_id,
                    user_id=interview.interviewer_id,
                )
                if submission_id is None:
                    submitted = await d.ashby.submit_application_feedback(
                        form_definition_id=interview.form_id,
                        application_id=interview.application_id,
                        field_submissions=[FieldSubmission(v["path"], v["value"]) for v in plan.values],
                        user_id=interview.interviewer_id,
                        interview_event_id=interview.event_id,
                    )
                    submission_id = submitted.id
            except AshbyApiError as exc:
                plan, error = KeepAsDraft(_reason(exc), plan.draft), str(exc.code)
            except Transient:
                if not last_try:
                    raise  # back to the queue with backoff; the next try checks Ashby before submitting again
                plan, error = KeepAsDraft(UNAVAILABLE, plan.draft), "unavailable"
    if isinstance(plan, KeepAsDraft):
        attempt = await feedback_db.keep_as_draft(
            d.pool, event_id=interview.event_id, interviewer_id=interview.interviewer_id, draft=plan.draft, error=error
        )
    elif attempt is not None:
        await feedback_db.record_submitted(
            d.pool,
            event_id=interview.event_id,
            interviewer_id=interview.interviewer_id,
            ashby_submission_id=submission_id,
            values={v["path"]: v["value"] for v in plan.values},
            now=d.clock(),
        )
    if isinstance(plan, KeepAsDraft):
        if interview.form is not None:  # "Reopen form" shows the answers
            await store_modal(d.queue, modal_for(interview, slack_user_id, draft=plan.draft))
        await jobs.enqueue_interactive(
            d.queue,
            jobs.NOTIFY_SUBMISSION_FAILED,
            key,
            slack_user_id,
            plan.reason,
            view_id,
            job_id=f"submit-failed:{key}:{attempt}",
        )
        log.warning("feedback_kept_as_draft", event_id=interview.event_id)
        d.metrics.submissions.labels("kept_as_draft").inc()
        return {"outcome": "failed"}
    await jobs.enqueue_default(
        d.queue,
        jobs.MARK_FEEDBACK_SUBMITTED,
        interview.event_id,
        interview.interviewer_id,
        submission_id,
        view_id,
        job_id=f"feedback-seen:{interview.event_id}:{interview.interviewer_id}",
    )
    log.info("feedback_submitted", event_id=interview.event_id, already=attempt is None)
    outcome = "submitted" if attempt is not None else "already_submitted"
    d.metrics.submissions.labels(outcome).inc()
    return {"outcome": outcome}


def _reason(exc: AshbyApiError) -> str:
    if exc.code == "invalid_input":
        return "Ashby did not accept some answers (invalid input). Please review them and submit again."
    return f"Ashby refused the submission ({exc.code}). Please try again, or submit it in Ashby."


@job
async def notify_submission_failed(
    ctx: dict[str, Any], key: str, slack_user_id: str, reason: str, view_id: str | None = None
) -> dict[str, Any]:
    """Tell the interviewer their answers were not submitted, why, and how to resend them."""
    d = deps(ctx)
    asked = await loads.form_request(d, key, with_form=False)
    candidate = asked.interview.candidate_name if asked.interview else None
    if view_id:
        await d.slack.update_open_view(view_id, notice_view(f":x: {reason}"))
    text, blocks = submission_failed_message(reason, reopen_value=key, candidate_name=candidate)
    await d.slack.post_message(slack_user_id, text, blocks)
    return {"outcome": "notified"}


@job
async def mark_feedback_submitted(
    ctx: dict[str, Any], event_id: str, interviewer_id: str, submission_id: str | None, view_id: str | None = None
) -> dict[str, Any]:
    """Feedback is in Ashby (ours, or given in Ashby's own UI): stop the reminders, then show it in Slack:
    the modal that said "Submitting…", the cached form, and the last reminder message."""
    d = deps(ctx)
    try:
        interview = await load_interview(d, event_id, interviewer_id)
    except InterviewGone:
        return {"outcome": "unknown_event"}
    person = await loads.interviewer_of(d, interview)
    await feedback_db.record_received(
        d.pool,
        event_id=event_id,
        interviewer_id=interviewer_id,
        source="ashby",
        ashby_submission_id=submission_id,
        submitted_at=d.clock(),
    )
    latest = await reminders_db.latest_sent_message(d.pool, event_id, interviewer_id)
    cached = await load_modal(d.queue, modal_key(event_id, interviewer_id))
    if cached is not None:  # the next click on an old reminder, or a form left open, shows "already submitted"
        await store_modal(d.queue, cached.as_submitted())
    if view_id:
        await d.slack.update_open_view(view_id, notice_view(SUBMITTED))
    if latest is not None:
        channel, ts, _ = latest
        text, blocks = submitted_message(interview.info, tz=person.tz or "UTC")
        await d.slack.update_message(channel, ts, text, blocks)
    await home_openers.refresh_if_open(d.queue, person.slack_user_id, now=d.clock(), because=f"feedback:{event_id}")
    return {"outcome": "recorded"}
