"""Scorecards: an interviewer's answers submitted to Ashby exactly once, and feedback that appeared in Ashby.

`submit_feedback` reads top to bottom: load (the interview, who may submit it, the field map the ingress
validated the answers against) -> decide (`decide_submission`, pure: refuse, keep as invalid, or submit
these values) -> act (claim the row; ask Ashby whether this scorecard exists already, as after a timeout
or a double click, since `applicationFeedback.submit` has no idempotency key; submit only if not) ->
record (submitted and received, one transaction) -> tell, by a queued job of its own (the modal, the last
reminder, or a DM with the reason and a Reopen button). The answers are never dropped: a submission that
fails is kept as a draft and the interviewer is told, and a job the boundary gives up on does the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from shared import jobs
from shared.blocks import submission_failed_message, submitted_message
from shared.clients.ashby import AshbyApiError, FieldSubmission
from shared.db import feedback as feedback_db
from shared.db import reminders as reminders_db
from shared.errors import Permanent, Transient
from shared.feedback_form import FieldMap, InvalidSubmission, extract_draft, parse_submission
from shared.modal_cache import modal_key, parse_modal_key
from shared.modal_views import NOT_YOURS, SUBMITTED, notice_view
from shared.storable import bounded_state_values
from workers.deps import Deps, deps
from workers.interview import Interview, InterviewGone, load_interview
from workers.job_boundary import job
from workers.modals import NO_FORM, FormUnavailable, field_map_of, mark_modal_submitted, person_of, prerender

SUBMIT_MAX_TRIES = 5
GONE = "This interview is no longer on Ashby's schedule (it was cancelled or removed), so its form cannot be sent."
LINK_ONLY = "This form can only be filled in Ashby: use *Open in Ashby* on the reminder."
INVALID = "Some answers were not valid; please check them."
UNAVAILABLE = "Ashby did not answer, even after several tries. Your answers were kept; please submit again later."
FORM_UNAVAILABLE = "Ashby did not answer, so the form could not be read. Your answers were kept; please try again."
BROKEN = "Something went wrong on our side. Your answers were kept; please try again, or submit in Ashby."
log = structlog.get_logger("worker.submissions")


@dataclass(frozen=True)
class Loaded:
    interview: Interview | None  # None: the event or the interviewer is gone from the schedule
    interviewer_slack_id: str | None
    field_map: FieldMap | None  # None: the form cannot be filled in Slack, or is unavailable
    form_unavailable: bool = False


@dataclass(frozen=True)
class Refuse:
    notice: str


@dataclass(frozen=True)
class KeepAsDraft:
    reason: str
    draft: dict[str, Any]


@dataclass(frozen=True)
class Submit:
    values: list[dict[str, Any]]


Plan = Refuse | KeepAsDraft | Submit


async def load(d: Deps, key: str, slack_user_id: str) -> Loaded:
    parsed = parse_modal_key(key)
    if parsed is None:
        return Loaded(None, None, None)
    try:
        interview = await load_interview(d, *parsed, resume_key=key)
    except InterviewGone:
        return Loaded(None, None, None)
    person = await person_of(d, interview)
    if person.slack_user_id != slack_user_id or interview.form_id is None:
        return Loaded(interview, person.slack_user_id, None)
    try:
        field_map = await field_map_of(d, interview, slack_user_id)
    except FormUnavailable:
        return Loaded(interview, person.slack_user_id, None, form_unavailable=True)
    return Loaded(interview, person.slack_user_id, field_map)


def decide_submission(loaded: Loaded, slack_user_id: str, state_values: dict[str, Any]) -> Plan:
    """What to do with these answers (pure)."""
    interview = loaded.interview
    if interview is None:
        return Refuse(GONE)
    if loaded.interviewer_slack_id != slack_user_id:
        return Refuse(NOT_YOURS)
    if interview.form_id is None or interview.application_id is None:
        return Refuse(NO_FORM)
    if loaded.form_unavailable:
        return KeepAsDraft(FORM_UNAVAILABLE, bounded_state_values(state_values))
    if loaded.field_map is None:
        return Refuse(LINK_ONLY)
    draft = extract_draft(state_values, loaded.field_map)
    try:
        return Submit(parse_submission(state_values, loaded.field_map))
    except InvalidSubmission:
        return KeepAsDraft(INVALID, draft)


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
    await _queue_failure_notice(d, key, slack_user_id, BROKEN, kwargs.get("view_id"), attempt=int(ctx["job_try"]))


@job(tries=SUBMIT_MAX_TRIES, on_give_up=_give_up)
async def submit_feedback(
    ctx: dict[str, Any], key: str, slack_user_id: str, state_values: dict[str, Any], view_id: str | None = None
) -> dict[str, Any]:
    d = deps(ctx)
    last_try = int(ctx.get("job_try", 1)) >= SUBMIT_MAX_TRIES
    loaded = await load(d, key, slack_user_id)
    if loaded.form_unavailable and not last_try:
        raise Transient("the feedback form is unavailable")
    plan = decide_submission(loaded, slack_user_id, state_values)
    if isinstance(plan, Refuse):
        if view_id:
            await _update_view(d, view_id, plan.notice)
        log.warning("feedback_refused", reason=plan.notice[:40])
        return {"outcome": "refused"}
    interview = loaded.interview
    assert interview is not None and interview.form_id is not None and interview.application_id is not None
    if isinstance(plan, KeepAsDraft):
        return await _keep_as_draft(d, interview, slack_user_id, plan.draft, plan.reason, view_id, attempt=0)

    attempt = await feedback_db.claim_submission(
        d.pool,
        event_id=interview.event_id,
        interviewer_id=interview.interviewer_id,
        slack_user_id=slack_user_id,
        field_submissions=plan.values,
    )
    if attempt is None:  # submitted already (a double submit, or a retry after the record)
        await _queue_submitted_notice(d, interview, view_id)
        return {"outcome": "already_submitted"}
    try:
        existing = await _existing_submission(d, interview)
        submission_id = existing or await _submit(d, interview, plan.values)
    except AshbyApiError as exc:
        return await _submission_failed(d, interview, slack_user_id, state_values, view_id, str(exc.code), _reason(exc))
    except Transient:
        if not last_try:
            raise  # back to the queue with backoff; the next try checks Ashby before submitting again
        return await _submission_failed(d, interview, slack_user_id, state_values, view_id, "unavailable", UNAVAILABLE)
    await feedback_db.record_submitted(
        d.pool,
        event_id=interview.event_id,
        interviewer_id=interview.interviewer_id,
        ashby_submission_id=submission_id,
        now=d.clock(),
    )
    log.info("feedback_submitted", event_id=interview.event_id, already_in_ashby=existing is not None)
    await _queue_submitted_notice(d, interview, view_id, submission_id=submission_id)
    return {"outcome": "submitted"}


async def _existing_submission(d: Deps, interview: Interview) -> str | None:
    """Ashby has no idempotency key for submit: look for this interviewer's feedback on this event first."""
    async for submission in d.ashby.list_application_feedback(application_id=interview.application_id):
        if (
            submission.interview_event_id == interview.event_id
            and submission.submitted_by_user.id == interview.interviewer_id
        ):
            return submission.id
    return None


async def _submit(d: Deps, interview: Interview, values: list[dict[str, Any]]) -> str:
    assert interview.form_id is not None and interview.application_id is not None
    submitted = await d.ashby.submit_application_feedback(
        form_definition_id=interview.form_id,
        application_id=interview.application_id,
        field_submissions=[FieldSubmission(v["path"], v["value"]) for v in values],
        user_id=interview.interviewer_id,
        interview_event_id=interview.event_id,
    )
    return submitted.id


async def _submission_failed(
    d: Deps,
    interview: Interview,
    slack_user_id: str,
    state_values: dict[str, Any],
    view_id: str | None,
    error: str,
    reason: str,
) -> dict[str, Any]:
    attempt = await feedback_db.fail_submission(
        d.pool, event_id=interview.event_id, interviewer_id=interview.interviewer_id, error=error
    )
    field_map = await field_map_of(d, interview, slack_user_id)
    draft = extract_draft(state_values, field_map) if field_map else bounded_state_values(state_values)
    return await _keep_as_draft(d, interview, slack_user_id, draft, reason, view_id, attempt=attempt)


async def _keep_as_draft(
    d: Deps,
    interview: Interview,
    slack_user_id: str,
    draft: dict[str, Any],
    reason: str,
    view_id: str | None,
    *,
    attempt: int,
) -> dict[str, Any]:
    """Keep the answers (so "Reopen form" shows them) and queue the notice that tells the interviewer why."""
    await feedback_db.save_draft(
        d.pool, event_id=interview.event_id, interviewer_id=interview.interviewer_id, state_values=draft
    )
    try:
        await prerender(d, interview, slack_user_id)  # the next click opens the form with these answers
    except FormUnavailable:
        pass  # the click renders it once Ashby answers
    key = modal_key(interview.event_id, interview.interviewer_id)
    await _queue_failure_notice(d, key, slack_user_id, reason, view_id, attempt=attempt)
    log.warning("feedback_kept_as_draft", event_id=interview.event_id)
    return {"outcome": "failed"}


def _reason(exc: AshbyApiError) -> str:
    if exc.code == "invalid_input":
        return "Ashby did not accept some answers (invalid input). Please review them and submit again."
    return f"Ashby refused the submission ({exc.code}). Please try again, or submit it in Ashby."


async def _queue_failure_notice(
    d: Deps, key: str, slack_user_id: str, reason: str, view_id: str | None, *, attempt: int
) -> None:
    await jobs.enqueue_interactive(
        d.queue,
        jobs.NOTIFY_SUBMISSION_FAILED,
        key,
        slack_user_id,
        reason,
        view_id,
        job_id=f"submit-failed:{key}:{attempt}",
    )


async def _queue_submitted_notice(
    d: Deps, interview: Interview, view_id: str | None, *, submission_id: str | None = None
) -> None:
    await jobs.enqueue_default(
        d.queue,
        jobs.MARK_FEEDBACK_SUBMITTED,
        interview.event_id,
        interview.interviewer_id,
        submission_id,
        view_id,
        job_id=f"feedback-seen:{interview.event_id}:{interview.interviewer_id}",
    )


async def _update_view(d: Deps, view_id: str, text: str) -> None:
    """Show the outcome in the modal that said "Submitting…", if the interviewer still has it open."""
    try:
        await d.slack.update_view(notice_view(text), view_id=view_id)
    except Permanent:
        pass  # closed meanwhile (not_found): the DM or the reminder says it


@job
async def notify_submission_failed(
    ctx: dict[str, Any], key: str, slack_user_id: str, reason: str, view_id: str | None = None
) -> dict[str, Any]:
    """Tell the interviewer their answers were not submitted, why, and how to resend them."""
    d = deps(ctx)
    parsed = parse_modal_key(key)
    interview = None
    if parsed is not None:
        try:
            interview = await load_interview(d, *parsed)
        except InterviewGone:
            interview = None
    if view_id:
        await _update_view(d, view_id, f":x: {reason}")
    text, blocks = submission_failed_message(
        reason, reopen_value=key, candidate_name=interview.candidate_name if interview else None
    )
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
    await feedback_db.record_received(
        d.pool,
        event_id=event_id,
        interviewer_id=interviewer_id,
        source="ashby",
        ashby_submission_id=submission_id,
        submitted_at=d.clock(),
    )
    if view_id:
        await _update_view(d, view_id, SUBMITTED)
    person = await person_of(d, interview)
    if person.slack_user_id:
        await mark_modal_submitted(d, interview, person.slack_user_id)
    latest = await reminders_db.latest_sent_message(d.pool, event_id, interviewer_id)
    if latest is not None:
        channel, ts, _ = latest
        text, blocks = submitted_message(interview.info, tz=person.tz or "UTC")
        await d.slack.update_message(channel, ts, text, blocks)
    return {"outcome": "recorded"}
