"""No log line and no error message carries personal data or a secret: a full interview loop through the real
`fleet ingress` and `fleet worker` processes (schedule, reminders, a submitted scorecard, one refused inline,
one Ashby refused, a dead letter, the candidate's deletion), then every line the processes printed, every
dead letter's error and every job result left in Redis is searched for the candidate's and interviewers'
names and e-mail addresses, what was typed into the forms, the Slack token, the Ashby key and both secrets.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from arq.constants import result_key_prefix

from fleet.processes import fleet, fleet_ingress, wait_until
from shared import jobs
from shared.embedded import free_port
from shared.feedback_form import block_id_for
from sim.ashby import WebhookTarget, create_app, seed_org, sim_of
from sim.ashby.records import EventSpec, SimInterviewer
from sim.pairing import fill_view, mirror_users
from sim.serving import running
from sim.slack import SlackState
from sim.slack import create_app as create_slack
from sim.slack.state import Message

pytestmark = pytest.mark.e2e

NOTES = block_id_for("notes", "RichText")
HEADLINE = block_id_for("headline", "String")
SUMMARY = block_id_for("summary", "LongText")
YEARS = block_id_for("years_experience", "Number")
TYPED = {  # what the two interviewers type: distinctive, so any copy of it is found
    "alex": {NOTES: "Quokka-notes: brilliant on caching", HEADLINE: "Quokka-headline", SUMMARY: "Quokka-summary"},
    "blake": {NOTES: "Wombat-notes: weak on testing", HEADLINE: "Wombat-headline", SUMMARY: "Wombat-summary"},
}


async def test_a_full_loop_leaves_no_personal_data_or_secret_in_logs_or_errors(
    db_url: str, redis_url: str, redis: aioredis.Redis, db_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    token, api_key = f"xoxb-{secrets.token_hex(16)}", f"ashby-key-{secrets.token_hex(16)}"
    webhook_secret, signing_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    seeded = seed_org()
    org = seeded.org
    alex, blake = seeded.interviewer_ids[:2]
    candidate = org.candidates[seeded.candidate_id]
    people = [org.users[u] for u in (alex, blake, seeded.users["recruiter"], seeded.users["coordinator"])]
    forbidden = [
        candidate.name,
        *candidate.name.split(),
        candidate.email,
        str(candidate.company),
        str(candidate.phone),
        *(f"{u.first_name} {u.last_name}" for u in people),
        *(u.email for u in people),
        "@example.com",  # any address at all
        *(text for typed in TYPED.values() for text in typed.values()),
        token,
        api_key,
        webhook_secret,
        signing_secret,
    ]

    ingress_port = free_port()
    ingress_url = f"http://127.0.0.1:{ingress_port}"
    ashby_app = create_app(org, api_key=api_key, webhook=WebhookTarget(f"{ingress_url}/webhooks/ashby", webhook_secret))
    ashby = sim_of(ashby_app)
    slack = SlackState()
    slack_ids = mirror_users(org, slack)
    slack_app = create_slack(
        slack, token=token, signing_secret=signing_secret, interactions_url=f"{ingress_url}/slack/interactions"
    )
    logs = {name: tmp_path / f"{name}.log" for name in ("ingress", "worker-default", "worker-interactive")}
    async with contextlib.AsyncExitStack() as stack:
        ashby_url = await stack.enter_async_context(running(ashby_app, lifespan="off"))
        slack_url = await stack.enter_async_context(running(slack_app))
        env = {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "ENVIRONMENT": "test",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "DEBUG",  # the most an operator would ever turn on
            "WORKER_SHUTDOWN_GRACE_S": "1",
            "ASHBY_BASE_URL": ashby_url,
            "ASHBY_API_KEY": api_key,
            "ASHBY_WEBHOOK_SECRET": webhook_secret,
            "SLACK_BASE_URL": slack_url + "/api/",
            "SLACK_BOT_TOKEN": token,
            "SLACK_SIGNING_SECRET": signing_secret,
        }
        ingress, _ = await stack.enter_async_context(fleet_ingress(env, port=ingress_port, log_file=logs["ingress"]))
        workers = [
            await stack.enter_async_context(
                fleet("worker", "--queue", queue, env=env, log_file=logs[f"worker-{queue}"])
            )
            for queue in ("default", "interactive")
        ]

        # An onsite panel that ended 15 minutes ago: both interviewers are due their "Feedback due" DM.
        now = datetime.now(UTC).replace(microsecond=0)
        panel = [SimInterviewer(alex), SimInterviewer(blake)]
        schedule = org.schedule(seeded.application_id, [EventSpec(
            seeded.interview_ids["Onsite Panel"], now - timedelta(minutes=75), now - timedelta(minutes=15), panel,
            location=f"Room 4, ask for {candidate.name}",
        )])  # fmt: skip
        assert {status for _, status in await ashby.flush_webhooks()} == {200}

        def due(user: str) -> Message | None:
            return next((m for m in slack.messages_to(slack_ids[user]) if "open_feedback_form" in str(m.blocks)), None)

        async def reminded() -> bool:
            return due(alex) is not None and due(blake) is not None

        await wait_until(reminded, timeout_s=60, what="the feedback-due reminders")

        # Alex submits a scorecard; it reaches Ashby.
        view = await open_form(slack_app, slack, due(alex), slack_ids[alex])
        await slack_app.state.actor.submit_view(
            view, fill_view(slack.views[view].view, **TYPED["alex"]), user_id=slack_ids[alex]
        )

        async def in_ashby() -> bool:
            return any(f.user_id == alex for f in org.feedback.values())

        await wait_until(in_ashby, what="Alex's scorecard in Ashby")
        assert TYPED["alex"][NOTES] in str([f.values for f in org.feedback.values()])

        # Blake's first try is refused inline (a required answer missing, a number that is not one); the
        # second is refused by Ashby, quoting the answer; telling Blake fails for good: a dead letter.
        view = await open_form(slack_app, slack, due(blake), slack_ids[blake])
        invalid = fill_view(slack.views[view].view, **{**TYPED["blake"], NOTES: None, YEARS: "two and a half"})
        await slack_app.state.actor.submit_view(view, invalid, user_id=slack_ids[blake])
        assert slack.views[view].errors is not None and set(slack.views[view].errors) == {NOTES, YEARS}
        ashby.faults.failure(
            "applicationFeedback.submit", "invalid_input", f"notes: {TYPED['blake'][NOTES]!r} is not valid"
        )
        slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
        valid = fill_view(slack.views[view].view, **TYPED["blake"])
        await slack_app.state.actor.submit_view(view, valid, user_id=slack_ids[blake])

        async def dead_lettered() -> bool:
            return bool(await db_pool.fetchval("SELECT count(*) FROM dead_letters"))

        await wait_until(dead_lettered, what="the refusal's notice to become a dead letter")
        draft = await db_pool.fetchval("SELECT state_values::text FROM feedback_drafts")
        assert TYPED["blake"][NOTES] in draft, "the refused answers were kept"
        errors = await error_messages(db_pool)  # the deletion below takes the candidate's dead letters too
        assert "SlackApiFailure (channel_not_found)" in errors

        # Ashby deletes the candidate; the fleet forgets them.
        org.delete_candidate(seeded.candidate_id)
        assert await ashby.flush_webhooks() == [("candidateDelete", 200)]

        async def forgotten() -> bool:
            return bool(await db_pool.fetchval("SELECT count(*) FROM candidate_removals"))

        await wait_until(forgotten, what="the candidate's deletion")
        assert await db_pool.fetchval("SELECT count(*) FROM feedback_drafts") == 0
        assert schedule.event_ids[0] in await db_pool.fetchval("SELECT array_agg(id) FROM interview_events")

        codes = [await worker.stop(signal.SIGTERM) for worker in workers] + [await ingress.stop(signal.SIGTERM)]
        assert all(code in (0, -signal.SIGTERM) for code in codes), codes
        await ashby.aclose()

    lines = [line for log in logs.values() for line in log.read_text().splitlines()]
    errors += await error_messages(db_pool)
    results = [
        str(jobs.deserialize(raw)["r"])
        for key in await redis.keys(result_key_prefix + "*")
        if (raw := await redis.get(key)) is not None
    ]
    # The scenario happened, and what is searched for was really in play (so its absence means something).
    events = [json.loads(line) for line in lines if line.startswith("{")]
    assert {(e["event"], e.get("job")) for e in events} >= {("job_done", "submit_feedback"), ("request", None)}
    assert "candidate_purged" in {e["event"] for e in events}
    assert candidate.name in str([m.blocks for m in slack.messages])
    leaks = [
        (secret_or_name, text[:300])
        for text in lines + errors + results
        for secret_or_name in forbidden
        if re.search(rf"(?<!\w){re.escape(secret_or_name)}(?!\w)", text)
    ]
    assert leaks == []


async def error_messages(pool: asyncpg.Pool) -> list[str]:
    """What the system wrote down about failures: dead letters, refused submissions, skipped reminders."""
    rows = await pool.fetch(
        "SELECT error FROM dead_letters UNION ALL SELECT error FROM feedback_submissions WHERE error IS NOT NULL "
        "UNION ALL SELECT skip_reason FROM reminders WHERE skip_reason IS NOT NULL"
    )
    return [r[0] for r in rows]


async def open_form(slack_app: object, slack: SlackState, message: Message | None, slack_user: str) -> str:
    """Click "Open feedback form" on the reminder; the id of the modal once it shows the form."""
    assert message is not None
    before = set(slack.views)
    response = await slack_app.state.actor.click_button(message, "open_feedback_form", user_id=slack_user)  # type: ignore[attr-defined]
    assert response.status_code == 200
    [view_id] = set(slack.views) - before

    async def form() -> bool:
        return slack.views[view_id].callback_id == "feedback_submit"

    await wait_until(form, what="the feedback form")
    return view_id
