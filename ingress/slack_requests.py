"""Every request from Slack (interactions, events, slash commands) is read the same way: the raw body, its v0
signature (5-minute window) and a replay check, all before anything in it is parsed.

Invariant: a request this refuses has had no effect but the replay mark of a valid signature.
"""

from __future__ import annotations

import hashlib
from typing import Any

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from ingress.http import BodyRefused, error, read_body
from ingress.state import state_of
from shared.signatures import SLACK_MAX_AGE_S, verify_slack

REPLAY_PREFIX = "fleet:slack-replay:"
# What a Redis outage raises, as in ingress/ashby.py (the enqueue batcher hands callers plain OSErrors too).
QUEUE_ERRORS = (RedisError, OSError, TimeoutError)


async def verified_body(request: Request, *, log: Any, what: str) -> bytes:
    """The raw body of a genuine, first delivery from Slack; else `BodyRefused` with the answer to send
    (401 unsigned, stale, forged or replayed; 413/408 from reading; 503 when Redis cannot check replays).
    Refusals are logged as `<what>_rejected` with the reason, never with the signature or the body."""
    state = state_of(request)
    body = await read_body(request, timeout_s=state.settings.ingress_body_timeout_s)
    timestamp = request.headers.get("x-slack-request-timestamp")
    signature = request.headers.get("x-slack-signature")
    if not verify_slack(state.settings.slack_signing_secret, body, timestamp, signature, now=state.clock()):
        log.warning(f"{what}_rejected", reason="missing, invalid or expired signature")
        state.metrics.signature_failures.labels("slack").inc()
        raise BodyRefused(error(401, "missing, invalid or expired Slack signature"))
    try:
        first = await _first_delivery(state.queue, str(signature))
    except QUEUE_ERRORS as exc:
        raise BodyRefused(queue_unavailable(log, what, exc)) from None
    if not first:
        log.warning(f"{what}_rejected", reason="replayed")
        state.metrics.signature_failures.labels("slack_replay").inc()
        raise BodyRefused(error(401, "replayed Slack request"))
    return body


def queue_unavailable(log: Any, what: str, exc: Exception) -> Response:
    """503 (Slack shows an error, or retries an event): Redis could not take the job or the replay mark."""
    log.error(f"{what}_not_queued", error=type(exc).__name__)
    return error(503, "queue unavailable, retry later")


async def _first_delivery(redis: Any, signature: str) -> bool:
    """A signature seen before inside the 5-minute window is a replay (Slack signs every delivery anew)."""
    key = REPLAY_PREFIX + hashlib.sha256(signature.encode()).hexdigest()[:32]
    return bool(await redis.set(key, b"1", nx=True, ex=2 * SLACK_MAX_AGE_S))
