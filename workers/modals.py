"""An interviewer's feedback modal: rendered from the interview's form with their draft, cached in Redis so
the ingress can open it inside Slack's 3 s, and the field map submissions and drafts are read with.

The form comes from the metadata cache at any age (`workers/metadata.py`): a stale form is better than
none. `FormUnavailable` means there is no copy at all and Ashby is not answering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec

from shared.db import feedback as feedback_db
from shared.db.people import Person
from shared.errors import Transient
from shared.feedback_form import FieldMap, Modal, ModalContext, render_modal
from shared.modal_cache import CachedModal, load_modal, modal_key, store_modal
from shared.modal_views import ALREADY_SUBMITTED, notice_view
from shared.payloads.ashby import FeedbackFormDefinition
from shared.people import resolve_person
from workers.deps import Deps
from workers.interview import Interview
from workers.metadata import cached_form

PEOPLE_MAX_AGE = timedelta(days=7)
NO_FORM = "This interview has no feedback form in Ashby, so there is nothing to fill in here."


class FormUnavailable(Transient):
    """The form was never cached and Ashby does not answer."""


async def person_of(d: Deps, interview: Interview) -> Person:
    return await resolve_person(
        d.pool,
        d.slack,
        ashby_user_id=interview.interviewer_id,
        email=interview.seat.email,
        now=d.clock(),
        max_age=PEOPLE_MAX_AGE,
    )


@dataclass(frozen=True)
class FormInputs:
    form: FeedbackFormDefinition | None  # None: the interview has no feedback form
    draft: dict[str, Any] | None
    submitted: bool


async def load_form_inputs(d: Deps, interview: Interview) -> FormInputs:
    """The form (raises `FormUnavailable` when there is no copy and Ashby does not answer), the draft, and
    whether the feedback is in already."""
    submitted = await feedback_db.has_feedback(d.pool, interview.event_id, interview.interviewer_id)
    if interview.form_id is None:
        return FormInputs(None, None, submitted)
    try:
        cached = await cached_form(d, interview.form_id)
    except Transient as exc:
        raise FormUnavailable("the feedback form is not cached and Ashby does not answer") from exc
    draft = await feedback_db.load_draft(d.pool, interview.event_id, interview.interviewer_id)
    return FormInputs(cached.definition if cached else None, draft, submitted)


def modal_for(interview: Interview, slack_user_id: str, inputs: FormInputs) -> CachedModal:
    """The modal to cache for this interviewer (pure)."""
    identity = {"event_id": interview.event_id, "interviewer_id": interview.interviewer_id}
    if inputs.submitted:
        return CachedModal(**identity, slack_user_id=slack_user_id, view=notice_view(ALREADY_SUBMITTED), submitted=True)
    if inputs.form is None:
        return CachedModal(**identity, slack_user_id=slack_user_id, view=notice_view(NO_FORM))
    context = ModalContext(
        submission_key=modal_key(interview.event_id, interview.interviewer_id),
        candidate_name=interview.candidate_name,
        interview_title=interview.title,
        job_title=interview.application.job_title,
        feedback_link=interview.seat.feedback_link,
    )
    rendered = render_modal(inputs.form, context=context, draft=inputs.draft)
    field_map = rendered.field_map if isinstance(rendered, Modal) else None
    return CachedModal(**identity, slack_user_id=slack_user_id, view=rendered.view, field_map=field_map)


async def prerender(d: Deps, interview: Interview, slack_user_id: str) -> CachedModal:
    """Render the modal (with the draft) and cache it for the ingress."""
    modal = modal_for(interview, slack_user_id, await load_form_inputs(d, interview))
    await store_modal(d.queue, modal)
    return modal


async def field_map_of(d: Deps, interview: Interview, slack_user_id: str) -> FieldMap | None:
    """The field map answers are read with: the cached modal's (the one the ingress validated against), or
    the form's. None when the form cannot be filled in Slack. Raises `FormUnavailable`."""
    cached = await load_modal(d.queue, modal_key(interview.event_id, interview.interviewer_id))
    if cached is not None and cached.field_map is not None:
        return cached.field_map
    return modal_for(interview, slack_user_id, await load_form_inputs(d, interview)).field_map


async def mark_modal_submitted(d: Deps, interview: Interview, slack_user_id: str) -> None:
    """The next click on an old reminder, or a form left open, shows "already submitted"."""
    cached = await load_modal(d.queue, modal_key(interview.event_id, interview.interviewer_id))
    submitted = (
        msgspec.structs.replace(cached, submitted=True)
        if cached is not None
        else modal_for(interview, slack_user_id, FormInputs(None, None, submitted=True))
    )
    await store_modal(d.queue, submitted)
