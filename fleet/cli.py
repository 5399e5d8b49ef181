"""The `fleet` command: ingress, worker, migrate, demo and the simulators.

Settings are read from the environment once here, at process start, and passed down explicitly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from shared.error_reporting import init_error_reporting
from shared.logs import configure_logging
from shared.settings import Settings, SettingsError, load_settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fleet", description="Ashby <-> Slack interview-loop worker fleet")
    commands = parser.add_subparsers(dest="command", required=True)

    ingress = commands.add_parser("ingress", help="run the HTTP ingress (webhooks, Slack interactions, health)")
    ingress.add_argument("--host")
    ingress.add_argument("--port", type=int)

    worker = commands.add_parser("worker", help="run an arq worker for one queue")
    worker.add_argument("--queue", choices=["interactive", "default"], required=True)
    worker.add_argument("--burst", action="store_true", help="exit once the queue is empty")

    admin = commands.add_parser("admin", help="run the admin service: JSON API and dashboard (needs ADMIN_TOKEN)")
    admin.add_argument("--host")
    admin.add_argument("--port", type=int, help="default: ADMIN_PORT (8080)")
    commands.add_parser("doctor", help="check configuration, PostgreSQL, Redis, Ashby and Slack; print what to fix")

    commands.add_parser("migrate", help="apply pending SQL migrations (safe to run from several replicas)")
    commands.add_parser("demo", help="run the whole fleet on embedded PostgreSQL and Redis with a sample interview")

    people = commands.add_parser("people", help="the Ashby user to Slack user directory")
    people_commands = people.add_subparsers(dest="people_command", required=True)
    people_commands.add_parser("unmatched", help="interviewers who cannot be reminded in Slack, and why")
    mapping = people_commands.add_parser("map", help="map an Ashby user to a Slack user by hand (wins over lookups)")
    mapping.add_argument("ashby_user_id")
    mapping.add_argument("slack_user_id")
    mapping.add_argument("--tz", help="IANA time zone, e.g. Europe/Berlin (default: keep what Slack said)")

    dead = commands.add_parser("dead-letters", help="jobs that failed for good: list them, replay them")
    dead_commands = dead.add_subparsers(dest="dead_command", required=True)
    dead_commands.add_parser("list", help="dead letters not replayed yet, newest first")
    replay = dead_commands.add_parser("replay", help="queue dead-lettered jobs again with their arguments")
    replay.add_argument("ids", nargs="*", type=int)
    replay.add_argument("--all", action="store_true", help="every dead letter not replayed yet")

    rules = commands.add_parser("rules", help="advancement rules: validate or apply a rules file, list, show")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    for name, text in (("validate", "check a rules file against Ashby"), ("apply", "validate, then make it active")):
        checked = rules_commands.add_parser(name, help=text)
        checked.add_argument("file", type=Path)
        checked.add_argument("--refresh", action="store_true", help="read Ashby's jobs, plans and forms again first")
    rules_commands.add_parser("list", help="the active rules: version, scope, mode, priority")
    rules_commands.add_parser("show", help="one rule in words, as written, and its versions").add_argument("name")
    audit = rules_commands.add_parser("audit", help="the decisions taken, with their evidence, newest first")
    audit.add_argument("--application", help="one application's decisions")
    audit.add_argument("--since", help="30d, 12h, 90m or an ISO date")
    simulate = rules_commands.add_parser("simulate", help="what a rules file would have decided on stored feedback")
    simulate.add_argument("file", type=Path)
    simulate.add_argument("--since", default="30d", help="interviews since (30d, 12h, or an ISO date)")
    simulate.add_argument("--refresh", action="store_true", help="read the Ashby catalog again first")

    probe = commands.add_parser("probe", help="exit 0 when this process's health endpoint answers 200 (containers)")
    probe.add_argument("--port", type=int, help="default: METRICS_PORT (a worker) if set, else PORT (the ingress)")
    probe.add_argument("--path", default="/health")

    sim = commands.add_parser("sim", help="run an Ashby or Slack simulator")
    sim.add_argument("system", choices=["ashby", "slack"])
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, required=True)
    sim.add_argument("--webhook-url", help="Ashby: where to send signed webhooks")
    sim.add_argument("--interactions-url", help="Slack: where to send signed interaction payloads")

    args = parser.parse_args(argv)
    if args.command == "probe":  # before settings: a health check must not depend on the configuration
        port = args.port or int(os.environ.get("METRICS_PORT") or os.environ.get("PORT") or 8000)
        return probe_local(port, args.path)
    if args.command == "doctor":  # before settings too: their problems are the doctor's first finding
        from shared.doctor import run_doctor

        return asyncio.run(run_doctor(os.environ))
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    if args.command in ("ingress", "worker", "admin"):
        init_error_reporting(settings, role=args.command if args.command != "worker" else f"worker-{args.queue}")
    if settings.generated_secrets and args.command in ("ingress", "worker"):
        import structlog

        structlog.get_logger("settings").warning(
            "secrets_generated",
            variables=list(settings.generated_secrets),
            hint="random for this process: set them to accept Ashby's and Slack's requests and to call their APIs",
        )

    if args.command == "ingress":
        return run_ingress(settings, host=args.host or settings.host, port=args.port or settings.port)
    if args.command == "worker":
        return asyncio.run(run_worker(settings, args.queue, burst=args.burst))
    if args.command == "admin":
        from admin.server import run_admin

        return run_admin(settings, host=args.host or settings.host, port=args.port or settings.admin_port)
    if args.command == "migrate":
        return asyncio.run(run_migrate(settings))
    if args.command == "demo":
        from fleet.demo import run_demo

        return run_demo(settings)
    if args.command == "people":
        return asyncio.run(run_people(settings, args))
    if args.command == "dead-letters":
        return asyncio.run(run_dead_letters(settings, args))
    if args.command == "rules":
        from fleet.rules_cli import run_rules

        return asyncio.run(run_rules(settings, args))
    return asyncio.run(run_simulator(settings, args))


def _require_services(settings: Settings) -> str | None:
    missing = [
        name
        for name, value in (("DATABASE_URL", settings.database_url), ("REDIS_URL", settings.redis_url))
        if not value
    ]
    if missing:
        return f"{' and '.join(missing)} must be set (or run `fleet demo`, which starts embedded servers)"
    return None


def run_ingress(settings: Settings, *, host: str, port: int) -> int:
    from ingress.server import serve

    if settings.redis_url is None:
        print("REDIS_URL must be set (or run `fleet demo`, which starts embedded servers)", file=sys.stderr)
        return 2
    return serve(settings, host=host, port=port)


async def run_worker(settings: Settings, queue: str, *, burst: bool = False) -> int:
    from workers.process import serve_worker

    problem = _require_services(settings)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    return await serve_worker(settings, queue, burst=burst)


async def run_migrate(settings: Settings) -> int:
    import asyncpg
    import structlog

    from shared.db.migrations import MigrationError, apply_migrations, default_directory, load_migrations

    if settings.database_url is None:
        print("DATABASE_URL must be set (or run `fleet demo`, which starts embedded servers)", file=sys.stderr)
        return 2
    conn = await asyncpg.connect(settings.database_url)
    try:
        applied = await apply_migrations(conn, load_migrations(default_directory()))
    except MigrationError as exc:
        print(f"migrations refused: {exc}", file=sys.stderr)
        return 1
    finally:
        await conn.close()
    structlog.get_logger("migrate").info("migrations_applied", applied=applied or "none pending")
    return 0


async def run_people(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from shared.db.pool import create_pool
    from shared.people import list_unmatched, set_override

    if settings.database_url is None:
        print("DATABASE_URL must be set", file=sys.stderr)
        return 2
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        if args.people_command == "map":
            person = await set_override(pool, args.ashby_user_id, args.slack_user_id, tz=args.tz)
            print(f"{person.ashby_user_id} -> {person.slack_user_id} ({person.tz or 'time zone unknown'}), manual")
            return 0
        rows = await list_unmatched(pool, now=datetime.now(UTC))
    finally:
        await pool.close()
    if not rows:
        print("Every interviewer is matched to a Slack account.")
    for row in rows:
        # Operators need the address to fix the mismatch; this is a terminal, not a log.
        print(
            f"{row.ashby_user_id}\t{row.name or '?'}\t{row.email or '-'}\t{row.status}: {row.reason}"
            f"\t{row.upcoming_interviews} upcoming interview(s)"
        )
    return 0


async def run_dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from shared.db import dead_letters
    from shared.db.pool import create_pool
    from shared.dead_letter_replay import replay
    from shared.jobs import queue_redis

    problem = _require_services(settings)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    assert settings.database_url and settings.redis_url
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    queue = queue_redis(settings.redis_url)
    try:
        if args.dead_command == "list":
            letters = await dead_letters.list_open(pool, limit=1000)
            if not letters:
                print("No dead letters.")
            for letter in letters:
                print(
                    f"{letter.id}\t{letter.failed_at:%Y-%m-%d %H:%M:%S}Z\t{letter.job_name}\t{letter.subject or '-'}"
                    f"\t{letter.error}\tafter {letter.attempts} attempt(s)"
                )
            return 0
        ids = [letter.id for letter in await dead_letters.list_open(pool, limit=100_000)] if args.all else args.ids
        if not ids:
            print("Nothing to replay: name dead letter ids, or --all.", file=sys.stderr)
            return 2
        failed = 0
        for dead_letter_id in ids:
            result = await replay(pool, queue, dead_letter_id, now=datetime.now(UTC))
            if result.job_id is None:
                failed += 1
                print(f"{dead_letter_id}: unknown, or replayed already", file=sys.stderr)
            else:
                print(f"{dead_letter_id}: queued as {result.job_id}" + ("" if result.queued else " (already queued)"))
        return 1 if failed else 0
    finally:
        await queue.aclose()
        await pool.close()


def probe_local(port: int, path: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"probe failed: {exc}", file=sys.stderr)
        return 1


async def run_simulator(settings: Settings, args: argparse.Namespace) -> int:
    if args.system == "ashby":
        from sim.ashby.server import serve as serve_ashby

        await serve_ashby(
            host=args.host,
            port=args.port,
            api_key=settings.ashby_api_key,
            webhook_url=args.webhook_url,
            webhook_secret=settings.ashby_webhook_secret,
        )
    else:
        from sim.slack.server import serve as serve_slack

        await serve_slack(
            host=args.host,
            port=args.port,
            token=settings.slack_bot_token,
            signing_secret=settings.slack_signing_secret,
            interactions_url=args.interactions_url,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
