"""Structured logging: JSON lines in production, readable in a terminal; one line per request and per job.

Callers bind ids (request_id, job_id), never payloads, secrets or candidate personal data.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec
import structlog
from structlog.typing import EventDict, WrappedLogger

_encoder = msgspec.json.Encoder()


def _json_line(event: object, **_: object) -> str:
    return _encoder.encode(event).decode()


class _Timestamp:
    """structlog's `TimeStamper(fmt="iso", utc=True)` (the same text: `2026-11-30T09:08:56.238503Z`) at a third of
    its cost: the date and time of the current second are formatted once per second, not on every line."""

    def __init__(self) -> None:
        self.second = -1
        self.text = ""

    def __call__(self, logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
        now = time.time()
        second = int(now)
        if second != self.second:
            self.second, self.text = second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        micro = int((now - second) * 1_000_000)
        event_dict["timestamp"] = f"{self.text}.{micro:06d}Z" if micro else f"{self.text}Z"
        return event_dict


class ConfiguredLogger:
    """structlog's logger `name`, built once per logging configuration, for a line written thousands of times a
    second (the ingress's one line per request): `structlog.get_logger`'s proxy builds a new logger, and its
    output, on every call. Reconfiguring structlog (as tests do, to read the lines) gives a new one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.built_for: tuple[object, ...] = (None, None, None, None)
        self.logger: Any = None

    def get(self) -> Any:
        config = structlog.get_config()
        key = (config["processors"], config["wrapper_class"], config["logger_factory"], config["context_class"])
        if any(now is not then for now, then in zip(key, self.built_for, strict=True)):
            self.logger, self.built_for = structlog.get_logger(self.name).bind(), key
        return self.logger


class LineBuffer:
    """Where JSON log lines go: stdout, in one write per event-loop iteration instead of one per line.

    A busy ingress logs a line per request, thousands a second, and a write to a pipe or file per line cost as
    much as rendering it. Lines logged while a loop runs are written together when the loop next turns (well
    under a millisecond later); outside a loop, at once; the rest at exit. A process killed outright (SIGKILL)
    loses the lines of its last iteration, which a write per line would not.
    """

    def __init__(self, file: TextIO) -> None:
        self.file = file
        self.lines: list[str] = []
        self.scheduled = False
        atexit.register(self.flush)

    def msg(self, message: str) -> None:
        self.lines.append(message)
        if self.scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop in this thread: nothing would flush it later
            self.flush()
            return
        self.scheduled = True
        loop.call_soon(self.flush)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg

    def flush(self) -> None:
        self.scheduled = False
        lines, self.lines = self.lines, []  # a swap: a line appended by another thread meanwhile waits its turn
        if lines:
            self.file.write("\n".join(lines) + "\n")
            self.file.flush()

    def __call__(self, *args: Any) -> LineBuffer:  # structlog's logger factory: one buffer for every logger
        return self


def flush_logs() -> None:
    """Write the lines still buffered now: before a process ends without running its exit handlers."""
    factory = structlog.get_config().get("logger_factory")
    if isinstance(factory, LineBuffer):
        factory.flush()


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
            _Timestamp(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=LineBuffer(sys.stdout) if fmt == "json" else structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=False,
    )
    # Library loggers (arq, uvicorn) go through the standard library at the same level.
    logging.basicConfig(level=level, stream=sys.stdout, format="%(levelname)s %(name)s %(message)s", force=True)
    for noisy in ("httpx", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # arq's INFO lines print each job's arguments (webhook bodies, interviewers' answers): our own job_done /
    # job_retry / job_failed lines replace them; arq's warnings and errors (no arguments) still show.
    logging.getLogger("arq.worker").setLevel(max(logging.WARNING, logging.getLevelName(level)))
