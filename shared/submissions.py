"""What to do with an interviewer's submitted answers (pure): refuse them (and why), keep them as a draft
(and why), or submit these values to Ashby."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.feedback_form import FieldMap, InvalidSubmission, extract_draft, parse_submission
from shared.feedback_modal import modal_for
from shared.interview import Interview
from shared.modal_views import NOT_YOURS
from shared.storable import bounded_state_values

GONE = "This interview is no longer on Ashby's schedule (it was cancelled or removed), so its form cannot be sent."
NO_FORM = "This interview has no feedback form in Ashby, so there is nothing to submit here."
LINK_ONLY = "This form can only be filled in Ashby: use *Open in Ashby* on the reminder."
INVALID = "Some answers were not valid; please check them."
FORM_UNAVAILABLE = "Ashby did not answer, so the form could not be read. Your answers were kept; please try again."


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
    draft: dict[str, Any]  # kept if Ashby refuses them


SubmissionPlan = Refuse | KeepAsDraft | Submit


def field_map_for(interview: Interview, slack_user_id: str, cached: FieldMap | None) -> FieldMap | None:
    """The field map answers are read with: the cached modal's (the one the ingress validated against), or
    the form's. None when the form cannot be filled in Slack, or is not at hand."""
    if cached is not None:
        return cached
    if interview.form is None:
        return None
    return modal_for(interview, slack_user_id).field_map


def decide_submission(
    interview: Interview | None,
    *,
    sender: str,
    interviewer: str | None,
    cached_field_map: FieldMap | None,
    state_values: dict[str, Any],
) -> SubmissionPlan:
    """`sender` submitted `state_values` for `interview`, whose interviewer is Slack user `interviewer`."""
    if interview is None:
        return Refuse(GONE)
    if sender != interviewer:
        return Refuse(NOT_YOURS)
    field_map = field_map_for(interview, sender, cached_field_map)
    if interview.form_id is None or interview.application_id is None:
        return Refuse(NO_FORM)
    if field_map is None and interview.form_unavailable:
        return KeepAsDraft(FORM_UNAVAILABLE, bounded_state_values(state_values))
    if field_map is None:
        return Refuse(LINK_ONLY)
    draft = extract_draft(state_values, field_map)
    try:
        return Submit(parse_submission(state_values, field_map), draft)
    except InvalidSubmission:
        return KeepAsDraft(INVALID, draft)
