"""Advancement jobs: evaluate the applications whose evidence changed, post decisions to the people who decide
them, take their clicks, and carry decisions out in Ashby exactly once.

- `evaluate_advancement` (cron, one run at a time): a batch of due applications is claimed, its evidence,
  the active rules and the plans' stages read (a fixed number of queries per batch), each application
  evaluated (`shared/advancement/evaluate.py`, pure), new decisions recorded (unique per application, from
  stage and rule version) and the waits queued again, in one transaction; then each new decision's
  follow-up job is queued. A decision whose follow-up was lost is found again by the next run.
- `post_decision`: the decision as a Slack message (buttons while it awaits an approval), posted to the
  application's recruiters (or the rule's channel), and updated in place as it moves on.
- `decide_click`: an approver's click, refused unless they are on the candidate's hiring team or an admin.
- `execute_decision`: re-read the application in Ashby, then move it, or record that an earlier call landed,
  or that the candidate moved meanwhile (superseded): `application.changeStage` is never repeated.
- `post_debrief`: the hiring channel's summary once all required feedback for a stage is in, once.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import structlog

from shared import home_openers, jobs, post_marks
from shared.advancement.evaluate import Decision, Wait, evaluate
from shared.advancement.execution import Landed, Move, Superseded, authorize, decide_execution
from shared.advancement.messages import VERDICTS, debrief_message, decision_message
from shared.catalog_sync import sync_catalog
from shared.clients.ashby import AshbyApiError
from shared.db import advancement as advancement_db
from shared.db import catalog as catalog_db
from shared.db import rules as rules_db
from workers import loads
from workers.deps import deps
from workers.job_boundary import job
from workers.jobs.ashby_events import apply_application
from workers.metadata_refresh import queue_refresh
from workers.run_lock import one_run

BATCH = 200
RUN_BUDGET_S = 40.0
UNKNOWN_PLACE_RETRY = timedelta(minutes=1)
STALLED_AFTER = timedelta(minutes=2)
RUN = "evaluate_advancement"
log = structlog.get_logger("worker.advancement")


@job(periodic=True)
async def evaluate_advancement(ctx: dict[str, Any]) -> dict[str, Any]:
    d = deps(ctx)
    async with one_run(d.queue, RUN) as mine:
        if not mine:
            return {"outcome": "already_running"}
        totals = {"evaluated": 0, "decided": 0, "waiting": 0, "unknown": 0}
        deadline = time.monotonic() + RUN_BUDGET_S
        while time.monotonic() < deadline:
            now = d.clock()
            async with d.pool.acquire() as conn, conn.transaction():
                claimed = await advancement_db.claim_due(conn, now=now, limit=BATCH)
                if not claimed:
                    break
                evidence, unknown = await advancement_db.load_evidence(conn, claimed)
                rules = await rules_db.active_rules(conn)
                stages = await catalog_db.stages_of_plans(conn, {e.plan_id for e in evidence if e.plan_id})
                results = [(e, evaluate(e, rules, stages.get(e.plan_id or "", ()), now=now)) for e in evidence]
                decided = [(e, r) for e, r in results if isinstance(r, Decision)]
                new = await advancement_db.insert_decisions(conn, decided, now=now)
                waits = [(e.application_id, r.until, r.reason) for e, r in results if isinstance(r, Wait) and r.until]
                await advancement_db.requeue(
                    conn, [*waits, *((a, now + UNKNOWN_PLACE_RETRY, advancement_db.PLACE_UNKNOWN) for a in unknown)]
                )
            await advancement_db.evaluate_once_placed(d.pool, unknown, at=now)
            await queue_refresh(d, applications=unknown)
            for decision_id, state in new:
                d.metrics.decisions.labels("decided", state).inc()
                follow_up = jobs.EXECUTE_DECISION if state == "approved" else jobs.POST_DECISION
                await jobs.enqueue_default(d.queue, follow_up, decision_id, job_id=f"{follow_up}:{decision_id}")
                await jobs.enqueue_default(d.queue, jobs.POST_DEBRIEF, decision_id, job_id=f"debrief:{decision_id}")
            totals["evaluated"] += len(claimed)
            totals["decided"] += len(new)
            totals["waiting"] += len(waits)
            totals["unknown"] += len(unknown)
        for decision_id, _ in await advancement_db.stalled(d.pool, quiet_for=STALLED_AFTER):
            await jobs.enqueue_default(
                d.queue, jobs.EXECUTE_DECISION, decision_id, job_id=f"{jobs.EXECUTE_DECISION}:{decision_id}"
            )
        return totals


@job(tries=8)
async def execute_decision(ctx: dict[str, Any], decision_id: int) -> dict[str, Any]:
    d = deps(ctx)
    decision = await advancement_db.claim_execution(d.pool, decision_id)
    if decision is None:
        return {"outcome": "not_executable"}  # done, superseded, failed, or never approved
    application = await d.ashby.application_info(decision.application_id)  # what Ashby says now
    plan = decide_execution(decision, application, now=d.clock())
    state, result = "done", {}
    if isinstance(plan, Move):
        await advancement_db.mark_calling(d.pool, decision_id)  # from here, a later try may find the move landed
        try:
            moved = await d.ashby.change_application_stage(
                decision.application_id,
                plan.stage_id,
                archive_reason_id=plan.archive_reason_id,
                archive_email_template_id=plan.communication_template_id,
                archive_email_send_at=plan.send_at,
            )
        except AshbyApiError as exc:
            state, result = "failed", {"code": exc.code}
        else:
            stage = moved.current_interview_stage
            result = {"stage_id": stage.id if stage else plan.stage_id, "status": moved.status}
            await apply_application(d, moved)  # its new place, and its next stage's evaluation
    elif isinstance(plan, Landed):
        result = {"stage_id": plan.stage_id, "landed_earlier": True}
    elif isinstance(plan, Superseded):
        state, result = "superseded", {"reason": plan.reason}
    finished = await advancement_db.finish_execution(d.pool, decision_id, state=state, result=result)
    await jobs.enqueue_default(d.queue, jobs.POST_DECISION, decision_id, job_id=f"post-decision:{decision_id}:{state}")
    log.info("decision_executed", decision_id=decision_id, state=state, recorded=finished is not None)
    d.metrics.decisions.labels("executed", state).inc()
    return {"outcome": state}


@job(tries=12)
async def post_decision(ctx: dict[str, Any], decision_id: int) -> dict[str, Any]:
    """Post the decision to whoever decides it, or update the messages already posted to its current state."""
    d = deps(ctx)
    facts = await loads.decision_facts(d, decision_id)
    if facts is None:
        return {"outcome": "unknown_decision"}
    if not facts.messages and facts.decision.mode == "auto" and facts.decision.state not in ("held", "failed"):
        return {"outcome": "nothing_to_post"}  # automatic and fine: the audit and the debrief say it
    text, blocks = decision_message(facts.decision, facts.names)
    for channel, ts in facts.messages:
        await d.slack.update_message(channel, ts, text, blocks)
    posted = [await d.slack.post_message(recipient, text, blocks) for recipient in facts.new_recipients]
    for channel, ts in posted:
        await advancement_db.record_message(d.pool, decision_id, channel, ts)
    return {"outcome": "posted", "updated": len(facts.messages), "posted": len(posted)}


@job(tries=5)
async def decide_click(ctx: dict[str, Any], decision_id: int, action: str, slack_user_id: str) -> dict[str, Any]:
    """Approve, Reject or Hold, clicked on a decision's message. Only the candidate's hiring team (as Ashby
    lists it) and the configured admins may decide; anyone else is told why, and nothing changes."""
    d = deps(ctx)
    facts = await loads.click_facts(d, decision_id, slack_user_id)
    verdict = VERDICTS.get(action)
    if facts is None or verdict is None:
        return {"outcome": "unknown"}
    refused = authorize(
        facts.clicker_ashby_user_id, slack_user_id, hiring_team=facts.hiring_team, admins=d.settings.advancement_admins
    )
    if refused is not None:
        await d.slack.post_message(slack_user_id, f"You cannot decide this: {refused.reason}.")
        log.warning("decision_click_refused", decision_id=decision_id)
        return {"outcome": "refused"}
    decided = await advancement_db.decide_by_click(
        d.pool, decision_id, state=verdict, slack_user_id=slack_user_id, now=d.clock()
    )
    if decided is None:  # a double click, or another approver was first
        await d.slack.post_message(slack_user_id, "This decision was already taken; the message shows by whom.")
        return {"outcome": "already_decided"}
    if verdict == "approved":
        await jobs.enqueue_default(
            d.queue, jobs.EXECUTE_DECISION, decision_id, job_id=f"{jobs.EXECUTE_DECISION}:{decision_id}"
        )
    await jobs.enqueue_default(
        d.queue, jobs.POST_DECISION, decision_id, job_id=f"post-decision:{decision_id}:{verdict}"
    )
    d.metrics.decisions.labels("clicked", verdict).inc()
    await home_openers.refresh_if_open(d.queue, slack_user_id, now=d.clock(), because=f"decision:{decision_id}")
    return {"outcome": verdict}


@job(tries=12)
async def post_debrief(ctx: dict[str, Any], decision_id: int) -> dict[str, Any]:
    """Once all required feedback for a stage is in: its summary to the job's hiring channel, once."""
    d = deps(ctx)
    facts = await loads.decision_facts(d, decision_id)
    if facts is None or facts.decision.channel is None:
        return {"outcome": "no_channel"}
    decision = facts.decision
    key = f"debrief:{decision.application_id}:{decision.from_stage_id}"
    if not await advancement_db.claim_debrief(
        d.pool, decision.application_id, decision.from_stage_id, decision.channel
    ):
        return {"outcome": "posted_before"}
    posted = (await post_marks.recall(d.queue, key, recipients=(decision.channel,))).get(decision.channel)
    if posted is None:  # not posted by an earlier try that could not record it
        text, blocks = debrief_message(decision, facts.names)
        posted = await d.slack.post_message(decision.channel, text, blocks)
        await post_marks.remember(d.queue, key, decision.channel, *posted)
    await advancement_db.record_debrief(
        d.pool, decision.application_id, decision.from_stage_id, ts=posted[1], now=d.clock()
    )
    return {"outcome": "posted"}


@job(periodic=True)
async def refresh_catalog(ctx: dict[str, Any]) -> dict[str, Any]:
    """Jobs, plans and their stages, interviews, forms and archive reasons, read again from Ashby hourly: the
    evaluator reads stage order and types from here (rules files are resolved against it too)."""
    d = deps(ctx)
    async with one_run(d.queue, "refresh_catalog") as mine:
        if not mine:
            return {"outcome": "already_running"}
        await sync_catalog(d.ashby, d.pool, now=d.clock())
        return {"outcome": "refreshed"}
