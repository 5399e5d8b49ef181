"""The admin JSON API under /api: the dashboard's figures and actions for scripts (`Authorization: Bearer`).

Answers are JSON objects; errors are `{"error": "..."}` with a 4xx status. A dead letter's arguments are
never sent (they may hold personal data): replay it instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from admin.access import api_access
from admin.http import int_param
from admin.operations import InvalidInput, map_person, parse_mapping, replay_dead_letter, resync
from admin.overview import DEFAULT_WEEKS, load_overview
from admin.state import state_of
from ingress.http import JSONResponse, error
from shared.db import advancement, dead_letters, stats
from shared.db.stats import FeedbackFigures
from shared.people import list_unmatched

MAX_JSON_BYTES = 16 * 1024


def _figures(rows: list[FeedbackFigures]) -> list[dict[str, Any]]:
    return [
        {
            "key": r.key,
            "label": r.label,
            "owed": r.owed,
            "received": r.received,
            "completion": r.completion,
            "median_s": r.median_s,
        }
        for r in rows
    ]


@api_access
async def overview(request: Request) -> Response:
    o = await load_overview(state_of(request))
    return JSONResponse(
        {
            "reminders": o.reminders,
            "feedback": _figures([o.feedback])[0],
            "by_week": _figures(o.by_week),
            "decisions": o.decisions,
            "dead_letters": o.dead_letters,
            "unmatched_people": o.unmatched_people,
            "queues": o.queues,
            "syncs": o.syncs,
        }
    )


@api_access
async def reminders(request: Request) -> Response:
    counts = await stats.reminder_counts(state_of(request).pool)
    return JSONResponse(
        {
            "by_state": counts.by_state,
            "by_kind": counts.by_kind,
            "reasons": [{"state": s, "reason": why, "count": n} for s, why, n in counts.reasons],
        }
    )


@api_access
async def feedback(request: Request) -> Response:
    state = state_of(request)
    weeks = int_param(request, "weeks", default=DEFAULT_WEEKS, high=104)
    now = state.now()
    since = now - timedelta(weeks=weeks)
    async with state.pool.acquire() as conn:
        return JSONResponse(
            {
                "weeks": weeks,
                "total": _figures([await stats.feedback_total(conn, since=since, until=now)])[0],
                "by_week": _figures(await stats.feedback_by_week(conn, since=since, until=now)),
                "by_interview": _figures(await stats.feedback_by_interview(conn, since=since, until=now)),
                "by_interviewer": _figures(await stats.feedback_by_interviewer(conn, since=since, until=now)),
            }
        )


@api_access
async def unmatched_people(request: Request) -> Response:
    state = state_of(request)
    return JSONResponse({"unmatched": await list_unmatched(state.pool, now=state.now())})


class _MappingBody(msgspec.Struct):
    slack_user_id: str
    tz: str | None = None


@api_access
async def map_person_api(request: Request) -> Response:
    """PUT /api/people/{ashby_user_id}/mapping {"slack_user_id": "U…", "tz": "Europe/Berlin"}."""
    body = await request.body()
    if len(body) > MAX_JSON_BYTES:
        return error(413, "body larger than 16 KiB")
    try:
        given = msgspec.json.decode(body, type=_MappingBody)
        mapping = parse_mapping(request.path_params["ashby_user_id"], given.slack_user_id, given.tz)
    except (msgspec.DecodeError, msgspec.ValidationError, InvalidInput) as invalid:
        return error(400, str(invalid))
    person = await map_person(state_of(request), mapping)
    return JSONResponse({"person": person})


@api_access
async def decisions(request: Request) -> Response:
    application_id = request.query_params.get("application_id") or None
    limit = int_param(request, "limit", default=200, high=1000)
    rows = await advancement.decisions(state_of(request).pool, application_id=application_id, limit=limit)
    return JSONResponse({"decisions": rows})


@api_access
async def rules(request: Request) -> Response:
    async with state_of(request).pool.acquire() as conn:
        versions = await stats.rule_versions(conn)
        activity = await stats.rule_activity(conn)
    return JSONResponse({"rules": versions, "activity": activity})


@api_access
async def dead_letter_list(request: Request) -> Response:
    letters = await dead_letters.list_open(state_of(request).pool, limit=500)
    fields = ("id", "job_id", "job_name", "queue", "subject", "error", "attempts", "failed_at")
    return JSONResponse({"dead_letters": [{f: getattr(letter, f) for f in fields} for letter in letters]})


@api_access
async def replay(request: Request) -> Response:
    result = await replay_dead_letter(state_of(request), request.path_params["dead_letter_id"])
    if result.job_id is None:
        return error(404, "no dead letter with this id waiting to be replayed")
    return JSONResponse({"dead_letter_id": result.dead_letter_id, "job_id": result.job_id, "queued": result.queued})


@api_access
async def resync_api(request: Request) -> Response:
    return JSONResponse({"queued": await resync(state_of(request))}, status_code=202)
