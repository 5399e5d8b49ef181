"""Cached Ashby metadata used to render reminders and modals: interviews, feedback forms, applications.

A cache row is refreshed from Ashby when older than its TTL; the caller fetches first and writes after,
never holding a transaction across the call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from shared.payloads.ashby import Application, Candidate, FeedbackFormDefinition, Interview

RECRUITING_ROLES = ("Recruiter", "Recruiting Coordinator", "Coordinator")


async def get_interview(pool: asyncpg.Pool, interview_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM ashby_interviews WHERE id = $1", interview_id)


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


async def get_form(pool: asyncpg.Pool, form_id: str) -> tuple[FeedbackFormDefinition, datetime] | None:
    row = await pool.fetchrow("SELECT definition, fetched_at FROM ashby_feedback_forms WHERE id = $1", form_id)
    if row is None:
        return None
    return msgspec.convert(row["definition"], FeedbackFormDefinition, from_attributes=False), row["fetched_at"]


async def put_form(pool: asyncpg.Pool, form: FeedbackFormDefinition, *, now: datetime) -> None:
    await pool.execute(
        "INSERT INTO ashby_feedback_forms (id, definition, fetched_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, fetched_at = excluded.fetched_at",
        form.id,
        msgspec.to_builtins(form),
        now,
    )


async def get_application(pool: asyncpg.Pool, application_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM ashby_applications WHERE id = $1", application_id)


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
