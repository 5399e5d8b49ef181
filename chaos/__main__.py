"""`./run chaos`: the reminders-and-feedback scenario at scale under faults, proving the fleet loses nothing
and does nothing twice. Exits 0 only when every check holds; prints the result as Markdown.

    ./run chaos [--short] [--seed N] [--keep-logs DIR] [--redis-fsync everysec|always]

The full pass (500 interviews, 1,500 interviewers, 300 submitters) is bounded to 10 minutes, the short
pass (CI) to 5 and takes about 3. Everything listens on loopback only. See docs/reliability.md.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from chaos import scenario
from chaos.report import render
from chaos.run import chaos_run

BUDGET_S = {"full": 600.0, "short": 300.0}
TEARDOWN_S = 45.0  # stopping the fleet (a worker drains for up to WORKER_SHUTDOWN_GRACE_S) and the servers


def main() -> int:
    parser = argparse.ArgumentParser(prog="chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the CI pass: 100 interviews, every fault kind once")
    parser.add_argument("--seed", type=int, default=1, help="seeds the plan, the faults and the simulators")
    parser.add_argument("--keep-logs", metavar="DIR", help="write the fleet's logs to DIR instead of a temp dir")
    parser.add_argument(
        "--redis-fsync",
        choices=["everysec", "always"],
        default="everysec",
        help="Redis appendfsync (everysec, as in compose.yaml; see docs/reliability.md)",
    )
    args = parser.parse_args()
    run = scenario.SHORT if args.short else scenario.FULL
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="fleet-chaos-") as data:
        log_dir = Path(args.keep_logs) if args.keep_logs else Path(data) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        print(f"chaos: {run.name} pass, seed {args.seed}; fleet logs in {log_dir}", flush=True)
        world, result = asyncio.run(
            chaos_run(
                run,
                seed=args.seed,
                data_dir=Path(data),
                log_dir=log_dir,
                fsync=args.redis_fsync,
                until=started + BUDGET_S[run.name] - TEARDOWN_S,
            )
        )
        title = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {_commit()}, {time.time() - started:.0f} s"
        print(render(world, result, seed=args.seed, fsync=args.redis_fsync, log_dir=log_dir, title=title), flush=True)
    return 1 if result.failures() else 0


def _commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {sha.stdout.strip()}" + (" with uncommitted changes" if dirty.stdout.strip() else "")


if __name__ == "__main__":
    sys.exit(main())
