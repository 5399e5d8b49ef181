"""POST /webhooks/ashby: verify the signature on the raw body -> decode -> enqueue -> answer.

Status codes follow Ashby's retry rules: 401 for a bad signature (not retried), 400 for a malformed
body, 413 / 408 for a body too large / too slow (`ingress.http.read_body`), 200 for ping and for actions
we do not handle (so Ashby does not retry them), 503 when Redis cannot take the job (Ashby retries),
200 only once Redis has accepted the job.
"""

from __future__ import annotations

import structlog
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from ingress.http import BodyRefused, JSONResponse, error, read_body
from ingress.state import state_of
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


async def ashby_webhook(request: Request) -> Response:
    state = state_of(request)
    try:
        body = await read_body(request, timeout_s=state.settings.ingress_body_timeout_s)
    except BodyRefused as refused:
        return refused.response
    if not verify_ashby(state.settings.ashby_webhook_secret, body, request.headers.get("ashby-signature")):
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
        return JSONResponse({"status": "ok", "message": "pong"})
    if action not in HANDLED_ACTIONS:
        log.info("ashby_webhook_ignored", action=action[:64])
        return JSONResponse({"status": "ignored", "action": action[:64]})
    try:
        queued = await enqueue_ashby_event(state.queue, body, batcher=state.batcher)
    except (RedisError, OSError, TimeoutError) as exc:
        log.error("ashby_webhook_not_queued", error=type(exc).__name__)
        return error(503, "queue unavailable, retry later", **{"Retry-After": "10"})
    return JSONResponse({"status": "queued" if queued else "duplicate"})
