"""`fleet demo`: the whole fleet on embedded PostgreSQL and Redis, driven through a real interview loop.

Starts the servers (or uses DATABASE_URL / REDIS_URL), applies migrations, and starts the ingress and one
worker per queue as separate processes. The Ashby and Slack simulators run inside this process: Ashby
schedules two interviews and sends signed webhooks to the ingress over HTTP; the workers store them, plan
reminders, and DM the interviewers in the simulated Slack (a brief before the upcoming interview, a
"feedback due" after the one that just ended); a simulated interviewer opens the feedback form from the
reminder, fills it in and submits it; the worker submits it to Ashby once, the reminder message turns into
"submitted" and that interviewer's reminders stop. Then advancement rules move candidates: one advanced
automatically, one held, one rejected after the recruiter's click in Slack, and the audit shows why
(`fleet/demo_advancement.py`). Then everything stops cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from fleet.demo_advancement import advancement_act
from fleet.processes import fleet, fleet_ingress, wait_until
from shared.db.migrations import apply_migrations, default_directory, load_migrations
from shared.db.pool import with_database
from shared.embedded import embedded_postgres, embedded_redis, free_port
from shared.jobs import queue_redis
from shared.settings import Settings
from sim.ashby import WebhookTarget, seed_org, sim_of
from sim.ashby import create_app as create_ashby
from sim.ashby.records import EventSpec, SimInterviewer
from sim.pairing import fill_view, mirror_users
from sim.serving import running
from sim.slack import SlackState
from sim.slack import create_app as create_slack
from sim.slack.state import Message

DEMO_DATABASE = "fleet_demo"
NO_MESSAGES = "(none: shadows give no feedback, and the brief came too late)"
# The demo's own processes shut down fast: nothing long runs once the scenario is over.
SHUTDOWN_GRACE_S = "5"


def say(message: str = "") -> None:
    print(message, flush=True)


def run_demo(settings: Settings) -> int:
    data_dir = Path(settings.data_dir).resolve()
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if settings.database_url:
            database_url = settings.database_url
            say("Using PostgreSQL from DATABASE_URL")
        else:
            say(f"Starting embedded PostgreSQL in {data_dir / 'pg'} ...")
            database_url = asyncio.run(_fresh_database(stack.enter_context(embedded_postgres(data_dir))))
        if settings.redis_url:
            redis_url = settings.redis_url
            say("Using Redis from REDIS_URL")
        else:
            say("Starting embedded Redis ...")
            redis_url = stack.enter_context(embedded_redis(data_dir / "redis"))
        return asyncio.run(_demo(settings, database_url, redis_url, data_dir / "logs"))


async def _fresh_database(server_url: str) -> str:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DEMO_DATABASE}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DEMO_DATABASE}"')
    finally:
        await conn.close()
    return with_database(server_url, DEMO_DATABASE)


async def _demo(settings: Settings, database_url: str, redis_url: str, logs: Path) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        applied = await apply_migrations(conn, load_migrations(default_directory()))
        say(f"Migrations applied: {', '.join(applied) or 'none pending'}")
    finally:
        await conn.close()

    ingress_port = free_port()
    ingress_url = f"http://127.0.0.1:{ingress_port}"
    seeded = seed_org()
    ashby_app = create_ashby(
        seeded.org,
        api_key=settings.ashby_api_key,
        webhook=WebhookTarget(f"{ingress_url}/webhooks/ashby", settings.ashby_webhook_secret),
    )
    slack = SlackState()
    slack_ids = mirror_users(seeded.org, slack)
    slack_app = create_slack(
        slack,
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        interactions_url=f"{ingress_url}/slack/interactions",
    )
    async with contextlib.AsyncExitStack() as stack:
        ashby_url = await stack.enter_async_context(running(ashby_app, lifespan="off"))
        slack_url = await stack.enter_async_context(running(slack_app))
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ENVIRONMENT": settings.environment,
            "LOG_FORMAT": "json",
            "WORKER_SHUTDOWN_GRACE_S": SHUTDOWN_GRACE_S,
            "ASHBY_BASE_URL": ashby_url,
            "ASHBY_API_KEY": settings.ashby_api_key,
            "ASHBY_WEBHOOK_SECRET": settings.ashby_webhook_secret,
            "SLACK_BASE_URL": slack_url + "/api/",
            "SLACK_BOT_TOKEN": settings.slack_bot_token,
            "SLACK_SIGNING_SECRET": settings.slack_signing_secret,
        }
        ingress, _ = await stack.enter_async_context(
            fleet_ingress(env, port=ingress_port, log_file=logs / "ingress.log")
        )
        workers = [
            await stack.enter_async_context(
                fleet("worker", "--queue", queue, env=env, log_file=logs / f"worker-{queue}.log")
            )
            for queue in ("default", "interactive")
        ]
        say(f"Ingress on {ingress_url}; workers for queues default and interactive (logs in {logs})")
        say(f"Simulated Ashby on {ashby_url}, simulated Slack on {slack_url}\n")

        async with httpx.AsyncClient(base_url=ingress_url, timeout=10) as client:
            forged = await client.post(
                "/webhooks/ashby", content=b'{"action":"ping"}', headers={"Ashby-Signature": "sha256=00"}
            )
            say(f"A webhook with a forged signature is refused: {forged.status_code} {forged.json()['error']}")

        now = datetime.now(UTC).replace(microsecond=0)
        alex, blake, casey_shadow = seeded.interviewer_ids[:3]
        panel = [SimInterviewer(alex), SimInterviewer(blake), SimInterviewer(casey_shadow, "Shadow", False)]
        names = {user_id: seeded.org.users[user_id].first_name for user_id in (alex, blake, casey_shadow)}
        ended = seeded.org.schedule(seeded.application_id, [EventSpec(
            seeded.interview_ids["Onsite Panel"], now - timedelta(minutes=75), now - timedelta(minutes=15), panel,
            meeting_link="https://meet.example.com/onsite",
        )])  # fmt: skip
        upcoming_application = seeded.add_application("Sam Lee", stage="Phone Screen")
        seeded.org.schedule(upcoming_application.id, [EventSpec(
            seeded.interview_ids["Phone Screen"], now + timedelta(minutes=10, seconds=5), now + timedelta(minutes=40),
            [SimInterviewer(blake)], meeting_link="https://meet.example.com/phone",
        )])  # fmt: skip
        deliveries = await sim_of(ashby_app).flush_webhooks()
        say(
            f"Ashby scheduled an onsite panel that ended 15 minutes ago ({', '.join(names.values())}; "
            f"{names[casey_shadow]} shadowing) and a phone screen in 10 minutes ({names[blake]})."
        )
        say(
            f"Ashby sent {len(deliveries)} signed webhooks to the ingress: "
            f"statuses {sorted({s for _, s in deliveries})}\n"
        )

        def titles(user_id: str) -> list[str]:
            return [_title(m) for m in slack.messages_to(slack_ids[user_id])]

        async def reminded() -> bool:
            return "Feedback due" in titles(alex) and "Upcoming interview" in titles(blake)

        await wait_until(reminded, timeout_s=60, what="the reminders to reach Slack")
        for user_id, name in names.items():
            say(f"Slack DMs to {name}: {titles(user_id) or [NO_MESSAGES]}")

        due = next(m for m in slack.messages_to(slack_ids[alex]) if _title(m) == "Feedback due")
        click = await slack_app.state.actor.click_button(due, "open_feedback_form", user_id=slack_ids[alex])
        view = next(v for v in slack.views.values() if v.user_id == slack_ids[alex])
        inputs = sum(1 for b in view.view["blocks"] if b.get("type") == "input")
        say(
            f"\n{names[alex]} clicks 'Open feedback form' -> {click.status_code}; "
            "Slack shows the Ashby form as a modal "
            f"with {inputs} inputs"
        )
        answer = await slack_app.state.actor.submit_view(view.id, fill_view(view.view), user_id=slack_ids[alex])
        say(f"{names[alex]} submits it -> {answer.status_code} ({_notice(slack.views[view.id].view)})")

        async def submitted() -> bool:
            return any(f.user_id == alex for f in seeded.org.feedback.values()) and "submitted" in str(due.blocks)

        await wait_until(submitted, timeout_s=30, what="the feedback to reach Ashby")
        scorecards = [f for f in seeded.org.feedback.values() if f.user_id == alex]
        say(
            f"Ashby now holds {len(scorecards)} scorecard from {names[alex]} for the onsite event "
            f"({len(scorecards[0].values)} answers); the reminder message reads: {_last_line(due)}"
        )

        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        stack.push_async_callback(pool.close)
        await _show_reminders(pool, ended.event_ids[0], names)

        queue = queue_redis(redis_url)
        stack.push_async_callback(queue.aclose)
        await advancement_act(
            seeded=seeded,
            slack=slack,
            actor=slack_app.state.actor,
            slack_ids=slack_ids,
            pool=pool,
            queue=queue,
            env=env,
            logs=logs,
            now=now,
            onsite_event_id=ended.event_ids[0],
            flush_webhooks=sim_of(ashby_app).flush_webhooks,
            say=say,
        )

        say("\nStopping the fleet ...")
        codes = list(await asyncio.gather(*(worker.stop(signal.SIGTERM) for worker in workers)))
        codes.append(await ingress.stop(signal.SIGTERM))
    await sim_of(ashby_app).aclose()
    clean = all(code in (0, -signal.SIGTERM) for code in codes)
    say("Demo finished cleanly." if clean else f"A process exited abnormally: {codes}")
    return 0 if clean else 1


async def _show_reminders(pool: asyncpg.Pool, event_id: str, names: dict[str, str]) -> None:
    say("\nReminders for the onsite panel (PostgreSQL is the source of truth):")
    rows = await pool.fetch(
        "SELECT interviewer_id, kind, sequence, state, skip_reason, due_at FROM reminders WHERE event_id = $1 "
        "ORDER BY interviewer_id, due_at",
        event_id,
    )
    for row in rows:
        reason = f" ({row['skip_reason']})" if row["skip_reason"] else ""
        say(
            f"  {names.get(row['interviewer_id'], '?'):8} {row['kind']:10} #{row['sequence']} "
            f"{row['due_at']:%a %H:%M} UTC  {row['state']}{reason}"
        )


def _title(message: Message) -> str:
    header = next((b for b in message.blocks if b.get("type") == "header"), None)
    return str(header["text"]["text"]).split(":")[0] if header else message.text


def _last_line(message: Message) -> str:
    sections = [b for b in message.blocks if b.get("type") == "section"]
    return str(sections[-1]["text"]["text"]) if sections else message.text


def _notice(view: dict[str, object]) -> str:
    blocks = view.get("blocks") or []
    first = blocks[0] if isinstance(blocks, list) and blocks else {}
    text = first.get("text", {}) if isinstance(first, dict) else {}
    return str(text.get("text", "")) if isinstance(text, dict) else ""
