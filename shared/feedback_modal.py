"""The feedback modal one interviewer gets for one interview (pure): rendered from the interview's form with
their draft, as the modal cache keeps it for the ingress."""

from __future__ import annotations

from typing import Any

from shared.feedback_form import Modal, ModalContext, render_modal
from shared.interview import Interview
from shared.modal_cache import CachedModal, modal_key
from shared.modal_views import ALREADY_SUBMITTED, notice_view

NO_FORM = "This interview has no feedback form in Ashby, so there is nothing to fill in here."


def modal_for(interview: Interview, slack_user_id: str, *, draft: dict[str, Any] | None = None) -> CachedModal:
    """The modal to cache for this interviewer; `draft` (default: the stored one) fills the form in.
    Needs `interview.form` when the interview has one (load it `with_form`)."""
    identity = {"event_id": interview.event_id, "interviewer_id": interview.interviewer_id}
    if interview.has_feedback:
        return CachedModal(**identity, slack_user_id=slack_user_id, view=notice_view(ALREADY_SUBMITTED), submitted=True)
    if interview.form_id is None:
        return CachedModal(**identity, slack_user_id=slack_user_id, view=notice_view(NO_FORM))
    if interview.form is None:
        raise ValueError("the interview's form was not loaded (load it with_form, and check form_unavailable)")
    context = ModalContext(
        submission_key=modal_key(interview.event_id, interview.interviewer_id),
        candidate_name=interview.candidate_name,
        interview_title=interview.title,
        job_title=interview.application.job_title,
        feedback_link=interview.seat.feedback_link,
    )
    rendered = render_modal(interview.form, context=context, draft=interview.draft if draft is None else draft)
    field_map = rendered.field_map if isinstance(rendered, Modal) else None
    return CachedModal(**identity, slack_user_id=slack_user_id, view=rendered.view, field_map=field_map)
