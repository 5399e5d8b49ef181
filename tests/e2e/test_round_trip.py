"""HTTP -> queue -> worker -> Postgres through the real `fleet ingress` and `fleet worker` processes."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from arq.constants import result_key_prefix

from fleet.processes import fleet, fleet_ingress, wait_until
from tests.helpers import WEBHOOK_SECRET, event, interviewer, schedule_webhook, signed_headers

pytestmark = pytest.mark.e2e


async def test_signed_webhook_reaches_postgres_through_real_processes(
    db_url: str, redis_url: str, redis: aioredis.Redis, db_pool: asyncpg.Pool
) -> None:
    env = {
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "ASHBY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "LOG_FORMAT": "json",
        # The startup crons retry the unreachable real Ashby; the drain on SIGTERM need not wait for them.
        "WORKER_SHUTDOWN_GRACE_S": "1",
    }
    start = datetime.now(UTC) + timedelta(days=1)
    body = schedule_webhook(
        updated_at=datetime.now(UTC),
        events=[event("event-e2e", start, interviewers=[interviewer("alice"), interviewer("shadow", shadow=True)])],
    )
    async with fleet_ingress(env) as (ingress, url), fleet("worker", "--queue", "default", env=env) as worker:
        async with httpx.AsyncClient(base_url=url) as client:
            unsigned = await client.post("/webhooks/ashby", content=body)
            assert unsigned.status_code == 401
            response = await client.post("/webhooks/ashby", content=body, headers=signed_headers(body))
            assert response.json() == {"status": "queued"}

        async def finished() -> bool:
            # Rows are visible at commit, before the job returns: wait for arq's stored result instead.
            return bool(await redis.keys(result_key_prefix + "ashby:*"))

        await wait_until(finished, what="the worker to finish the ingest job")
        assert await db_pool.fetchval("SELECT count(*) FROM event_interviewers WHERE event_id = 'event-e2e'") == 2
        assert (
            await db_pool.fetchval("SELECT feedback_required FROM event_interviewers WHERE user_id = 'shadow'") is False
        )
        assert await worker.stop(signal.SIGTERM) == 0
        # uvicorn shuts down gracefully, then re-raises the signal so its exit status reports it.
        assert await ingress.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
        ingress_logs = await ingress.output()
        assert "Application shutdown complete" in ingress_logs
        logs = await worker.output() + ingress_logs
    # Privacy: no interviewer e-mail, signature or secret in the logs.
    assert "alice@example.com" not in logs
    assert WEBHOOK_SECRET not in logs
    assert "job_done" in logs and "ingest_ashby_event(" not in logs  # arq would print the job's arguments
    assert signed_headers(body)["Ashby-Signature"] not in logs
