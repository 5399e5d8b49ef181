"""`fleet people unmatched` shows who cannot be reminded; `fleet people map` fixes it by hand."""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg


async def fleet_people(db_url: str, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fleet.cli",
        "people",
        *args,
        env={**os.environ, "DATABASE_URL": db_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out
    return out.decode()


async def test_unmatched_interviewers_are_listed_and_a_manual_mapping_fixes_them(
    db_pool: asyncpg.Pool, db_url: str
) -> None:
    await db_pool.execute(
        "INSERT INTO people (ashby_user_id, email, status, reason) VALUES ('u-1', 'ada@example.com', 'unmatched', "
        "'no Slack user with this email')"
    )
    listed = await fleet_people(db_url, "unmatched")
    assert "u-1" in listed and "no Slack user with this email" in listed

    mapped = await fleet_people(db_url, "map", "u-1", "U123ABC", "--tz", "Europe/Berlin")
    assert "u-1 -> U123ABC (Europe/Berlin), manual" in mapped
    row = await db_pool.fetchrow("SELECT slack_user_id, status, override FROM people WHERE ashby_user_id = 'u-1'")
    assert (row["slack_user_id"], row["status"], row["override"]) == ("U123ABC", "matched", True)
    assert "Every interviewer is matched" in await fleet_people(db_url, "unmatched")
