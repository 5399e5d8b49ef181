"""The admin API and pages over HTTP, on real PostgreSQL and Redis, with the known dataset (tests/admin_world.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from arq.constants import job_key_prefix

from admin.app import create_app
from admin.auth import SESSION_COOKIE, Sessions
from shared import jobs
from shared.db import people
from shared.jobs import queue_redis
from tests.admin_world import DEAD_LETTER_ID, EVIL, NOW, seed_admin_world
from tests.helpers import make_settings

TOKEN = "admin-token-for-tests-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def client(db_pool: asyncpg.Pool, redis_url: str, redis: aioredis.Redis) -> AsyncIterator[httpx.AsyncClient]:
    await seed_admin_world(db_pool)
    queue = queue_redis(redis_url)
    app = create_app(make_settings(admin_token=TOKEN), pool=db_pool, queue=queue, clock=NOW.timestamp)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin.test") as http:
        yield http
    await queue.aclose()


async def test_the_api_reads_the_figures_with_the_bearer_token(client: httpx.AsyncClient) -> None:
    overview = (await client.get("/api/overview", headers=BEARER)).json()
    assert overview["reminders"] == {"pending": 2, "sending": 1, "sent": 2, "skipped": 2, "failed": 1}
    assert (overview["feedback"]["owed"], overview["feedback"]["received"]) == (5, 4)
    assert (overview["dead_letters"], overview["unmatched_people"]) == (1, 2)
    assert overview["decisions"] == {"awaiting_approval": 1}
    assert overview["queues"] == {"default": 0, "interactive": 0}
    feedback = (await client.get("/api/feedback?weeks=1", headers=BEARER)).json()
    assert feedback["weeks"] == 1 and feedback["total"]["owed"] == 2
    assert [r["label"] for r in feedback["by_interviewer"]] == ["Bob Tester", "Alice Tester"]  # 6 h, then 2 h
    letters = (await client.get("/api/dead-letters", headers=BEARER)).json()["dead_letters"]
    assert [(d["id"], d["job_name"]) for d in letters] == [(DEAD_LETTER_ID, "send_reminder")]
    assert "args" not in letters[0]  # they may hold personal data
    [decision] = (await client.get("/api/decisions?application_id=app-1", headers=BEARER)).json()["decisions"]
    assert decision["evidence"]["scores"] == {"alice": 4, "bob": 3}
    assert (await client.get("/api/decisions?application_id=other", headers=BEARER)).json() == {"decisions": []}
    unmatched = (await client.get("/api/people/unmatched", headers=BEARER)).json()["unmatched"]
    assert [p["ashby_user_id"] for p in unmatched] == ["dave", "erin"]


async def test_replay_over_the_api_queues_the_job_once(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    answer = await client.post(f"/api/dead-letters/{DEAD_LETTER_ID}/replay", headers=BEARER)
    assert answer.status_code == 200
    job_id = answer.json()["job_id"]
    assert answer.json()["queued"] is True and job_id.startswith(f"replay:{DEAD_LETTER_ID}:")
    assert await redis.zscore(jobs.QUEUE_DEFAULT, job_id) is not None
    queued = jobs.deserialize(await redis.get(job_key_prefix + job_id))
    assert (queued["f"], list(queued["a"])) == (jobs.SEND_REMINDER, [77])
    row = await db_pool.fetchrow("SELECT replayed_at, replay_job_id FROM dead_letters WHERE id = $1", DEAD_LETTER_ID)
    assert row["replayed_at"] == NOW and row["replay_job_id"] == job_id
    again = await client.post(f"/api/dead-letters/{DEAD_LETTER_ID}/replay", headers=BEARER)
    assert again.status_code == 404 and await redis.zcard(jobs.QUEUE_DEFAULT) == 1


async def test_mapping_over_the_api_is_checked_and_stored_as_an_override(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool
) -> None:
    bad = await client.put("/api/people/dave/mapping", headers=BEARER, json={"slack_user_id": "#general"})
    assert bad.status_code == 400 and "#general" not in bad.text
    assert (await client.put("/api/people/dave/mapping", headers=BEARER, content=b"{")).status_code == 400
    answer = await client.put(
        "/api/people/dave/mapping", headers=BEARER, json={"slack_user_id": "U0DAVE", "tz": "Europe/Berlin"}
    )
    assert answer.status_code == 200 and answer.json()["person"]["slack_user_id"] == "U0DAVE"
    dave = await people.get(db_pool, "dave")
    assert dave is not None and (dave.slack_user_id, dave.tz, dave.status, dave.override) == (
        "U0DAVE",
        "Europe/Berlin",
        "matched",
        True,
    )


async def test_resync_queues_each_periodic_job_once_however_often_it_is_asked(
    client: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    first = await client.post("/api/resync", headers=BEARER)
    assert first.status_code == 202
    assert first.json() == {"queued": {jobs.RECONCILE_SCHEDULES: True, jobs.SYNC_FEEDBACK: True}}
    second = await client.post("/api/resync", headers=BEARER)
    assert second.json() == {"queued": {jobs.RECONCILE_SCHEDULES: False, jobs.SYNC_FEEDBACK: False}}
    queued = {m.decode() for m in await redis.zrange(jobs.QUEUE_DEFAULT, 0, -1)}
    assert queued == {f"admin:resync:{jobs.RECONCILE_SCHEDULES}", f"admin:resync:{jobs.SYNC_FEEDBACK}"}


async def signed_in(client: httpx.AsyncClient) -> str:
    """Sign in through the form; the CSRF token the pages carry."""
    answer = await client.post("/login", data={"token": TOKEN, "next": "/"})
    assert answer.status_code == 303 and SESSION_COOKIE in client.cookies
    page = await client.get("/")
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert found is not None
    return found.group(1)


async def test_every_page_renders_the_data_escaped(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    expected = {
        "/": ["Overview", "dead letters", "Resync from Ashby now", "applicationFeedback.list", "<svg"],
        "/reminders": ["feedback_received", "failed:channel_not_found", "escalation"],
        "/feedback": ["Technical interview", "Alice Tester", "Dave Tester", "80%", "2026-03-16"],
        "/people": ["dave@example.com", "no email in Ashby", 'value="dave"'],
        "/decisions": ["onsite-bar v3", "awaiting_approval", "every score is 3 or more", "&quot;alice&quot;: 4"],
        "/rules": ["onsite-bar", "Backend engineer · plan-1 · Onsite", "inactive since", "mode: approve"],
        "/dead-letters": ["send_reminder", "Permanent:channel_not_found", f"/dead-letters/{DEAD_LETTER_ID}/replay"],
    }
    for path, needles in expected.items():
        page = await client.get(path)
        assert page.status_code == 200, path
        for needle in needles:
            assert needle in page.text, (path, needle)
        assert EVIL not in page.text and "<script" not in page.text, path
    assert "&lt;script&gt;" in (await client.get("/feedback")).text  # the interview's title, shown as text


async def test_forms_with_the_sessions_csrf_token_act_and_say_so(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    csrf = await signed_in(client)
    invalid = await client.post("/people/map", data={"csrf_token": csrf, "ashby_user_id": "dave", "slack_user_id": "x"})
    assert invalid.status_code == 400 and "A Slack user id looks like" in invalid.text
    mapped = await client.post(
        "/people/map", data={"csrf_token": csrf, "ashby_user_id": "dave", "slack_user_id": "U0D"}
    )
    assert mapped.status_code == 303 and mapped.headers["location"] == "/people?notice=mapped"
    assert (await people.get(db_pool, "dave")).slack_user_id == "U0D"  # type: ignore[union-attr]
    replayed = await client.post(f"/dead-letters/{DEAD_LETTER_ID}/replay", data={"csrf_token": csrf})
    assert replayed.headers["location"] == f"/dead-letters?notice=replayed&id={DEAD_LETTER_ID}"
    assert "is queued again" in (await client.get(replayed.headers["location"])).text
    assert await redis.zcard(jobs.QUEUE_DEFAULT) == 1
    session_api = await client.post("/api/resync", headers={"X-CSRF-Token": csrf})
    assert session_api.status_code == 202 and await redis.zcard(jobs.QUEUE_DEFAULT) == 3
    signed_out = await client.post("/logout", data={"csrf_token": csrf})
    assert signed_out.headers["location"] == "/login" and SESSION_COOKIE not in client.cookies
    assert (await client.get("/people")).status_code == 303


async def test_a_session_from_before_a_token_rotation_is_refused(client: httpx.AsyncClient) -> None:
    client.cookies.set(SESSION_COOKIE, Sessions("the-previous-admin-token").issue(now=NOW.timestamp(), nonce="n"))
    assert (await client.get("/api/overview")).status_code == 401
    assert (await client.get("/")).status_code == 303
