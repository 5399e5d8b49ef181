"""Read-only figures for the admin service: reminder counts, feedback completion and time to feedback.

Invariants: nothing here writes; every figure is computed in PostgreSQL from the tables that are the truth.
A "seat" is one interviewer on one interview event who owes feedback (not removed, `feedback_required`, the
event not removed, its schedule not cancelled), counted once the event has ended inside the window. Time to
feedback runs from the event's end to the feedback's submission in Ashby (or, when Ashby gave no time, the
moment we recorded it), floored at zero; medians are over the feedback received.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

Executor: TypeAlias = "asyncpg.Pool | asyncpg.Connection"

REMINDER_STATES = ("pending", "sending", "sent", "skipped", "failed")
REMINDER_KINDS = ("brief", "due", "overdue", "escalation")


@dataclass(frozen=True)
class ReminderCounts:
    by_state: dict[str, int]  # every state, zero included
    by_kind: dict[str, dict[str, int]]  # kind -> state -> count, only what exists
    reasons: list[tuple[str, str, int]]  # (state, reason, count) for skipped and failed, most frequent first


async def reminder_counts(conn: Executor, *, since: datetime | None = None) -> ReminderCounts:
    """Reminders by state, by kind, and why they were skipped or failed (those due at or after `since`)."""
    rows = await conn.fetch(
        "SELECT state, kind, skip_reason, count(*) AS n FROM reminders "
        "WHERE $1::timestamptz IS NULL OR due_at >= $1 GROUP BY state, kind, skip_reason",
        since,
    )
    by_state = dict.fromkeys(REMINDER_STATES, 0)
    by_kind: dict[str, dict[str, int]] = {}
    reasons: dict[tuple[str, str], int] = {}
    for r in rows:
        by_state[r["state"]] = by_state.get(r["state"], 0) + r["n"]
        kind = by_kind.setdefault(r["kind"], {})
        kind[r["state"]] = kind.get(r["state"], 0) + r["n"]
        if r["state"] in ("skipped", "failed"):
            key = (r["state"], r["skip_reason"] or "no reason recorded")
            reasons[key] = reasons.get(key, 0) + r["n"]
    ordered = sorted(((s, why, n) for (s, why), n in reasons.items()), key=lambda x: (-x[2], x[0], x[1]))
    return ReminderCounts(by_state, by_kind, ordered)


@dataclass(frozen=True)
class FeedbackFigures:
    key: str  # the interview id, the interviewer's Ashby user id, or the week's Monday (ISO date)
    label: str  # the interview's title, the interviewer's name, or the week
    owed: int
    received: int
    median_s: float | None  # None when nothing was received

    @property
    def completion(self) -> float | None:
        return self.received / self.owed if self.owed else None


_SEATS = """
WITH seats AS (
    SELECT e.interview_id, i.user_id, nullif(concat_ws(' ', i.first_name, i.last_name), '') AS name, e.end_time,
           -- greatest() skips NULLs (it would make "no feedback" a zero): only seats with feedback get a time
           CASE WHEN f.event_id IS NOT NULL THEN
               greatest(0, extract(epoch FROM coalesce(f.submitted_at, f.recorded_at) - e.end_time))::float8
           END AS seconds
    FROM event_interviewers i
    JOIN interview_events e ON e.id = i.event_id AND e.removed_at IS NULL
    JOIN interview_schedules s ON s.id = e.schedule_id AND s.cancelled_at IS NULL
    LEFT JOIN feedback_received f ON f.event_id = i.event_id AND f.interviewer_id = i.user_id
    WHERE i.removed_at IS NULL AND i.feedback_required AND e.end_time >= $1 AND e.end_time <= $2
)
"""
_FIGURES = """count(*) AS owed, count(seconds) AS received,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_s"""


def _figures(rows: list[asyncpg.Record]) -> list[FeedbackFigures]:
    return [FeedbackFigures(r["key"] or "", r["label"] or "", r["owed"], r["received"], r["median_s"]) for r in rows]


async def feedback_total(conn: Executor, *, since: datetime, until: datetime) -> FeedbackFigures:
    row = await conn.fetchrow(
        f"{_SEATS} SELECT 'all' AS key, 'All interviews' AS label, {_FIGURES} FROM seats", since, until
    )
    return _figures([row])[0]


async def feedback_by_interview(conn: Executor, *, since: datetime, until: datetime) -> list[FeedbackFigures]:
    """Per interview (Ashby's interview: the same question set across candidates), most seats first."""
    rows = await conn.fetch(
        f"""{_SEATS}
        SELECT seats.interview_id AS key, coalesce(max(a.title), seats.interview_id) AS label, {_FIGURES}
        FROM seats LEFT JOIN ashby_interviews a ON a.id = seats.interview_id
        GROUP BY seats.interview_id ORDER BY owed DESC, label""",
        since,
        until,
    )
    return _figures(rows)


async def feedback_by_interviewer(conn: Executor, *, since: datetime, until: datetime) -> list[FeedbackFigures]:
    """Per interviewer, the slowest median first (who to talk to), those with nothing received at the end."""
    rows = await conn.fetch(
        f"""{_SEATS}
        SELECT user_id AS key, coalesce(max(name), user_id) AS label, {_FIGURES}
        FROM seats GROUP BY user_id ORDER BY median_s DESC NULLS LAST, label""",
        since,
        until,
    )
    return _figures(rows)


async def feedback_by_week(conn: Executor, *, since: datetime, until: datetime) -> list[FeedbackFigures]:
    """Per week (Monday to Sunday, UTC) in which the interviews ended, oldest first, empty weeks included."""
    rows = await conn.fetch(
        f"""{_SEATS}
        , weeks AS (
            SELECT generate_series(date_trunc('week', $1::timestamptz), date_trunc('week', $2::timestamptz),
                                   interval '1 week') AS week
        )
        SELECT to_char(w.week, 'YYYY-MM-DD') AS key, to_char(w.week, 'YYYY-MM-DD') AS label,
               count(seats.end_time) AS owed, count(seats.seconds) AS received,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY seats.seconds) AS median_s
        FROM weeks w LEFT JOIN seats ON date_trunc('week', seats.end_time) = w.week
        GROUP BY w.week ORDER BY w.week""",
        since,
        until,
    )
    return _figures(rows)


async def decision_counts(conn: Executor) -> dict[str, int]:
    rows = await conn.fetch("SELECT state, count(*) AS n FROM decisions GROUP BY state")
    return {r["state"]: r["n"] for r in rows}


@dataclass(frozen=True)
class RuleActivity:
    rule_name: str
    rule_version: int
    mode: str
    outcomes: dict[str, int]  # advance / reject / hold -> count
    last_decided: datetime


async def rule_activity(conn: Executor) -> list[RuleActivity]:
    """Each rule version that has decided something, with what it decided and when it last did."""
    rows = await conn.fetch(
        """
        SELECT rule_name, rule_version, mode, jsonb_object_agg(outcome, n) AS outcomes, max(last) AS last
        FROM (SELECT rule_name, rule_version, mode, outcome, count(*) AS n, max(created_at) AS last
              FROM decisions GROUP BY rule_name, rule_version, mode, outcome) o
        GROUP BY rule_name, rule_version, mode ORDER BY rule_name, rule_version DESC, mode
        """
    )
    return [
        RuleActivity(r["rule_name"], r["rule_version"], r["mode"], _mapping(r["outcomes"]), r["last"]) for r in rows
    ]


@dataclass(frozen=True)
class RuleVersion:
    name: str
    version: int
    mode: str
    priority: int
    job: str  # the job's title (or id when the catalog lacks it); "every job" for a rule without one
    plan: str
    stage: str
    active: bool
    created_at: datetime
    deactivated_at: datetime | None
    source: str  # the rule as written in the rules file


async def rule_versions(conn: Executor) -> list[RuleVersion]:
    """Every version of every rule: the active ones first, then by name, newest version first; names from the
    cached Ashby catalog."""
    rows = await conn.fetch(
        """
        SELECT r.name, r.version, r.mode, r.priority, r.active, r.created_at, r.deactivated_at, r.source,
               CASE WHEN r.job_id IS NULL THEN 'every job' ELSE coalesce(j.title, r.job_id) END AS job,
               coalesce(p.title, r.plan_id) AS plan, coalesce(s.title, r.stage_id) AS stage
        FROM rules r
        LEFT JOIN ashby_jobs j ON j.id = r.job_id
        LEFT JOIN ashby_interview_plans p ON p.id = r.plan_id
        LEFT JOIN ashby_plan_stages s ON s.plan_id = r.plan_id AND s.stage_id = r.stage_id
        ORDER BY r.active DESC, r.name, r.version DESC
        """
    )
    return [RuleVersion(**dict(r)) for r in rows]


def _mapping(value: Any) -> dict[str, Any]:
    """A jsonb value: decoded by the pool's codec, or still text on a bare connection."""
    return dict(json.loads(value) if isinstance(value, str) else value)


@dataclass(frozen=True)
class SyncState:
    name: str
    synced_at: datetime
    full_sync: bool


async def sync_states(conn: Executor) -> list[SyncState]:
    """When each incremental sync last completed a pass (the token itself stays in the database)."""
    rows = await conn.fetch("SELECT name, synced_at, full_sync FROM ashby_sync_tokens ORDER BY name")
    return [SyncState(r["name"], r["synced_at"], r["full_sync"]) for r in rows]
