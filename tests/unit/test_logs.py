"""The log line's cheaper parts write what structlog's own would, and follow a reconfiguration."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import structlog

from shared.logs import ConfiguredLogger, LineBuffer, _Timestamp, configure_logging, flush_logs


@pytest.fixture
def restored() -> Iterator[None]:
    saved = structlog.get_config()
    try:
        yield
    finally:
        structlog.configure(**saved)


@pytest.mark.parametrize("instants", [(1_800_000_000.25, 1_800_000_000.5, 1_800_000_001.125, 1_800_000_002.0)])
def test_the_timestamp_is_the_text_of_structlogs_iso_utc_stamper(
    monkeypatch: pytest.MonkeyPatch, instants: tuple[float, ...]
) -> None:
    """The same text as `TimeStamper(fmt="iso", utc=True)`: isoformat with a Z, no fraction on a whole second."""
    stamp = _Timestamp()
    for instant in instants:  # within a second, then the next ones: the cached second moves on
        monkeypatch.setattr(time, "time", lambda instant=instant: instant)
        expected = datetime.fromtimestamp(instant, UTC).isoformat().replace("+00:00", "Z")
        assert stamp(None, "info", {})["timestamp"] == expected


def test_the_configured_logger_writes_to_the_output_configured_last(restored: None) -> None:
    configure_logging(level="INFO", fmt="json")
    request_log = ConfiguredLogger("ingress")
    first, second = io.StringIO(), io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=first))
    request_log.get().info("request", status=200)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=second))
    request_log.get().info("request", status=204)
    [line_one] = first.getvalue().splitlines()
    [line_two] = second.getvalue().splitlines()
    assert json.loads(line_one)["status"] == 200 and json.loads(line_two)["status"] == 204
    assert set(json.loads(line_two)) == {"status", "event", "level", "timestamp"}


def test_the_configured_logger_is_built_once_per_configuration(restored: None) -> None:
    configure_logging(level="INFO", fmt="json")
    request_log = ConfiguredLogger("ingress")
    assert request_log.get() is request_log.get()
    configure_logging(level="WARNING", fmt="json")
    stream = io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=stream))
    request_log.get().info("request")  # below the level now configured
    assert stream.getvalue() == ""


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


async def test_lines_logged_in_one_loop_iteration_are_written_together_when_the_loop_turns() -> None:
    stream = CountingStream()
    buffer = LineBuffer(stream)
    buffer.msg('{"event":"a"}')
    buffer.msg('{"event":"b"}')
    assert stream.getvalue() == ""  # not yet: the loop has not turned
    await asyncio.sleep(0)  # one turn of the loop, the point under test
    assert stream.getvalue() == '{"event":"a"}\n{"event":"b"}\n' and stream.writes == 1
    buffer.msg('{"event":"c"}')
    await asyncio.sleep(0)
    assert stream.getvalue().splitlines()[-1] == '{"event":"c"}' and stream.writes == 2


def test_a_line_logged_outside_a_loop_is_written_at_once() -> None:
    stream = CountingStream()
    LineBuffer(stream).msg('{"event":"a"}')
    assert stream.getvalue() == '{"event":"a"}\n'


def test_json_logging_goes_through_the_line_buffer_and_console_logging_does_not(restored: None) -> None:
    configure_logging(level="INFO", fmt="json")
    assert isinstance(structlog.get_config()["logger_factory"], LineBuffer)
    configure_logging(level="INFO", fmt="console")
    assert not isinstance(structlog.get_config()["logger_factory"], LineBuffer)


async def test_flush_logs_writes_what_the_loop_has_not_yet_written(restored: None) -> None:
    """What a hard exit (os._exit, no exit handlers) calls first, so the worker's last lines are not lost."""
    stream = CountingStream()
    buffer = LineBuffer(stream)
    structlog.configure(logger_factory=buffer)
    buffer.msg('{"event":"last words"}')
    assert stream.getvalue() == ""
    flush_logs()
    assert stream.getvalue() == '{"event":"last words"}\n'
