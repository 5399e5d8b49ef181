"""Reading the catalog rules are resolved against from Ashby, then caching it: fetch everything, then write once.

Calls per sync: the paged lists of jobs, interview plans, interviews, feedback forms and archive reasons, then
one `interviewStage.list` per plan and one `jobInterviewPlan.info` per job (drafts, open and closed jobs; an
archived job takes no candidates), a few at a time under the key's shared rate limit. No transaction is open
while Ashby is called.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

import asyncpg

from shared.advancement.catalog import Catalog, CatalogInterview, CatalogJob, CatalogPlan, CatalogReason
from shared.advancement.model import PlanStage
from shared.clients.ashby import AshbyClient
from shared.db import catalog as catalog_db
from shared.db.ashby_cache import CachedInterview
from shared.payloads.ashby import Interview, InterviewStage, JobInterviewPlan

JOB_STATUSES = ("Draft", "Open", "Closed")
CONCURRENCY = 4
MAX_AGE = timedelta(hours=1)  # `fleet rules validate` reads Ashby again when the cached catalog is older

T = TypeVar("T")
R = TypeVar("R")


async def sync_catalog(client: AshbyClient, pool: asyncpg.Pool, *, now: datetime) -> None:
    """Read the catalog from Ashby and replace the cached one. Raises the client's errors; on any error the
    cached catalog is left as it was."""
    catalog, interviews = await fetch_catalog(client)
    records = [_cached(interview, now) for interview in interviews]
    await catalog_db.store(pool, catalog, records, now=now)


async def is_stale(pool: asyncpg.Pool, *, now: datetime, max_age: timedelta = MAX_AGE) -> bool:
    synced = await catalog_db.synced_at(pool)
    return synced is None or now - synced > max_age


async def fetch_catalog(client: AshbyClient) -> tuple[Catalog, list[Interview]]:
    """The catalog as Ashby has it now, and the interviews in full (the interview cache keeps more)."""
    jobs = [job async for job in client.list_jobs(statuses=JOB_STATUSES)]
    plans = [plan async for plan in client.list_interview_plans()]
    interviews = [interview async for interview in client.list_interviews()]
    forms = [form async for form in client.list_feedback_form_definitions(include_archived=True)]
    reasons = await client.list_archive_reasons(include_archived=True)
    stages = await _bounded([plan.id for plan in plans], client.list_interview_stages)
    job_plans = await _bounded(
        [job.id for job in jobs if job.default_interview_plan_id], client.job_interview_plan_info
    )
    stage_interviews = _stage_interviews(job_plans)
    catalog = Catalog.of(
        jobs=[
            CatalogJob(j.id, j.title, j.status, j.default_interview_plan_id, tuple(j.interview_plan_ids)) for j in jobs
        ],
        plans=[
            CatalogPlan(p.id, p.title, _in_order(plan_stages), stage_interviews.get(p.id, {}))
            for p, plan_stages in zip(plans, stages, strict=True)
        ],
        interviews=[CatalogInterview(i.id, _title(i), i.feedback_form_definition_id) for i in interviews],
        forms=forms,
        reasons=[CatalogReason(r.id, r.text, r.is_archived) for r in reasons],
    )
    return catalog, interviews


def _stage_interviews(job_plans: Iterable[JobInterviewPlan]) -> dict[str, dict[str, tuple[str, ...]]]:
    """plan id -> stage id -> the interviews any job holds in that stage (jobs sharing a plan may differ)."""
    found: dict[str, dict[str, dict[str, None]]] = {}
    for job_plan in job_plans:
        for stage in job_plan.stages:
            ids = found.setdefault(job_plan.interview_plan_id, {}).setdefault(stage.id, {})
            for activity in stage.activities:
                ids.update((i.interview_id or i.id, None) for i in activity.interviews)
    return {plan: {stage: tuple(ids) for stage, ids in stages.items()} for plan, stages in found.items()}


def _in_order(stages: Iterable[InterviewStage]) -> tuple[PlanStage, ...]:
    ordered = sorted(stages, key=lambda stage: stage.order_in_interview_plan)
    return tuple(PlanStage(id=s.id, title=s.title, type=s.type, order=s.order_in_interview_plan) for s in ordered)


def _title(interview: Interview) -> str:
    """What reminders show (the cache is shared with them): the external title when there is one."""
    return interview.external_title or interview.title


def _cached(interview: Interview, now: datetime) -> CachedInterview:
    return CachedInterview(
        id=interview.id,
        title=_title(interview),
        feedback_form_definition_id=interview.feedback_form_definition_id,
        instructions_plain=interview.instructions_plain,
        job_id=interview.job_id,
        fetched_at=now,
    )


async def _bounded(items: list[T], fetch: Callable[[T], Awaitable[R]]) -> list[R]:
    """`fetch` of each item, CONCURRENCY at a time, in the items' order; the first failure cancels the rest."""
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def one(item: T) -> R:
        async with semaphore:
            return await fetch(item)

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item)) for item in items]
    except ExceptionGroup as failed:  # callers handle the client's errors, not groups of them
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]
