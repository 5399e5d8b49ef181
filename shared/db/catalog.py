"""The cached Ashby catalog rules are resolved against: jobs, interview plans with their stages in order,
archive reasons (beside the interviews and feedback forms `ashby_cache` already keeps).

`store` replaces the catalog whole in one transaction (the caller fetched everything first); `load` reads it
back as one `Catalog` value; `plan_stages` is what the evaluator needs of a plan: its stages in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from shared.advancement.catalog import Catalog, CatalogInterview, CatalogJob, CatalogPlan, CatalogReason
from shared.advancement.model import PlanStage
from shared.db import ashby_cache
from shared.db.ashby_cache import CachedForm, CachedInterview
from shared.payloads.ashby import FeedbackFormDefinition


async def store(pool: asyncpg.Pool, catalog: Catalog, interviews: Sequence[CachedInterview], *, now: datetime) -> None:
    """Replace jobs, plans, stages and archive reasons with `catalog`'s; upsert its forms and `interviews`
    (reminders read those too, so none is removed); record the sync time."""
    async with pool.acquire() as conn, conn.transaction():
        for table in ("ashby_jobs", "ashby_interview_plans", "ashby_plan_stages", "ashby_archive_reasons"):
            await conn.execute(f"DELETE FROM {table}")
        await conn.executemany(
            "INSERT INTO ashby_jobs (id, title, status, default_plan_id, plan_ids, fetched_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            [(j.id, j.title, j.status, j.default_plan_id, list(j.plan_ids), now) for j in catalog.jobs.values()],
        )
        await conn.executemany(
            "INSERT INTO ashby_interview_plans (id, title, fetched_at) VALUES ($1, $2, $3)",
            [(p.id, p.title, now) for p in catalog.plans.values()],
        )
        await conn.executemany(
            "INSERT INTO ashby_plan_stages (plan_id, stage_id, title, type, position, interview_ids, fetched_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                (p.id, s.id, s.title, s.type, s.order, list(p.stage_interviews.get(s.id, ())), now)
                for p in catalog.plans.values()
                for s in p.stages
            ],
        )
        await conn.executemany(
            "INSERT INTO ashby_archive_reasons (id, text, is_archived, fetched_at) VALUES ($1, $2, $3, $4)",
            [(r.id, r.text, r.archived, now) for r in catalog.reasons.values()],
        )
        forms = [CachedForm(definition, now) for definition in catalog.forms.values()]
        await ashby_cache.put(conn, *interviews, *forms)
        await conn.execute(
            "INSERT INTO ashby_catalog_syncs (singleton, synced_at) VALUES (true, $1) "
            "ON CONFLICT (singleton) DO UPDATE SET synced_at = excluded.synced_at",
            now,
        )


async def synced_at(pool: asyncpg.Pool) -> datetime | None:
    """When the catalog was last read from Ashby, or None if never."""
    value: datetime | None = await pool.fetchval("SELECT synced_at FROM ashby_catalog_syncs")
    return value


async def load(pool: asyncpg.Pool) -> Catalog:
    """The whole cached catalog: with the interviews of the plans' stages and their feedback forms."""
    async with pool.acquire() as conn:
        jobs = await conn.fetch("SELECT id, title, status, default_plan_id, plan_ids FROM ashby_jobs")
        plans = await conn.fetch("SELECT id, title FROM ashby_interview_plans")
        stages = await conn.fetch(
            "SELECT plan_id, stage_id, title, type, position, interview_ids FROM ashby_plan_stages "
            "ORDER BY plan_id, position"
        )
        interview_ids = sorted({i for stage in stages for i in stage["interview_ids"]})
        interviews = await conn.fetch(
            "SELECT id, title, feedback_form_definition_id FROM ashby_interviews WHERE id = ANY($1::text[])",
            interview_ids,
        )
        form_ids = sorted({row["feedback_form_definition_id"] for row in interviews} - {None})
        forms = await conn.fetch("SELECT definition FROM ashby_feedback_forms WHERE id = ANY($1::text[])", form_ids)
        reasons = await conn.fetch("SELECT id, text, is_archived FROM ashby_archive_reasons")
    stages_of: dict[str, list[Any]] = {}
    for stage in stages:
        stages_of.setdefault(stage["plan_id"], []).append(stage)
    return Catalog.of(
        jobs=[CatalogJob(r["id"], r["title"], r["status"], r["default_plan_id"], tuple(r["plan_ids"])) for r in jobs],
        plans=[_plan(p["id"], p["title"], stages_of.get(p["id"], [])) for p in plans],
        interviews=[CatalogInterview(r["id"], r["title"], r["feedback_form_definition_id"]) for r in interviews],
        forms=[msgspec.convert(r["definition"], FeedbackFormDefinition) for r in forms],
        reasons=[CatalogReason(r["id"], r["text"], r["is_archived"]) for r in reasons],
    )


async def plan_stages(pool: asyncpg.Pool | asyncpg.Connection, plan_id: str) -> list[PlanStage]:
    """The plan's stages in plan order (empty when the plan is not cached)."""
    rows = await pool.fetch(
        "SELECT stage_id, title, type, position FROM ashby_plan_stages WHERE plan_id = $1 ORDER BY position",
        plan_id,
    )
    return [_stage(row) for row in rows]


async def stages_of_plans(
    pool: asyncpg.Pool | asyncpg.Connection, plan_ids: Iterable[str]
) -> dict[str, list[PlanStage]]:
    """Each plan's stages in plan order, for several plans in one query (plans not cached are absent)."""
    rows = await pool.fetch(
        "SELECT plan_id, stage_id, title, type, position FROM ashby_plan_stages WHERE plan_id = ANY($1::text[]) "
        "ORDER BY plan_id, position",
        sorted(set(plan_ids)),
    )
    stages: dict[str, list[PlanStage]] = {}
    for row in rows:
        stages.setdefault(row["plan_id"], []).append(_stage(row))
    return stages


def _plan(plan_id: str, title: str, stages: Sequence[Any]) -> CatalogPlan:
    return CatalogPlan(
        plan_id,
        title,
        tuple(map(_stage, stages)),
        {s["stage_id"]: tuple(s["interview_ids"]) for s in stages if s["interview_ids"]},
    )


def _stage(row: Any) -> PlanStage:
    return PlanStage(id=row["stage_id"], title=row["title"], type=row["type"], order=row["position"])


async def stage_titles(pool: asyncpg.Pool) -> dict[str, str]:
    """Every known stage's title by id, for people reading decisions."""
    rows = await pool.fetch("SELECT DISTINCT stage_id, title FROM ashby_plan_stages")
    return {row["stage_id"]: row["title"] for row in rows}
