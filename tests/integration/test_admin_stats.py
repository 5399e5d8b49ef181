"""The admin figures on real PostgreSQL, against a small dataset whose answers are known (tests/admin_world.py)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from shared.db import stats
from tests.admin_world import NOW, seed_admin_world

SINCE = NOW - timedelta(weeks=12)


@pytest.fixture
async def world(db_pool: asyncpg.Pool) -> asyncpg.Pool:
    await seed_admin_world(db_pool)
    return db_pool


async def test_reminder_counts_by_state_kind_and_reason(world: asyncpg.Pool) -> None:
    counts = await stats.reminder_counts(world)
    assert counts.by_state == {"pending": 2, "sending": 1, "sent": 2, "skipped": 2, "failed": 1}
    assert counts.by_kind["overdue"] == {"skipped": 1, "failed": 1, "sending": 1}
    assert counts.reasons == [("skipped", "feedback_received", 2), ("failed", "failed:channel_not_found", 1)]
    later = await stats.reminder_counts(world, since=NOW)
    assert later.by_state == {"pending": 1, "sending": 0, "sent": 0, "skipped": 0, "failed": 0}


async def test_completion_and_median_time_to_feedback_per_interview(world: asyncpg.Pool) -> None:
    total = await stats.feedback_total(world, since=SINCE, until=NOW)
    assert (total.owed, total.received, total.median_s) == (5, 4, 3 * 3600)  # median of 0, 2 h, 4 h, 6 h
    assert total.completion == 0.8
    rows = await stats.feedback_by_interview(world, since=SINCE, until=NOW)
    assert [(r.key, r.label, r.owed, r.received, r.median_s) for r in rows] == [
        ("int-tech", "Technical interview", 3, 3, 2 * 3600.0),  # 0 (submitted before the end), 2 h, 6 h
        ("int-culture", "Culture <script>alert('x')</script>", 2, 1, 4 * 3600.0),
    ]


async def test_per_interviewer_slowest_first_and_nothing_received_last(world: asyncpg.Pool) -> None:
    rows = await stats.feedback_by_interviewer(world, since=SINCE, until=NOW)
    assert [(r.key, r.label, r.owed, r.received, r.median_s) for r in rows] == [
        ("alice", "Alice Tester", 2, 2, 3 * 3600.0),  # 2 h and 4 h
        ("bob", "Bob Tester", 2, 2, 3 * 3600.0),  # 6 h (recorded: no submission time) and 0
        ("dave", "Dave Tester", 1, 0, None),
    ]


async def test_per_week_every_week_of_the_window_oldest_first(world: asyncpg.Pool) -> None:
    weeks = await stats.feedback_by_week(world, since=SINCE, until=NOW)
    assert len(weeks) == 13 and weeks[0].key == "2025-12-22" and weeks[-1].key == "2026-03-16"
    assert [(w.owed, w.received, w.median_s) for w in weeks[-2:]] == [(3, 2, 2 * 3600.0), (2, 2, 4 * 3600.0)]
    assert all(w.owed == 0 and w.median_s is None for w in weeks[:-2])


async def test_the_window_moves_with_its_ends(world: asyncpg.Pool) -> None:
    last_week = await stats.feedback_total(world, since=NOW - timedelta(days=7), until=NOW)
    assert (last_week.owed, last_week.received) == (2, 2)  # e1 only
    longer = await stats.feedback_total(world, since=NOW - timedelta(weeks=40), until=NOW)
    assert (longer.owed, longer.received) == (6, 5)  # and the one that ended 30 weeks ago


async def test_decisions_rules_and_syncs(world: asyncpg.Pool) -> None:
    assert await stats.decision_counts(world) == {"awaiting_approval": 1}
    [activity] = await stats.rule_activity(world)
    assert (activity.rule_name, activity.rule_version, activity.mode, activity.outcomes) == (
        "onsite-bar",
        3,
        "approve",
        {"advance": 1},
    )
    [sync] = await stats.sync_states(world)
    assert (sync.name, sync.synced_at, sync.full_sync) == ("applicationFeedback.list", NOW - timedelta(hours=1), False)


async def test_rule_versions_active_first_with_catalog_names(world: asyncpg.Pool) -> None:
    versions = await stats.rule_versions(world)
    assert [(v.name, v.version, v.mode, v.active) for v in versions] == [
        ("onsite-bar", 3, "approve", True),
        ("onsite-bar", 2, "dry_run", False),
    ]
    assert (versions[0].job, versions[0].plan, versions[0].stage) == ("Backend engineer", "plan-1", "Onsite")
    assert versions[1].deactivated_at == NOW - timedelta(hours=24) and versions[0].deactivated_at is None


async def test_an_empty_database_gives_zeros_not_errors(db_pool: asyncpg.Pool) -> None:
    counts = await stats.reminder_counts(db_pool)
    assert set(counts.by_state.values()) == {0} and counts.reasons == []
    total = await stats.feedback_total(db_pool, since=SINCE, until=NOW)
    assert (total.owed, total.received, total.median_s, total.completion) == (0, 0, None, None)
    assert await stats.feedback_by_interview(db_pool, since=SINCE, until=NOW) == []
