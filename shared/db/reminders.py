"""Queries for reminders: plan them from the mirrored schedules, claim due ones, record what happened.

Invariants: a row is claimed (`pending -> sending` with a lease, FOR UPDATE SKIP LOCKED) before anything
is sent, and only a `sending` row whose lease the caller holds can become `sent`; `sent`, `skipped` and
`failed` (parked after repeated failures) are final. Planning never touches a row that is not `pending`.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from shared.reminders import (
    Claimable,
    ExistingReminder,
    Pace,
    ReminderEvent,
    ReminderInterviewer,
    ReminderPolicy,
    choose_claims,
    drop_missed,
    long_past,
    plan_reminders,
    reconcile,
)

_PLAN_INPUTS = """
SELECT e.id AS event_id, e.start_time, e.end_time, e.removed_at IS NOT NULL AS event_removed,
       s.status = 'Cancelled' AS cancelled, i.user_id, i.feedback_required,
       i.removed_at IS NOT NULL AS interviewer_removed, p.slack_tz,
       f.event_id IS NOT NULL AS has_feedback
FROM interview_events e
JOIN interview_schedules s ON s.id = e.schedule_id
JOIN event_interviewers i ON i.event_id = e.id
LEFT JOIN people p ON p.ashby_user_id = i.user_id
LEFT JOIN feedback_received f ON f.event_id = e.id AND f.interviewer_id = i.user_id
WHERE e.id = ANY($1)
"""


@dataclass(frozen=True)
class PlanResult:
    inserted: int = 0
    rescheduled: int = 0
    skipped: int = 0
    inserted_by_event: dict[str, int] = field(default_factory=dict)


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as one list per column, for `unnest`."""
    return [[row[n] for row in rows] for n in range(width)] if rows else [[] for _ in range(width)]


def _skip_reason(row: asyncpg.Record, *, sequence_over: bool) -> str:
    if row["has_feedback"]:
        return "feedback_submitted"
    if row["cancelled"]:
        return "event_cancelled"
    if row["event_removed"]:
        return "event_removed"
    if row["interviewer_removed"]:
        return "interviewer_removed"
    if sequence_over:
        return "long_past"
    return "rescheduled"


async def plan_events(pool: asyncpg.Pool, event_ids: list[str], policy: ReminderPolicy, *, now: datetime) -> PlanResult:
    """Bring every interviewer's reminders for these events in line with the current schedule."""
    async with pool.acquire() as conn, conn.transaction():
        return await plan_events_in(conn, event_ids, policy, now=now)


async def plan_events_in(
    conn: asyncpg.Connection, event_ids: list[str], policy: ReminderPolicy, *, now: datetime
) -> PlanResult:
    """`plan_events` inside the caller's transaction (ingestion stores a schedule and its plan in one)."""
    inputs = await conn.fetch(_PLAN_INPUTS, event_ids)
    stored: dict[tuple[str, str], list[ExistingReminder]] = defaultdict(list)
    for r in await conn.fetch(
        "SELECT event_id, interviewer_id, kind, sequence, state, due_at FROM reminders "
        "WHERE event_id = ANY($1) FOR UPDATE",
        event_ids,
    ):
        stored[(r["event_id"], r["interviewer_id"])].append(
            ExistingReminder(r["kind"], r["sequence"], r["state"], r["due_at"])
        )
    inserts, moves, skips = [], [], []
    for row in inputs:
        key = (row["event_id"], row["user_id"])
        event = ReminderEvent(
            id=row["event_id"],
            start=row["start_time"],
            end=row["end_time"],
            cancelled=row["cancelled"],
            removed=row["event_removed"],
        )
        interviewer = ReminderInterviewer(
            ashby_user_id=row["user_id"], feedback_required=row["feedback_required"], tz=row["slack_tz"]
        )
        planned = plan_reminders(event, interviewer, policy, now=now)
        over = long_past(planned, policy, now=now)
        wanted = [] if row["has_feedback"] or row["interviewer_removed"] or over else drop_missed(planned, now=now)
        changes = reconcile(stored.get(key, []), wanted, skip_reason=_skip_reason(row, sequence_over=over))
        inserts += [(*key, p.kind, p.sequence, p.due_at) for p in changes.insert]
        moves += [(*key, m.kind, m.sequence, m.due_at) for m in changes.reschedule]
        skips += [(*key, s.kind, s.sequence, s.reason) for s in changes.skip]
    # One statement per kind of change, arrays through unnest: a batch of schedules plans thousands of rows.
    if inserts:
        await conn.execute(
            "INSERT INTO reminders (event_id, interviewer_id, kind, sequence, due_at) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[]) "
            "ON CONFLICT DO NOTHING",
            *_columns(inserts, 5),
        )
    if moves:
        await conn.execute(
            "UPDATE reminders r SET due_at = n.due_at, updated_at = now() "
            "FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[]) "
            "AS n (event_id, interviewer_id, kind, sequence, due_at) "
            "WHERE r.event_id = n.event_id AND r.interviewer_id = n.interviewer_id AND r.kind = n.kind "
            "AND r.sequence = n.sequence AND r.state = 'pending'",
            *_columns(moves, 5),
        )
    if skips:
        await conn.execute(
            "UPDATE reminders r SET state = 'skipped', skip_reason = n.reason, updated_at = now() "
            "FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[]) "
            "AS n (event_id, interviewer_id, kind, sequence, reason) "
            "WHERE r.event_id = n.event_id AND r.interviewer_id = n.interviewer_id AND r.kind = n.kind "
            "AND r.sequence = n.sequence AND r.state = 'pending'",
            *_columns(skips, 5),
        )
    by_event: dict[str, int] = defaultdict(int)
    for row in inserts:
        by_event[row[0]] += 1
    return PlanResult(len(inserts), len(moves), len(skips), dict(by_event))


async def events_with_pending(conn: asyncpg.Connection, event_ids: list[str]) -> set[str]:
    """Those of these events that still have a reminder to send."""
    rows = await conn.fetch(
        "SELECT DISTINCT event_id FROM reminders WHERE event_id = ANY($1::text[]) AND state = 'pending'", event_ids
    )
    return {r["event_id"] for r in rows}


async def events_of_interviewer(pool: asyncpg.Pool, ashby_user_id: str, *, now: datetime) -> list[str]:
    """Events still ahead of or awaiting this interviewer, to re-plan once their time zone is known."""
    rows = await pool.fetch(
        "SELECT DISTINCT event_id FROM reminders WHERE interviewer_id = $1 AND state = 'pending' "
        "UNION SELECT i.event_id FROM event_interviewers i JOIN interview_events e ON e.id = i.event_id "
        "WHERE i.user_id = $1 AND e.end_time > $2::timestamptz - interval '30 days'",
        ashby_user_id,
        now,
    )
    return [r["event_id"] for r in rows]


# The most rows one dispatch reads: more than a 10-minute window can send at 10/s (6,000). Beyond it the first
# rows read are all due or must leave at once, so the rows left unread change nothing this tick.
WINDOW_ROWS = 10_000


@dataclass(frozen=True)
class Claims:
    claimed: list[tuple[int, int]]  # (id, attempt): the attempt number names the claim; only its holder records
    parked: int  # rows whose sends kept failing, now `failed`


async def claim_due(
    pool: asyncpg.Pool,
    *,
    now: datetime,
    lease: timedelta,
    max_failures: int,
    pace: Pace | None = None,
    limit: int = 500,
) -> Claims:
    """Claim due pending reminders, sending ones whose lease expired (their worker died mid-send), and, with a
    `pace`, the briefs that must leave early for none to be late (`shared.reminders.choose_claims`).

    An expired claim counts as a failure; a row that reaches `max_failures` is parked as `failed` with its
    reason instead of being claimed again, so no row is retried forever. Without a `pace`: due rows only, and
    no bound on the claims in flight. Two dispatches at once never claim one row twice (SKIP LOCKED, and the
    claim re-checks each row's state and due time: a brief moved later meanwhile is not taken early).
    """
    pace = pace or Pace(per_s=1.0, max_in_flight=sys.maxsize)
    window = await pool.fetch(
        "SELECT id, kind, state, due_at, lease_until FROM reminders "
        "WHERE state IN ('pending', 'sending') AND due_at <= $1 ORDER BY due_at LIMIT $2",
        now + pace.early,
        WINDOW_ROWS,
    )
    chosen = choose_claims([Claimable(*row) for row in window], pace, now=now, limit=limit)
    if not chosen:
        return Claims(claimed=[], parked=0)
    rows = await pool.fetch(
        """
        WITH due AS (
            SELECT id, (state = 'sending')::int AS lost FROM reminders
            WHERE id = ANY($3::bigint[]) AND (
                (state = 'pending' AND due_at <= CASE WHEN kind = 'brief' THEN $5::timestamptz ELSE $1 END)
                OR (state = 'sending' AND lease_until < $1)
            )
            FOR UPDATE SKIP LOCKED
        ), counted AS (
            SELECT due.id, r.failures + due.lost AS failures FROM due JOIN reminders r ON r.id = due.id
        )
        UPDATE reminders r SET
            failures = c.failures,
            state = CASE WHEN c.failures >= $4 THEN 'failed' ELSE 'sending' END,
            skip_reason = CASE WHEN c.failures >= $4 THEN 'failed:worker_lost_mid_send' ELSE r.skip_reason END,
            lease_until = CASE WHEN c.failures >= $4 THEN NULL ELSE $2::timestamptz END,
            attempts = r.attempts + 1,
            updated_at = now()
        FROM counted c
        WHERE r.id = c.id
        RETURNING r.id, r.attempts, r.state
        """,
        now,
        now + lease,
        chosen,
        max_failures,
        now + pace.early,
    )
    order = {reminder_id: n for n, reminder_id in enumerate(chosen)}
    rows = sorted(rows, key=lambda r: order[r["id"]])
    claimed = [(r["id"], r["attempts"]) for r in rows if r["state"] == "sending"]
    return Claims(claimed=claimed, parked=len(rows) - len(claimed))


async def record_failure(
    pool: asyncpg.Pool, reminder_id: int, *, attempt: int, error: str, max_failures: int
) -> str | None:
    """A send failed on something no retry cures (a bug, bad data): hand the row back for the next dispatch,
    or park it as `failed` once it has failed `max_failures` times. The row's new state; None if the claim
    was no longer ours."""
    state: str | None = await pool.fetchval(
        """
        UPDATE reminders SET failures = failures + 1,
            state = CASE WHEN failures + 1 >= $3 THEN 'failed' ELSE 'pending' END,
            skip_reason = CASE WHEN failures + 1 >= $3 THEN 'failed:' || $4 ELSE skip_reason END,
            lease_until = NULL, updated_at = now()
        WHERE id = $1 AND state = 'sending' AND attempts = $2
        RETURNING state
        """,
        reminder_id,
        attempt,
        max_failures,
        error[:100],
    )
    return state


@dataclass(frozen=True)
class ReminderRow:
    id: int
    event_id: str
    interviewer_id: str
    kind: str
    sequence: int
    due_at: datetime
    state: str
    attempts: int


async def renew_claim(
    pool: asyncpg.Pool, reminder_id: int, *, attempt: int, now: datetime, lease: timedelta
) -> ReminderRow | None:
    """Extend the lease of claim `attempt` and return the row; None if the claim is no longer current."""
    row = await pool.fetchrow(
        "UPDATE reminders SET lease_until = $3, updated_at = now() WHERE id = $1 AND state = 'sending' "
        "AND attempts = $2 RETURNING id, event_id, interviewer_id, kind, sequence, due_at, state, attempts",
        reminder_id,
        attempt,
        now + lease,
    )
    return None if row is None else ReminderRow(**dict(row))


async def mark_sent(
    pool: asyncpg.Pool, reminder_id: int, *, attempt: int, channel: str, ts: str, now: datetime
) -> bool:
    status = await pool.execute(
        "UPDATE reminders SET state = 'sent', channel = $2, ts = $3, sent_at = $4, lease_until = NULL, "
        "updated_at = now() "
        "WHERE id = $1 AND state = 'sending' AND attempts = $5",
        reminder_id,
        channel,
        ts,
        now,
        attempt,
    )
    return str(status).endswith(" 1")


async def mark_skipped(pool: asyncpg.Pool, reminder_ids: list[int], reason: str) -> None:
    await pool.execute(
        "UPDATE reminders SET state = 'skipped', skip_reason = $2, lease_until = NULL, updated_at = now() "
        "WHERE id = ANY($1) AND state IN ('pending', 'sending')",
        reminder_ids,
        reason,
    )


async def release(pool: asyncpg.Pool, reminder_id: int) -> None:
    """Give a claimed reminder back (e.g. Slack is rate limiting) so the next dispatch can take it."""
    await pool.execute(
        "UPDATE reminders SET state = 'pending', lease_until = NULL, updated_at = now() "
        "WHERE id = $1 AND state = 'sending'",
        reminder_id,
    )


@dataclass(frozen=True)
class EscalationState:
    missing: tuple[tuple[str, str | None], ...]  # (name, Slack id) of the event's interviewers who owe feedback
    reached: frozenset[str]  # Slack users this escalation already reached (an earlier try may have reached some)


async def escalation_state(pool: asyncpg.Pool, event_id: str, reminder_id: int) -> EscalationState:
    missing = await missing_feedback(pool, event_id)
    rows = await pool.fetch("SELECT slack_user_id FROM escalation_deliveries WHERE reminder_id = $1", reminder_id)
    return EscalationState(tuple(missing), frozenset(r["slack_user_id"] for r in rows))


async def record_escalation_delivery(
    pool: asyncpg.Pool, reminder_id: int, *, slack_user_id: str, channel: str, ts: str, now: datetime
) -> None:
    await pool.execute(
        "INSERT INTO escalation_deliveries (reminder_id, slack_user_id, channel, ts, sent_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        reminder_id,
        slack_user_id,
        channel,
        ts,
        now,
    )


async def missing_feedback(pool: asyncpg.Pool, event_id: str) -> list[tuple[str, str | None]]:
    """(name, Slack user id) of this event's interviewers who owe feedback and have not given it."""
    rows = await pool.fetch(
        """
        SELECT coalesce(nullif(trim(i.first_name || ' ' || i.last_name), ''), 'An interviewer') AS name, p.slack_user_id
        FROM event_interviewers i
        LEFT JOIN people p ON p.ashby_user_id = i.user_id AND p.status = 'matched'
        LEFT JOIN feedback_received f ON f.event_id = i.event_id AND f.interviewer_id = i.user_id
        WHERE i.event_id = $1 AND i.feedback_required AND i.removed_at IS NULL AND f.event_id IS NULL
        ORDER BY name
        """,
        event_id,
    )
    return [(r["name"], r["slack_user_id"]) for r in rows]


async def skip_escalations(pool: asyncpg.Pool, event_id: str, reason: str) -> None:
    """Every escalation of the event still to be sent is skipped (e.g. all the feedback came in)."""
    await pool.execute(
        "UPDATE reminders SET state = 'skipped', skip_reason = $2, lease_until = NULL, updated_at = now() "
        "WHERE event_id = $1 AND kind = 'escalation' AND state IN ('pending', 'sending')",
        event_id,
        reason,
    )


async def claim_escalation(pool: asyncpg.Pool, event_id: str, reminder_id: int, *, attempt: int) -> bool:
    """Make this claimed escalation the event's only one, before anything is posted.

    Every interviewer who owes feedback has an escalation row, usually due at the same instant, so several
    are claimed at once and their jobs run concurrently. Locking all of the event's escalation rows (in id
    order: concurrent callers queue instead of deadlocking) lets exactly one win; the others are skipped.
    False when this claim was lost or another escalation for the event was already sent.
    """
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT id, state, attempts FROM reminders WHERE event_id = $1 AND kind = 'escalation' ORDER BY id "
            "FOR UPDATE",
            event_id,
        )
        mine = next((r for r in rows if r["id"] == reminder_id), None)
        if mine is None or mine["state"] != "sending" or mine["attempts"] != attempt:
            return False
        already_sent = any(r["state"] == "sent" for r in rows)
        await conn.execute(
            "UPDATE reminders SET state = 'skipped', skip_reason = 'escalated_once_per_event', lease_until = NULL, "
            "updated_at = now() WHERE event_id = $1 AND kind = 'escalation' AND state IN ('pending', 'sending') "
            "AND (id <> $2 OR $3)",
            event_id,
            reminder_id,
            already_sent,
        )
    return not already_sent


async def latest_sent_message(pool: asyncpg.Pool, event_id: str, interviewer_id: str) -> tuple[str, str, str] | None:
    """(channel, ts, kind) of the newest reminder DM sent to this interviewer for this event."""
    row = await pool.fetchrow(
        "SELECT channel, ts, kind FROM reminders WHERE event_id = $1 AND interviewer_id = $2 AND state = 'sent' "
        "AND kind <> 'escalation' AND channel IS NOT NULL ORDER BY sent_at DESC, id DESC LIMIT 1",
        event_id,
        interviewer_id,
    )
    return None if row is None else (row["channel"], row["ts"], row["kind"])
