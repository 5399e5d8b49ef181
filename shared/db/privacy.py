"""Queries that take personal data out: a candidate's deletion and merge in Ashby, and the retention purge.

Invariants: ids, states and times stay (the audit and the reminders' bookkeeping read them); personal fields
are cleared, and rows that are nothing but personal data (drafts, dead letters, old cached applications) are
deleted. Every function is idempotent. A retention function changes at most `limit` rows per call: one
set-based statement over one bounded batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

from shared.privacy import REDACTED_KEY, redact_decision

Executor: TypeAlias = asyncpg.Connection | asyncpg.Pool
OPEN_DECISIONS = ("awaiting_approval", "approved")  # not started: a deleted candidate's are superseded


@dataclass(frozen=True)
class CandidateRows:
    """Where a candidate's data lives here, by id."""

    application_ids: list[str]
    schedule_ids: list[str]
    event_ids: list[str]
    seats: list[tuple[str, str]]  # (event, interviewer): the keys of the cached feedback modals


async def candidate_rows(conn: Executor, candidate_id: str) -> CandidateRows:
    applications = await conn.fetch(
        "SELECT id FROM ashby_applications WHERE candidate_id = $1 "
        "UNION SELECT application_id FROM interview_schedules WHERE candidate_id = $1 AND application_id IS NOT NULL",
        candidate_id,
    )
    application_ids = sorted(r[0] for r in applications)
    schedules = await conn.fetch(
        "SELECT id FROM interview_schedules WHERE application_id = ANY($1::text[]) OR candidate_id = $2",
        application_ids,
        candidate_id,
    )
    schedule_ids = sorted(r[0] for r in schedules)
    events = await conn.fetch("SELECT id FROM interview_events WHERE schedule_id = ANY($1::text[])", schedule_ids)
    event_ids = sorted(r[0] for r in events)
    seats = await conn.fetch(
        "SELECT event_id, user_id FROM event_interviewers WHERE event_id = ANY($1::text[]) "
        "UNION SELECT event_id, interviewer_id FROM feedback_drafts WHERE event_id = ANY($1::text[])",
        event_ids,
    )
    return CandidateRows(application_ids, schedule_ids, event_ids, sorted((r[0], r[1]) for r in seats))


async def purge_candidate(
    conn: asyncpg.Connection, candidate_id: str, rows: CandidateRows, *, now: datetime
) -> dict[str, int]:
    """Inside the caller's transaction: clear the candidate's personal data everywhere (who interviewed them and
    where included); rows changed per place.

        The cached applications keep their ids and place, and are stamped fetched `now`, so a refresh that read
        Ashby before the deletion cannot write the name back (a cache write never replaces a later copy)."""
    apps, events = rows.application_ids, rows.event_ids
    changed = {
        "applications": await _count(
            conn,
            "UPDATE ashby_applications SET candidate_name = NULL, candidate_position = NULL, "
            "candidate_company = NULL, candidate_url = NULL, hiring_team = '[]', fetched_at = $2 "
            "WHERE id = ANY($1::text[]) AND (candidate_name IS NOT NULL OR candidate_position IS NOT NULL "
            "OR candidate_company IS NOT NULL OR candidate_url IS NOT NULL OR hiring_team <> '[]')",
            apps,
            now,
        ),
        "events": await _count(
            conn,
            "UPDATE interview_events SET location = NULL, meeting_link = NULL "
            "WHERE id = ANY($1::text[]) AND (location IS NOT NULL OR meeting_link IS NOT NULL)",
            events,
        ),
        "interviewers": await _count(
            conn,
            "UPDATE event_interviewers SET email = NULL, first_name = NULL, last_name = NULL WHERE event_id = "
            "ANY($1::text[]) AND (email IS NOT NULL OR first_name IS NOT NULL OR last_name IS NOT NULL)",
            events,
        ),
        "answers": await _count(
            conn,
            "UPDATE feedback_received SET submitted_values = NULL "
            "WHERE event_id = ANY($1::text[]) AND submitted_values IS NOT NULL",
            events,
        ),
        "submissions": await _count(
            conn,
            "UPDATE feedback_submissions SET field_submissions = '[]' "
            "WHERE event_id = ANY($1::text[]) AND field_submissions <> '[]'",
            events,
        ),
        "drafts": await _count(conn, "DELETE FROM feedback_drafts WHERE event_id = ANY($1::text[])", events),
        "reminders": await _count(
            conn,
            "UPDATE reminders SET state = 'skipped', skip_reason = 'candidate_deleted', lease_until = NULL, "
            "updated_at = now() WHERE event_id = ANY($1::text[]) AND state = 'pending'",
            events,
        ),
        "evaluations": await _count(conn, "DELETE FROM advancement_queue WHERE application_id = ANY($1::text[])", apps),
        "decisions_superseded": await _count(
            conn,
            "UPDATE decisions SET state = 'superseded', ashby_result = $3, updated_at = now() "
            "WHERE application_id = ANY($1::text[]) AND state = ANY($2::text[])",
            apps,
            list(OPEN_DECISIONS),
            {"reason": "the candidate was deleted in Ashby"},  # as execute_decision words a supersession
        ),
        "decisions_redacted": await _redact_decisions(
            conn,
            await conn.fetch(
                f"SELECT id, reason, evidence FROM decisions WHERE application_id = ANY($1::text[]) "
                f"AND NOT evidence ? '{REDACTED_KEY}'",
                apps,
            ),
        ),
        "dead_letters": await _count(
            conn,
            # A dead letter's subject names its object by ids; its args (msgpack: strings stay raw UTF-8) hold
            # webhook bodies and answers that name the candidate's ids too.
            """
            DELETE FROM dead_letters d WHERE EXISTS (
                SELECT 1 FROM unnest($1::text[]) AS k (id)
                WHERE k.id = ANY(string_to_array(d.subject, ' ')) OR position(convert_to(k.id, 'UTF8') IN d.args) > 0
            )
            """,
            [candidate_id, *apps, *rows.schedule_ids, *events],
        ),
    }
    return changed


async def rekey_candidate(conn: asyncpg.Connection, merged_away: str, remaining: str) -> tuple[list[str], int]:
    """Inside the caller's transaction: the merged-away candidate's rows now name the remaining candidate (Ashby
    moves the applications with their ids). The applications re-keyed, and how many schedules were."""
    applications = await conn.fetch(
        "UPDATE ashby_applications SET candidate_id = $2 WHERE candidate_id = $1 RETURNING id", merged_away, remaining
    )
    schedules = await conn.fetch(
        "UPDATE interview_schedules SET candidate_id = $2 WHERE candidate_id = $1 RETURNING application_id",
        merged_away,
        remaining,
    )
    moved = {r[0] for r in applications} | {r[0] for r in schedules if r[0] is not None}
    return sorted(moved), len(schedules)


async def record_removal(
    conn: Executor,
    candidate_id: str,
    *,
    kind: str,
    merged_into: str | None = None,
    application_ids: Sequence[str],
    changed: dict[str, int],
    now: datetime,
) -> bool:
    """That the deletion or merge was applied (ids and counts only); True the first time (a replay keeps the
    first record)."""
    inserted = await conn.fetchval(
        "INSERT INTO candidate_removals (candidate_id, kind, merged_into, application_ids, changed, removed_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (candidate_id) DO NOTHING RETURNING true",
        candidate_id,
        kind,
        merged_into,
        list(application_ids),
        changed,
        now,
    )
    return bool(inserted)


async def deleted_of(
    conn: Executor, *, candidate_ids: Sequence[str], application_ids: Sequence[str]
) -> tuple[set[str], set[str]]:
    """Which of these candidates Ashby deleted, and which of these applications were theirs: a webhook that
    arrives late for them must not store their data again."""
    rows = await conn.fetch(
        "SELECT candidate_id, application_ids FROM candidate_removals "
        "WHERE kind = 'deleted' AND (candidate_id = ANY($1::text[]) OR application_ids && $2::text[])",
        list(candidate_ids),
        list(application_ids),
    )
    return {r["candidate_id"] for r in rows}, {a for r in rows for a in r["application_ids"]}


# --- retention: one bounded batch per call ----------------------------------------------------------------


async def expire_drafts(conn: Executor, *, before: datetime, limit: int) -> list[tuple[str, str]]:
    """Delete drafts last saved before `before`; their (event, interviewer) seats (the cached modals show them)."""
    rows = await conn.fetch(
        "DELETE FROM feedback_drafts WHERE (event_id, interviewer_id) IN (SELECT event_id, interviewer_id "
        "FROM feedback_drafts WHERE updated_at < $1 LIMIT $2) RETURNING event_id, interviewer_id",
        before,
        limit,
    )
    return [(r[0], r[1]) for r in rows]


async def expire_dead_letters(conn: Executor, *, before: datetime, limit: int) -> int:
    return await _count(
        conn,
        "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE failed_at < $1 LIMIT $2)",
        before,
        limit,
    )


async def expire_submitted_answers(
    conn: Executor, *, submitted_before: datetime, unsent_before: datetime, limit: int
) -> int:
    """Our own submissions' answers: once in Ashby, kept for the grace period (what rules read is the copy in
    `feedback_received`); never in Ashby (failed, or stuck claiming), kept as long as a draft."""
    return await _count(
        conn,
        """
        UPDATE feedback_submissions SET field_submissions = '[]' WHERE (event_id, interviewer_id) IN (
            SELECT event_id, interviewer_id FROM feedback_submissions
            WHERE field_submissions <> '[]'
              AND updated_at < CASE WHEN state = 'submitted' THEN $1::timestamptz ELSE $2::timestamptz END
            LIMIT $3
        )
        """,
        submitted_before,
        unsent_before,
        limit,
    )


# Could an advancement decision still be taken on a feedback row `f` of event `e` (schedule `s`, application `a`)?
# The evaluator (shared/db/advancement.py) reads the answers of the schedules in the candidate's current stage,
# unless the candidate is archived or hired; it may also be about to (queued), or acting on one (an open
# decision). What is not known (an event or an application not cached yet) counts as "it could".
_DECISION_POSSIBLE = """(
    e.id IS NULL
    OR (s.application_id IS NOT NULL AND s.status <> 'Cancelled' AND e.removed_at IS NULL
        AND (a.id IS NULL OR a.stage_id IS NULL
             OR (coalesce(a.stage_id = s.interview_stage_id, false)
                 AND coalesce(a.status, 'Active') NOT IN ('Archived', 'Hired'))))
    OR EXISTS (SELECT 1 FROM advancement_queue q WHERE q.application_id = s.application_id)
    OR EXISTS (SELECT 1 FROM decisions d WHERE d.application_id = s.application_id
                 AND d.state IN ('awaiting_approval', 'approved', 'executing'))
)"""


async def expire_received_answers(
    conn: Executor, *, answers_before: datetime, schedules_before: datetime, limit: int
) -> int:
    """The answers synced from Ashby (Ashby keeps them): cleared once recorded before `answers_before` and no
    decision can still be taken on them, or in any case once the interview ended before `schedules_before`.
    The row stays: it is what says the feedback exists (and stops reminders)."""
    return await _count(
        conn,
        f"""
        UPDATE feedback_received SET submitted_values = NULL WHERE (event_id, interviewer_id) IN (
            SELECT f.event_id, f.interviewer_id
            FROM feedback_received f
            LEFT JOIN interview_events e ON e.id = f.event_id
            LEFT JOIN interview_schedules s ON s.id = e.schedule_id
            LEFT JOIN ashby_applications a ON a.id = s.application_id
            WHERE f.submitted_values IS NOT NULL AND f.recorded_at < $1
              AND (coalesce(e.end_time, f.recorded_at) < $2 OR NOT {_DECISION_POSSIBLE})
            LIMIT $3
        )
        """,
        answers_before,
        schedules_before,
        limit,
    )


async def expire_interviewer_names(conn: Executor, *, ended_before: datetime, limit: int) -> int:
    """Interviewers' names and e-mails on interviews that ended before `ended_before` (ids stay)."""
    return await _count(
        conn,
        """
        UPDATE event_interviewers SET email = NULL, first_name = NULL, last_name = NULL
        WHERE (event_id, user_id) IN (
            SELECT i.event_id, i.user_id FROM event_interviewers i JOIN interview_events e ON e.id = i.event_id
            WHERE e.end_time < $1 AND (i.email IS NOT NULL OR i.first_name IS NOT NULL OR i.last_name IS NOT NULL)
            LIMIT $2
        )
        """,
        ended_before,
        limit,
    )


async def expire_event_places(conn: Executor, *, ended_before: datetime, limit: int) -> int:
    """Where interviews that ended before `ended_before` took place (a location or meeting link can name the
    candidate); times and ids stay."""
    return await _count(
        conn,
        "UPDATE interview_events SET location = NULL, meeting_link = NULL WHERE id IN (SELECT id FROM interview_events "
        "WHERE end_time < $1 AND (location IS NOT NULL OR meeting_link IS NOT NULL) LIMIT $2)",
        ended_before,
        limit,
    )


async def expire_applications(conn: Executor, *, before: datetime, limit: int) -> int:
    """Cached applications (the candidate's name and role, the hiring team) not fetched since `before`, with no
    interview since and nothing for advancement to do: dropped; a later need fetches them from Ashby again."""
    return await _count(
        conn,
        """
        DELETE FROM ashby_applications WHERE id IN (
            SELECT a.id FROM ashby_applications a
            WHERE a.fetched_at < $1
              AND NOT EXISTS (SELECT 1 FROM interview_schedules s JOIN interview_events e ON e.schedule_id = s.id
                              WHERE s.application_id = a.id AND e.end_time >= $1)
              AND NOT EXISTS (SELECT 1 FROM advancement_queue q WHERE q.application_id = a.id)
              AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.application_id = a.id
                                AND d.state IN ('awaiting_approval', 'approved', 'executing'))
            LIMIT $2
        )
        """,
        before,
        limit,
    )


async def expire_decision_evidence(conn: Executor, *, before: datetime, limit: int) -> int:
    """Decisions taken before `before` keep their skeleton (`shared.privacy.redact_decision`)."""
    rows = await conn.fetch(
        f"SELECT id, reason, evidence FROM decisions WHERE created_at < $1 AND NOT evidence ? '{REDACTED_KEY}' "
        "LIMIT $2",
        before,
        limit,
    )
    return await _redact_decisions(conn, rows)


async def _redact_decisions(conn: Executor, rows: Sequence[asyncpg.Record]) -> int:
    redacted = [(r["id"], *redact_decision(r["reason"], _json(r["evidence"]))) for r in rows]
    if not redacted:
        return 0
    return await _count(
        conn,
        "UPDATE decisions d SET reason = r.reason, evidence = r.evidence "
        "FROM unnest($1::bigint[], $2::text[], $3::jsonb[]) AS r (id, reason, evidence) WHERE d.id = r.id",
        [r[0] for r in redacted],
        [r[1] for r in redacted],
        [r[2] for r in redacted],
    )


def _json(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else dict(json.loads(value))


async def _count(conn: Executor, sql: str, *args: Any) -> int:
    """Run a statement; how many rows it changed (asyncpg's status tag ends with the count)."""
    status = await conn.execute(sql, *args)
    return int(str(status).rsplit(" ", 1)[-1])
