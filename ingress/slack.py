"""POST /slack/interactions: verify (v0, 5-minute window, raw body) -> decode -> open or validate -> enqueue -> ack.

Slack gives 3 s to answer and a trigger_id dies 3 s after the click, so the ingress itself opens the
feedback modal a worker pre-rendered into Redis (or a loading view a worker fills), and validates a
submission against the cached field map so errors show inline. Everything else is a queued job.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import parse_qs

import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import Response

from ingress.http import BodyRefused, JSONResponse, error
from ingress.slack_requests import QUEUE_ERRORS, queue_unavailable, verified_body
from ingress.state import state_of
from shared import jobs
from shared.advancement.messages import VERDICTS
from shared.blocks import OPEN_FEEDBACK_FORM, OPEN_RESUME, REOPEN_FEEDBACK_FORM
from shared.errors import FleetError
from shared.feedback_form import CALLBACK_ID as FEEDBACK_CALLBACK_ID
from shared.feedback_form import validate_submission
from shared.modal_cache import CachedModal, load_modal, parse_modal_key
from shared.modal_views import ALREADY_SUBMITTED, EXPIRED, NOT_YOURS, SUBMITTING, loading_view, notice_view
from shared.payloads.slack import (
    INTERACTION_TYPES,
    BlockActions,
    Interaction,
    ViewClosed,
    ViewSubmission,
    interaction_decoder,
    type_decoder,
)
from shared.storable import storable_json

OPEN_ACTIONS = frozenset({OPEN_FEEDBACK_FORM, REOPEN_FEEDBACK_FORM})
DECISION_ACTIONS = frozenset(VERDICTS)
log = structlog.get_logger("ingress.slack")


async def slack_interactions(request: Request) -> Response:
    try:
        body = await verified_body(request, log=log, what="slack_interaction")
    except BodyRefused as refused:
        return refused.response
    try:
        payload = _payload(body)
        if type_decoder.decode(payload).type not in INTERACTION_TYPES:
            return Response(status_code=200)
        interaction = interaction_decoder.decode(payload)
    except (ValueError, RecursionError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        # RecursionError: msgspec's answer to JSON nested deeper than the interpreter's recursion limit.
        return error(400, f"malformed interaction payload: {exc}")
    try:
        return await _dispatch(request, interaction)
    except QUEUE_ERRORS as exc:
        return queue_unavailable(log, "slack_interaction", exc)
    except OverflowError:  # the job encoding (msgpack) refused an integer beyond 64 bits; Slack sends none
        return error(400, "malformed interaction payload: a number out of range")


async def _enqueue(request: Request, function: str, *args: Any, job_id: str) -> bool:
    state = state_of(request)
    return await jobs.enqueue_interactive(state.queue, function, *args, job_id=job_id, batcher=state.batcher)


def _payload(body: bytes) -> bytes:
    """The interaction's JSON, with NUL removed from its strings: typed answers end up in PostgreSQL."""
    fields = parse_qs(body.decode("utf-8"), strict_parsing=False)
    values = fields.get("payload")
    if not values or len(values) != 1:
        raise ValueError("expected exactly one form field `payload`")
    return storable_json(values[0].encode())


async def _dispatch(request: Request, interaction: Interaction) -> Response:
    if isinstance(interaction, BlockActions):
        return await _on_action(request, interaction)
    if interaction.view.callback_id != FEEDBACK_CALLBACK_ID:
        return Response(status_code=200)
    if isinstance(interaction, ViewSubmission):
        return await _on_submission(request, interaction)
    return await _on_close(request, interaction)


async def _on_action(request: Request, interaction: BlockActions) -> Response:
    state = state_of(request)
    action = interaction.actions[0] if interaction.actions else None
    if action is None:
        return Response(status_code=200)
    if action.action_id == OPEN_RESUME and parse_modal_key(action.value):
        modal = await load_modal(state.queue, str(action.value))
        if modal is not None and modal.slack_user_id != interaction.user.id:
            log.warning("resume_link_refused", reason="clicking user is not the interviewer")
            return Response(status_code=200)
        await _enqueue(
            request,
            jobs.SEND_RESUME_LINK,
            action.value,
            interaction.user.id,
            job_id=f"resume:{action.value}:{interaction.trigger_id}",
        )
        return Response(status_code=200)
    if action.action_id in DECISION_ACTIONS:
        if action.value and action.value.isdigit() and len(action.value) < 19:
            await _enqueue(
                request,
                jobs.DECIDE_CLICK,
                int(action.value),
                action.action_id,
                interaction.user.id,
                job_id=f"decision-click:{action.value}:{interaction.user.id}:{action.action_id}",
            )
        return Response(status_code=200)
    if action.action_id not in OPEN_ACTIONS or not parse_modal_key(action.value):
        return Response(status_code=200)
    key = str(action.value)
    modal = await load_modal(state.queue, key)
    user_id = interaction.user.id
    if modal is not None and modal.slack_user_id != user_id:
        log.warning("feedback_form_refused", reason="clicking user is not the interviewer")
        await _open(request, interaction.trigger_id, notice_view(NOT_YOURS), key, user_id, notify_on_failure=False)
        return Response(status_code=200)
    if modal is not None:
        view = notice_view(ALREADY_SUBMITTED) if modal.submitted else modal.view
        await _open(request, interaction.trigger_id, view, key, user_id)
        return Response(status_code=200)
    view_id = await _open(request, interaction.trigger_id, loading_view(key), key, user_id)
    if view_id:
        await _enqueue(request, jobs.HYDRATE_MODAL, key, view_id, user_id, job_id=f"hydrate:{view_id}")
    return Response(status_code=200)


async def _open(
    request: Request, trigger_id: str, view: dict[str, Any], key: str, user_id: str, *, notify_on_failure: bool = True
) -> str | None:
    """views.open inside the trigger's 3 s; an expired trigger is told to the interviewer by a queued DM
    (never to someone who clicked another interviewer's button)."""
    started = time.perf_counter()
    try:
        view_id: str = await state_of(request).slack.open_view(trigger_id, view)
    except FleetError as exc:
        log.warning("views_open_failed", error=type(exc).__name__, code=getattr(exc, "code", None))
        if not notify_on_failure:
            return None
        await _enqueue(request, jobs.NOTIFY_OPEN_FAILED, key, user_id, job_id=f"open-failed:{trigger_id}")
        return None
    log.info("views_open", ms=round((time.perf_counter() - started) * 1000, 2))
    return view_id


async def _on_submission(request: Request, interaction: ViewSubmission) -> Response:
    """Validate against the cached field map so errors show inline; with no cached modal (it expired, or
    Redis lost it) the answers are queued anyway, never dropped: the worker reads them with the form, checks
    who sent them, and tells the interviewer the outcome in the modal or by DM."""
    state = state_of(request)
    key = interaction.view.private_metadata
    if not parse_modal_key(key):
        return JSONResponse({"response_action": "update", "view": notice_view(EXPIRED)})
    modal: CachedModal | None = await load_modal(state.queue, key)
    if modal is not None and modal.slack_user_id != interaction.user.id:
        log.warning("feedback_submission_refused", reason="submitting user is not the interviewer")
        fields = modal.field_map.fields if modal.field_map else []
        return JSONResponse(
            {"response_action": "errors", "errors": {fields[0].block_id if fields else "feedback": NOT_YOURS}}
        )
    if modal is not None and modal.submitted:  # a form left open while the feedback went in (another tab, Ashby)
        return JSONResponse({"response_action": "update", "view": notice_view(ALREADY_SUBMITTED)})
    if modal is not None and modal.field_map is None:  # a link-only form has nothing to submit here
        return JSONResponse({"response_action": "update", "view": notice_view(EXPIRED)})
    values = interaction.view.state.values
    if modal is not None and modal.field_map is not None:
        errors = validate_submission(values, modal.field_map)
        if errors:
            return JSONResponse({"response_action": "errors", "errors": errors})
    await _enqueue(
        request,
        jobs.SUBMIT_FEEDBACK,
        key,
        interaction.user.id,
        values,
        interaction.view.id,
        job_id=f"submit:{key}",
    )
    return JSONResponse({"response_action": "update", "view": notice_view(SUBMITTING)})


async def _on_close(request: Request, interaction: ViewClosed) -> Response:
    key = interaction.view.private_metadata
    if not parse_modal_key(key):
        return Response(status_code=200)
    # As for a submission: another user's answers are not queued (on a cache miss the job checks instead).
    modal = await load_modal(state_of(request).queue, key)
    if modal is not None and modal.slack_user_id != interaction.user.id:
        log.warning("feedback_draft_refused", reason="closing user is not the interviewer")
        return Response(status_code=200)
    values = interaction.view.state.values
    digest = hashlib.sha256(msgspec.json.encode(values)).hexdigest()[:16]
    await _enqueue(request, jobs.SAVE_DRAFT, key, interaction.user.id, values, job_id=f"draft:{key}:{digest}")
    return Response(status_code=200)
