"""The ingress's responses go out in one write: the head is held for the body, never a 100 Continue."""

from __future__ import annotations

import asyncio
from typing import cast

from ingress.server import OneWriteResponses


class Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def writelines(self, parts: tuple[bytes, ...]) -> None:
        self.writes.append(b"".join(parts))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 19\r\n\r\n"


def transport() -> tuple[OneWriteResponses, Recorder]:
    recorder = Recorder()
    return OneWriteResponses(cast(asyncio.Transport, recorder)), recorder


def test_the_head_and_the_body_go_out_in_one_write() -> None:
    response, recorder = transport()
    response.write(HEAD)
    assert recorder.writes == []
    response.write(b'{"status":"queued"}')
    assert recorder.writes == [HEAD + b'{"status":"queued"}']


def test_a_100_continue_goes_out_at_once_and_the_answer_after_it_still_in_one_write() -> None:
    response, recorder = transport()
    response.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert recorder.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    response.write(HEAD)
    response.write(b"{}")
    assert recorder.writes[1:] == [HEAD + b"{}"]


def test_a_held_head_goes_out_before_a_close_and_on_flush() -> None:
    closing, recorder = transport()
    closing.write(HEAD)
    closing.close()
    assert recorder.writes == [HEAD] and recorder.closed
    bodiless, other = transport()
    bodiless.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    bodiless.flush()
    bodiless.flush()
    assert other.writes == [b"HTTP/1.1 204 No Content\r\n\r\n"]
    assert bodiless.is_closing() is False  # anything else is the transport's own
