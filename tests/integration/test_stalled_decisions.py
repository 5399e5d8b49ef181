"""A decision whose follow-up job was lost is found by how long it has been still on the database's clock, which
wrote `updated_at`: a worker whose clock runs ahead must not take every fresh decision for a stalled one."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from shared.db.advancement import stalled

INSERT = """
INSERT INTO decisions (application_id, from_stage_id, rule_name, rule_version, mode, outcome, reason, evidence,
                       state, updated_at)
VALUES ($1, 'stage', 'rule', 1, 'auto', 'advance', 'passed', '{}'::jsonb, $2, now() - $3::interval)
RETURNING id
"""


async def test_only_decisions_still_for_longer_than_the_interval_on_the_database_clock(db_pool: asyncpg.Pool) -> None:
    old_approved = await db_pool.fetchval(INSERT, "a1", "approved", timedelta(minutes=3))
    old_executing = await db_pool.fetchval(INSERT, "a2", "executing", timedelta(minutes=3))
    await db_pool.fetchval(INSERT, "a3", "approved", timedelta(seconds=5))  # its job is only just queued
    await db_pool.fetchval(INSERT, "a4", "done", timedelta(hours=1))  # finished: nothing to drive

    found = await stalled(db_pool, quiet_for=timedelta(minutes=2))

    assert sorted(found) == sorted([(old_approved, "approved"), (old_executing, "executing")])
