"""After the faults: wait, bounded by a deadline, until the fleet has nothing left to do for the plan.

Settled means Slack has every expected reminder, no expected reminder is still pending or being sent in
PostgreSQL (a row claimed by a killed worker is re-sent only when its lease runs out: waiting for it is
what catches a post-then-crash duplicate), no submission is half done, and every interviewer is done.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

CHECK_EVERY_S = 2.0
GRACE_S = 3.0  # after settling, for a straggler already on its way to Slack
_OPEN_WORK = """
SELECT (SELECT count(*) FROM reminders WHERE state IN ('pending', 'sending') AND due_at <= $1) AS reminders,
       (SELECT count(*) FROM feedback_submissions WHERE state = 'submitting') AS submissions
"""


@dataclass(frozen=True)
class Settled:
    settled: bool
    seconds: float  # from the call to settling (or to the deadline)
    open_reminders: int | None  # None: PostgreSQL did not answer
    open_submissions: int | None


async def wait_settled(
    url: str,
    *,
    horizon: datetime,
    delivered: Callable[[], bool],
    tasks: Sequence[asyncio.Task[None]],
    until: float,
) -> Settled:
    began = time.time()
    reminders = submissions = None
    while True:
        reminders, submissions = await _open_work(url, horizon)
        if delivered() and all(task.done() for task in tasks) and reminders == 0 and submissions == 0:
            await asyncio.sleep(GRACE_S)
            return Settled(True, round(time.time() - began, 1), reminders, submissions)
        if time.time() + CHECK_EVERY_S > until:
            return Settled(False, round(time.time() - began, 1), reminders, submissions)
        await asyncio.sleep(CHECK_EVERY_S)


async def count_dead_letters(url: str) -> int | None:
    """Rows in the fleet's dead-letter table; None when the schema has no such table."""
    conn = await connect(url)
    try:
        if await conn.fetchval("SELECT to_regclass('dead_letters')") is None:
            return None
        return int(await conn.fetchval("SELECT count(*) FROM dead_letters"))
    finally:
        await conn.close()


async def _open_work(url: str, horizon: datetime) -> tuple[int | None, int | None]:
    try:
        conn = await connect(url)
        try:
            row = await conn.fetchrow(_OPEN_WORK, horizon)
        finally:
            await conn.close()
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return None, None
    return int(row["reminders"]), int(row["submissions"])


async def connect(url: str) -> asyncpg.Connection:
    # Not named "fleet": the run's own connections are not among those it terminates.
    return await asyncpg.connect(url, server_settings={"application_name": "chaos"}, timeout=5)
