"""`fleet demo`, second act: rules move candidates once the feedback is in. One phone screen passes and is
advanced automatically, one fails and is held for a person, and the onsite panel from the first act fails
and waits for the recruiter's approval click in Slack, then the audit shows every decision and its evidence.

The demo triggers the feedback sync and the evaluation itself (the crons would, within a minute), and its
rules have no quiet period (a real one waits for late feedback first).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
from arq.connections import ArqRedis

from fleet.processes import fleet, wait_until
from shared import jobs
from shared.advancement.messages import APPROVE
from sim.ashby import sample_answers
from sim.ashby.records import EventSpec, SimApplication, SimInterviewer
from sim.ashby.seed import SeededOrg
from sim.slack import SlackState
from sim.slack.actor import SlackActor

RULES = """\
rules:
  - name: backend-phone-screen
    job: Senior Backend Engineer
    stage: Phone Screen
    mode: auto
    require:
      - {field: Overall recommendation, each: ">= 3"}
    on_pass: advance
    on_fail: hold
    quiet_minutes: 0
  - name: backend-onsite
    job: Senior Backend Engineer
    stage: Onsite
    mode: approve
    interviews: [Onsite Panel]
    require:
      - {field: Overall recommendation, average: ">= 3"}
    on_pass: {advance: Offer}
    on_fail:
      reject: {reason: Not a fit}
    quiet_minutes: 0
"""
DECISION_TIMEOUT_S = 60.0


async def advancement_act(
    *,
    seeded: SeededOrg,
    slack: SlackState,
    actor: SlackActor,
    slack_ids: dict[str, str],
    pool: asyncpg.Pool,
    queue: ArqRedis,
    env: dict[str, str],
    logs: Path,
    now: datetime,
    onsite_event_id: str,
    flush_webhooks: Callable[[], Awaitable[object]],
    say: Callable[[str], None],
) -> None:
    rules_file = logs.parent / "demo-rules.yaml"
    rules_file.write_text(RULES)
    say(f"\nAdvancement rules ({rules_file}): the phone screen advances automatically on 3+ or is held;")
    say("the onsite panel is rejected below an average of 3, once the recruiter approves in Slack.")
    say("  $ fleet rules apply " + rules_file.name)
    say(_indent(await _fleet_output(env, "rules", "apply", str(rules_file))))

    alex, blake = seeded.interviewer_ids[:2]
    jordan, jordan_event = _phone_screen(seeded, "Jordan Park", alex, now)
    morgan, morgan_event = _phone_screen(seeded, "Morgan Diaz", blake, now)
    onsite = seeded.org.applications[seeded.application_id]
    await flush_webhooks()
    _feedback(seeded, jordan.id, jordan_event, alex, form_id=seeded.short_form_id, score=4)
    _feedback(seeded, morgan.id, morgan_event, blake, form_id=seeded.short_form_id, score=2)
    _feedback(seeded, onsite.id, onsite_event_id, blake, form_id=seeded.form_id, score=1)
    say(
        "Ashby: Jordan's phone screen scored 4, Morgan's 2; Blake scores the onsite panel 1 "
        "(Alex's answers came from Slack above)."
    )

    async def decided() -> bool:
        await _tick(queue)  # what the sync and evaluation crons do, now
        count = await pool.fetchval(
            "SELECT count(DISTINCT application_id) FROM decisions WHERE application_id = ANY($1::text[])",
            [jordan.id, morgan.id, onsite.id],
        )
        return bool(count == 3)

    await wait_until(decided, timeout_s=DECISION_TIMEOUT_S, what="the rules to decide")
    await wait_until(lambda: _moved(seeded, jordan.id, "Onsite"), timeout_s=30, what="Jordan's move in Ashby")
    say(f"Jordan: advanced automatically, now at {_stage(seeded, jordan.id)} in Ashby.")
    say(f"Morgan: held for a person, still at {_stage(seeded, morgan.id)} in Ashby.")

    recruiter = slack_ids[seeded.users["recruiter"]]

    async def asked() -> bool:
        return any(APPROVE in str(m.blocks) for m in slack.messages_to(recruiter))

    await wait_until(asked, timeout_s=30, what="the approval request in Slack")
    request = next(m for m in slack.messages_to(recruiter) if APPROVE in str(m.blocks))
    say(f"The recruiter's Slack: {request.text!r} with Approve / Hold buttons; the recruiter clicks Approve.")
    await actor.click_button(request, APPROVE, user_id=recruiter)
    await wait_until(
        lambda: _moved(seeded, onsite.id, "Archived"), timeout_s=30, what="the approved rejection in Ashby"
    )
    say(f"The onsite candidate: rejected after the click, now {_stage(seeded, onsite.id)} in Ashby.")

    say("\nThe audit (every decision, who took it, what Ashby said, and why):")
    say("  $ fleet rules audit")
    say(_indent(await _fleet_output(env, "rules", "audit")))


def _phone_screen(seeded: SeededOrg, name: str, interviewer: str, now: datetime) -> tuple[SimApplication, str]:
    application = seeded.add_application(name, stage="Phone Screen")
    schedule = seeded.org.schedule(application.id, [EventSpec(
        seeded.interview_ids["Phone Screen"], now - timedelta(hours=2), now - timedelta(hours=1, minutes=30),
        [SimInterviewer(interviewer)],
    )])  # fmt: skip
    return application, schedule.event_ids[0]


def _feedback(seeded: SeededOrg, application_id: str, event_id: str, user_id: str, *, form_id: str, score: int) -> None:
    form = seeded.org.forms[form_id]
    seeded.org.submit_feedback(
        form_id=form.id,
        application_id=application_id,
        submissions=sample_answers(form.sections, score=score),
        user_id=user_id,
        event_id=event_id,
    )


async def _tick(queue: ArqRedis) -> None:
    for function in (jobs.SYNC_FEEDBACK, jobs.EVALUATE_ADVANCEMENT):
        await jobs.enqueue_default(queue, function, job_id=f"demo:{function}")


async def _moved(seeded: SeededOrg, application_id: str, stage: str) -> bool:
    return _stage(seeded, application_id) == stage


def _stage(seeded: SeededOrg, application_id: str) -> str:
    stage_id = seeded.org.applications[application_id].stage_id
    return seeded.org.stages[stage_id].title


async def _fleet_output(env: dict[str, str], *args: str) -> str:
    async with fleet(*args, env=env) as process:
        code = await process.process.wait()
        output = await process.output()
    text = "\n".join(line for line in output.splitlines() if not line.startswith("{"))  # not the JSON log lines
    if code != 0:
        raise RuntimeError(f"fleet {' '.join(args)} failed (exit code {code}):\n{text}")
    return text


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
