"""Feedback jobs: fill a loading modal, submit to Ashby exactly once, keep drafts, resolve the resume.

`submit_feedback` claims the (event, interviewer) row, asks Ashby whether this interviewer's feedback for
the event already exists (a retry after a timeout, or a double click), submits only if not, then records
it — which stops every pending reminder — and turns the last reminder message into "submitted".
"""

from __future__ import annotations

from typing import Any

import structlog

from shared.blocks import submission_failed_message, submitted_message
from shared.clients.ashby import AshbyApiError, FieldSubmission
from shared.db import feedback as feedback_db
from shared.db import reminders as reminders_db
from shared.errors import Transient
from shared.feedback_form import InvalidSubmission, extract_draft, parse_submission
from shared.modal_cache import CachedModal, modal_key, parse_modal_key
from shared.modal_views import ALREADY_SUBMITTED, NOT_YOURS, notice_view
from workers.context import InterviewContext, MissingContext, load_context
from workers.deps import Deps, deps
from workers.job_boundary import job
from workers.modals import person_of, prerender

SUBMIT_MAX_TRIES = 5
UNAVAILABLE = "Ashby did not answer, even after several tries. Your answers were kept; please submit again later."
log = structlog.get_logger("worker.feedback")


async def _authorized(d: Deps, key: str, slack_user_id: str) -> InterviewContext | None:
    """The context when `slack_user_id` is the interviewer this form belongs to; None (logged) otherwise."""
    parsed = parse_modal_key(key)
    if parsed is None:
        return None
    try:
        ctx = await load_context(d, *parsed, resume_key=key)
    except MissingContext:
        return None
    person = await person_of(d, ctx)
    if person.slack_user_id != slack_user_id:
        log.warning("feedback_refused", reason="slack user is not the interviewer", event_id=ctx.event_id)
        return None
    return ctx


@job
async def hydrate_modal(ctx: dict[str, Any], key: str, view_id: str, slack_user_id: str) -> dict[str, Any]:
    d = deps(ctx)
    interview = await _authorized(d, key, slack_user_id)
    if interview is None:
        await d.slack.update_view(notice_view(NOT_YOURS), view_id=view_id)
        return {"outcome": "refused"}
    modal = await prerender(d, interview, slack_user_id)
    await d.slack.update_view(notice_view(ALREADY_SUBMITTED) if modal.submitted else modal.view, view_id=view_id)
    return {"outcome": "shown"}


@job
async def submit_feedback(
    ctx: dict[str, Any], key: str, slack_user_id: str, state_values: dict[str, Any]
) -> dict[str, Any]:
    d = deps(ctx)
    interview = await _authorized(d, key, slack_user_id)
    if interview is None or interview.form_id is None or interview.application_id is None:
        return {"outcome": "refused"}
    modal = await prerender(d, interview, slack_user_id)
    if modal.field_map is None:
        return {"outcome": "not_fillable_in_slack"}
    try:
        submissions = parse_submission(state_values, modal.field_map)
    except InvalidSubmission:
        return await _failed(d, interview, modal, state_values, "Some answers were not valid; please check them.")
    claimed = await feedback_db.claim_submission(
        d.pool,
        event_id=interview.event_id,
        interviewer_id=interview.interviewer_id,
        slack_user_id=slack_user_id,
        field_submissions=submissions,
    )
    if claimed:
        try:
            existing = await _existing_submission(d, interview)
            submission_id = (
                existing
                or (
                    await d.ashby.submit_application_feedback(
                        form_definition_id=interview.form_id,
                        application_id=interview.application_id,
                        field_submissions=[FieldSubmission(s["path"], s["value"]) for s in submissions],
                        user_id=interview.interviewer_id,
                        interview_event_id=interview.event_id,
                    )
                ).id
            )
        except AshbyApiError as exc:
            await feedback_db.fail_submission(
                d.pool, event_id=interview.event_id, interviewer_id=interview.interviewer_id, error=str(exc.code)
            )
            return await _failed(d, interview, modal, state_values, _reason(exc))
        except Transient:
            if int(ctx.get("job_try", 1)) < SUBMIT_MAX_TRIES:
                raise  # back to the queue with backoff; the next try checks Ashby before submitting again
            await feedback_db.fail_submission(
                d.pool, event_id=interview.event_id, interviewer_id=interview.interviewer_id, error="unavailable"
            )
            return await _failed(d, interview, modal, state_values, UNAVAILABLE)
        await feedback_db.finish_submission(
            d.pool,
            event_id=interview.event_id,
            interviewer_id=interview.interviewer_id,
            ashby_submission_id=submission_id,
        )
        log.info("feedback_submitted", event_id=interview.event_id, already_in_ashby=existing is not None)
    await _feedback_exists(d, interview, source="slack")
    return {"outcome": "submitted" if claimed else "already_submitted"}


async def _existing_submission(d: Deps, interview: InterviewContext) -> str | None:
    """Ashby has no idempotency key for submit: look for this interviewer's feedback on this event first."""
    async for submission in d.ashby.list_application_feedback(application_id=interview.application_id):
        if (
            submission.interview_event_id == interview.event_id
            and submission.submitted_by_user.id == interview.interviewer_id
        ):
            return submission.id
    return None


async def _feedback_exists(
    d: Deps, interview: InterviewContext, *, source: str, submission_id: str | None = None
) -> None:
    """Record the feedback (stopping reminders), then show it: the modal cache and the last reminder DM."""
    await feedback_db.record_received(
        d.pool,
        event_id=interview.event_id,
        interviewer_id=interview.interviewer_id,
        source=source,
        ashby_submission_id=submission_id,
        submitted_at=d.clock(),
    )
    await feedback_db.delete_draft(d.pool, interview.event_id, interview.interviewer_id)
    person = await person_of(d, interview)
    if person.slack_user_id:
        await prerender(d, interview, person.slack_user_id)
    latest = await reminders_db.latest_sent_message(d.pool, interview.event_id, interview.interviewer_id)
    if latest is not None:
        channel, ts, _ = latest
        text, blocks = submitted_message(interview.info, tz=person.tz or "UTC")
        await d.slack.update_message(channel, ts, text, blocks)


async def _failed(
    d: Deps, interview: InterviewContext, modal: CachedModal, state_values: dict[str, Any], reason: str
) -> dict[str, Any]:
    """Keep the answers as a draft (so "Reopen form" shows them) and tell the interviewer why."""
    if modal.field_map is not None:
        draft = extract_draft(state_values, modal.field_map)
        await feedback_db.save_draft(
            d.pool, event_id=interview.event_id, interviewer_id=interview.interviewer_id, state_values=draft
        )
        await prerender(d, interview, modal.slack_user_id)
    text, blocks = submission_failed_message(
        reason,
        reopen_value=modal_key(interview.event_id, interview.interviewer_id),
        candidate_name=interview.info.candidate_name,
    )
    await d.slack.post_message(modal.slack_user_id, text, blocks)
    log.warning("feedback_submission_failed", event_id=interview.event_id)
    return {"outcome": "failed"}


def _reason(exc: AshbyApiError) -> str:
    if exc.code == "invalid_input":
        return "Ashby did not accept some answers (invalid input). Please review them and submit again."
    return f"Ashby refused the submission ({exc.code}). Please try again, or submit it in Ashby."


@job
async def save_draft(ctx: dict[str, Any], key: str, slack_user_id: str, state_values: dict[str, Any]) -> dict[str, Any]:
    d = deps(ctx)
    interview = await _authorized(d, key, slack_user_id)
    if interview is None or await feedback_db.has_feedback(d.pool, interview.event_id, interview.interviewer_id):
        return {"outcome": "ignored"}
    modal = await prerender(d, interview, slack_user_id)
    if modal.field_map is None:
        return {"outcome": "ignored"}
    draft = extract_draft(state_values, modal.field_map)
    await feedback_db.save_draft(
        d.pool, event_id=interview.event_id, interviewer_id=interview.interviewer_id, state_values=draft
    )
    await prerender(d, interview, slack_user_id)  # the next click opens the form with these answers
    return {"outcome": "saved", "fields": len(draft)}


@job
async def send_resume_link(ctx: dict[str, Any], key: str, slack_user_id: str) -> dict[str, Any]:
    """Resolve the resume on click (Ashby's file URLs expire) and DM it to the interviewer only."""
    d = deps(ctx)
    interview = await _authorized(d, key, slack_user_id)
    if interview is None or interview.candidate_id is None:
        return {"outcome": "refused"}
    candidate = await d.ashby.candidate_info(interview.candidate_id)
    if candidate.resume_file_handle is None:
        await d.slack.post_message(slack_user_id, f"There is no resume in Ashby for {interview.info.candidate_name}.")
        return {"outcome": "no_resume"}
    url = (await d.ashby.file_info(candidate.resume_file_handle.handle)).url
    await d.slack.post_message(
        slack_user_id, f"Resume for {interview.info.candidate_name}: <{url}|open> (the link expires soon)"
    )
    return {"outcome": "sent"}


@job
async def notify_open_failed(ctx: dict[str, Any], key: str, slack_user_id: str) -> dict[str, Any]:
    d = deps(ctx)
    await d.slack.post_message(
        slack_user_id,
        "Slack took too long to open the feedback form. Please click *Open feedback form* again.",
    )
    return {"outcome": "notified"}


@job
async def mark_feedback_submitted(
    ctx: dict[str, Any], event_id: str, interviewer_id: str, submission_id: str | None
) -> dict[str, Any]:
    """Feedback appeared in Ashby (e.g. submitted in Ashby's own UI): stop reminders, update the message."""
    d = deps(ctx)
    try:
        interview = await load_context(d, event_id, interviewer_id)
    except MissingContext:
        return {"outcome": "unknown_event"}
    await _feedback_exists(d, interview, source="ashby", submission_id=submission_id)
    return {"outcome": "recorded"}
