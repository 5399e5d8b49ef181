"""Personal data leaves when it must: a candidate deleted or merged in Ashby, and the daily retention purge.

`apply_candidate_event` runs inside `ingest_ashby_event` for `candidateDelete` / `candidateMerge`: load where
the candidate's data lives, purge it (or re-key it to the remaining candidate) in one transaction together
with the record that it happened (ids and counts only), then drop the cached modals from Redis or queue the
applications for a fresh copy. A replayed webhook changes nothing more. `purge_expired` (a daily cron, one run
at a time) clears what the RETENTION_* settings say has expired, in bounded batches, and logs counts only.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog

from shared.db import privacy as privacy_db
from shared.modal_cache import PREFIX as MODAL_PREFIX
from shared.modal_cache import modal_key
from shared.payloads.ashby import CandidateDeleteWebhook, CandidateWebhook
from shared.privacy import Cutoffs, Retention
from shared.settings import Settings
from workers.deps import Deps, deps
from workers.job_boundary import job
from workers.metadata_refresh import queue_refresh
from workers.run_lock import one_run

PURGE_BATCH = 500
PURGE_BUDGET_S = 15 * 60  # what is left waits for the next day's run
PURGE_TIMEOUT_S = PURGE_BUDGET_S + 5 * 60
REDIS_CHUNK = 500
log = structlog.get_logger("worker.privacy")


async def apply_candidate_event(d: Deps, webhook: CandidateWebhook) -> dict[str, Any]:
    if isinstance(webhook, CandidateDeleteWebhook):
        return await forget_candidate(d, webhook.candidate_id)
    return await merge_candidate(d, webhook.candidate_id, webhook.data.merged_candidate.id)


async def forget_candidate(d: Deps, candidate_id: str) -> dict[str, Any]:
    """The candidate was deleted in Ashby: their name, answers, drafts and the evidence about them go, here
    and in the modal cache; ids, states and times stay for the audit."""
    now = d.clock()
    async with d.pool.acquire() as conn, conn.transaction():
        rows = await privacy_db.candidate_rows(conn, candidate_id)
        changed = await privacy_db.purge_candidate(conn, candidate_id, rows, now=now)
        first = await privacy_db.record_removal(
            conn, candidate_id, kind="deleted", application_ids=rows.application_ids, changed=changed, now=now
        )
    await forget_modals(d, rows.seats)
    log.info("candidate_purged", candidate_id=candidate_id, first=first, **changed)
    return {"outcome": "purged", **changed}


async def merge_candidate(d: Deps, merged_away: str, remaining: str) -> dict[str, Any]:
    """Two candidates became one in Ashby: every row of the merged-away one now names the remaining one, and
    their applications (which Ashby moved, ids unchanged) are fetched again for the remaining one's name."""
    if merged_away == remaining:
        return {"outcome": "ignored"}
    now = d.clock()
    async with d.pool.acquire() as conn, conn.transaction():
        applications, schedules = await privacy_db.rekey_candidate(conn, merged_away, remaining)
        changed = {"applications": len(applications), "schedules": schedules}
        first = await privacy_db.record_removal(
            conn,
            merged_away,
            kind="merged",
            merged_into=remaining,
            application_ids=applications,
            changed=changed,
            now=now,
        )
    await queue_refresh(d, applications=applications)
    log.info("candidate_merged", candidate_id=merged_away, merged_into=remaining, first=first, **changed)
    return {"outcome": "merged", **changed}


async def forget_modals(d: Deps, seats: Sequence[tuple[str, str]]) -> None:
    """Drop the pre-rendered feedback modals of these seats (they show the candidate's name and any draft)."""
    keys = [MODAL_PREFIX + modal_key(event_id, interviewer_id) for event_id, interviewer_id in seats]
    for start in range(0, len(keys), REDIS_CHUNK):
        await d.queue.delete(*keys[start : start + REDIS_CHUNK])


def retention_of(settings: Settings) -> Retention:
    return Retention(
        answers_grace_days=settings.retention_answers_grace_days,
        draft_days=settings.retention_draft_days,
        dead_letter_days=settings.retention_dead_letter_days,
        schedule_days=settings.retention_schedule_days,
    )


@job(periodic=True)
async def purge_expired(ctx: dict[str, Any]) -> dict[str, Any]:
    """Clear the personal data whose retention ran out (docs/privacy.md). Counts only, in the log and result."""
    d = deps(ctx)
    async with one_run(d.queue, "purge_expired") as mine:
        if not mine:
            return {"outcome": "already_running"}
        purged = await _purge(d, retention_of(d.settings).cutoffs(d.clock()))
    log.info("personal_data_purged", **purged)
    return purged


async def _purge(d: Deps, cutoffs: Cutoffs) -> dict[str, int]:
    deadline = time.monotonic() + PURGE_BUDGET_S

    async def drafts(limit: int) -> int:
        seats = await privacy_db.expire_drafts(d.pool, before=cutoffs.drafts, limit=limit)
        await forget_modals(d, seats)  # the cached modal was rendered with the draft in it
        return len(seats)

    steps: dict[str, Callable[[int], Awaitable[int]]] = {
        "drafts": drafts,
        "submitted_answers": lambda limit: privacy_db.expire_submitted_answers(
            d.pool, submitted_before=cutoffs.answers, unsent_before=cutoffs.drafts, limit=limit
        ),
        "received_answers": lambda limit: privacy_db.expire_received_answers(
            d.pool, answers_before=cutoffs.answers, schedules_before=cutoffs.schedules, limit=limit
        ),
        "dead_letters": lambda limit: privacy_db.expire_dead_letters(d.pool, before=cutoffs.dead_letters, limit=limit),
        "interviewer_names": lambda limit: privacy_db.expire_interviewer_names(
            d.pool, ended_before=cutoffs.schedules, limit=limit
        ),
        "event_places": lambda limit: privacy_db.expire_event_places(
            d.pool, ended_before=cutoffs.schedules, limit=limit
        ),
        "applications": lambda limit: privacy_db.expire_applications(d.pool, before=cutoffs.schedules, limit=limit),
        "decision_evidence": lambda limit: privacy_db.expire_decision_evidence(
            d.pool, before=cutoffs.schedules, limit=limit
        ),
    }
    purged = dict.fromkeys(steps, 0)
    for name, step in steps.items():
        while time.monotonic() < deadline:
            done = await step(PURGE_BATCH)
            purged[name] += done
            if done < PURGE_BATCH:
                break
    return purged
