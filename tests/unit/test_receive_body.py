"""The body's deadline: its own expiry is a 408, anyone else's cancellation stays a cancellation."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request
from starlette.types import Message

from ingress.http import BodyRefused, read_body, receive_body

SCOPE = {"type": "http", "method": "POST", "path": "/webhooks/ashby", "headers": [], "query_string": b""}


async def test_a_body_that_does_not_arrive_in_time_is_a_408() -> None:
    async def receive() -> Message:
        await asyncio.Event().wait()  # the rest of the body never comes
        raise AssertionError("unreachable")

    with pytest.raises(BodyRefused) as refused:
        await receive_body(SCOPE, receive, timeout_s=0.05)
    assert refused.value.response.status_code == 408
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]  # nothing left pending


async def test_a_cancellation_from_outside_is_not_taken_for_the_deadline() -> None:
    waiting = asyncio.Event()

    async def receive() -> Message:
        waiting.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    reading = asyncio.ensure_future(receive_body(SCOPE, receive, timeout_s=10))
    await waiting.wait()
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading


async def test_a_body_in_one_message_is_returned_as_sent() -> None:
    async def receive() -> Message:
        return {"type": "http.request", "body": b'{"action":"ping"}', "more_body": False}

    assert await receive_body(SCOPE, receive, timeout_s=1) == b'{"action":"ping"}'


async def test_a_body_another_layer_already_read_is_taken_from_starlettes_cache() -> None:
    """Sentry's Starlette integration reads `Request.body()` before the route: the messages are gone."""
    messages = [{"type": "http.request", "body": b'{"type": "url_verification"}', "more_body": False}]

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # what a server does once the body was delivered: wait for a disconnect
        raise AssertionError("unreachable")

    request = Request({**SCOPE, "path": "/slack/events"}, receive)
    assert await request.body() == b'{"type": "url_verification"}'
    assert await read_body(request, timeout_s=0.05) == b'{"type": "url_verification"}'
