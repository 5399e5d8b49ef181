"""Metrics and tracing on real processes: a webhook's request id reaches the worker's log lines for the job
it queued, and a worker's `/metrics` counts that job, its Ashby calls and the queues autoscalers read."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis.asyncio as aioredis

from fleet.processes import fleet, wait_until
from shared.embedded import free_port
from tests.e2e.test_worker_kill import worker_env
from tests.e2e.world import world

pytestmark = pytest.mark.e2e


def metric(text: str, name: str) -> float:
    """The value of the sample named exactly `name` (labels included), 0 when absent."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_webhooks_request_id_reaches_its_job_and_the_worker_counts_it(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    port = free_port()
    async with world(db_url, redis_url, redis) as w:
        w.clock.set(datetime.now(UTC))
        w.ashby.panel(start=datetime.now(UTC) + timedelta(days=2), interviewers=2, shadows=0)
        assert w.ashby_sim.webhooks is not None
        [body] = w.ashby_sim.webhooks.take_pending()
        response = await w.post_webhook(body, request_id="trace-from-ashby-1")
        assert response.status_code == 200

        env = {**worker_env(w), "METRICS_PORT": str(port), "LOG_LEVEL": "INFO"}
        async with fleet("worker", "--queue", "default", env=env) as worker:

            async def stored() -> bool:
                return bool(await w.pool.fetchval("SELECT count(*) FROM event_interviewers") == 2)

            await wait_until(stored, timeout_s=30, what="the schedule to be stored")
            scraped = httpx.Response(0)

            async def ashby_called() -> bool:  # the metadata refresh runs after the schedule is stored
                nonlocal scraped
                async with httpx.AsyncClient(timeout=5) as client:
                    scraped = await client.get(f"http://127.0.0.1:{port}/metrics")
                return 'service="ashby"' in scraped.text

            await wait_until(ashby_called, timeout_s=30, what="a counted Ashby call")
            assert await worker.stop(signal.SIGTERM) == 0
            output = await worker.output()

    assert scraped.status_code == 200
    text = scraped.text
    assert metric(text, 'fleet_jobs_total{job="ingest_ashby_event",outcome="done"}') == 1
    assert metric(text, 'fleet_job_seconds_count{job="ingest_ashby_event"}') == 1
    ashby_ok = [line for line in text.splitlines() if line.startswith("fleet_upstream_calls_total{")]
    assert any('outcome="ok",service="ashby"' in line and not line.endswith(" 0.0") for line in ashby_ok), ashby_ok
    assert 'fleet_queue_depth{queue="interactive"}' in text and 'fleet_queue_depth{queue="default"}' in text
    assert 'fleet_queue_oldest_job_age_seconds{queue="default"}' in text

    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    ingest = [line for line in lines if line.get("job") == "ingest_ashby_event"]
    assert ingest and all(line.get("request_id") == "trace-from-ashby-1" for line in ingest)
    # The jobs that one queued carry it on: one trace from Ashby's delivery to the last job it caused.
    followers = [line for line in lines if line.get("job") not in (None, "ingest_ashby_event")]
    assert any(line.get("request_id") == "trace-from-ashby-1" for line in followers)
