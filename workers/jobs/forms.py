"""The feedback form in Slack, around the submission: filling a modal opened as "Loading…", keeping drafts,
and the buttons beside the form (the resume, an expired click).

Each job loads the interview and who may act on it, decides from that (pure), then acts. Whatever fails,
a modal opened as "Loading…" is always replaced: by the form, or by a notice that says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from shared.db import feedback as feedback_db
from shared.feedback_form import extract_draft
from shared.modal_cache import parse_modal_key, store_modal
from shared.modal_views import ALREADY_SUBMITTED, NOT_YOURS, form_unavailable_notice, notice_view
from shared.storable import bounded_state_values
from workers.deps import Deps, deps
from workers.interview import Interview, InterviewGone, load_interview
from workers.job_boundary import job
from workers.modals import FormUnavailable, field_map_of, load_form_inputs, modal_for, person_of, prerender

GONE = "This interview is no longer on Ashby's schedule: it was cancelled, or you were taken off it."
log = structlog.get_logger("worker.forms")


@dataclass(frozen=True)
class Asked:
    """Who asked (a click, a close) about which interview, and whether they may."""

    interview: Interview | None  # None: gone from the schedule
    allowed: bool


async def load_asked(d: Deps, key: str, slack_user_id: str) -> Asked:
    parsed = parse_modal_key(key)
    if parsed is None:
        return Asked(None, False)
    try:
        interview = await load_interview(d, *parsed, resume_key=key)
    except InterviewGone:
        return Asked(None, False)
    person = await person_of(d, interview)
    return Asked(interview, person.slack_user_id == slack_user_id)


@job(tries=3)
async def hydrate_modal(ctx: dict[str, Any], key: str, view_id: str, slack_user_id: str) -> dict[str, Any]:
    """Replace the "Loading…" modal the ingress opened with the form (or a notice saying why not)."""
    d = deps(ctx)
    asked = await load_asked(d, key, slack_user_id)
    if asked.interview is None or not asked.allowed:
        if asked.interview is not None:
            log.warning("feedback_refused", reason="slack user is not the interviewer")
        await d.slack.update_view(notice_view(NOT_YOURS if asked.interview else GONE), view_id=view_id)
        return {"outcome": "refused"}
    interview = asked.interview
    try:
        inputs = await load_form_inputs(d, interview)
    except FormUnavailable:
        await d.slack.update_view(form_unavailable_notice(interview.seat.feedback_link), view_id=view_id)
        return {"outcome": "form_unavailable"}
    modal = modal_for(interview, slack_user_id, inputs)
    await store_modal(d.queue, modal)
    await d.slack.update_view(notice_view(ALREADY_SUBMITTED) if modal.submitted else modal.view, view_id=view_id)
    return {"outcome": "shown"}


@job(tries=3)
async def save_draft(ctx: dict[str, Any], key: str, slack_user_id: str, state_values: dict[str, Any]) -> dict[str, Any]:
    """The interviewer closed the form: keep what they typed (validated like a submission) for next time."""
    d = deps(ctx)
    asked = await load_asked(d, key, slack_user_id)
    interview = asked.interview
    if interview is None or not asked.allowed:
        return {"outcome": "ignored"}
    if await feedback_db.has_feedback(d.pool, interview.event_id, interview.interviewer_id):
        return {"outcome": "ignored"}
    try:
        field_map = await field_map_of(d, interview, slack_user_id)
    except FormUnavailable:
        field_map = None
        draft = bounded_state_values(state_values)  # kept as typed; rendering ignores what does not fit
    else:
        if field_map is None:
            return {"outcome": "ignored"}  # a link-only form has nothing to keep
        draft = extract_draft(state_values, field_map)
    await feedback_db.save_draft(
        d.pool, event_id=interview.event_id, interviewer_id=interview.interviewer_id, state_values=draft
    )
    if field_map is not None:
        await prerender(d, interview, slack_user_id)  # the next click opens the form with these answers
    return {"outcome": "saved", "fields": len(draft)}


@job(tries=3)
async def send_resume_link(ctx: dict[str, Any], key: str, slack_user_id: str) -> dict[str, Any]:
    """Resolve the resume on click (Ashby's file URLs expire) and DM it to the interviewer only."""
    d = deps(ctx)
    asked = await load_asked(d, key, slack_user_id)
    interview = asked.interview
    if interview is None or not asked.allowed or interview.candidate_id is None:
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
