"""One running `ingest_ashby_event` stores a batch: its own webhook and up to BATCH_SIZE - 1 others it claims
from the queue (`workers/webhook_claims.py`), the schedules in one transaction of set-based statements.

Every webhook in the batch keeps what its own job guaranteed:
- decoded once; a body that no longer decodes is dead-lettered and the rest goes on;
- schedules stored as sequential jobs would (rounds, `shared.webhook_batch`); when PostgreSQL refuses the
  batch for something other than a blip, it is stored again one schedule per transaction, so the one record
  it refuses is dead-lettered and no other waits on it;
- a blip (PostgreSQL or Redis gone) hands the claimed webhooks back to the queue after a backoff and retries
  this job through its boundary; past their tries and the retry window, they are dead-lettered as the
  boundary would; a worker killed mid-batch loses nothing: the claims' lease runs out and they are run again;
- applications' and candidates' webhooks run one at a time after the schedules (a deletion then clears
  what a schedule of the same batch stored);
- each claimed webhook gets its own result (the dedupe of Ashby's re-deliveries), log line and metrics.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from shared import jobs
from shared.errors import Permanent, error_label
from shared.webhook_batch import Decoded, Webhook, decode, schedule_result
from workers import webhook_claims
from workers.deps import Deps
from workers.job_boundary import DEFAULT_TRIES, AttemptsExhausted, conclude_failure, given_up
from workers.jobs.privacy import apply_candidate_event
from workers.schedule_store import apply_application, apply_each

# Big enough that per-batch costs (a transaction, a dozen statements, two Redis calls) vanish per webhook,
# small enough that a batch is well under a second of work and a few thousand rows per statement.
BATCH_SIZE = 500

log = structlog.get_logger("worker.ashby_events")


class UndecodableWebhook(Permanent):
    """A stored webhook body that no longer decodes (the contract drifted)."""


@dataclass
class Outcome:
    decoded: Decoded
    result: dict[str, Any] | None = None
    error: BaseException | None = None


async def ingest(d: Deps, own: Webhook) -> dict[str, Any]:
    """Store `own` with the batch it claims; returns own's result or raises own's error for its boundary."""
    async with d.ingest_lanes:
        others = await webhook_claims.claim(d.queue, own_id=own.job_id, limit=BATCH_SIZE - 1)
        started = time.perf_counter()
        started_ms = int(time.time() * 1000)
        try:
            outcomes = await _process(d, [own, *others])
            await _settle(d, outcomes[1:], started_ms=started_ms, seconds=time.perf_counter() - started)
        except BaseException:
            # Failed outside any one record (Redis, a cancellation): whatever was claimed goes back now rather
            # than at the end of its lease; storing it again changes nothing.
            with contextlib.suppress(Exception):
                await webhook_claims.release(d.queue, [(w.job_id, 0) for w in others])
            raise
    mine = outcomes[0]
    if others:
        log.info("ashby_batch_ingested", webhooks=len(outcomes), ms=round((time.perf_counter() - started) * 1000, 2))
    if mine.error is not None:
        raise mine.error
    _log_one(mine, own=True)
    assert mine.result is not None
    return mine.result


async def _process(d: Deps, webhooks: list[Webhook]) -> list[Outcome]:
    outcomes = []
    for n, webhook in enumerate(webhooks):
        decoded = decode(webhook)
        error: BaseException | None = None
        if n and given_up(webhook.job_try, DEFAULT_TRIES, _queued_for(webhook)):
            error = AttemptsExhausted()
        elif decoded.undecodable:
            error = UndecodableWebhook("the webhook body no longer decodes")
        outcomes.append(Outcome(decoded, error=error))
    todo = [o for o in outcomes if o.error is None]
    await _store_schedules(d, [o for o in todo if o.decoded.schedule is not None])
    for outcome in todo:
        if outcome.decoded.schedule is None:
            await _guarded(outcome, _apply_other(d, outcome.decoded))
    return outcomes


async def _store_schedules(d: Deps, outcomes: list[Outcome]) -> None:
    if not outcomes:
        return
    stored = await apply_each(d, [o.decoded.schedule for o in outcomes if o.decoded.schedule is not None])
    for outcome, result in zip(outcomes, stored, strict=True):
        if isinstance(result, Exception):
            outcome.error = result
        else:
            change, planned = result
            outcome.result = schedule_result(change.outcome, len(change.event_ids), planned)


async def _guarded(outcome: Outcome, run: Awaitable[dict[str, Any]]) -> None:
    try:
        outcome.result = await run
    except Exception as exc:
        outcome.error = exc


async def _apply_other(d: Deps, decoded: Decoded) -> dict[str, Any]:
    if decoded.candidate_event is not None:
        return await apply_candidate_event(d, decoded.candidate_event)
    assert decoded.application is not None
    known = await apply_application(d, decoded.application)
    log.info("ashby_application_ingested", application_id=decoded.application.id, action=decoded.action, cached=known)
    return {"outcome": "recorded" if known else "refresh_queued"}


async def _settle(d: Deps, outcomes: list[Outcome], *, started_ms: int, seconds: float) -> None:
    """Finish, dead-letter or hand back each claimed webhook under the boundary's retry doctrine, and count it
    as its own job would be counted."""
    done: list[tuple[Webhook, dict[str, Any]]] = []
    back: list[tuple[str, float]] = []
    for outcome in outcomes:
        webhook, error = outcome.decoded.webhook, outcome.error
        status = "done"
        if error is not None:
            delay = await conclude_failure(
                d,
                error,
                job_id=webhook.job_id,
                job_name=jobs.INGEST_ASHBY_EVENT,
                queue=jobs.QUEUE_DEFAULT,
                args=(webhook.body,),
                kwargs={k: v for k, v in webhook.kwargs.items() if k != jobs.REQUEST_ID},
                subject=outcome.decoded.subject,
                job_try=webhook.job_try,
                tries=DEFAULT_TRIES,
                queued_for=_queued_for(webhook),
            )
            if delay is None:
                outcome.result = {"outcome": "dead_lettered", "error": error_label(error)}
                status = "dead_lettered"
            else:
                back.append((webhook.job_id, delay))
                status = "retry"
        if outcome.result is not None:
            done.append((webhook, outcome.result))
        d.metrics.jobs.labels(jobs.INGEST_ASHBY_EVENT, status).inc()
        d.metrics.job_seconds.labels(jobs.INGEST_ASHBY_EVENT).observe(seconds)
        if status == "dead_lettered":
            d.metrics.dead_letters.labels(jobs.INGEST_ASHBY_EVENT).inc()
        _log_one(outcome, own=False)
    await webhook_claims.settle(d.queue, done=done, back=back, started_ms=started_ms)


def _log_one(outcome: Outcome, *, own: bool) -> None:
    """The webhook's canonical line; a claimed one names its own job and request, not the claiming job's."""
    webhook, schedule, result = outcome.decoded.webhook, outcome.decoded.schedule, outcome.result or {}
    ids = {} if own else {"job_id": webhook.job_id, "request_id": webhook.kwargs.get(jobs.REQUEST_ID)}
    if outcome.error is not None:
        log.warning("ashby_webhook_failed", error=error_label(outcome.error), **ids)
    elif schedule is not None:
        log.info(
            "ashby_schedule_ingested",
            schedule_id=schedule.id,
            outcome=result.get("outcome"),
            events=result.get("events"),
            **ids,
        )


def _queued_for(webhook: Webhook) -> timedelta:
    if webhook.enqueue_ms is None:
        return timedelta.max
    return datetime.now(UTC) - datetime.fromtimestamp(webhook.enqueue_ms / 1000, UTC)
