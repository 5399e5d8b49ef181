"""Cached Ashby metadata used to render reminders and modals: interviews, feedback forms, applications.

A cache row is refreshed from Ashby when older than its TTL; the caller fetches first and writes after,
never holding a transaction across the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
import msgspec

from shared.payloads.ashby import FeedbackFormDefinition

RECRUITING_ROLES = ("Recruiter", "Recruiting Coordinator", "Coordinator")


@dataclass(frozen=True)
class CachedInterview:
    id: str
    title: str
    feedback_form_definition_id: str | None
    instructions_plain: str | None
    job_id: str | None
    fetched_at: datetime


@dataclass(frozen=True)
class TeamMember:
    user_id: str
    role: str | None
    name: str
    email: str | None

    @property
    def recruits(self) -> bool:
        """A recruiter or coordinator: who escalations go to."""
        return self.role in RECRUITING_ROLES


@dataclass(frozen=True)
class CachedApplication:
    """What a reminder shows about an application: the candidate's name and current role, never contact details."""

    id: str
    candidate_id: str | None
    candidate_name: str | None
    candidate_position: str | None
    candidate_company: str | None
    candidate_url: str | None
    job_id: str | None
    job_title: str | None
    stage_title: str | None
    hiring_team: tuple[TeamMember, ...]
    fetched_at: datetime
    stage_id: str | None = None
    plan_id: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class CachedForm:
    definition: FeedbackFormDefinition
    fetched_at: datetime


@dataclass(frozen=True)
class StaleIds:
    interviews: tuple[str, ...] = ()
    applications: tuple[str, ...] = ()
    forms: tuple[str, ...] = ()


@dataclass(frozen=True)
class CachedMetadata:
    """What the caches hold for one interview seat, read together."""

    interview: CachedInterview | None
    application: CachedApplication | None
    form: CachedForm | None

    def older_than(self, cutoff: datetime) -> StaleIds:
        """The ids of the copies fetched before `cutoff`."""
        return StaleIds(
            interviews=(self.interview.id,) if self.interview and self.interview.fetched_at < cutoff else (),
            applications=(self.application.id,) if self.application and self.application.fetched_at < cutoff else (),
            forms=(self.form.definition.id,) if self.form and self.form.fetched_at < cutoff else (),
        )


async def read_for(
    pool: asyncpg.Pool, *, interview_id: str | None, application_id: str | None, with_form: bool
) -> CachedMetadata:
    """The cached interview (with its feedback form when `with_form`) and application; None where missing."""
    interview = await get_interview(pool, interview_id) if interview_id else None
    form_id = interview.feedback_form_definition_id if interview else None
    return CachedMetadata(
        interview=interview,
        application=await get_application(pool, application_id) if application_id else None,
        form=await get_form(pool, form_id) if with_form and form_id else None,
    )


async def get_interview(pool: asyncpg.Pool, interview_id: str) -> CachedInterview | None:
    row = await pool.fetchrow(
        "SELECT id, title, feedback_form_definition_id, instructions_plain, job_id, fetched_at "
        "FROM ashby_interviews WHERE id = $1",
        interview_id,
    )
    return None if row is None else CachedInterview(**dict(row))


async def get_form(pool: asyncpg.Pool, form_id: str) -> CachedForm | None:
    row = await pool.fetchrow("SELECT definition, fetched_at FROM ashby_feedback_forms WHERE id = $1", form_id)
    if row is None:
        return None
    return CachedForm(msgspec.convert(row["definition"], FeedbackFormDefinition), row["fetched_at"])


async def get_application(pool: asyncpg.Pool, application_id: str) -> CachedApplication | None:
    row = await pool.fetchrow(
        "SELECT id, candidate_id, candidate_name, candidate_position, candidate_company, candidate_url, job_id, "
        "job_title, stage_title, hiring_team, fetched_at, stage_id, plan_id, status FROM ashby_applications "
        "WHERE id = $1",
        application_id,
    )
    if row is None:
        return None
    team = tuple(
        TeamMember(user_id=m["userId"], role=m.get("role"), name=m.get("name") or "", email=m.get("email"))
        for m in row["hiring_team"]
        if isinstance(m, dict) and m.get("userId")
    )
    return CachedApplication(**{**dict(row), "hiring_team": team})


async def update_place(
    conn: asyncpg.Connection | asyncpg.Pool,
    application_id: str,
    *,
    job_id: str | None,
    stage_id: str | None,
    stage_title: str | None,
    plan_id: str | None,
    status: str,
) -> bool:
    """Where a cached application now stands (from a stage-change webhook); False when it is not cached."""
    updated = await conn.fetchval(
        "UPDATE ashby_applications SET job_id = coalesce($2, job_id), stage_id = $3, stage_title = $4, "
        "plan_id = coalesce($5, plan_id), status = $6 WHERE id = $1 RETURNING true",
        application_id,
        job_id,
        stage_id,
        stage_title,
        plan_id,
        status,
    )
    return bool(updated)


Record = CachedInterview | CachedApplication | CachedForm


async def put(pool: asyncpg.Pool, *records: Record) -> None:
    """Store fresh copies (the caller fetched them first: no network call inside this write)."""
    for record in records:
        if isinstance(record, CachedInterview):
            await pool.execute(
                """
                INSERT INTO ashby_interviews (id, title, feedback_form_definition_id, instructions_plain, job_id,
                    fetched_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                    feedback_form_definition_id = excluded.feedback_form_definition_id,
                    instructions_plain = excluded.instructions_plain, job_id = excluded.job_id,
                    fetched_at = excluded.fetched_at
                """,
                record.id,
                record.title,
                record.feedback_form_definition_id,
                record.instructions_plain,
                record.job_id,
                record.fetched_at,
            )
        elif isinstance(record, CachedApplication):
            await pool.execute(
                """
                INSERT INTO ashby_applications (id, candidate_id, candidate_name, candidate_position,
                    candidate_company, candidate_url, job_id, job_title, stage_title, hiring_team, fetched_at,
                    stage_id, plan_id, status)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                ON CONFLICT (id) DO UPDATE SET candidate_id = excluded.candidate_id,
                    candidate_name = excluded.candidate_name, candidate_position = excluded.candidate_position,
                    candidate_company = excluded.candidate_company, candidate_url = excluded.candidate_url,
                    job_id = excluded.job_id, job_title = excluded.job_title, stage_title = excluded.stage_title,
                    hiring_team = excluded.hiring_team, fetched_at = excluded.fetched_at,
                    stage_id = excluded.stage_id, plan_id = excluded.plan_id, status = excluded.status
                WHERE ashby_applications.fetched_at <= excluded.fetched_at
                """,
                record.id,
                record.candidate_id,
                record.candidate_name,
                record.candidate_position,
                record.candidate_company,
                record.candidate_url,
                record.job_id,
                record.job_title,
                record.stage_title,
                [{"userId": m.user_id, "role": m.role, "name": m.name, "email": m.email} for m in record.hiring_team],
                record.fetched_at,
                record.stage_id,
                record.plan_id,
                record.status,
            )
        else:
            await pool.execute(
                "INSERT INTO ashby_feedback_forms (id, definition, fetched_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, fetched_at = excluded.fetched_at",
                record.definition.id,
                msgspec.to_builtins(record.definition),
                record.fetched_at,
            )
