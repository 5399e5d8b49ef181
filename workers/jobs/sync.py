"""sync_feedback: one incremental `applicationFeedback.list` chain per cycle for the whole organisation.

Ashby sends no webhook when feedback is submitted, so this is how feedback given in Ashby's own UI stops
reminders. The stored syncToken is replaced only after the whole chain was read and recorded.
"""

from __future__ import annotations

from typing import Any

from shared import jobs
from shared.db import feedback as feedback_db
from shared.db import sync_tokens
from workers.deps import Deps, deps
from workers.job_boundary import job
from workers.run_lock import one_run

FEEDBACK_SYNC = "applicationFeedback.list"
# A first (full) sync of a large organisation reads every feedback record at the Ashby key's pace: minutes.
SYNC_TIMEOUT_S = 30 * 60


@job(periodic=True)
async def sync_feedback(ctx: dict[str, Any]) -> dict[str, Any]:
    d = deps(ctx)
    async with one_run(d.queue, FEEDBACK_SYNC) as mine:
        if not mine:
            return {"outcome": "already_running"}
        return await _sync(d)


async def _sync(d: Deps) -> dict[str, Any]:
    run = d.ashby.sync_application_feedback(await sync_tokens.get(d.pool, FEEDBACK_SYNC))
    found = [
        (s.interview_event_id, s.submitted_by_user.id, s.id, s.submitted_at, s.submitted_values)
        async for s in run
        if s.interview_event_id is not None
    ]
    new = await feedback_db.record_synced(d.pool, found, now=d.clock())
    await sync_tokens.put(d.pool, FEEDBACK_SYNC, run.sync_token, full_sync=run.full_resync, now=d.clock())
    for event_id, interviewer_id, submission_id in new:
        await jobs.enqueue_default(
            d.queue,
            jobs.MARK_FEEDBACK_SUBMITTED,
            event_id,
            interviewer_id,
            submission_id,
            job_id=f"feedback-seen:{event_id}:{interviewer_id}",
        )
    return {"seen": run.count, "new": len(new), "full_resync": run.full_resync}
