"""Rules stored version by version in PostgreSQL: a version per change of meaning, idempotent applies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from shared.advancement.rules_file import WrittenRule, resolve
from shared.db import rules as rules_db
from shared.db.rules import Change
from tests.unit.rules_catalog import STAGE_IDS, seeded_catalog

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CATALOG = seeded_catalog()
SCREEN = """\
  - name: screen
    job: Senior Backend Engineer
    stage: Phone Screen
    mode: auto
    require:
      - {field: Overall recommendation, each: ">= 3"}
"""
PANEL = """\
  - name: panel
    job: Senior Backend Engineer
    stage: Onsite
    on_pass: {advance: Offer}
    on_fail: {reject: {reason: Not a fit}}
"""


def rules(*parts: str) -> list[WrittenRule]:
    return resolve("rules:\n" + "".join(parts), CATALOG)


async def apply(pool: asyncpg.Pool, *parts: str, at: timedelta = timedelta()) -> list[Change]:
    return await rules_db.apply(pool, rules(*parts), now=T0 + at)


async def test_a_new_version_only_when_what_the_rule_does_changes(db_pool: asyncpg.Pool) -> None:
    assert await apply(db_pool, SCREEN, PANEL) == [Change("screen", "added", 1), Change("panel", "added", 1)]
    active = await rules_db.active_rules(db_pool)
    assert [(r.name, r.version) for r in active] == [("panel", 1), ("screen", 1)]

    # The same file again, and the same rules reworded: nothing changes.
    assert await apply(db_pool, SCREEN, PANEL, at=timedelta(hours=1)) == [
        Change("screen", "unchanged", 1), Change("panel", "unchanged", 1)
    ]  # fmt: skip
    reworded = SCREEN.replace("Overall recommendation", "overall_recommendation").replace('">= 3"', '">= Hire"')
    reworded += "  # reworded: the same rule\n"
    assert await apply(db_pool, reworded, PANEL) == [Change("screen", "unchanged", 1), Change("panel", "unchanged", 1)]
    assert await db_pool.fetchval("SELECT count(*) FROM rules") == 2

    # A threshold moves: a new version, the old one kept and deactivated.
    stricter = SCREEN.replace('">= 3"', '">= 4"')
    assert await apply(db_pool, stricter, PANEL, at=timedelta(days=1)) == [
        Change("screen", "changed", 2, previous=1), Change("panel", "unchanged", 1)
    ]  # fmt: skip
    history = await rules_db.rule_history(db_pool, "screen")
    assert [(h.rule.version, h.active, h.deactivated_at) for h in history] == [
        (2, True, None), (1, False, T0 + timedelta(days=1))
    ]  # fmt: skip
    assert history[0].source.endswith('each: ">= 4"}') and history[1].source.endswith('each: ">= 3"}')
    old = await rules_db.rule_version(db_pool, "screen", 1)
    assert old is not None and old.requirements[0].condition.value == 3.0  # type: ignore[union-attr]
    assert await rules_db.rule_version(db_pool, "screen", 3) is None


async def test_a_stored_rule_reads_back_equal_to_the_resolved_one(db_pool: asyncpg.Pool) -> None:
    await apply(db_pool, SCREEN, PANEL)
    stored = {r.name: r for r in await rules_db.active_rules(db_pool)}
    for written in rules(SCREEN, PANEL):
        assert stored[written.rule.name] == msgspec.structs.replace(written.rule, version=1)
    row = await db_pool.fetchrow("SELECT job_id, plan_id, stage_id, priority, mode FROM rules WHERE name = 'screen'")
    assert tuple(row) == ("job-backend", "plan-eng", STAGE_IDS["Phone Screen"], 0, "auto")


async def test_a_rule_left_out_is_deactivated_and_put_back_unchanged_gets_its_version_back(
    db_pool: asyncpg.Pool,
) -> None:
    await apply(db_pool, SCREEN, PANEL)
    assert await apply(db_pool, SCREEN, at=timedelta(hours=1)) == [
        Change("screen", "unchanged", 1), Change("panel", "deactivated", 1)
    ]  # fmt: skip
    assert [r.name for r in await rules_db.active_rules(db_pool)] == ["screen"]
    assert [h.active for h in await rules_db.rule_history(db_pool, "panel")] == [False]

    assert await apply(db_pool, SCREEN, PANEL, at=timedelta(hours=2)) == [
        Change("screen", "unchanged", 1), Change("panel", "restored", 1)
    ]  # fmt: skip
    history = await rules_db.rule_history(db_pool, "panel")
    assert [(h.rule.version, h.active, h.deactivated_at) for h in history] == [(1, True, None)]

    await apply(db_pool, SCREEN)
    changed = PANEL.replace("Not a fit", "Withdrew")
    assert await apply(db_pool, SCREEN, changed) == [Change("screen", "unchanged", 1), Change("panel", "added", 2)]
    assert await apply(db_pool) == [Change("panel", "deactivated", 2), Change("screen", "deactivated", 1)]
    assert await rules_db.active_rules(db_pool) == []


async def test_concurrent_applies_leave_one_active_version_per_rule(db_pool: asyncpg.Pool) -> None:
    files = [(SCREEN.replace('">= 3"', f'">= {n}"'), PANEL) for n in (1, 2, 3, 4)]
    await asyncio.gather(*(apply(db_pool, *parts) for parts in files))
    assert await db_pool.fetchval("SELECT count(*) FROM rules WHERE active") == 2
    versions = [h.rule.version for h in await rules_db.rule_history(db_pool, "screen")]
    assert versions == [4, 3, 2, 1]
    assert len(await rules_db.rule_history(db_pool, "panel")) == 1
