"""Concurrent misses of one Ashby object in a worker process share one fetch."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from workers.ashby_fetch import fetch_once


async def test_concurrent_fetches_of_one_object_share_one_request() -> None:
    d: Any = SimpleNamespace(fetches={})
    calls = 0
    release = asyncio.Event()

    async def fetch() -> None:
        nonlocal calls
        calls += 1
        await release.wait()

    waiters = [asyncio.create_task(fetch_once(d, "application:a", fetch)) for _ in range(3)]
    other = asyncio.create_task(fetch_once(d, "application:b", fetch))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(*waiters, other)
    assert calls == 2  # one per object
    assert d.fetches == {}  # finished fetches are forgotten: the next miss asks Ashby again


async def test_a_failed_fetch_fails_every_waiter_and_is_forgotten() -> None:
    d: Any = SimpleNamespace(fetches={})
    release = asyncio.Event()

    async def fetch() -> None:
        await release.wait()
        raise TimeoutError("ashby")

    waiters = [asyncio.create_task(fetch_once(d, "interview:i", fetch)) for _ in range(2)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert [type(r) for r in results] == [TimeoutError, TimeoutError]
    assert d.fetches == {}


async def test_a_cancelled_waiter_leaves_the_fetch_to_the_others() -> None:
    d: Any = SimpleNamespace(fetches={})
    release = asyncio.Event()
    done: list[str] = []

    async def fetch() -> None:
        await release.wait()
        done.append("fetched")

    first = asyncio.create_task(fetch_once(d, "application:a", fetch))
    second = asyncio.create_task(fetch_once(d, "application:a", fetch))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    await second
    with pytest.raises(asyncio.CancelledError):
        await first
    assert done == ["fetched"]
