"""POST /slack/events, the Events API: verify -> `url_verification` answered with its challenge; the Home tab
opened (`app_home_opened`, tab `home`) queues one `publish_home` per person per burst; any other event is
acknowledged with 200 and nothing else.

Slack retries a delivery it thinks failed (`X-Slack-Retry-Num`, up to 3 times, each signed anew). The job id
comes from the event itself (who, and when it happened), so a retry of a delivery that was queued is a no-op
while that job waits or runs, and a retry of one we refused (Redis down: 503) queues it now.
"""

from __future__ import annotations

import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import Response

from ingress.http import BodyRefused, JSONResponse, error
from ingress.slack_requests import QUEUE_ERRORS, queue_unavailable, verified_body
from ingress.state import state_of
from shared import jobs
from shared.payloads.slack_events import (
    APP_HOME_OPENED,
    EVENT_CALLBACK,
    HOME_TAB,
    URL_VERIFICATION,
    envelope_decoder,
    event_callback_decoder,
    is_user_id,
    url_verification_decoder,
)

log = structlog.get_logger("ingress.slack_events")


async def slack_events(request: Request) -> Response:
    state = state_of(request)
    try:
        body = await verified_body(request, log=log, what="slack_event")
    except BodyRefused as refused:
        return refused.response
    try:
        kind = envelope_decoder.decode(body).type
        if kind == URL_VERIFICATION:
            return JSONResponse({"challenge": url_verification_decoder.decode(body).challenge})
        if kind != EVENT_CALLBACK:
            return Response(status_code=200)
        callback = event_callback_decoder.decode(body)
    except (RecursionError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        return error(400, f"malformed event: {exc}")
    event = callback.event
    if event.type != APP_HOME_OPENED or event.tab != HOME_TAB:
        return Response(status_code=200)
    if event.user is None or not is_user_id(event.user):
        return error(400, "malformed event: app_home_opened without a Slack user id")
    opened_at = callback.event_time if callback.event_time is not None else state.clock()
    try:
        await jobs.enqueue_interactive(
            state.queue,
            jobs.PUBLISH_HOME,
            event.user,
            job_id=jobs.home_job_id(event.user, opened_at),
            batcher=state.batcher,
        )
    except QUEUE_ERRORS as exc:
        return queue_unavailable(log, "slack_event", exc)
    return Response(status_code=200)
