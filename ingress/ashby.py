"""POST /webhooks/ashby: verify the signature on the raw body -> decode -> enqueue -> answer.

Status codes follow Ashby's retry rules: 401 for a bad signature (not retried), 400 for a malformed
body, 413 / 408 for a body too large / too slow (`ingress.http.receive_body`), 200 for ping and for actions
we do not handle (so Ashby does not retry them), 503 when Redis cannot take the job (Ashby retries),
200 only once Redis has accepted the job.
"""

from __future__ import annotations

import structlog
from redis.exceptions import RedisError
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ingress.http import BodyRefused, JSONResponse, error, header, receive_body
from ingress.state import IngressState
from shared.jobs import enqueue_ashby_event
from shared.payloads.ashby import (
    APPLICATION_ACTIONS,
    CANDIDATE_ACTIONS,
    SCHEDULE_ACTIONS,
    decode_application_webhook,
    decode_candidate_webhook,
    decode_schedule_webhook,
    envelope_decoder,
)
from shared.signatures import verify_ashby

HANDLED_ACTIONS = SCHEDULE_ACTIONS | APPLICATION_ACTIONS | CANDIDATE_ACTIONS
log = structlog.get_logger("ingress.ashby")


QUEUED = JSONResponse({"status": "queued"})
DUPLICATE = JSONResponse({"status": "duplicate"})
PONG = JSONResponse({"status": "ok", "message": "pong"})


class AshbyWebhook:
    """The endpoint as a raw ASGI app: `ingress.app.Ingress` sends every POST here behind the request log alone,
    without Starlette's error and exception middleware, router and Request objects (13% of a request's CPU,
    more than the handler's own work, in a profile under load); Starlette's router holds it too, for its 405
    and redirect answers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await answer(scope["app"].state.ingress, scope, receive)
        await response(scope, receive, send)


async def answer(state: IngressState, scope: Scope, receive: Receive) -> Response:
    try:
        body = await receive_body(scope, receive, timeout_s=state.settings.ingress_body_timeout_s)
    except BodyRefused as refused:
        return refused.response
    if not verify_ashby(state.settings.ashby_webhook_secret, body, header(scope, b"ashby-signature")):
        log.warning("ashby_webhook_rejected", reason="missing or invalid signature")
        state.metrics.signature_failures.labels("ashby").inc()
        return error(401, "missing or invalid Ashby-Signature")
    try:
        action = envelope_decoder.decode(body).action
        if action in SCHEDULE_ACTIONS:
            decode_schedule_webhook(body)
        elif action in APPLICATION_ACTIONS:
            decode_application_webhook(body)
        elif action in CANDIDATE_ACTIONS:
            decode_candidate_webhook(body)
    except (ValueError, RecursionError) as exc:
        # msgspec's DecodeError and ValidationError are ValueErrors, and so is the UnicodeDecodeError it raises
        # for invalid UTF-8 inside a string; RecursionError: JSON nested deeper than the recursion limit.
        return error(400, f"malformed webhook body: {type(exc).__name__ if isinstance(exc, RecursionError) else exc}")
    if action == "ping":
        return PONG
    if action not in HANDLED_ACTIONS:
        log.info("ashby_webhook_ignored", action=action[:64])
        return JSONResponse({"status": "ignored", "action": action[:64]})
    try:
        queued = await enqueue_ashby_event(state.queue, body, batcher=state.batcher)
    except (RedisError, OSError, TimeoutError) as exc:
        log.error("ashby_webhook_not_queued", error=type(exc).__name__)
        return error(503, "queue unavailable, retry later", **{"Retry-After": "10"})
    # Answers without a per-request part are built once: sending a Response does not change it.
    return QUEUED if queued else DUPLICATE
