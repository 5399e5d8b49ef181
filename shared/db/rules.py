"""Advancement rules, versioned: every version ever applied is kept; applying a file makes exactly its rules active.

A rule's version changes only when what it does changes (its resolved form), not when its wording or comments
do, so decisions keyed on (application, stage, rule version) are not taken again for a cosmetic edit. A rule
taken out of the file and put back unchanged gets its last version back. Applying the same file twice changes
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg
import msgspec

from shared.advancement.model import Rule
from shared.advancement.rules_file import WrittenRule

# Serialises concurrent applies (two operators at once): any fixed key unique to this purpose in the database.
APPLY_LOCK_KEY = 0x666C656574_72756C  # "fleet" "rul"

ChangeKind = Literal["added", "changed", "unchanged", "restored", "deactivated"]


@dataclass(frozen=True)
class Change:
    name: str
    kind: ChangeKind
    version: int  # the version now active (for "deactivated": the one that was)
    previous: int | None = None  # "changed": the version it replaced


@dataclass(frozen=True)
class StoredRule:
    rule: Rule
    source: str
    created_at: datetime
    active: bool
    deactivated_at: datetime | None


async def apply(pool: asyncpg.Pool, written: Sequence[WrittenRule], *, now: datetime) -> list[Change]:
    """Make `written` the active rules, in one transaction: a changed rule gets a new version, an unchanged one
    keeps its own, an active rule missing from `written` is deactivated. Returns a change per rule (file order,
    then the deactivated by name)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", APPLY_LOCK_KEY)
        rows = await conn.fetch(
            "SELECT DISTINCT ON (name) name, version, rule, active FROM rules ORDER BY name, version DESC"
        )
        latest = {row["name"]: (_decode(row["rule"]), row["active"]) for row in rows}
        active = {
            row["name"]: row["version"] for row in await conn.fetch("SELECT name, version FROM rules WHERE active")
        }
        changes = [await _apply_one(conn, w, latest.get(w.rule.name), active.get(w.rule.name), now) for w in written]
        kept = {w.rule.name for w in written}
        for name in sorted(set(active) - kept):
            await _deactivate(conn, name, now)
            changes.append(Change(name, "deactivated", active[name]))
        return changes


async def _apply_one(
    conn: asyncpg.Connection, written: WrittenRule, latest: tuple[Rule, bool] | None, active: int | None, now: datetime
) -> Change:
    rule = written.rule
    if latest is not None and msgspec.structs.replace(latest[0], version=0) == msgspec.structs.replace(rule, version=0):
        version = latest[0].version
        if latest[1]:
            return Change(rule.name, "unchanged", version)
        # Taken out of the file earlier and put back as it was (the active version is always the latest).
        await conn.execute(
            "UPDATE rules SET active = true, deactivated_at = NULL WHERE name = $1 AND version = $2", rule.name, version
        )
        return Change(rule.name, "restored", version)
    version = latest[0].version + 1 if latest else 1
    if active is not None:
        await _deactivate(conn, rule.name, now)
    stored = msgspec.structs.replace(rule, version=version)
    await conn.execute(
        "INSERT INTO rules (name, version, job_id, plan_id, stage_id, priority, mode, rule, source, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        rule.name,
        version,
        rule.job_id,
        rule.plan_id,
        rule.stage_id,
        rule.priority,
        rule.mode,
        msgspec.to_builtins(stored),
        written.source,
        now,
    )
    return Change(rule.name, "added" if active is None else "changed", version, active)


async def _deactivate(conn: asyncpg.Connection, name: str, now: datetime) -> None:
    await conn.execute("UPDATE rules SET active = false, deactivated_at = $2 WHERE name = $1 AND active", name, now)


async def active_rules(pool: asyncpg.Pool | asyncpg.Connection) -> list[Rule]:
    """Every active rule (its `version` set), by name."""
    rows = await pool.fetch("SELECT rule FROM rules WHERE active ORDER BY name")
    return [_decode(row["rule"]) for row in rows]


async def rule_version(pool: asyncpg.Pool | asyncpg.Connection, name: str, version: int) -> Rule | None:
    """One version of a rule, active or not (what a decision taken under it was based on)."""
    value = await pool.fetchval("SELECT rule FROM rules WHERE name = $1 AND version = $2", name, version)
    return None if value is None else _decode(value)


async def rule_history(pool: asyncpg.Pool, name: str) -> list[StoredRule]:
    """Every version of the rule, newest first (empty when no rule has that name)."""
    rows = await pool.fetch(
        "SELECT rule, source, created_at, active, deactivated_at FROM rules WHERE name = $1 ORDER BY version DESC",
        name,
    )
    return [
        StoredRule(_decode(r["rule"]), r["source"], r["created_at"], r["active"], r["deactivated_at"]) for r in rows
    ]


def _decode(value: Any) -> Rule:
    return msgspec.convert(value, Rule)
