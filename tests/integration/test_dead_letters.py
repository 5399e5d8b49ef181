"""The job boundary on real PostgreSQL and Redis: transient failures go back to the queue, failures for good
become dead letters with their arguments, and a replay runs the job again, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from arq import Retry

from shared import jobs
from shared.db import dead_letters
from shared.dead_letter_replay import replay
from shared.errors import Transient
from tests.helpers import event, interviewer, make_settings, schedule_webhook
from workers.deps import Deps, build_deps
from workers.job_boundary import job
from workers.main import create_worker

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
async def deps(db_url: str, redis_url: str, redis: aioredis.Redis) -> AsyncIterator[Deps]:
    queue = jobs.queue_redis(redis_url)
    async with build_deps(make_settings(db_url, redis_url), queue, clock=lambda: NOW) as built:
        yield built
    await queue.aclose()


def ctx_for(d: Deps, job_try: int, job_id: str = "job-1") -> dict[str, Any]:
    return {"deps": d, "job_try": job_try, "job_id": job_id, "queue_name": jobs.QUEUE_DEFAULT}


@job(tries=3)
async def flaky(ctx: dict[str, Any], event_id: str, answers: dict[str, Any]) -> dict[str, Any]:
    raise Transient("upstream busy")


@job
async def buggy(ctx: dict[str, Any], reminder_id: int) -> dict[str, Any]:
    raise ValueError("Exceeds the limit (4300 digits) for integer string conversion: 4444...")


@job(periodic=True)
async def tick(ctx: dict[str, Any]) -> dict[str, Any]:
    if ctx["job_try"] == 99:
        raise Transient("busy")
    raise KeyError("bug")


async def test_a_transient_failure_goes_back_to_the_queue_until_its_tries_run_out(deps: Deps) -> None:
    with pytest.raises(Retry):
        await flaky(ctx_for(deps, 1), "event-1", {"answer": "kept"})
    with pytest.raises(Retry):
        await flaky(ctx_for(deps, 2), "event-1", {"answer": "kept"})
    assert await dead_letters.count_open(deps.pool) == 0
    result = await flaky(ctx_for(deps, 3), "event-1", {"answer": "kept"})
    assert result == {"outcome": "dead_lettered", "error": "Transient"}
    [letter] = await dead_letters.list_open(deps.pool)
    assert (letter.job_name, letter.subject, letter.error, letter.attempts) == ("flaky", "event-1", "Transient", 3)
    assert jobs.deserialize(letter.args) == [["event-1", {"answer": "kept"}], {}]


async def test_quick_refusals_are_not_an_outage_until_the_retry_window_has_passed(deps: Deps) -> None:
    # A saturated rate limit refuses within seconds: twelve quick tries are not fifteen minutes of outage.
    recent = {**ctx_for(deps, 3), "enqueue_time": datetime.now(UTC) - timedelta(minutes=1)}
    with pytest.raises(Retry):
        await flaky(recent, "event-1", {})
    assert await dead_letters.count_open(deps.pool) == 0
    old = {**ctx_for(deps, 3), "enqueue_time": datetime.now(UTC) - timedelta(minutes=20)}
    assert (await flaky(old, "event-1", {}))["outcome"] == "dead_lettered"


async def test_a_job_the_window_kept_alive_past_its_tries_still_runs(deps: Deps) -> None:
    # The chaos suite's run 11: a notice refused a rate-limit slot 12 times was taken, at its 13th try, for a
    # job whose worker kept dying, and dead-lettered without running. Within the window it runs.
    recent = {**ctx_for(deps, 4), "enqueue_time": datetime.now(UTC) - timedelta(minutes=5)}
    with pytest.raises(Retry):
        await flaky(recent, "event-1", {})
    assert await dead_letters.count_open(deps.pool) == 0


async def test_a_bug_is_dead_lettered_at_once_without_its_message(deps: Deps) -> None:
    assert (await buggy(ctx_for(deps, 1), 42))["outcome"] == "dead_lettered"
    [letter] = await dead_letters.list_open(deps.pool)
    assert (letter.subject, letter.error, letter.attempts) == ("42", "ValueError", 1)


async def test_a_job_whose_worker_kept_dying_is_dead_lettered_without_running(deps: Deps) -> None:
    # arq counts a try when a job starts; a worker killed mid-job never reports it. Past its tries, the
    # boundary records the job instead of running it again.
    result = await flaky(ctx_for(deps, 4), "event-1", {})
    assert result == {"outcome": "dead_lettered"}
    [letter] = await dead_letters.list_open(deps.pool)
    assert letter.error == "AttemptsExhausted"


async def test_periodic_runs_are_not_retried_and_leave_one_dead_letter_per_job(deps: Deps) -> None:
    assert (await tick(ctx_for(deps, 99, "cron:tick:1")))["outcome"] == "transient_failure"
    assert await dead_letters.count_open(deps.pool) == 0
    await tick(ctx_for(deps, 1, "cron:tick:2"))
    await tick(ctx_for(deps, 1, "cron:tick:3"))
    [letter] = await dead_letters.list_open(deps.pool)
    assert (letter.job_id, letter.error) == ("periodic:tick", "KeyError")


async def test_when_postgres_is_down_too_the_job_waits_in_the_queue(deps: Deps) -> None:
    # The dead letter cannot be written: the job must not be dropped, it goes back to the queue.
    unreachable = await asyncpg.create_pool("postgresql://fleet@127.0.0.1:9/fleet", min_size=0, max_size=1)
    down = Deps(**{**deps.__dict__, "pool": unreachable})
    try:
        with pytest.raises(Retry):
            await buggy(ctx_for(down, 1), 42)
    finally:
        await unreachable.close()


async def test_a_replayed_webhook_is_stored_and_replayed_once(
    deps: Deps, db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    body = schedule_webhook(
        updated_at=NOW, events=[event("event-1", NOW + timedelta(days=1), interviewers=[interviewer("alice")])]
    )
    # As if PostgreSQL had been down for longer than the webhook's tries.
    letter_id = await dead_letters.record(
        deps.pool,
        job_id=jobs.webhook_job_id(body),
        job_name=jobs.INGEST_ASHBY_EVENT,
        queue=jobs.QUEUE_DEFAULT,
        subject="schedule-1",
        args=jobs.serialize([[body], {}]),
        error="ConnectionRefusedError",
        attempts=12,
        now=NOW,
    )
    first = await replay(deps.pool, deps.queue, letter_id, now=NOW)
    again = await replay(deps.pool, deps.queue, letter_id, now=NOW)
    assert first.queued and first.job_id is not None
    assert again.job_id is None  # replayed already: nothing queued twice
    assert await redis.zcard(jobs.QUEUE_DEFAULT) == 1

    worker = create_worker(make_settings(db_url, redis_url), "default", clock=lambda: NOW, burst=True)
    worker.poll_delay_s = 0.01
    try:
        await worker.main()
    finally:
        await worker.close()
    assert await deps.pool.fetchval("SELECT count(*) FROM event_interviewers WHERE event_id = 'event-1'") == 1
    assert await dead_letters.count_open(deps.pool) == 0


def sample(d: Deps, name: str, **labels: str) -> float:
    return d.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_outcomes_are_counted_and_a_request_id_is_not_passed_to_the_job(deps: Deps) -> None:
    with pytest.raises(Retry):
        await flaky(ctx_for(deps, 1), "event-1", {}, request_id="trace-1")  # would be a TypeError if passed on
    await buggy(ctx_for(deps, 1), 42, request_id="trace-2")
    await tick(ctx_for(deps, 99, "cron:tick:1"))
    assert sample(deps, "fleet_jobs_total", job="flaky", outcome="retry") == 1
    assert sample(deps, "fleet_jobs_total", job="buggy", outcome="dead_lettered") == 1
    assert sample(deps, "fleet_dead_letters_total", job="buggy") == 1
    assert sample(deps, "fleet_jobs_total", job="tick", outcome="transient_failure") == 1
    assert sample(deps, "fleet_job_seconds_count", job="buggy") == 1
    [letter] = await dead_letters.list_open(deps.pool)
    assert jobs.deserialize(letter.args) == [[42], {}]  # the replay runs without the old trace
