"""Render an interviewer's feedback modal (with their draft) and cache it in Redis for the ingress."""

from __future__ import annotations

from datetime import timedelta

from shared.db import feedback as feedback_db
from shared.db.people import Person
from shared.feedback_form import Modal, ModalContext, render_modal
from shared.modal_cache import CachedModal, modal_key, store_modal
from shared.modal_views import notice_view
from shared.people import resolve_person
from workers.context import InterviewContext, load_form
from workers.deps import Deps

PEOPLE_MAX_AGE = timedelta(days=7)
NO_FORM = "This interview has no feedback form in Ashby, so there is nothing to fill in here."


async def person_of(d: Deps, ctx: InterviewContext) -> Person:
    return await resolve_person(
        d.pool,
        d.slack,
        ashby_user_id=ctx.interviewer_id,
        email=ctx.interviewer_email,
        now=d.clock(),
        max_age=PEOPLE_MAX_AGE,
    )


async def prerender(d: Deps, ctx: InterviewContext, slack_user_id: str) -> CachedModal:
    """The modal for this (event, interviewer) with any saved draft filled in, stored in Redis."""
    key = modal_key(ctx.event_id, ctx.interviewer_id)
    submitted = await feedback_db.has_feedback(d.pool, ctx.event_id, ctx.interviewer_id)
    if ctx.form_id is None:
        modal = CachedModal(
            event_id=ctx.event_id,
            interviewer_id=ctx.interviewer_id,
            slack_user_id=slack_user_id,
            view=notice_view(NO_FORM),
            submitted=submitted,
        )
    else:
        form = await load_form(d, ctx.form_id)
        draft = await feedback_db.load_draft(d.pool, ctx.event_id, ctx.interviewer_id)
        context = ModalContext(
            submission_key=key,
            candidate_name=ctx.info.candidate_name,
            interview_title=ctx.interview_title,
            job_title=ctx.info.job_title,
            feedback_link=ctx.info.feedback_link,
        )
        rendered = render_modal(form, context=context, draft=draft)
        modal = CachedModal(
            event_id=ctx.event_id,
            interviewer_id=ctx.interviewer_id,
            slack_user_id=slack_user_id,
            view=rendered.view,
            field_map=rendered.field_map if isinstance(rendered, Modal) else None,
            submitted=submitted,
        )
    await store_modal(d.queue, modal)
    return modal
