"""Structured logging: JSON lines in production, readable in a terminal; one line per request and per job.

Callers bind ids (request_id, job_id), never payloads, secrets or candidate personal data.
"""

from __future__ import annotations

import logging
import sys

import msgspec
import structlog

_encoder = msgspec.json.Encoder()


def _json_line(event: object, **_: object) -> str:
    return _encoder.encode(event).decode()


def configure_logging(*, level: str = "INFO", fmt: str = "console") -> None:
    # msgspec renders JSON lines several times faster than the json module on the per-request path.
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=False,
    )
    # Library loggers (arq, uvicorn) go through the standard library at the same level.
    logging.basicConfig(level=level, stream=sys.stdout, format="%(levelname)s %(name)s %(message)s", force=True)
    for noisy in ("httpx", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # arq's INFO lines print each job's arguments (webhook bodies, interviewers' answers): our own job_done /
    # job_retry / job_failed lines replace them; arq's warnings and errors (no arguments) still show.
    logging.getLogger("arq.worker").setLevel(max(logging.WARNING, logging.getLevelName(level)))
