"""The catalog read from the Ashby simulator into PostgreSQL, and read back as the value rules resolve against."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.advancement.rules_file import resolve
from shared.catalog_sync import is_stale, sync_catalog
from shared.clients.ashby import AshbyApiError, AshbyClient
from shared.db import catalog as catalog_db
from sim.ashby import AshbySim, SeededOrg, create_app, seed_org, sim_of
from sim.ashby.seed import STAGES

KEY = "catalog-test-key"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rules.yaml"


@pytest.fixture
def seeded() -> SeededOrg:
    return seed_org(clock=lambda: T0)


@pytest.fixture
async def ashby(seeded: SeededOrg) -> AsyncIterator[tuple[AshbyClient, AshbySim]]:
    app = create_app(seeded.org, api_key=KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        yield AshbyClient(api_key=KEY, base_url="http://ashby.sim", http=http), sim_of(app)


async def test_the_catalog_is_read_whole_and_comes_back_as_rules_need_it(
    db_pool: asyncpg.Pool, seeded: SeededOrg, ashby: tuple[AshbyClient, AshbySim]
) -> None:
    client, sim = ashby
    assert await is_stale(db_pool, now=T0)
    await sync_catalog(client, db_pool, now=T0)
    assert not await is_stale(db_pool, now=T0 + timedelta(minutes=59))
    assert await is_stale(db_pool, now=T0 + timedelta(minutes=61))

    catalog = await catalog_db.load(db_pool)
    job = catalog.jobs[seeded.job_id]
    assert (job.title, job.status, job.default_plan_id, job.plan_ids) == (
        "Senior Backend Engineer", "Open", seeded.plan_id, (seeded.plan_id,)
    )  # fmt: skip
    plan = catalog.plans[seeded.plan_id]
    assert plan.title == "Engineering plan"
    assert [(s.title, s.type, s.order) for s in plan.stages] == [(t, k, n) for n, (t, k) in enumerate(STAGES)]
    assert plan.stage_interviews == {
        seeded.stage_ids["Phone Screen"]: (seeded.interview_ids["Phone Screen"],),
        seeded.stage_ids["Onsite"]: (seeded.interview_ids["Onsite Panel"], seeded.interview_ids["Debrief"]),
    }
    assert {i.title: i.form_id for i in catalog.interviews.values()} == {
        "Phone Screen": seeded.short_form_id, "Onsite Panel": seeded.form_id, "Debrief": seeded.short_form_id
    }  # fmt: skip
    assert set(catalog.forms) == {seeded.form_id, seeded.short_form_id}
    assert {r.text: r.archived for r in catalog.reasons.values()} == {
        "Not a fit": False, "Withdrew": False, "Position filled": False, "Legacy reason": True
    }  # fmt: skip
    assert await catalog_db.plan_stages(db_pool, seeded.plan_id) == list(plan.stages)
    assert await catalog_db.plan_stages(db_pool, "no-such-plan") == []

    # A handful of calls for the whole org: five lists, then one per plan and one per job.
    assert sorted({c.endpoint for c in sim.calls}) == [
        "archiveReason.list", "feedbackFormDefinition.list", "interview.list", "interviewPlan.list",
        "interviewStage.list", "job.list", "jobInterviewPlan.info",
    ]  # fmt: skip
    assert len(sim.calls) == 7

    rules = resolve(EXAMPLE.read_text(), catalog)  # the example file is valid against the seeded org
    assert [w.rule.stage_id for w in rules] == [seeded.stage_ids[s] for s in ("Phone Screen", "Onsite", "Onsite")]


async def test_the_interview_cache_is_shared_with_reminders(
    db_pool: asyncpg.Pool, seeded: SeededOrg, ashby: tuple[AshbyClient, AshbySim]
) -> None:
    await sync_catalog(ashby[0], db_pool, now=T0)
    row = await db_pool.fetchrow(
        "SELECT instructions_plain, job_id, fetched_at FROM ashby_interviews WHERE id = $1",
        seeded.interview_ids["Onsite Panel"],
    )
    assert dict(row) == {
        "instructions_plain": "Pair on a small service; probe design trade-offs.", "job_id": seeded.job_id,
        "fetched_at": T0,
    }  # fmt: skip


async def test_a_second_read_replaces_what_ashby_no_longer_has(
    db_pool: asyncpg.Pool, seeded: SeededOrg, ashby: tuple[AshbyClient, AshbySim]
) -> None:
    client, _ = ashby
    await sync_catalog(client, db_pool, now=T0)
    org = seeded.org
    org.stages[seeded.stage_ids["Onsite"]].title = "Final round"
    org.jobs[seeded.job_id].status = "Archived"  # no longer listed: it takes no candidates
    other = org.add_plan("Sales plan", [("Screen", "Active"), ("Archived", "Archived")])
    org.add_job("Account Executive", other.id, [])

    await sync_catalog(client, db_pool, now=T0 + timedelta(hours=2))
    catalog = await catalog_db.load(db_pool)
    assert [j.title for j in catalog.jobs.values()] == ["Account Executive"]
    assert [s.title for s in catalog.plans[seeded.plan_id].stages][2] == "Final round"
    assert [s.title for s in catalog.plans[other.id].stages] == ["Screen", "Archived"]
    assert await catalog_db.synced_at(db_pool) == T0 + timedelta(hours=2)


async def test_a_failed_read_leaves_the_cached_catalog_as_it_was(
    db_pool: asyncpg.Pool, seeded: SeededOrg, ashby: tuple[AshbyClient, AshbySim]
) -> None:
    client, sim = ashby
    await sync_catalog(client, db_pool, now=T0)
    before = await catalog_db.load(db_pool)
    seeded.org.stages[seeded.stage_ids["Onsite"]].title = "Final round"
    sim.faults.failure("jobInterviewPlan.info", "job_not_found")
    with pytest.raises(AshbyApiError):
        await sync_catalog(client, db_pool, now=T0 + timedelta(hours=2))
    assert await catalog_db.load(db_pool) == before
    assert await catalog_db.synced_at(db_pool) == T0
