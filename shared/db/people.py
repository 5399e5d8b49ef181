"""Queries for the people directory (table `people`): one row per Ashby user, its Slack match and why.

Invariant: a row with `override` set is changed only by `save_override`; lookups never touch it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

import asyncpg

Executor: TypeAlias = "asyncpg.Pool | asyncpg.Connection"

MATCHED, UNMATCHED, DEACTIVATED = "matched", "unmatched", "deactivated"


@dataclass(frozen=True, slots=True)
class Person:
    ashby_user_id: str
    email: str | None  # lower-cased
    slack_user_id: str | None
    tz: str | None  # IANA name from Slack, e.g. America/New_York
    status: str  # matched | unmatched | deactivated
    reason: str | None = None
    override: bool = False
    looked_up_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UnmatchedPerson:
    ashby_user_id: str
    email: str | None
    name: str | None
    status: str
    reason: str | None
    looked_up_at: datetime | None
    upcoming_interviews: int


_COLUMNS = "ashby_user_id, email, slack_user_id, slack_tz, status, reason, override, looked_up_at"


def _person(row: asyncpg.Record) -> Person:
    return Person(
        ashby_user_id=row["ashby_user_id"],
        email=row["email"],
        slack_user_id=row["slack_user_id"],
        tz=row["slack_tz"],
        status=row["status"],
        reason=row["reason"],
        override=row["override"],
        looked_up_at=row["looked_up_at"],
    )


async def get(conn: Executor, ashby_user_id: str) -> Person | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM people WHERE ashby_user_id = $1", ashby_user_id)
    return _person(row) if row else None


async def ashby_user_of(conn: Executor, slack_user_id: str) -> str | None:
    """The Ashby user a Slack user is matched to (by lookup or by hand), if any."""
    ashby_user_id: str | None = await conn.fetchval(
        "SELECT ashby_user_id FROM people WHERE slack_user_id = $1 AND status = 'matched' "
        "ORDER BY override DESC, updated_at DESC LIMIT 1",
        slack_user_id,
    )
    return ashby_user_id


async def save_lookup(conn: Executor, person: Person) -> Person | None:
    """Store the outcome of a lookup; returns None (and writes nothing) if the row is a manual override."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO people AS p ({_COLUMNS}, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, false, $7, $7)
        ON CONFLICT (ashby_user_id) DO UPDATE SET
            email = excluded.email,
            slack_user_id = excluded.slack_user_id,
            slack_tz = excluded.slack_tz,
            status = excluded.status,
            reason = excluded.reason,
            looked_up_at = excluded.looked_up_at,
            updated_at = excluded.updated_at
        WHERE NOT p.override
        RETURNING {_COLUMNS}
        """,
        person.ashby_user_id,
        person.email,
        person.slack_user_id,
        person.tz,
        person.status,
        person.reason,
        person.looked_up_at,
    )
    return _person(row) if row else None


async def save_override(
    conn: Executor, ashby_user_id: str, slack_user_id: str, *, tz: str | None, now: datetime | None
) -> Person:
    row = await conn.fetchrow(
        f"""
        INSERT INTO people AS p ({_COLUMNS}, updated_at)
        VALUES ($1, NULL, $2, $3, 'matched', 'manual mapping', true, NULL, coalesce($4, now()))
        ON CONFLICT (ashby_user_id) DO UPDATE SET
            slack_user_id = excluded.slack_user_id,
            slack_tz = coalesce(excluded.slack_tz, p.slack_tz),
            status = 'matched',
            reason = 'manual mapping',
            override = true,
            updated_at = excluded.updated_at
        RETURNING {_COLUMNS}
        """,
        ashby_user_id,
        slack_user_id,
        tz,
        now,
    )
    assert row is not None
    return _person(row)


async def list_unmatched(conn: Executor, *, now: datetime) -> list[UnmatchedPerson]:
    """Everyone who cannot be reminded in Slack, with how many live interviews they have from `now` on."""
    rows = await conn.fetch(
        """
        SELECT p.ashby_user_id, p.email, p.status, p.reason, p.looked_up_at,
               max(nullif(concat_ws(' ', ei.first_name, ei.last_name), '')) AS name,
               count(e.id) AS upcoming
        FROM people p
        LEFT JOIN event_interviewers ei ON ei.user_id = p.ashby_user_id AND ei.removed_at IS NULL
        LEFT JOIN interview_events e ON e.id = ei.event_id AND e.removed_at IS NULL AND e.end_time > $1
            AND EXISTS (SELECT 1 FROM interview_schedules s WHERE s.id = e.schedule_id AND s.cancelled_at IS NULL)
        WHERE p.status <> 'matched'
        GROUP BY p.ashby_user_id
        ORDER BY count(e.id) DESC, p.ashby_user_id
        """,
        now,
    )
    return [
        UnmatchedPerson(
            ashby_user_id=r["ashby_user_id"],
            email=r["email"],
            name=r["name"],
            status=r["status"],
            reason=r["reason"],
            looked_up_at=r["looked_up_at"],
            upcoming_interviews=r["upcoming"],
        )
        for r in rows
    ]


async def unknown_interviewers(conn: Executor, event_ids: list[str]) -> list[tuple[str, str | None]]:
    """(Ashby user id, email) of these events' interviewers who are not in the directory yet and have a
    reminder to come: a first full sync brings years of past interviews, whose interviewers would otherwise
    queue ahead of this week's on Slack's lookup budget (tier 3, about 50 a minute)."""
    rows = await conn.fetch(
        "SELECT DISTINCT i.user_id, i.email FROM event_interviewers i "
        "LEFT JOIN people p ON p.ashby_user_id = i.user_id "
        "WHERE i.event_id = ANY($1) AND i.removed_at IS NULL AND p.ashby_user_id IS NULL "
        "AND EXISTS (SELECT 1 FROM reminders r WHERE r.event_id = i.event_id AND r.interviewer_id = i.user_id "
        "AND r.state = 'pending')",
        event_ids,
    )
    return [(r["user_id"], r["email"]) for r in rows]
