"""Queries for advancement: the queue of applications to evaluate, their evidence (read for a whole batch in a
fixed number of queries), and the decisions with their evidence.

Invariants: an application is in the queue at most once, and a new change only pulls its evaluation earlier;
a decision is unique per (application, from stage, rule name and version) and moves through its states
only forward (`claim_*` functions say which transitions they take, and take them only from the states
they name).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from shared.advancement.evaluate import Decision, Evidence, Feedback, Seat

Executor = asyncpg.Connection | asyncpg.Pool


async def mark_dirty(conn: Executor, application_ids: Sequence[str], *, reason: str, at: datetime) -> None:
    """Queue these applications for evaluation at `at`, or keep an earlier time already queued."""
    ids = sorted({a for a in application_ids if a})
    if not ids:
        return
    await conn.execute(
        """
        INSERT INTO advancement_queue (application_id, evaluate_after, reason)
        SELECT unnest($1::text[]), $2, $3
        ON CONFLICT (application_id) DO UPDATE SET
            evaluate_after = least(advancement_queue.evaluate_after, excluded.evaluate_after),
            reason = CASE WHEN excluded.evaluate_after < advancement_queue.evaluate_after
                          THEN excluded.reason ELSE advancement_queue.reason END
        """,
        ids,
        at,
        reason,
    )


async def mark_dirty_for_events(conn: Executor, event_ids: Sequence[str], *, reason: str, at: datetime) -> None:
    """Queue the applications these interview events belong to."""
    if not event_ids:
        return
    await conn.execute(
        """
        INSERT INTO advancement_queue (application_id, evaluate_after, reason)
        SELECT DISTINCT s.application_id, $2::timestamptz, $3::text
        FROM interview_events e JOIN interview_schedules s ON s.id = e.schedule_id
        WHERE e.id = ANY($1::text[]) AND s.application_id IS NOT NULL
        ON CONFLICT (application_id) DO UPDATE SET
            evaluate_after = least(advancement_queue.evaluate_after, excluded.evaluate_after)
        """,
        list(event_ids),
        at,
        reason,
    )


async def claim_due(conn: asyncpg.Connection, *, now: datetime, limit: int) -> list[str]:
    """Inside the caller's transaction: lock up to `limit` applications due for evaluation (skipping those
    another worker holds) and take them off the queue; the caller queues again those that must wait."""
    rows = await conn.fetch(
        """
        DELETE FROM advancement_queue WHERE application_id IN (
            SELECT application_id FROM advancement_queue WHERE evaluate_after <= $1
            ORDER BY evaluate_after LIMIT $2 FOR UPDATE SKIP LOCKED
        ) RETURNING application_id
        """,
        now,
        limit,
    )
    return [r["application_id"] for r in rows]


PLACE_UNKNOWN = "place unknown"


async def evaluate_once_placed(conn: Executor, application_ids: Sequence[str], *, at: datetime) -> None:
    """Those of these applications waiting only because their place was unknown, and whose place is now cached,
    are evaluated at `at` rather than at the end of the retry interval. Both sides call it after their own
    write (the refresh after caching the place, the evaluation after queueing the retry), so whichever
    commits last sees the other's row and a refresh racing an evaluation cannot leave the wait in place."""
    await conn.execute(
        """
        UPDATE advancement_queue q SET evaluate_after = least(q.evaluate_after, $2)
        FROM ashby_applications a
        WHERE a.id = q.application_id AND q.application_id = ANY($1::text[]) AND q.reason = $3
          AND a.stage_id IS NOT NULL
        """,
        list(application_ids),
        at,
        PLACE_UNKNOWN,
    )


async def requeue(conn: Executor, waits: Sequence[tuple[str, datetime, str]]) -> None:
    """Queue (application, when, why) again: a quiet period ends, a timeout falls due."""
    if not waits:
        return
    await conn.execute(
        """
        INSERT INTO advancement_queue (application_id, evaluate_after, reason)
        SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[])
        ON CONFLICT (application_id) DO UPDATE SET
            evaluate_after = least(advancement_queue.evaluate_after, excluded.evaluate_after)
        """,
        [w[0] for w in waits],
        [w[1] for w in waits],
        [w[2] for w in waits],
    )


@dataclass(frozen=True)
class ApplicationPlace:
    """Where an application stands, from the metadata cache: its job, plan, stage and status."""

    application_id: str
    job_id: str | None
    plan_id: str | None
    stage_id: str | None
    status: str | None


_SEATS = """
SELECT s.application_id, e.id AS event_id, e.interview_id, e.end_time, i.user_id, i.first_name, i.last_name,
       i.feedback_required, f.event_id IS NOT NULL AS has_feedback, f.submitted_values, f.submitted_at
FROM ashby_applications a
JOIN interview_schedules s ON s.application_id = a.id AND s.interview_stage_id = a.stage_id
                           AND s.status <> 'Cancelled'
JOIN interview_events e ON e.schedule_id = s.id AND e.removed_at IS NULL
JOIN event_interviewers i ON i.event_id = e.id AND i.removed_at IS NULL
LEFT JOIN feedback_received f ON f.event_id = e.id AND f.interviewer_id = i.user_id
WHERE a.id = ANY($1::text[])
ORDER BY s.application_id, e.start_time, i.user_id
"""


async def load_evidence(conn: Executor, application_ids: Sequence[str]) -> tuple[list[Evidence], list[str]]:
    """The evidence of each application (two queries for the whole batch), and the ids whose place in a plan
    is not cached yet."""
    places = {
        r["id"]: ApplicationPlace(r["id"], r["job_id"], r["plan_id"], r["stage_id"], r["status"])
        for r in await conn.fetch(
            "SELECT id, job_id, plan_id, stage_id, status FROM ashby_applications WHERE id = ANY($1::text[])",
            list(application_ids),
        )
    }
    seats: dict[str, list[Seat]] = {}
    for r in await conn.fetch(_SEATS, list(places)):
        seats.setdefault(r["application_id"], []).append(_seat(r))
    evidence = [
        Evidence(p.application_id, p.job_id, p.plan_id, p.stage_id, p.status or "Active", tuple(seats.get(a, ())))
        for a, p in places.items()
        if p.stage_id is not None
    ]
    unknown = [a for a in application_ids if a not in places or places[a].stage_id is None]
    return evidence, unknown


_STAGE_SEATS = """
SELECT s.application_id, s.interview_stage_id, e.id AS event_id, e.interview_id, e.end_time, i.user_id,
       i.first_name, i.last_name, i.feedback_required, f.event_id IS NOT NULL AS has_feedback, f.submitted_values,
       f.submitted_at, a.job_id, a.plan_id, a.status
FROM interview_schedules s
JOIN interview_events e ON e.schedule_id = s.id AND e.removed_at IS NULL
JOIN event_interviewers i ON i.event_id = e.id AND i.removed_at IS NULL
LEFT JOIN feedback_received f ON f.event_id = e.id AND f.interviewer_id = i.user_id
LEFT JOIN ashby_applications a ON a.id = s.application_id
WHERE s.status <> 'Cancelled' AND s.application_id IS NOT NULL AND s.interview_stage_id IS NOT NULL
  AND s.id IN (SELECT schedule_id FROM interview_events WHERE end_time >= $1)
ORDER BY s.application_id, s.interview_stage_id, e.start_time, i.user_id
"""


async def stage_evidence_since(conn: Executor, since: datetime) -> list[Evidence]:
    """The evidence of every (application, stage) that had interviews ending since `since`, as it was at that
    stage (for `fleet rules simulate`: the candidate may have moved on since)."""
    grouped: dict[tuple[str, str], tuple[Any, list[Seat]]] = {}
    for r in await conn.fetch(_STAGE_SEATS, since):
        key = (r["application_id"], r["interview_stage_id"])
        feedback = Feedback(_json(r["submitted_values"]), r["submitted_at"]) if r["has_feedback"] else None
        name = f"{r['first_name'] or ''} {r['last_name'] or ''}".strip() or "An interviewer"
        seat = Seat(
            r["event_id"], r["interview_id"], r["user_id"], name, r["feedback_required"], r["end_time"], feedback
        )
        grouped.setdefault(key, (r, []))[1].append(seat)
    return [
        Evidence(application_id, r["job_id"], r["plan_id"], stage_id, "Active", tuple(seats))
        for (application_id, stage_id), (r, seats) in grouped.items()
    ]


def _seat(r: asyncpg.Record) -> Seat:
    feedback = Feedback(_json(r["submitted_values"]), r["submitted_at"]) if r["has_feedback"] else None
    name = f"{r['first_name'] or ''} {r['last_name'] or ''}".strip() or "An interviewer"
    return Seat(r["event_id"], r["interview_id"], r["user_id"], name, r["feedback_required"], r["end_time"], feedback)


def _json(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return value if isinstance(value, dict) else dict(json.loads(value))


STATE_FOR_MODE = {"auto": "approved", "approve": "awaiting_approval", "dry_run": "dry_run"}


async def insert_decisions(conn: Executor, decided: Sequence[tuple[Evidence, Decision]], *, now: datetime) -> list[int]:
    """Record new decisions (one statement for the batch); the ids of those that are new (a decision already
    taken for the same application, stage and rule version is not taken again)."""
    if not decided:
        return []
    rows = [
        (
            ev.application_id,
            ev.job_id,
            ev.stage_id,
            d.rule.name,
            d.rule.version,
            d.rule.mode,
            d.outcome,
            d.to_stage_id,
            d.archive_reason_id,
            d.communication_template_id,
            d.send_after_hours,
            d.reason,
            d.evidence,
            d.rule.debrief_channel,
            "held" if d.outcome == "hold" and d.rule.mode != "dry_run" else STATE_FOR_MODE[d.rule.mode],
            "rule" if d.rule.mode == "auto" and d.outcome != "hold" else None,
            now if d.rule.mode == "auto" and d.outcome != "hold" else None,
        )
        for ev, d in decided
    ]
    columns = list(zip(*rows, strict=True))
    inserted = await conn.fetch(
        """
        INSERT INTO decisions (application_id, job_id, from_stage_id, rule_name, rule_version, mode, outcome,
            to_stage_id, archive_reason_id, communication_template_id, send_after_hours, reason, evidence, channel,
            state, decided_by, decided_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[],
            $8::text[], $9::text[], $10::text[], $11::int[], $12::text[], $13::jsonb[], $14::text[], $15::text[],
            $16::text[], $17::timestamptz[])
        ON CONFLICT (application_id, from_stage_id, rule_name, rule_version) DO NOTHING
        RETURNING id, state
        """,
        *[list(c) for c in columns],
    )
    return [(r["id"], r["state"]) for r in inserted]


@dataclass(frozen=True)
class DecisionRow:
    id: int
    application_id: str
    job_id: str | None
    from_stage_id: str
    rule_name: str
    rule_version: int
    mode: str
    outcome: str
    to_stage_id: str | None
    archive_reason_id: str | None
    communication_template_id: str | None
    send_after_hours: int | None
    reason: str
    evidence: dict[str, Any]
    channel: str | None
    state: str
    decided_by: str | None
    decided_at: datetime | None
    attempts: int
    called_at: datetime | None
    ashby_result: dict[str, Any] | None
    created_at: datetime


_DECISION = """id, application_id, job_id, from_stage_id, rule_name, rule_version, mode, outcome, to_stage_id,
archive_reason_id, communication_template_id, send_after_hours, reason, evidence, channel, state, decided_by,
decided_at, attempts, called_at, ashby_result, created_at"""


def _decision(row: asyncpg.Record) -> DecisionRow:
    values = dict(row)
    values["evidence"] = _json(values["evidence"]) or {}
    values["ashby_result"] = _json(values["ashby_result"])
    return DecisionRow(**values)


async def get_decision(conn: Executor, decision_id: int) -> DecisionRow | None:
    row = await conn.fetchrow(f"SELECT {_DECISION} FROM decisions WHERE id = $1", decision_id)
    return None if row is None else _decision(row)


async def decisions(
    conn: Executor, *, application_id: str | None = None, since: datetime | None = None, limit: int = 500
) -> list[DecisionRow]:
    """The audit trail, newest first."""
    rows = await conn.fetch(
        f"SELECT {_DECISION} FROM decisions WHERE ($1::text IS NULL OR application_id = $1) "
        "AND ($2::timestamptz IS NULL OR created_at >= $2) ORDER BY created_at DESC, id DESC LIMIT $3",
        application_id,
        since,
        limit,
    )
    return [_decision(r) for r in rows]


async def decide_by_click(
    conn: Executor, decision_id: int, *, state: str, slack_user_id: str, now: datetime
) -> DecisionRow | None:
    """An approver's answer (approved, refused or held), taken only while the decision awaits one: the first
    click wins; a second (a double click, another approver) gets None."""
    row = await conn.fetchrow(
        f"UPDATE decisions SET state = $2, decided_by = $3, decided_at = $4, updated_at = now() "
        f"WHERE id = $1 AND state = 'awaiting_approval' RETURNING {_DECISION}",
        decision_id,
        state,
        slack_user_id,
        now,
    )
    return None if row is None else _decision(row)


async def claim_execution(conn: Executor, decision_id: int) -> DecisionRow | None:
    """Take an approved decision (or one whose execution was interrupted) to execute; None if it is not
    one to execute any more (done, superseded, failed, never approved)."""
    row = await conn.fetchrow(
        f"UPDATE decisions SET state = 'executing', attempts = attempts + 1, updated_at = now() "
        f"WHERE id = $1 AND state IN ('approved', 'executing') RETURNING {_DECISION}",
        decision_id,
    )
    return None if row is None else _decision(row)


async def mark_calling(conn: Executor, decision_id: int) -> None:
    """Just before `application.changeStage`: a later try that finds the candidate in the target stage knows the
    call may have landed; without this mark the candidate got there some other way (a person, in Ashby)."""
    await conn.execute("UPDATE decisions SET called_at = now() WHERE id = $1 AND called_at IS NULL", decision_id)


async def finish_execution(
    conn: Executor, decision_id: int, *, state: str, result: dict[str, Any]
) -> DecisionRow | None:
    """Record how the execution ended: done (with the stage Ashby reports), superseded or failed."""
    row = await conn.fetchrow(
        f"UPDATE decisions SET state = $2, ashby_result = $3::jsonb, updated_at = now() "
        f"WHERE id = $1 AND state = 'executing' RETURNING {_DECISION}",
        decision_id,
        state,
        result,
    )
    return None if row is None else _decision(row)


async def stalled(conn: Executor, *, quiet_for: timedelta) -> list[tuple[int, str]]:
    """Decisions whose follow-up job was lost (a Redis crash between the commit and the enqueue): (id, state).
    Measured on the database's clock, which set `updated_at`: a worker whose clock runs ahead would otherwise
    find every fresh decision stalled."""
    rows = await conn.fetch(
        "SELECT id, state FROM decisions "
        "WHERE state IN ('approved', 'executing') AND updated_at < now() - $1::interval",
        quiet_for,
    )
    return [(r["id"], r["state"]) for r in rows]


async def record_message(conn: Executor, decision_id: int, channel: str, ts: str) -> None:
    await conn.execute(
        "INSERT INTO decision_messages (decision_id, channel, ts) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        decision_id,
        channel,
        ts,
    )


async def messages(conn: Executor, decision_id: int) -> list[tuple[str, str]]:
    rows = await conn.fetch("SELECT channel, ts FROM decision_messages WHERE decision_id = $1", decision_id)
    return [(r["channel"], r["ts"]) for r in rows]


async def claim_debrief(conn: Executor, application_id: str, stage_id: str, channel: str) -> bool:
    """True while the debrief for (application, stage) is not posted yet: there is one per stage."""
    claimed = await conn.fetchval(
        "INSERT INTO debriefs (application_id, stage_id, channel) VALUES ($1, $2, $3) "
        "ON CONFLICT (application_id, stage_id) DO UPDATE SET channel = excluded.channel "
        "WHERE debriefs.ts IS NULL RETURNING true",
        application_id,
        stage_id,
        channel,
    )
    return bool(claimed)


async def record_debrief(conn: Executor, application_id: str, stage_id: str, *, ts: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE debriefs SET ts = $3, posted_at = $4 WHERE application_id = $1 AND stage_id = $2",
        application_id,
        stage_id,
        ts,
        now,
    )
