"""What one person's Home tab (and `/feedback`) shows, read in a fixed number of queries whatever their load:
the feedback they owe (oldest first), their upcoming interviews, and for those who run hiring (a recruiter,
coordinator or hiring manager on an application's hiring team) the candidates waiting on feedback, with who
is missing, and the decisions awaiting their approval.

Feedback is owed by an interviewer whose feedback is required, who is still on an event of a live schedule,
once the event has ended, until a row in `feedback_received` says it exists. Names and titles only: no
candidate contact details are read. Each list is cut at `limit` rows and says how many there were in all.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import asyncpg

from shared.db.ashby_cache import RECRUITING_ROLES
from shared.payloads.ashby import ROLE_HIRING_MANAGER

Executor: TypeAlias = "asyncpg.Pool | asyncpg.Connection"

# Who sees the candidates waiting on feedback and the approvals: the people who run an application's hiring.
OVERSEER_ROLES = (*RECRUITING_ROLES, ROLE_HIRING_MANAGER)
UPCOMING_WITHIN = timedelta(days=14)


@dataclass(frozen=True)
class OwedFeedback:
    event_id: str
    interviewer_id: str
    candidate_name: str | None
    interview_title: str | None
    job_title: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class UpcomingInterview:
    event_id: str
    candidate_name: str | None
    interview_title: str | None
    job_title: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class MissingFeedback:
    name: str
    slack_user_id: str | None  # mentioned when known, so a recruiter can nudge in place
    interview_title: str | None
    ended: datetime


@dataclass(frozen=True)
class WaitingCandidate:
    application_id: str
    candidate_name: str | None
    job_title: str | None
    stage_title: str | None
    missing: tuple[MissingFeedback, ...]  # oldest first

    @property
    def since(self) -> datetime:
        return self.missing[0].ended


@dataclass(frozen=True)
class PendingDecision:
    id: int
    outcome: str  # advance | reject | hold
    candidate_name: str | None
    job_title: str | None
    from_stage: str | None
    to_stage: str | None
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class Listed:
    """Up to `limit` items of a list, and how many it has in all."""

    items: tuple[Any, ...] = ()
    total: int = 0

    @property
    def hidden(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class Home:
    slack_user_id: str
    known: bool  # matched to at least one Ashby user
    tz: str | None
    owed: Listed = field(default_factory=Listed)
    upcoming: Listed = field(default_factory=Listed)
    oversees: bool = False  # on an active application's hiring team in a role that runs it (or an admin)
    decisions: Listed = field(default_factory=Listed)
    waiting: Listed = field(default_factory=Listed)


async def ashby_users_of(conn: Executor, slack_user_id: str) -> tuple[list[str], str | None]:
    """The Ashby users matched to this Slack user (by lookup or by hand), and their Slack time zone."""
    rows = await conn.fetch(
        "SELECT ashby_user_id, slack_tz FROM people WHERE slack_user_id = $1 AND status = 'matched' "
        "ORDER BY override DESC, updated_at DESC",
        slack_user_id,
    )
    return [r["ashby_user_id"] for r in rows], (rows[0]["slack_tz"] if rows else None)


async def ashby_users_with_email(conn: Executor, email: str) -> list[tuple[str, str]]:
    """(Ashby user id, email as Ashby has it) of the interviewers and hiring-team members with this address
    (any case): how someone this system never had to look up (a hiring manager) is found from Slack."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT user_id, email FROM event_interviewers WHERE lower(email) = lower($1)
        UNION
        SELECT DISTINCT m->>'userId', m->>'email'
        FROM ashby_applications a CROSS JOIN LATERAL jsonb_array_elements(a.hiring_team) m
        WHERE lower(m->>'email') = lower($1) AND m->>'userId' IS NOT NULL
        """,
        email,
    )
    return [(r["user_id"], r["email"]) for r in rows]


_SEATS = """
WITH seats AS (
    SELECT e.id AS event_id, i.user_id AS interviewer_id, e.start_time, e.end_time, i.feedback_required,
           f.event_id IS NOT NULL AS has_feedback, a.candidate_name, a.job_title, iv.title AS interview_title
    FROM event_interviewers i
    JOIN interview_events e ON e.id = i.event_id AND e.removed_at IS NULL
    JOIN interview_schedules s ON s.id = e.schedule_id AND s.status <> 'Cancelled'
    LEFT JOIN feedback_received f ON f.event_id = i.event_id AND f.interviewer_id = i.user_id
    LEFT JOIN ashby_applications a ON a.id = s.application_id
    LEFT JOIN ashby_interviews iv ON iv.id = e.interview_id
    WHERE i.user_id = ANY($1::text[]) AND i.removed_at IS NULL
)
(SELECT 'owed' AS list, *, count(*) OVER () AS total FROM seats
 WHERE end_time <= $2 AND feedback_required AND NOT has_feedback
 ORDER BY end_time, event_id LIMIT $4)
UNION ALL
(SELECT 'upcoming' AS list, *, count(*) OVER () AS total FROM seats
 WHERE end_time > $2 AND start_time < $3
 ORDER BY start_time, event_id LIMIT $4)
"""

_OVERSEEN = """
SELECT a.id FROM ashby_applications a
WHERE coalesce(a.status, 'Active') = 'Active'
  AND EXISTS (SELECT 1 FROM jsonb_array_elements(a.hiring_team) m
              WHERE m->>'userId' = ANY($1::text[]) AND m->>'role' = ANY($2::text[]))
"""

_WAITING = """
WITH missing AS (
    SELECT s.application_id, e.end_time, e.id AS event_id, iv.title AS interview_title, i.user_id,
           coalesce(nullif(concat_ws(' ', i.first_name, i.last_name), ''), 'An interviewer') AS name,
           p.slack_user_id
    FROM interview_schedules s
    JOIN interview_events e ON e.schedule_id = s.id AND e.removed_at IS NULL AND e.end_time <= $2
    JOIN event_interviewers i ON i.event_id = e.id AND i.removed_at IS NULL AND i.feedback_required
    LEFT JOIN feedback_received f ON f.event_id = e.id AND f.interviewer_id = i.user_id
    LEFT JOIN people p ON p.ashby_user_id = i.user_id AND p.status = 'matched'
    LEFT JOIN ashby_interviews iv ON iv.id = e.interview_id
    WHERE s.application_id = ANY($1::text[]) AND s.status <> 'Cancelled' AND f.event_id IS NULL
), longest_waiting AS (  -- ranked before anything is built, so only the shown ones are
    SELECT application_id, min(end_time) AS since, count(*) OVER () AS total
    FROM missing GROUP BY application_id ORDER BY since, application_id LIMIT $3
)
SELECT w.application_id, w.total, a.candidate_name, a.job_title, a.stage_title,
       jsonb_agg(jsonb_build_object('name', m.name, 'slack_user_id', m.slack_user_id,
                                    'interview_title', m.interview_title, 'ended', m.end_time)
                 ORDER BY m.end_time, m.event_id, m.user_id) AS missing
FROM longest_waiting w
JOIN missing m ON m.application_id = w.application_id
JOIN ashby_applications a ON a.id = w.application_id
GROUP BY w.application_id, w.since, w.total, a.candidate_name, a.job_title, a.stage_title
ORDER BY w.since, w.application_id
"""

_DECISIONS = """
SELECT d.id, d.outcome, d.reason, d.created_at, a.candidate_name, a.job_title,
       fs.title AS from_stage, ts.title AS to_stage, count(*) OVER () AS total
FROM decisions d
LEFT JOIN ashby_applications a ON a.id = d.application_id
LEFT JOIN ashby_plan_stages fs ON fs.plan_id = a.plan_id AND fs.stage_id = d.from_stage_id
LEFT JOIN ashby_plan_stages ts ON ts.plan_id = a.plan_id AND ts.stage_id = d.to_stage_id
WHERE d.state = 'awaiting_approval' AND ($2 OR d.application_id = ANY($1::text[]))
ORDER BY d.created_at, d.id
LIMIT $3
"""


async def read_home(
    conn: Executor,
    slack_user_id: str,
    ashby_user_ids: Sequence[str],
    *,
    tz: str | None,
    now: datetime,
    admin: bool,
    limit: int,
) -> Home:
    """Everything the Home tab shows for these Ashby users (one person), in at most four queries. An admin
    (who may decide any approval) sees every decision awaiting one."""
    ids = list(ashby_user_ids)
    owed: list[OwedFeedback] = []
    upcoming: list[UpcomingInterview] = []
    totals = {"owed": 0, "upcoming": 0}
    for r in await conn.fetch(_SEATS, ids, now, now + UPCOMING_WITHIN, limit) if ids else []:
        totals[r["list"]] = r["total"]
        names = (r["candidate_name"], r["interview_title"], r["job_title"], r["start_time"], r["end_time"])
        if r["list"] == "owed":
            owed.append(OwedFeedback(r["event_id"], r["interviewer_id"], *names))
        else:
            upcoming.append(UpcomingInterview(r["event_id"], *names))
    overseen = [r["id"] for r in await conn.fetch(_OVERSEEN, ids, list(OVERSEER_ROLES))] if ids else []
    home = Home(
        slack_user_id,
        known=bool(ids),
        tz=tz,
        owed=Listed(tuple(owed), totals["owed"]),
        upcoming=Listed(tuple(upcoming), totals["upcoming"]),
        oversees=bool(overseen) or admin,
    )
    if not home.oversees:
        return home
    waiting = await conn.fetch(_WAITING, overseen, now, limit) if overseen else []
    decisions = await conn.fetch(_DECISIONS, overseen, admin, limit)
    return dataclasses.replace(
        home,
        waiting=Listed(tuple(_waiting(r) for r in waiting), _total(waiting)),
        decisions=Listed(tuple(_decision(r) for r in decisions), _total(decisions)),
    )


def _total(rows: Sequence[asyncpg.Record]) -> int:
    return int(rows[0]["total"]) if rows else 0


def _waiting(r: asyncpg.Record) -> WaitingCandidate:
    missing = r["missing"] if isinstance(r["missing"], list) else json.loads(r["missing"])
    return WaitingCandidate(
        application_id=r["application_id"],
        candidate_name=r["candidate_name"],
        job_title=r["job_title"],
        stage_title=r["stage_title"],
        missing=tuple(
            MissingFeedback(m["name"], m["slack_user_id"], m["interview_title"], datetime.fromisoformat(m["ended"]))
            for m in missing
        ),
    )


def _decision(r: asyncpg.Record) -> PendingDecision:
    return PendingDecision(
        id=r["id"],
        outcome=r["outcome"],
        candidate_name=r["candidate_name"],
        job_title=r["job_title"],
        from_stage=r["from_stage"],
        to_stage=r["to_stage"],
        reason=r["reason"],
        created_at=r["created_at"],
    )
