"""Pieces shared by the issue-4 benchmarks: credentials for the simulators, the environment a `fleet`
process gets, worker processes, percentiles and log counting."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path

import msgspec
import psutil  # type: ignore[import-untyped]

ASHBY_WEBHOOK_SECRET = "bench-webhook-secret-of-at-least-32-characters"
SLACK_SIGNING_SECRET = "bench-slack-signing-secret-of-at-least-32-chars"
SLACK_TOKEN = "xoxb-bench-token"
ASHBY_KEY = "bench-ashby-api-key"


def fleet_env(
    *,
    redis_url: str,
    database_url: str | None = None,
    ashby_url: str | None = None,
    slack_url: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """What `fleet ingress` / `fleet worker` read from the environment, pointed at the simulators."""
    env = {
        "ENVIRONMENT": "development",
        "REDIS_URL": redis_url,
        "ASHBY_WEBHOOK_SECRET": ASHBY_WEBHOOK_SECRET,
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "ASHBY_API_KEY": ASHBY_KEY,
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    if ashby_url:
        env["ASHBY_BASE_URL"] = ashby_url
    if slack_url:
        env["SLACK_BASE_URL"] = slack_url.rstrip("/") + "/api/"
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def fleet_workers(
    count: int, queue: str, env: dict[str, str], log_dir: Path
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """`count` real `fleet worker --queue <queue>` processes (not burst: cron and real clock), logging to files."""
    processes: list[asyncio.subprocess.Process] = []
    try:
        for n in range(count):
            with (log_dir / f"worker-{queue}-{n}.log").open("ab") as log:
                processes.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "fleet.cli",
                        "worker",
                        "--queue",
                        queue,
                        env={**os.environ, **env},
                        stdout=log,
                        stderr=asyncio.subprocess.STDOUT,
                    )
                )
        yield processes
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


def cpu_seconds(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return float(times.user + times.system)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank, as `bench/loadgen.py` reports: the value below which a fraction `p` of samples lie."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def count_log_events(log_dir: Path, events: Sequence[str]) -> dict[str, int]:
    """How many JSON log lines in the directory's worker logs carry each event name."""
    counts = dict.fromkeys(events, 0)
    for path in sorted(log_dir.glob("worker-*.log")):
        with path.open(encoding="utf-8", errors="replace") as log:
            for line in log:
                for event in events:
                    if f'"event":"{event}"' in line:
                        counts[event] += 1
    return counts


def dispatch_timeline(log_dir: Path, origin_s: float) -> list[tuple[float, float]]:
    """Each cron dispatch run, from the workers' `job_done` lines: (its tick - origin, s it started after its tick).

    The job id names the tick (`cron:dispatch_due_reminders:<ms>`); start = the line's timestamp - its `ms`."""
    runs = []
    for path in sorted(log_dir.glob("worker-*.log")):
        with path.open(encoding="utf-8", errors="replace") as log:
            for line in log:
                if '"job":"dispatch_due_reminders"' not in line or '"event":"job_done"' not in line:
                    continue
                entry = msgspec.json.decode(line)
                tick_s = int(str(entry["job_id"]).rsplit(":", 1)[1]) / 1000
                started_s = datetime.fromisoformat(entry["timestamp"]).timestamp() - float(entry["ms"]) / 1000
                runs.append((round(tick_s - origin_s, 1), round(started_s - tick_s, 1)))
    return sorted(runs)
