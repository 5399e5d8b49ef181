"""Faults end to end, on real `fleet worker` processes: Redis restarts and outages, PostgreSQL dropping
connections, and shutdowns bounded whatever the jobs are doing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from fleet.processes import FleetProcess, fleet, wait_until
from shared.embedded import embedded_redis, free_port
from tests.e2e.test_worker_kill import worker_env
from tests.e2e.world import World, world
from tests.helpers import event, interviewer, schedule_webhook, signed_headers
from workers.process import HARD_EXIT_MARGIN_S

pytestmark = pytest.mark.e2e


class RestartableRedis:
    """A private redis-server on a fixed port that a test stops and starts again (same data directory)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._running: contextlib.ExitStack | None = None

    def start(self) -> None:
        stack = contextlib.ExitStack()
        stack.enter_context(embedded_redis(self.data_dir, port=self.port))
        self._running = stack

    def stop(self) -> None:
        assert self._running is not None
        self._running.close()
        self._running = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RestartableRedis]:
    server = RestartableRedis(tmp_path / "redis")
    yield server
    if server._running is not None:
        server.stop()


async def status_of(port: int, path: str) -> tuple[int, dict[str, Any]] | None:
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            response = await client.get(f"http://127.0.0.1:{port}{path}")
    except httpx.TransportError:
        return None
    return response.status_code, response.json()


async def wait_for_state(worker: FleetProcess, port: int, state: str, *, timeout_s: float = 30) -> None:
    async def reached() -> bool:
        if worker.process.returncode is not None:
            raise AssertionError(f"the worker exited (code {worker.process.returncode}) instead of waiting")
        answer = await status_of(port, "/ready")
        return answer is not None and answer[1]["state"] == state

    await wait_until(reached, timeout_s=timeout_s, what=f"the worker to be {state}")


def state_changes(output: str) -> list[str]:
    changes = []
    for line in output.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if record.get("event") == "worker_state":
                changes.append(record["state"])
    return changes


@contextlib.asynccontextmanager
async def worker_process(w: World, port: int, **env: str) -> AsyncIterator[FleetProcess]:
    async with fleet(
        "worker",
        "--queue",
        "default",
        env={**worker_env(w), "METRICS_PORT": str(port), "LOG_LEVEL": "INFO", **env},
    ) as worker:
        yield worker


async def test_worker_rides_out_a_redis_restart_and_carries_on(db_url: str, private_redis: RestartableRedis) -> None:
    private_redis.start()
    client = aioredis.Redis.from_url(private_redis.url)
    port = free_port()
    try:
        async with world(db_url, private_redis.url, client) as w, worker_process(w, port) as worker:
            await wait_for_state(worker, port, "running")
            private_redis.stop()
            await wait_for_state(worker, port, "waiting_for_redis")
            assert (await status_of(port, "/health")) is not None  # alive: restarting it would not help
            # The outage lasts several reconnect attempts (this is the fault's length, not a synchronisation).
            await asyncio.sleep(3)
            assert worker.process.returncode is None
            private_redis.start()
            await wait_for_state(worker, port, "running")

            # Work flows again: a schedule webhook goes through the ingress and the same worker to PostgreSQL.
            w.clock.set(datetime.now(UTC))
            w.ashby.panel(start=datetime.now(UTC) + timedelta(days=2), interviewers=2, shadows=0)
            assert {status for _, status in await w.deliver_webhooks()} == {200}

            async def stored() -> bool:
                return bool(await w.pool.fetchval("SELECT count(*) FROM event_interviewers") == 2)

            await wait_until(stored, timeout_s=30, what="the schedule to be stored after the restart")
            assert await worker.stop(signal.SIGTERM) == 0
            output = await worker.output()
    finally:
        await client.aclose()
    # One line per state change, not one per reconnect attempt.
    assert state_changes(output) == ["running", "waiting_for_redis", "running", "draining", "stopped"]
    assert "Traceback" not in output


async def test_worker_started_while_redis_is_down_waits_for_it(db_url: str, private_redis: RestartableRedis) -> None:
    client = aioredis.Redis.from_url(private_redis.url)
    port = free_port()
    try:
        async with world(db_url, private_redis.url, client) as w, worker_process(w, port) as worker:
            await wait_for_state(worker, port, "waiting_for_redis")
            answer = await status_of(port, "/ready")
            assert answer is not None and answer[0] == 503
            await asyncio.sleep(2)  # the outage outlasts a few reconnect attempts
            assert worker.process.returncode is None
            private_redis.start()
            await wait_for_state(worker, port, "running")
            answer = await status_of(port, "/ready")
            assert answer is not None and answer[0] == 200
            assert await worker.stop(signal.SIGTERM) == 0
    finally:
        await client.aclose()


async def terminate_fleet_connections(pool: asyncpg.Pool, stop: asyncio.Event) -> int:
    """Terminate every fleet backend over and over, as a failover or a proxy restart would."""
    terminated = 0
    while not stop.is_set():
        terminated += await pool.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'fleet' AND pid <> pg_backend_pid()"
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)
    return terminated


async def test_no_webhook_is_lost_while_postgres_drops_connections(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    port = free_port()
    async with world(db_url, redis_url, redis) as w, worker_process(w, port) as worker:
        await wait_for_state(worker, port, "running")
        admin = await asyncpg.create_pool(db_url, min_size=1, max_size=1)  # application_name is not 'fleet'
        stop = asyncio.Event()
        killer = asyncio.create_task(terminate_fleet_connections(admin, stop))
        try:
            start = datetime.now(UTC) + timedelta(days=1)
            async with httpx.AsyncClient(base_url=w.ingress_url) as client:
                for n in range(12):
                    body = schedule_webhook(
                        f"schedule-{n}",
                        updated_at=datetime.now(UTC),
                        events=[event(f"event-{n}", start, interviewers=[interviewer(f"person{n}")])],
                    )
                    response = await client.post("/webhooks/ashby", content=body, headers=signed_headers(body))
                    assert response.json() == {"status": "queued"}
            # Connections keep dying for a while after the last webhook, as during a failover.
            await asyncio.sleep(3)
        finally:
            stop.set()
            terminated = await killer
            await admin.close()
        assert terminated > 0

        async def all_stored() -> bool:
            return bool(await w.pool.fetchval("SELECT count(*) FROM interview_schedules") == 12)

        await wait_until(all_stored, timeout_s=60, what="all 12 schedules to be stored")
        assert await w.pool.fetch("SELECT job_name, subject, error, attempts FROM dead_letters") == []
        assert worker.process.returncode is None
        assert await worker.stop(signal.SIGTERM) == 0


async def claimed_brief(w: World, worker: FleetProcess) -> bool:
    if worker.process.returncode is not None:
        raise AssertionError(f"the worker exited early (code {worker.process.returncode})")
    return bool(await w.pool.fetchval("SELECT count(*) FROM reminders WHERE kind = 'brief' AND state = 'sending'"))


async def test_shutdown_is_bounded_by_the_grace_period_whatever_the_jobs_do(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    port = free_port()
    async with world(db_url, redis_url, redis) as w:
        now = datetime.now(UTC)
        w.ashby.panel(start=now + timedelta(minutes=5), interviewers=1, shadows=0)  # its brief is due at once
        assert {status for _, status in await w.deliver_webhooks()} == {200}
        # Every Ashby answer hangs: the send that claims the brief is stuck fetching the application it shows
        # (nothing is cached yet), in a fetch task shared by every send in the process.
        w.ashby_sim.faults.hang("*", seconds=600, times=1000)
        async with worker_process(w, port, WORKER_SHUTDOWN_GRACE_S="2") as worker:
            await wait_until(lambda: claimed_brief(w, worker), timeout_s=30, what="the brief to be claimed")
            started = time.monotonic()
            assert await worker.stop(signal.SIGTERM, timeout_s=30) == 0
            took = time.monotonic() - started
            output = await worker.output()
        # The cancelled send handed its job back to arq; its claim's lease hands the reminder on.
        assert await w.pool.fetchval("SELECT state FROM reminders WHERE kind = 'brief'") == "sending"
    # Grace (2 s), then cancelling the stuck jobs and closing the clients, each bounded: the hard deadline
    # (grace + HARD_EXIT_MARGIN_S) would exit 3, not 0.
    assert took < 2 + HARD_EXIT_MARGIN_S, f"shutdown took {took:.1f} s"
    assert "Task exception was never retrieved" not in output
    assert "client has been closed" not in output
    assert "jobs_cancelled_at_shutdown" in output


async def test_second_sigterm_stops_waiting_for_jobs(db_url: str, redis_url: str, redis: aioredis.Redis) -> None:
    port = free_port()
    async with world(db_url, redis_url, redis) as w:
        now = datetime.now(UTC)
        w.ashby.panel(start=now + timedelta(minutes=5), interviewers=1, shadows=0)
        assert {status for _, status in await w.deliver_webhooks()} == {200}
        w.ashby_sim.faults.hang("*", seconds=600, times=1000)
        async with worker_process(w, port, WORKER_SHUTDOWN_GRACE_S="60") as worker:
            await wait_until(lambda: claimed_brief(w, worker), timeout_s=30, what="the brief to be claimed")
            worker.process.send_signal(signal.SIGTERM)
            await wait_for_state(worker, port, "draining")
            started = time.monotonic()
            assert await worker.stop(signal.SIGTERM, timeout_s=30) == 0
            assert time.monotonic() - started < 15  # not the 60 s grace
