"""Worker ingestion (issues 2 and 11): `count` distinct schedule webhooks queued, then real `fleet worker --queue
default` processes started (crons, people lookups and the metadata refresher running against the simulators,
as in production): the time from their start until every schedule is stored, and the CPU it took per webhook.

CPU is read from the kernel's accounting (psutil): the worker processes and their children, and the whole
PostgreSQL server, i.e. the postmaster, its live children (backends, checkpointer, autovacuum) and the
children it has reaped. Both are read at the workers' start and when the last schedule is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import psutil  # type: ignore[import-untyped]

from bench.common import ASHBY_KEY, SLACK_SIGNING_SECRET, SLACK_TOKEN, fleet_env, fleet_workers
from bench.loadgen import webhook_body
from fleet.processes import wait_until
from shared.jobs import enqueue_ashby_event, queue_redis
from sim.ashby.app import create_app as create_ashby
from sim.ashby.app import sim_of
from sim.ashby.seed import seed_org
from sim.serving import running
from sim.slack import SlackState
from sim.slack import create_app as create_slack

PY_SPY = os.environ.get("PY_SPY", "py-spy")
# Rows one bench webhook writes (one event, one interviewer who owes feedback): what "the same rows" means.
ROW_COUNTS = {
    "schedules": "SELECT count(*) FROM interview_schedules",
    "events": "SELECT count(*) FROM interview_events",
    "event_times": "SELECT count(*) FROM interview_event_times",
    "interviewers": "SELECT count(*) FROM event_interviewers",
    "reminders": "SELECT count(*) FROM reminders",
}


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, its live descendants and the children it has already reaped."""
    try:
        root = psutil.Process(pid)
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        children = root.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0
    for child in children:
        try:
            t = child.cpu_times()
        except psutil.NoSuchProcess:  # exited between the listing and the read: its time moved to the parent's
            continue
        total += t.user + t.system
    return float(total)


@contextlib.asynccontextmanager
async def profiled(processes: list[asyncio.subprocess.Process], directory: Path | None) -> AsyncIterator[None]:
    if directory is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before the measured part)
    spies = []
    for n, process in enumerate(processes):
        for fmt, suffix in (("flamegraph", "svg"), ("raw", "txt")):
            spies.append(
                await asyncio.create_subprocess_exec(
                    PY_SPY,
                    "record",
                    "--format",
                    fmt,
                    "-o",
                    str(directory / f"worker-{n}.{suffix}"),
                    "--pid",
                    str(process.pid),
                    "--rate",
                    "200",
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
            )
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        for spy in spies:
            await spy.wait()


async def postmaster_pid(pool: asyncpg.Pool) -> int:
    backend = int(await pool.fetchval("SELECT pg_backend_pid()"))
    return int(psutil.Process(backend).ppid())


async def ingest_benchmark(
    database_url: str, redis_url: str, count: int, logs: Path, *, workers: int = 1, profile: Path | None = None
) -> dict[str, object]:
    """`profile`: a directory where each worker's sampling profile is written (`py-spy record`, flame graphs in
    SVG and raw stacks), at the cost of some of the worker's speed."""
    queue = queue_redis(redis_url)
    try:
        await queue.flushdb()
        for n in range(count):
            await enqueue_ashby_event(queue, webhook_body(n))
    finally:
        await queue.aclose()
    ashby_app = create_ashby(seed_org().org, api_key=ASHBY_KEY)
    slack_app = create_slack(
        SlackState(), token=SLACK_TOKEN, signing_secret=SLACK_SIGNING_SECRET, interactions_url=None
    )
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)

    async def stored() -> int:
        return int(await pool.fetchval(ROW_COUNTS["schedules"]))

    async def all_stored() -> bool:
        return await stored() >= count

    async def any_stored() -> bool:
        return await stored() > 0

    try:
        postgres = await postmaster_pid(pool)
        async with running(ashby_app, lifespan="off") as ashby_url, running(slack_app) as slack_url:
            env = fleet_env(
                redis_url=redis_url,
                database_url=database_url,
                ashby_url=ashby_url,
                slack_url=slack_url,
                LOG_LEVEL="WARNING",
            )
            pg_before = tree_cpu_seconds(postgres)
            started = time.perf_counter()
            async with fleet_workers(workers, "default", env, logs) as processes, profiled(processes, profile):
                # A worker's CPU from its start: it was 0 before it was spawned. Its start-up (imports, connections,
                # the start-up crons) is in the figures; the first stored row splits it off for the steady rate.
                await wait_until(any_stored, timeout_s=600, what="a first schedule to be stored")
                first_s = time.perf_counter() - started
                first_rows = await stored()
                worker_first = sum(tree_cpu_seconds(p.pid) for p in processes)
                pg_first = tree_cpu_seconds(postgres) - pg_before
                await wait_until(all_stored, timeout_s=600, what="every schedule to be stored")
                elapsed = time.perf_counter() - started
                worker_cpu = sum(tree_cpu_seconds(p.pid) for p in processes)
                pg_cpu = tree_cpu_seconds(postgres) - pg_before
        await sim_of(ashby_app).aclose()
        rows = {name: int(await pool.fetchval(sql)) for name, sql in ROW_COUNTS.items()}
        return {
            "webhooks": count,
            "workers": workers,
            "stored": rows["schedules"],
            "rows": rows,
            "seconds": round(elapsed, 2),
            "per_second": round(count / elapsed, 1),
            "worker_cpu_s": round(worker_cpu, 2),
            "postgres_cpu_s": round(pg_cpu, 2),
            "worker_cpu_ms_per_webhook": round(worker_cpu * 1000 / count, 3),
            "postgres_cpu_ms_per_webhook": round(pg_cpu * 1000 / count, 3),
            # From the first stored schedule to the last: the rate and CPU without the workers' start-up.
            "first_row_s": round(first_s, 2),
            "steady_per_second": round((count - first_rows) / max(elapsed - first_s, 1e-3), 1),
            "steady_worker_cpu_ms_per_webhook": round(
                (worker_cpu - worker_first) * 1000 / max(1, count - first_rows), 3
            ),
            "steady_postgres_cpu_ms_per_webhook": round((pg_cpu - pg_first) * 1000 / max(1, count - first_rows), 3),
        }
    finally:
        await pool.close()


def ingest_report(ing: dict[str, object]) -> list[str]:
    return [
        f"Worker ingestion: {ing['webhooks']} distinct schedule webhooks -> {ing['stored']} schedules stored in "
        f"{ing['seconds']} s ({ing['per_second']}/s) by {ing['workers']} `fleet worker --queue default` "
        f"(target >= 1,000/s for one worker). CPU per webhook: worker {ing['worker_cpu_ms_per_webhook']} ms, "
        f"PostgreSQL {ing['postgres_cpu_ms_per_webhook']} ms (worker {ing['worker_cpu_s']} s, PostgreSQL "
        f"{ing['postgres_cpu_s']} s in all). Rows: {ing['rows']}.",
        f"Without the start-up (first schedule stored after {ing['first_row_s']} s): {ing['steady_per_second']}/s, "
        f"CPU per webhook: worker {ing['steady_worker_cpu_ms_per_webhook']} ms, PostgreSQL "
        f"{ing['steady_postgres_cpu_ms_per_webhook']} ms.",
    ]
