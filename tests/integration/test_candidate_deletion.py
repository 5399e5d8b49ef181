"""`candidateDelete` through the real ingress and a real worker on PostgreSQL and Redis: the candidate's personal
data is gone from every place, the ids and the audit skeleton stay, another candidate is untouched, and a
replayed webhook changes nothing more."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from arq.constants import result_key_prefix

from ingress.app import create_app
from shared import jobs
from shared.privacy import REDACTED
from shared.settings import Settings
from tests.helpers import event, make_settings, schedule_webhook, signed_headers
from tests.integration.privacy_rows import JORDAN, SAM, seed, text_of_every_table
from workers.main import create_worker

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ENDED = NOW - timedelta(days=2)


@pytest.fixture
def settings(db_url: str, redis_url: str) -> Settings:
    return make_settings(db_url=db_url, redis_url=redis_url)


@pytest.fixture
async def ingress(settings: Settings, redis: aioredis.Redis) -> AsyncIterator[httpx.AsyncClient]:
    queue = jobs.queue_redis(str(settings.redis_url))
    app = create_app(settings, queue=queue)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress") as client:
        yield client
    await queue.aclose()


def deletion(candidate_id: str, *, indent: int | None = None) -> bytes:
    return json.dumps(
        {"action": "candidateDelete", "data": {"candidate": {"id": candidate_id}}}, indent=indent
    ).encode()


async def deliver(ingress: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await ingress.post("/webhooks/ashby", content=body, headers=signed_headers(body))


async def drain(settings: Settings) -> None:
    worker = create_worker(settings, "default", clock=lambda: NOW, burst=True)
    worker.poll_delay_s = 0.01
    try:
        await worker.main()
    finally:
        await worker.close()


async def result_of(redis: aioredis.Redis, body: bytes) -> dict[str, Any]:
    stored = await redis.get(result_key_prefix + jobs.webhook_job_id(body))
    assert stored is not None, "the ingest job ran and kept its result"
    result: dict[str, Any] = jobs.deserialize(stored)["r"]
    return result


async def test_a_deleted_candidate_is_purged_everywhere_and_the_audit_skeleton_stays(
    ingress: httpx.AsyncClient, settings: Settings, db_pool: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    for candidate in (JORDAN, SAM):
        await seed(db_pool, redis, candidate, ended=ENDED)
    before = await text_of_every_table(db_pool)
    assert [t for t in JORDAN.personal + SAM.personal if t not in before] == []
    audit = "SELECT id, application_id, rule_name, rule_version, outcome, created_at FROM decisions ORDER BY id"
    skeleton = [dict(r) for r in await db_pool.fetch(audit)]

    body = deletion(JORDAN.candidate_id)
    assert (await deliver(ingress, body)).json() == {"status": "queued"}
    await drain(settings)

    after = await text_of_every_table(db_pool)
    assert [t for t in JORDAN.personal if t in after] == []
    assert [t for t in SAM.personal if t not in after] == [], "another candidate keeps everything"
    assert await redis.exists(*JORDAN.seats) == 0 and await redis.exists(*SAM.seats) == len(SAM.seats)

    # What the audit and the bookkeeping need stays: ids, outcomes, times, the fact that feedback exists.
    assert [dict(r) for r in await db_pool.fetch(audit)] == skeleton
    decisions = await db_pool.fetch(
        "SELECT state, reason, evidence FROM decisions WHERE application_id = $1 ORDER BY id", JORDAN.application_id
    )
    assert [d["state"] for d in decisions] == ["done", "superseded"], "an approval nobody gave cannot be executed"
    for decision in decisions:
        evidence = decision["evidence"]
        assert [i["interviewer_id"] for i in evidence["interviewers"]] == ["u-alex", "u-blake"]
        assert {i["name"] for i in evidence["interviewers"]} == {REDACTED}
        assert evidence["requirements"][0]["requirement"] == "each: Overall >= 3"
    application = await db_pool.fetchrow("SELECT * FROM ashby_applications WHERE id = $1", JORDAN.application_id)
    assert (application["candidate_id"], application["stage_id"], application["candidate_name"]) == (
        JORDAN.candidate_id,
        "stage-onsite",
        None,
    )
    assert application["fetched_at"] == NOW, "a refresh that read Ashby before the deletion cannot write it back"
    received = await db_pool.fetchrow("SELECT * FROM feedback_received WHERE event_id = $1", JORDAN.event_id)
    assert (received["interviewer_id"], received["submitted_values"]) == ("u-alex", None)
    reminder = await db_pool.fetchrow("SELECT state, skip_reason FROM reminders WHERE event_id = $1", JORDAN.event_id)
    assert tuple(reminder) == ("skipped", "candidate_deleted")
    assert await db_pool.fetchval("SELECT count(*) FROM feedback_drafts WHERE event_id = $1", JORDAN.event_id) == 0
    assert await db_pool.fetchval("SELECT array_agg(application_id) FROM advancement_queue") == [SAM.application_id]
    assert await db_pool.fetchval("SELECT count(*) FROM dead_letters") == 2  # Sam's
    removal = await db_pool.fetchrow("SELECT * FROM candidate_removals")
    assert (removal["candidate_id"], removal["kind"], removal["application_ids"]) == (
        JORDAN.candidate_id,
        "deleted",
        [JORDAN.application_id],
    )
    changed = await result_of(redis, body)
    assert removal["changed"] == {k: v for k, v in changed.items() if k != "outcome"}
    assert changed["answers"] == changed["drafts"] == changed["decisions_superseded"] == 1
    assert changed["decisions_redacted"] == changed["dead_letters"] == 2

    # Ashby delivers it again after our dedupe window (a different body, so a new job): nothing more changes.
    again = deletion(JORDAN.candidate_id, indent=2)
    assert (await deliver(ingress, again)).json() == {"status": "queued"}
    await drain(settings)
    assert await text_of_every_table(db_pool) == after
    replayed = await result_of(redis, again)
    assert replayed == {**dict.fromkeys(changed, 0), "outcome": "purged"}


async def test_a_candidate_nobody_here_knows_is_recorded_as_deleted(
    ingress: httpx.AsyncClient, settings: Settings, db_pool: asyncpg.Pool
) -> None:
    await deliver(ingress, deletion("cand-unknown"))
    await drain(settings)
    row = await db_pool.fetchrow(
        "SELECT kind, application_ids FROM candidate_removals WHERE candidate_id = 'cand-unknown'"
    )
    assert tuple(row) == ("deleted", [])


async def test_a_schedule_webhook_arriving_after_the_deletion_stores_nothing_of_the_candidate(
    ingress: httpx.AsyncClient, settings: Settings, db_pool: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await deliver(ingress, deletion("candidate-1"))
    await drain(settings)
    late = schedule_webhook("late-1", updated_at=NOW, events=[event("late-event-1", NOW + timedelta(days=1))])
    other = late.replace(b"candidate-1", b"candidate-2").replace(b"late-", b"other-")
    for body in (late, other):
        assert (await deliver(ingress, body)).json() == {"status": "queued"}
    await drain(settings)

    assert (await result_of(redis, late))["outcome"] == "candidate_deleted"
    stored = await db_pool.fetch("SELECT id, candidate_id FROM interview_schedules ORDER BY id")
    assert [tuple(r) for r in stored] == [("other-1", "candidate-2")], "another candidate's schedule is stored"
    assert await db_pool.fetchval("SELECT count(*) FROM interview_events WHERE id = 'late-event-1'") == 0
    assert await db_pool.fetchval("SELECT count(*) FROM event_interviewers WHERE event_id = 'late-event-1'") == 0


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"candidate": {}},
        {"candidate": {"id": ""}},
        {"candidate": {"id": ["c-1"]}},
        {"deletedCandidate": {"id": "c-1"}},  # a merge's data under a deletion's action
    ],
)
async def test_a_malformed_deletion_is_refused_and_queues_nothing(
    ingress: httpx.AsyncClient, redis: aioredis.Redis, data: dict[str, object]
) -> None:
    body = json.dumps({"action": "candidateDelete", "data": data}).encode()
    response = await deliver(ingress, body)
    assert response.status_code == 400 and "malformed webhook body" in response.json()["error"]
    assert await redis.zcard(jobs.QUEUE_DEFAULT) == 0


async def test_candidate_webhooks_are_verified_and_queued_once(
    ingress: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    merge = json.dumps(
        {"action": "candidateMerge", "data": {"deletedCandidate": {"id": "c-1"}, "mergedCandidate": {"id": "c-2"}}}
    ).encode()
    unsigned = await ingress.post("/webhooks/ashby", content=merge, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert [(await deliver(ingress, merge)).json()["status"] for _ in range(2)] == ["queued", "duplicate"]
    assert await redis.zrange(jobs.QUEUE_DEFAULT, 0, -1) == [jobs.webhook_job_id(merge).encode()]
    bad_merge = json.dumps({"action": "candidateMerge", "data": {"deletedCandidate": {"id": "c-1"}}}).encode()
    assert (await deliver(ingress, bad_merge)).status_code == 400
