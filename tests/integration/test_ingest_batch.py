"""One running `ingest_ashby_event` stores the webhooks queued behind it, on real PostgreSQL and Redis: one call
of the job (as arq runs it) stores the whole queue, skips and dead-letters the one record that cannot be
stored, stores a body delivered twice once, and applies a schedule's versions in queue order."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from arq.constants import in_progress_key_prefix, result_key_prefix

from shared import jobs
from shared.db import dead_letters
from tests.helpers import event, interviewer, make_settings, schedule_webhook
from workers.deps import Deps, build_deps
from workers.jobs.ashby_events import ingest_ashby_event

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
START = NOW + timedelta(hours=6)


@pytest.fixture
async def deps(db_url: str, redis_url: str, redis: aioredis.Redis, slack_api_url: str) -> AsyncIterator[Deps]:
    queue = jobs.queue_redis(redis_url)
    settings = make_settings(db_url=db_url, redis_url=redis_url, slack_base_url=slack_api_url)
    async with build_deps(settings, queue, clock=lambda: NOW) as built:
        yield built
    await queue.aclose()


async def queue_all(d: Deps, bodies: list[bytes]) -> list[str]:
    """Queue the bodies in this order (enqueued within one millisecond they would tie, and arq breaks ties by id)."""
    ids = [jobs.webhook_job_id(body) for body in bodies]
    for body in bodies:
        assert await jobs.enqueue_ashby_event(d.queue, body)
    oldest = int(datetime.now(UTC).timestamp() * 1000) - 60_000
    await d.queue.zadd(jobs.QUEUE_DEFAULT, {job_id: oldest + n for n, job_id in enumerate(ids)})
    return ids


async def queued_webhooks(redis: aioredis.Redis) -> list[bytes]:
    return [job_id for job_id in await redis.zrange(jobs.QUEUE_DEFAULT, 0, -1) if job_id.startswith(b"ashby:")]


async def run_first(d: Deps, redis: aioredis.Redis, body: bytes) -> dict[str, Any]:
    """Run the first queued webhook's job as arq would (its in-progress mark set), once."""
    job_id = jobs.webhook_job_id(body)
    await redis.set(in_progress_key_prefix + job_id, b"1", px=60_000)
    ctx = {"deps": d, "job_try": 1, "job_id": job_id, "queue_name": jobs.QUEUE_DEFAULT}
    result: dict[str, Any] = await ingest_ashby_event(ctx, body)
    return result


def schedule(n: int, *, updated_at: datetime = NOW, start: datetime = START, indent: int | None = None) -> bytes:
    body = schedule_webhook(
        f"schedule-{n}",
        updated_at=updated_at,
        events=[event(f"event-{n}", start, interviewers=[interviewer("alice"), interviewer("bob")])],
    )
    return json.dumps(json.loads(body), indent=indent).encode() if indent else body


async def result_of(redis: aioredis.Redis, job_id: str) -> dict[str, Any]:
    stored = await redis.get(result_key_prefix + job_id)
    assert stored is not None, f"{job_id} has no kept result"
    result: dict[str, Any] = jobs.deserialize(stored)["r"]
    return result


async def test_one_job_stores_the_queue_behind_it_and_dead_letters_only_the_bad_records(
    deps: Deps, redis: aioredis.Redis, db_pool: asyncpg.Pool
) -> None:
    # Whatever makes one record unstorable (a value PostgreSQL refuses, a constraint): a trigger stands in.
    await db_pool.execute(
        """
        CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.id = 'schedule-bad' THEN RAISE EXCEPTION 'unstorable'; END IF; RETURN NEW; END $$;
        CREATE TRIGGER refuse_one BEFORE INSERT ON interview_schedules FOR EACH ROW EXECUTE FUNCTION refuse_one();
        """
    )
    refused = schedule_webhook("schedule-bad", updated_at=NOW, events=[event("event-bad", START)])
    drifted = b'{"action": "interviewScheduleUpdate", "data": {"interviewSchedule": {"id": 7}}}'
    good = [schedule(n) for n in range(1, 8)]
    bodies = [good[0], good[1], refused, *good[2:5], drifted, *good[5:]]
    ids = await queue_all(deps, bodies)

    assert await run_first(deps, redis, bodies[0]) == {"outcome": "created", "events": 1, "reminders_planned": 12}

    stored = {r["id"] for r in await db_pool.fetch("SELECT id FROM interview_schedules")}
    assert stored == {f"schedule-{n}" for n in range(1, 8)}
    assert await db_pool.fetchval("SELECT count(*) FROM event_interviewers") == 14
    assert await db_pool.fetchval("SELECT count(*) FROM reminders") == 7 * 2 * 6
    letters = {(x.job_id, x.subject, x.error, x.attempts) for x in await dead_letters.list_open(deps.pool)}
    assert letters == {
        (jobs.webhook_job_id(refused), "schedule-bad", "RaiseError (P0001)", 1),
        (jobs.webhook_job_id(drifted), "", "UndecodableWebhook", 1),
    }
    # Every claimed webhook is finished as arq would finish it: out of the queue, its result kept, which is
    # what refuses Ashby's re-deliveries.
    assert await queued_webhooks(redis) == [ids[0].encode()]  # arq finishes the running one
    assert (await result_of(redis, ids[1]))["outcome"] == "created"
    assert await result_of(redis, jobs.webhook_job_id(refused)) == {
        "outcome": "dead_lettered",
        "error": "RaiseError (P0001)",
    }
    assert [await jobs.enqueue_ashby_event(deps.queue, body) for body in bodies[1:]] == [False] * (len(bodies) - 1)
    counted = {
        outcome: deps.metrics.registry.get_sample_value(
            "fleet_jobs_total", {"job": jobs.INGEST_ASHBY_EVENT, "outcome": outcome}
        )
        for outcome in ("done", "dead_lettered")
    }
    assert counted == {"done": 7.0, "dead_lettered": 2.0}  # each webhook once, as if each had run its own job


async def test_a_body_delivered_twice_is_stored_once_and_versions_apply_in_queue_order(
    deps: Deps, redis: aioredis.Redis, db_pool: asyncpg.Pool
) -> None:
    first = schedule(1)
    again = schedule(1, indent=2)  # the same delivery, formatted differently: another job id, the same schedule
    older = schedule(1, updated_at=NOW - timedelta(minutes=5), start=START + timedelta(hours=2))  # arrives late
    moved = schedule(1, updated_at=NOW + timedelta(minutes=1), start=START + timedelta(days=1))
    await queue_all(deps, [schedule(2), first, again, older, moved])
    assert not await jobs.enqueue_ashby_event(deps.queue, first)  # an exact re-delivery is refused at once

    await run_first(deps, redis, schedule(2))

    assert await db_pool.fetchval("SELECT count(*) FROM interview_schedules WHERE id = 'schedule-1'") == 1
    assert await db_pool.fetchval("SELECT start_time FROM interview_events WHERE id = 'event-1'") == START + timedelta(
        days=1
    )
    history = await db_pool.fetch("SELECT start_time FROM interview_event_times WHERE event_id = 'event-1' ORDER BY id")
    assert [r["start_time"] for r in history] == [START, START + timedelta(days=1)]  # the late one changed nothing
    briefs = await db_pool.fetch(
        "SELECT interviewer_id, due_at, state FROM reminders WHERE event_id = 'event-1' AND kind = 'brief' "
        "ORDER BY interviewer_id"
    )
    due = START + timedelta(days=1) - timedelta(minutes=10)
    assert [tuple(r) for r in briefs] == [("alice", due, "pending"), ("bob", due, "pending")]
    results = [await result_of(redis, jobs.webhook_job_id(body)) for body in (first, again, older, moved)]
    assert [r["outcome"] for r in results] == ["created", "updated", "stale", "updated"]
