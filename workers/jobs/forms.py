"""The feedback form in Slack, around the submission: filling a modal opened as "Loading…", keeping drafts,
and the buttons beside the form (the resume, an expired click).

Each job loads who asked about which interview (`workers/loads.py`), decides from that, then acts.
Whatever fails, a modal opened as "Loading…" is always replaced: by the form, or by a notice that says
what happened.
"""

from __future__ import annotations

from typing import Any

import structlog

from shared.db import feedback as feedback_db
from shared.feedback_form import extract_draft
from shared.feedback_modal import modal_for
from shared.modal_cache import store_modal
from shared.modal_views import ALREADY_SUBMITTED, NOT_YOURS, form_unavailable_notice, notice_view
from shared.storable import bounded_state_values
from shared.submissions import field_map_for
from workers import loads
from workers.deps import deps
from workers.job_boundary import job

GONE = "This interview is no longer on Ashby's schedule: it was cancelled, or you were taken off it."
log = structlog.get_logger("worker.forms")


@job(tries=3)
async def hydrate_modal(ctx: dict[str, Any], key: str, view_id: str, slack_user_id: str) -> dict[str, Any]:
    """Replace the "Loading…" modal the ingress opened with the form (or a notice saying why not)."""
    d = deps(ctx)
    asked = await loads.form_request(d, key, with_form=True)
    interview = asked.interview
    modal = None
    if interview is None:
        view = notice_view(GONE)
    elif not asked.by(slack_user_id):
        log.warning("feedback_refused", reason="slack user is not the interviewer")
        view = notice_view(NOT_YOURS)
    elif interview.form_unavailable:
        view = form_unavailable_notice(interview.seat.feedback_link)
    else:
        modal = modal_for(interview, slack_user_id)
        view = notice_view(ALREADY_SUBMITTED) if modal.submitted else modal.view
    if modal is not None:
        await store_modal(d.queue, modal)
    await d.slack.update_open_view(view_id, view)
    return {"outcome": "shown" if modal is not None else "notice"}


@job(tries=3)
async def save_draft(ctx: dict[str, Any], key: str, slack_user_id: str, state_values: dict[str, Any]) -> dict[str, Any]:
    """The interviewer closed the form: keep what they typed (validated like a submission) for next time."""
    d = deps(ctx)
    asked = await loads.form_request(d, key, with_form=True)
    interview = asked.interview
    if interview is None or not asked.by(slack_user_id) or interview.has_feedback:
        return {"outcome": "ignored"}
    field_map = field_map_for(interview, slack_user_id, asked.field_map)
    if field_map is None and not interview.form_unavailable:
        return {"outcome": "ignored"}  # a link-only form has nothing to keep
    # Without the form at hand the answers are kept as typed; rendering ignores what does not fit.
    draft = extract_draft(state_values, field_map) if field_map else bounded_state_values(state_values)
    await feedback_db.save_draft(
        d.pool, event_id=interview.event_id, interviewer_id=interview.interviewer_id, state_values=draft
    )
    if interview.form is not None:  # the next click opens the form with these answers
        await store_modal(d.queue, modal_for(interview, slack_user_id, draft=draft))
    return {"outcome": "saved", "fields": len(draft)}


@job(tries=3)
async def send_resume_link(ctx: dict[str, Any], key: str, slack_user_id: str) -> dict[str, Any]:
    """Resolve the resume on click (Ashby's file URLs expire) and DM it to the interviewer only."""
    d = deps(ctx)
    asked = await loads.form_request(d, key, with_form=False)
    interview = asked.interview
    if interview is None or not asked.by(slack_user_id) or interview.candidate_id is None:
        return {"outcome": "refused"}
    candidate = await d.ashby.candidate_info(interview.candidate_id)
    if candidate.resume_file_handle is None:
        await d.slack.post_message(slack_user_id, f"There is no resume in Ashby for {interview.candidate_name}.")
        return {"outcome": "no_resume"}
    url = (await d.ashby.file_info(candidate.resume_file_handle.handle)).url
    await d.slack.post_message(
        slack_user_id, f"Resume for {interview.candidate_name}: <{url}|open> (the link expires soon)"
    )
    return {"outcome": "sent"}


@job(tries=3)
async def notify_open_failed(ctx: dict[str, Any], key: str, slack_user_id: str) -> dict[str, Any]:
    d = deps(ctx)
    await d.slack.post_message(
        slack_user_id,
        "Slack took too long to open the feedback form. Please click *Open feedback form* again.",
    )
    return {"outcome": "notified"}
