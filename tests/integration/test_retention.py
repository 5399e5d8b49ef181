"""`purge_expired` on real PostgreSQL and Redis with a controlled clock: what expired goes, what is fresh stays,
and answers a decision could still be taken on stay whatever their age (until the interview is a year old)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis

from shared import jobs
from shared.privacy import REDACTED
from tests.helpers import make_settings
from tests.integration.privacy_rows import SAM, Candidate, seed
from workers.deps import Deps, build_deps
from workers.jobs import privacy
from workers.jobs.privacy import purge_expired
from workers.run_lock import one_run

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
# Defaults: answers 30 days after they are settled, drafts 14, dead letters 30, interviews 365.
SETTLED = Candidate(
    "c-settled",
    "Ola Settled",
    "app-settled",
    "s-settled",
    "e-settled",
    "Umbrella",
    (("u-1", "Ivo", "Ek"), ("u-2", "Uma", "Oz")),
)
PENDING = Candidate(
    "c-pending",
    "Pia Pending",
    "app-pending",
    "s-pending",
    "e-pending",
    "Hooli",
    (("u-3", "Ada", "Yu"), ("u-4", "Eli", "Ng")),
)
OLD = Candidate("c-old", "Otto Old", "app-old", "s-old", "e-old", "Acme", (("u-5", "Kai", "Li"), ("u-6", "Noa", "Bo")))


@pytest.fixture
async def deps(db_url: str, redis_url: str, redis: aioredis.Redis) -> AsyncIterator[Deps]:
    queue = jobs.queue_redis(redis_url)
    async with build_deps(make_settings(db_url, redis_url), queue, clock=lambda: NOW) as built:
        yield built
    await queue.aclose()


def ctx_for(d: Deps) -> dict[str, Any]:
    return {"deps": d, "job_try": 1, "job_id": "cron:purge_expired:1", "queue_name": jobs.QUEUE_DEFAULT}


async def settle(pool: asyncpg.Pool, candidate: Candidate) -> None:
    """Nothing more can be decided on the candidate: archived, nothing queued, every decision closed."""
    await pool.execute("UPDATE ashby_applications SET status = 'Archived' WHERE id = $1", candidate.application_id)
    await pool.execute("DELETE FROM advancement_queue WHERE application_id = $1", candidate.application_id)
    await pool.execute("UPDATE decisions SET state = 'done' WHERE application_id = $1", candidate.application_id)


async def where(pool: asyncpg.Pool, candidate: Candidate) -> dict[str, Any]:
    """What personal data of the candidate is still here."""
    e, a = candidate.event_id, candidate.application_id
    return {
        "answers": await pool.fetchval(
            "SELECT submitted_values IS NOT NULL FROM feedback_received WHERE event_id = $1", e
        ),
        "submitted": await pool.fetchval(
            "SELECT field_submissions <> '[]' FROM feedback_submissions WHERE event_id = $1", e
        ),
        "draft": await pool.fetchval("SELECT count(*) FROM feedback_drafts WHERE event_id = $1", e),
        "dead_letters": await pool.fetchval("SELECT count(*) FROM dead_letters WHERE job_id LIKE '%' || $1", e)
        + await pool.fetchval("SELECT count(*) FROM dead_letters WHERE subject = $1", candidate.schedule_id),
        "names": await pool.fetchval(
            "SELECT count(*) FROM event_interviewers WHERE event_id = $1 AND email IS NOT NULL", e
        ),
        "place": await pool.fetchval("SELECT location FROM interview_events WHERE id = $1", e) is not None,
        "application": await pool.fetchval("SELECT candidate_name FROM ashby_applications WHERE id = $1", a),
        "evidence": await pool.fetchval(
            "SELECT count(*) FROM decisions WHERE application_id = $1 AND NOT evidence ? 'redacted'", a
        ),
    }


KEPT = {"answers": True, "submitted": True, "draft": 1, "dead_letters": 2, "names": 2, "place": True, "evidence": 2}


async def test_expired_personal_data_goes_and_fresh_or_still_needed_data_stays(
    deps: Deps, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(deps.pool, redis, SAM, ended=NOW - timedelta(days=2))  # fresh: everything stays
    await seed(deps.pool, redis, SETTLED, ended=NOW - timedelta(days=40))
    await settle(deps.pool, SETTLED)
    await seed(deps.pool, redis, PENDING, ended=NOW - timedelta(days=40))  # still in its stage, Active
    await deps.pool.execute("DELETE FROM advancement_queue")
    await deps.pool.execute("UPDATE decisions SET state = 'done' WHERE application_id = $1", PENDING.application_id)
    # A year on, answers go even though the candidate never left the stage.
    await seed(deps.pool, redis, OLD, ended=NOW - timedelta(days=400))
    await deps.pool.execute("DELETE FROM advancement_queue WHERE application_id = $1", OLD.application_id)
    await deps.pool.execute("UPDATE decisions SET state = 'held' WHERE application_id = $1", OLD.application_id)
    monkeypatch.setattr(privacy, "PURGE_BATCH", 1)  # every step takes several batches

    result = await purge_expired(ctx_for(deps))

    assert await where(deps.pool, SAM) == {**KEPT, "application": SAM.name}
    assert await where(deps.pool, SETTLED) == {
        **KEPT,
        "answers": False,  # Ashby has them, and nothing can be decided on them any more
        "submitted": False,
        "draft": 0,
        "dead_letters": 0,
        "application": SETTLED.name,  # interviews of the last year keep the cached candidate
    }
    assert await where(deps.pool, PENDING) == {
        **KEPT,
        "answers": True,  # the candidate is still in the stage: a rule may still read them
        "submitted": False,  # our own copy: Ashby has it, rules read the synced one
        "draft": 0,
        "dead_letters": 0,
        "application": PENDING.name,
    }
    assert await where(deps.pool, OLD) == {
        "answers": False,
        "submitted": False,
        "draft": 0,
        "dead_letters": 0,
        "names": 0,
        "place": False,
        "application": None,  # the cached copy is gone (fetched again if ever needed)
        "evidence": 0,
    }
    assert await deps.pool.fetchval("SELECT count(*) FROM ashby_applications WHERE id = $1", OLD.application_id) == 0
    evidence = await deps.pool.fetchval(
        "SELECT evidence FROM decisions WHERE application_id = $1 LIMIT 1", OLD.application_id
    )
    assert {i["name"] for i in evidence["interviewers"]} == {REDACTED} and evidence["rule"] == "onsite"
    # The cached modals were rendered with the drafts in them: they go with the drafts.
    second = 1  # each candidate's draft is the second interviewer's
    assert [bool(await redis.exists(c.seats[second])) for c in (SAM, SETTLED, PENDING, OLD)] == [
        True,
        False,
        False,
        False,
    ]
    assert result == {
        "drafts": 3,
        "submitted_answers": 3,
        "received_answers": 2,
        "dead_letters": 6,
        "interviewer_names": 2,
        "event_places": 1,
        "applications": 1,
        "decision_evidence": 2,
    }
    assert await purge_expired(ctx_for(deps)) == dict.fromkeys(result, 0), "a second run finds nothing more"


async def test_answers_a_decision_is_waiting_on_stay_past_their_grace(deps: Deps, redis: aioredis.Redis) -> None:
    await seed(deps.pool, redis, SETTLED, ended=NOW - timedelta(days=40))
    await settle(deps.pool, SETTLED)
    await deps.pool.execute("UPDATE decisions SET state = 'approved' WHERE application_id = $1", SETTLED.application_id)
    await purge_expired(ctx_for(deps))
    assert (await where(deps.pool, SETTLED))["answers"] is True, "an approved decision not yet executed"
    await deps.pool.execute("UPDATE decisions SET state = 'done' WHERE application_id = $1", SETTLED.application_id)
    await deps.pool.execute(
        "INSERT INTO advancement_queue (application_id, evaluate_after, reason) VALUES ($1, $2, 'stage_change')",
        SETTLED.application_id,
        NOW,
    )
    await purge_expired(ctx_for(deps))
    assert (await where(deps.pool, SETTLED))["answers"] is True, "queued for evaluation"
    await deps.pool.execute("DELETE FROM advancement_queue")
    await purge_expired(ctx_for(deps))
    assert (await where(deps.pool, SETTLED))["answers"] is False


async def test_one_purge_runs_at_a_time(deps: Deps, redis: aioredis.Redis) -> None:
    await seed(deps.pool, redis, SETTLED, ended=NOW - timedelta(days=40))
    async with one_run(deps.queue, "purge_expired") as mine:
        assert mine
        assert await purge_expired(ctx_for(deps)) == {"outcome": "already_running"}
    assert (await where(deps.pool, SETTLED))["draft"] == 1
    assert (await purge_expired(ctx_for(deps)))["drafts"] == 1
