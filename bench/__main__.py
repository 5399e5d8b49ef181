"""`./run bench`: webhook ingress throughput vs a bare Starlette endpoint under wrk (`bench/http.py`), worker
ingestion speed, brief lateness for 1,000 interviews starting at once (`bench/reminders.py`) and
click-to-`views.open` latency under a 10,000-job backlog (`bench/click.py`).

Everything runs on this machine in one command: embedded PostgreSQL and Redis (or DATABASE_URL /
REDIS_URL), servers and the load generator as separate processes, and the baseline measured in the
same run with the same server settings. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from bench.advancement import AdvancementRun, advancement_benchmark, advancement_report
from bench.click import ClickRun, click_benchmark, click_report
from bench.common import ASHBY_WEBHOOK_SECRET
from bench.http import HttpRun, as_json, http_benchmark, http_report
from bench.ingest import ingest_benchmark, ingest_report
from bench.reminders import CACHE_MODES, ReminderRun, reminders_benchmark, reminders_report
from shared.db.migrations import apply_migrations, default_directory, load_migrations
from shared.db.pool import with_database
from shared.embedded import embedded_postgres, embedded_redis


async def fresh_database(server_url: str) -> str:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute('DROP DATABASE IF EXISTS "fleet_bench" WITH (FORCE)')
        await conn.execute('CREATE DATABASE "fleet_bench"')
    finally:
        await conn.close()
    url = with_database(server_url, "fleet_bench")
    conn = await asyncpg.connect(url)
    try:
        await apply_migrations(conn, load_migrations(default_directory()))
    finally:
        await conn.close()
    return url


async def run(args: argparse.Namespace, pg_server: str, redis_url: str) -> None:
    env = {"REDIS_URL": redis_url, "ASHBY_WEBHOOK_SECRET": ASHBY_WEBHOOK_SECRET, "LOG_LEVEL": "INFO"}
    results: dict[str, dict[str, object]] = {}
    http_lines: list[str] = []
    if args.only in (None, "http"):
        with tempfile.TemporaryDirectory(prefix="fleet-bench-http-") as workdir:
            rounds = await http_benchmark(redis_url, env, http_run(args), Path(workdir))
        results["http"] = {"rounds": as_json(rounds)}
        http_lines = http_report(rounds, http_run(args))
    if args.only in (None, "ingest"):
        with log_dir(args, "ingest") as logs:
            database_url = await fresh_database(pg_server)
            results["ingest"] = await ingest_benchmark(
                database_url, redis_url, args.webhooks, logs, workers=args.ingest_workers, profile=args.ingest_profile
            )
    if args.only in (None, "reminders"):
        with log_dir(args, "reminders") as logs:
            results["reminders"] = await reminders_benchmark(
                await fresh_database(pg_server), redis_url, reminder_run(args), logs
            )
    if args.only in (None, "click"):
        with log_dir(args, "click") as logs:
            results["click"] = await click_benchmark(await fresh_database(pg_server), redis_url, click_run(args), logs)
    if args.only in (None, "advancement"):
        sized = AdvancementRun(applications=1000, cycles=2) if args.quick else AdvancementRun()
        advancement = await advancement_benchmark(await fresh_database(pg_server), redis_url, sized)
        print("\n".join(advancement_report(advancement)))
        if args.json:
            print(json.dumps(advancement, default=str))
    print(report(results, args, http_lines))
    if args.json:
        print(json.dumps(results, default=str))


@contextlib.contextmanager
def log_dir(args: argparse.Namespace, name: str) -> Iterator[Path]:
    """Where the benchmark's worker processes write their logs: `--keep-logs DIR/name`, else a temporary directory."""
    if args.keep_logs:
        kept = Path(args.keep_logs) / name
        kept.mkdir(parents=True, exist_ok=True)
        yield kept
        return
    with tempfile.TemporaryDirectory(prefix="fleet-bench-logs-") as logs:
        yield Path(logs)


def http_run(args: argparse.Namespace) -> HttpRun:
    return HttpRun(
        rounds=args.rounds,
        threads=args.threads,
        connections=args.connections,
        warmup_s=args.warmup,
        duration_s=args.duration,
        bodies=args.bodies,
        profile=args.profile,
    )


def reminder_run(args: argparse.Namespace) -> ReminderRun:
    return ReminderRun(
        interviews=args.interviews or (100 if args.quick else 1000),
        workers=args.reminder_workers,
        slack_budget=args.slack_budget,
        ashby_cache=args.ashby_cache,
        margin_s=args.reminder_margin,
        brief_early_minutes=args.brief_early_minutes,
    )


def click_run(args: argparse.Namespace) -> ClickRun:
    return ClickRun(clicks=args.clicks or (20 if args.quick else 70), backlog=args.backlog, workers=args.click_workers)


def report(results: dict[str, dict[str, object]], args: argparse.Namespace, http_lines: list[str]) -> str:
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}", ""]
    if http_lines:
        lines += [*http_lines, ""]
    if "ingest" in results:
        lines += ingest_report(results["ingest"])
    if "reminders" in results:
        lines += ["", *reminders_report(results["reminders"])]
    if "click" in results:
        lines += ["", *click_report(results["click"])]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--only", choices=["http", "ingest", "reminders", "click", "advancement"])
    parser.add_argument("--quick", action="store_true", help="smaller reminder and click runs (about a minute each)")
    parser.add_argument("--json", action="store_true", help="also print every figure as one JSON line")
    parser.add_argument("--keep-logs", metavar="DIR", help="keep the issue-4 benchmarks' worker logs in DIR")
    http = parser.add_argument_group("http (issue 11): the ingress vs a bare endpoint under wrk")
    http.add_argument("--rounds", type=int, default=3, help="alternating rounds per endpoint")
    http.add_argument("--threads", type=int, default=2, help="wrk threads")
    http.add_argument("--connections", type=int, default=32, help="wrk connections")
    http.add_argument("--warmup", type=float, default=2.0, help="s of the warm-up run before each measured run")
    http.add_argument("--duration", type=float, default=10.0, help="s of each measured run")
    http.add_argument("--bodies", type=int, default=200_000, help="distinct signed bodies wrk cycles through")
    http.add_argument("--profile", type=Path, help="also profile one ingress run with py-spy: collapsed stacks here")
    parser.add_argument("--webhooks", type=int, default=5000)
    parser.add_argument("--ingest-workers", type=int, default=1, help="`fleet worker --queue default` processes")
    parser.add_argument("--ingest-profile", type=Path, metavar="DIR", help="py-spy profiles of the ingest workers")
    reminders = parser.add_argument_group("reminders (issue 4)")
    reminders.add_argument("--interviews", type=int, help="interviews at once, 3 interviewers each (1000; quick 100)")
    reminders.add_argument("--reminder-workers", type=int, default=2, help="`fleet worker --queue default` processes")
    reminders.add_argument("--slack-budget", type=float, help="SLACK_MESSAGES_PER_SECOND (default: the product's, 10)")
    reminders.add_argument(
        "--ashby-cache",
        choices=CACHE_MODES,
        default="stale",
        help="the Ashby metadata cache at the due time: fetched days ago (stale), within the hour "
        "(fresh) or never (cold)",
    )
    reminders.add_argument(
        "--reminder-margin",
        type=float,
        help="s from scheduling to the due instant (default: a minute of set-up plus the time the budget needs)",
    )
    reminders.add_argument(
        "--brief-early-minutes", type=int, help="REMINDER_BRIEF_EARLY_MINUTES (default: the product's, 10; 0: never)"
    )
    click = parser.add_argument_group("click (issue 4)")
    click.add_argument("--clicks", type=int, help="clicks per condition (70; --quick 20)")
    click.add_argument("--backlog", type=int, default=10_000, help="default jobs kept queued")
    click.add_argument("--click-workers", type=int, default=2, help="busy `fleet worker --queue default` processes")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fleet-bench-")))
        pg_server = os.environ.get("DATABASE_URL") or stack.enter_context(embedded_postgres(data, delete=True))
        redis_url = os.environ.get("REDIS_URL") or stack.enter_context(embedded_redis(data / "redis"))
        asyncio.run(run(args, pg_server, redis_url))


if __name__ == "__main__":
    main()
