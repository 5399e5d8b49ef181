"""ingest_ashby_event through the real ingress, real Redis and a real arq worker into PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from ingress.app import create_app
from shared.jobs import QUEUE_DEFAULT, queue_redis
from shared.settings import Settings
from tests.helpers import event, interviewer, make_settings, schedule_webhook, signed_headers
from workers.main import create_worker

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
START = NOW + timedelta(hours=6)


@pytest.fixture
def settings(db_url: str, redis_url: str, slack_api_url: str) -> Settings:
    # Ingestion queues a Slack lookup per new interviewer: the simulator answers (nobody matches).
    return make_settings(db_url=db_url, redis_url=redis_url, slack_base_url=slack_api_url)


@pytest.fixture
async def ingress(settings: Settings, redis: aioredis.Redis) -> AsyncIterator[httpx.AsyncClient]:
    queue = queue_redis(str(settings.redis_url))
    app = create_app(settings, queue=queue)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress") as client:
        yield client
    await queue.aclose()


async def deliver(ingress: httpx.AsyncClient, body: bytes) -> str:
    response = await ingress.post("/webhooks/ashby", content=body, headers=signed_headers(body))
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


async def drain(settings: Settings) -> None:
    """Run a default-queue worker until the queue is empty."""
    worker = create_worker(settings, "default", clock=lambda: NOW, burst=True)
    try:
        await worker.main()
    finally:
        await worker.close()


async def queued_webhooks(redis: aioredis.Redis) -> int:
    return sum(1 for job_id in await redis.zrange(QUEUE_DEFAULT, 0, -1) if job_id.startswith(b"ashby:"))


async def rows(pool: asyncpg.Pool, sql: str, *args: object) -> list[dict[str, object]]:
    return [dict(r) for r in await pool.fetch(sql, *args)]


async def test_schedule_events_and_interviewers_are_stored(
    ingress: httpx.AsyncClient, settings: Settings, db_pool: asyncpg.Pool
) -> None:
    panel = [interviewer("alice"), interviewer("bob"), interviewer("shadow", shadow=True)]
    await deliver(ingress, schedule_webhook(updated_at=NOW, events=[event("event-1", START, interviewers=panel)]))
    await drain(settings)

    schedule = await db_pool.fetchrow("SELECT * FROM interview_schedules")
    assert (schedule["id"], schedule["status"], schedule["application_id"]) == (
        "schedule-1",
        "Scheduled",
        "application-1",
    )
    ev = await db_pool.fetchrow("SELECT * FROM interview_events")
    assert (ev["start_time"], ev["end_time"]) == (START, START + timedelta(hours=1))
    assert ev["removed_at"] is None
    people = await rows(
        db_pool, "SELECT user_id, training_role, feedback_required FROM event_interviewers ORDER BY user_id"
    )
    assert people == [
        {"user_id": "alice", "training_role": None, "feedback_required": True},
        {"user_id": "bob", "training_role": None, "feedback_required": True},
        {"user_id": "shadow", "training_role": "Shadow", "feedback_required": False},
    ]


async def test_duplicate_delivery_runs_one_job_and_writes_one_set_of_rows(
    ingress: httpx.AsyncClient, settings: Settings, db_pool: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    body = schedule_webhook(updated_at=NOW, events=[event("event-1", START)])
    assert [await deliver(ingress, body) for _ in range(3)] == ["queued", "duplicate", "duplicate"]
    assert await queued_webhooks(redis) == 1
    await drain(settings)
    assert await deliver(ingress, body) == "duplicate"  # the kept result still dedupes Ashby's later retries
    assert await queued_webhooks(redis) == 0
    assert await db_pool.fetchval("SELECT count(*) FROM interview_events") == 1
    assert await db_pool.fetchval("SELECT count(*) FROM interview_event_times") == 1


async def test_an_older_update_arriving_late_changes_nothing(
    ingress: httpx.AsyncClient, settings: Settings, db_pool: asyncpg.Pool
) -> None:
    newer = schedule_webhook(updated_at=NOW, events=[event("event-1", START + timedelta(hours=2))])
    older = schedule_webhook(
        updated_at=NOW - timedelta(minutes=5), status="Scheduled", events=[event("event-1", START)]
    )
    await deliver(ingress, newer)
    await drain(settings)
    await deliver(ingress, older)
    await drain(settings)
    assert await db_pool.fetchval("SELECT start_time FROM interview_events") == START + timedelta(hours=2)
    assert await db_pool.fetchval("SELECT ashby_updated_at FROM interview_schedules") == NOW


async def test_reschedule_moves_the_event_and_keeps_its_history(
    ingress: httpx.AsyncClient, settings: Settings, db_pool: asyncpg.Pool
) -> None:
    await deliver(ingress, schedule_webhook(updated_at=NOW, events=[event("event-1", START)]))
    await drain(settings)  # stored before the reschedule arrives (together, the older could come second: stale)
    moved = START + timedelta(days=1)
    await deliver(ingress, schedule_webhook(updated_at=NOW + timedelta(minutes=1), events=[event("event-1", moved)]))
    await drain(settings)
    assert await db_pool.fetchval("SELECT start_time FROM interview_events WHERE id = 'event-1'") == moved
    history = await rows(db_pool, "SELECT start_time FROM interview_event_times WHERE event_id = 'event-1' ORDER BY id")
    assert history == [{"start_time": START}, {"start_time": moved}]


async def test_cancellation_keeps_rows_and_marks_the_schedule(
    ingress: httpx.AsyncClient, settings: Settings, db_pool: asyncpg.Pool
) -> None:
    await deliver(ingress, schedule_webhook(updated_at=NOW, events=[event("event-1", START)]))
    await deliver(
        ingress,
        schedule_webhook(updated_at=NOW + timedelta(minutes=1), status="Cancelled", events=[event("event-1", START)]),
    )
    await drain(settings)
    schedule = await db_pool.fetchrow("SELECT status, cancelled_at FROM interview_schedules")
    assert schedule["status"] == "Cancelled" and schedule["cancelled_at"] == NOW
    assert await db_pool.fetchval("SELECT count(*) FROM interview_events") == 1
    assert await db_pool.fetchval("SELECT count(*) FROM event_interviewers") == 1


async def test_event_and_interviewer_missing_from_a_newer_payload_are_marked_removed_not_deleted(
    ingress: httpx.AsyncClient, settings: Settings, db_pool: asyncpg.Pool
) -> None:
    both = [interviewer("alice"), interviewer("bob")]
    await deliver(
        ingress,
        schedule_webhook(
            updated_at=NOW,
            events=[event("event-1", START, interviewers=both), event("event-2", START + timedelta(hours=1))],
        ),
    )
    # Stored before the newer payload arrives: run together, the newer could be stored first and the older
    # then refused whole, so event-2 would never have been stored (correct, but not what this test is about).
    await drain(settings)
    await deliver(
        ingress,
        schedule_webhook(
            updated_at=NOW + timedelta(minutes=1), events=[event("event-1", START, interviewers=[interviewer("alice")])]
        ),
    )
    await drain(settings)
    events = await rows(db_pool, "SELECT id, removed_at IS NOT NULL AS removed FROM interview_events ORDER BY id")
    assert events == [{"id": "event-1", "removed": False}, {"id": "event-2", "removed": True}]
    people = await rows(
        db_pool,
        "SELECT user_id, removed_at IS NOT NULL AS removed FROM event_interviewers "
        "WHERE event_id = 'event-1' ORDER BY user_id",
    )
    assert people == [{"user_id": "alice", "removed": False}, {"user_id": "bob", "removed": True}]

    # Bob comes back in a later update: the same row is revived, not duplicated.
    await deliver(
        ingress,
        schedule_webhook(updated_at=NOW + timedelta(minutes=2), events=[event("event-1", START, interviewers=both)]),
    )
    await drain(settings)
    assert (
        await db_pool.fetchval(
            "SELECT count(*) FROM event_interviewers WHERE removed_at IS NULL AND event_id = 'event-1'"
        )
        == 2
    )


async def test_create_and_update_actions_for_the_same_schedule_converge(
    ingress: httpx.AsyncClient, settings: Settings, db_pool: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    events = [event("event-1", START)]
    await deliver(ingress, schedule_webhook(action="interviewScheduleCreate", updated_at=NOW, events=events))
    await deliver(ingress, schedule_webhook(action="interviewScheduleUpdate", updated_at=NOW, events=events))
    assert await queued_webhooks(redis) == 2
    await drain(settings)
    assert await db_pool.fetchval("SELECT count(*) FROM interview_schedules") == 1
    assert await db_pool.fetchval("SELECT count(*) FROM interview_event_times") == 1


async def test_unknown_future_status_is_stored(
    ingress: httpx.AsyncClient, settings: Settings, db_pool: asyncpg.Pool
) -> None:
    await deliver(ingress, schedule_webhook(status="AwaitingRobotReview", updated_at=NOW, events=[]))
    await drain(settings)
    assert await db_pool.fetchval("SELECT status FROM interview_schedules") == "AwaitingRobotReview"
