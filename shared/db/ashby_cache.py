"""Cached Ashby metadata used to render reminders and modals: interviews, feedback forms, applications.

A cache row is refreshed from Ashby when older than its TTL; the caller fetches first and writes after,
never holding a transaction across the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from shared.payloads.ashby import Application, Candidate, FeedbackFormDefinition, Interview

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


@dataclass(frozen=True)
class CachedForm:
    definition: FeedbackFormDefinition
    fetched_at: datetime


async def get_interview(pool: asyncpg.Pool, interview_id: str) -> CachedInterview | None:
    row = await pool.fetchrow(
        "SELECT id, title, feedback_form_definition_id, instructions_plain, job_id, fetched_at "
        "FROM ashby_interviews WHERE id = $1",
        interview_id,
    )
    return None if row is None else CachedInterview(**dict(row))


async def put_interview(pool: asyncpg.Pool, interview: Interview, *, now: datetime) -> None:
    await pool.execute(
        """
        INSERT INTO ashby_interviews (id, title, feedback_form_definition_id, instructions_plain, job_id, fetched_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (id) DO UPDATE SET title = excluded.title,
            feedback_form_definition_id = excluded.feedback_form_definition_id,
            instructions_plain = excluded.instructions_plain, job_id = excluded.job_id, fetched_at = excluded.fetched_at
        """,
        interview.id,
        interview.external_title or interview.title,
        interview.feedback_form_definition_id,
        interview.instructions_plain,
        interview.job_id,
        now,
    )


async def get_form(pool: asyncpg.Pool, form_id: str) -> CachedForm | None:
    row = await pool.fetchrow("SELECT definition, fetched_at FROM ashby_feedback_forms WHERE id = $1", form_id)
    if row is None:
        return None
    return CachedForm(msgspec.convert(row["definition"], FeedbackFormDefinition), row["fetched_at"])


async def put_form(pool: asyncpg.Pool, form: FeedbackFormDefinition, *, now: datetime) -> None:
    await pool.execute(
        "INSERT INTO ashby_feedback_forms (id, definition, fetched_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, fetched_at = excluded.fetched_at",
        form.id,
        msgspec.to_builtins(form),
        now,
    )


async def get_application(pool: asyncpg.Pool, application_id: str) -> CachedApplication | None:
    row = await pool.fetchrow(
        "SELECT id, candidate_id, candidate_name, candidate_position, candidate_company, candidate_url, job_id, "
        "job_title, stage_title, hiring_team, fetched_at FROM ashby_applications WHERE id = $1",
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


async def put_application(
    pool: asyncpg.Pool, application: Application, candidate: Candidate | None, *, now: datetime
) -> None:
    team: list[dict[str, Any]] = [
        {"userId": m.user_id, "role": m.role, "name": f"{m.first_name} {m.last_name}".strip(), "email": m.email}
        for m in application.hiring_team
    ]
    await pool.execute(
        """
        INSERT INTO ashby_applications (id, candidate_id, candidate_name, candidate_position, candidate_company,
            candidate_url, job_id, job_title, stage_title, hiring_team, fetched_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (id) DO UPDATE SET candidate_id = excluded.candidate_id, candidate_name = excluded.candidate_name,
            candidate_position = excluded.candidate_position, candidate_company = excluded.candidate_company,
            candidate_url = excluded.candidate_url, job_id = excluded.job_id, job_title = excluded.job_title,
            stage_title = excluded.stage_title, hiring_team = excluded.hiring_team, fetched_at = excluded.fetched_at
        """,
        application.id,
        application.candidate.id,
        (candidate.name if candidate else None) or application.candidate.name,
        candidate.position if candidate else None,
        candidate.company if candidate else None,
        candidate.profile_url if candidate else None,
        application.job.id if application.job else None,
        application.job.title if application.job else None,
        application.current_interview_stage.title if application.current_interview_stage else None,
        team,
        now,
    )
