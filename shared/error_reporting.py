"""Optional error reporting to Sentry (`SENTRY_DSN`), for every process, with personal data scrubbed.

What reaches Sentry is where and what kind of failure, never what it was about: exception types and stack
frames (file, function, line), the process role, the release and the environment. Exception messages,
log parameters, local variables, request bodies, headers, cookies, query strings and breadcrumbs' data
are removed before an event leaves the process: they can hold candidates' names, scorecard answers,
e-mail addresses and tokens (an Ashby error echoes the request; a Slack error its message).
"""

from __future__ import annotations

from typing import Any

import sentry_sdk

from shared.settings import Settings

REDACTED = "[scrubbed]"


def init_error_reporting(settings: Settings, *, role: str) -> bool:
    """Start Sentry for this process when `SENTRY_DSN` is set; True when it was started."""
    if not settings.sentry_dsn:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment,
        release=settings.sentry_release or None,
        server_name=role,  # the role, not the host name (a pod's name says nothing an operator needs)
        # Collect nothing about people or requests at the source; `scrub_event` removes what remains.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "off"}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "queues": False,
            "stack_frame_variables": False,
            "frame_context_lines": 0,
        },
        traces_sample_rate=0.0,
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
    )
    sentry_sdk.set_tag("role", role)
    return True


def report_exception(exc: BaseException) -> None:
    """Send `exc` when error reporting is on (a no-op otherwise): for failures handled, not raised, such as a
    job dead-lettered."""
    sentry_sdk.capture_exception(exc)


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    for exception in (event.get("exception") or {}).get("values") or []:
        if exception.get("value"):
            exception["value"] = REDACTED
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
            for field in ("context_line", "pre_context", "post_context"):
                frame.pop(field, None)  # source lines can hold literals; the file, function and line remain
    logentry = event.get("logentry") or event.get("message")
    if isinstance(logentry, dict):
        logentry.pop("params", None)
        if "formatted" in logentry:
            logentry["formatted"] = logentry.get("message", REDACTED)
    elif isinstance(logentry, str):
        event["message"] = REDACTED
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = {key: request[key] for key in ("method",) if key in request}
    for key in ("extra", "user", "contexts_trace_data"):
        event.pop(key, None)
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        for crumb in breadcrumbs.get("values") or []:
            scrub_breadcrumb(crumb)
    return event


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    crumb.pop("data", None)
    if crumb.get("message"):
        crumb["message"] = REDACTED
    return crumb
