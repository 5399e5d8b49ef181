"""One chaos run: servers the run can restart, the fleet as child processes, both simulators with their
random faults, interviews streamed into Ashby, interviewers in Slack, the fault timeline, then the count.

The simulators live in this process (their records are the evidence); everything the fleet owns runs as
real processes on the real clock: PostgreSQL, Redis (append-only), 2 `fleet ingress`, 3 `fleet worker`
per queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from bench.common import ASHBY_KEY, ASHBY_WEBHOOK_SECRET, SLACK_SIGNING_SECRET, SLACK_TOKEN, fleet_env
from chaos import scenario
from chaos.accounting import Verdict
from chaos.explain import explain
from chaos.faults import FaultRunner
from chaos.interviewers import Inbox, Interviewer, give_feedback
from chaos.servers import Postgres, Redis
from chaos.settle import count_dead_letters, wait_settled
from chaos.supervisor import Supervisor
from chaos.world import World, delivered, verdict
from fleet.processes import wait_until
from shared.db import people as people_db
from shared.db.migrations import apply_migrations, default_directory, load_migrations
from shared.embedded import free_port
from shared.jobs import QUEUES, queue_redis
from shared.logs import configure_logging
from sim.ashby import FaultPlan, WebhookTarget, seed_org
from sim.ashby.app import create_app as create_ashby
from sim.ashby.app import sim_of
from sim.ashby.records import EventSpec, SimInterviewer
from sim.ashby.seed import SeededOrg
from sim.pairing import mirror_users
from sim.serving import running
from sim.slack import SlackActor, SlackState
from sim.slack import create_app as create_slack
from sim.slack.state import RandomRateLimits

SLACK_429_SHARE = 0.3
ASHBY_5XX_SHARE = 0.2
ASHBY_5XX_AFTER_WRITE_SHARE = 0.5  # of those 5xx, the share answered after the request took effect
WEBHOOK_COPIES = 3
FLEET_SETTINGS = {
    "REMINDER_BRIEF_MINUTES": str(scenario.BRIEF_LEAD_S // 60),
    "REMINDER_DUE_MINUTES": "0",
    "SLACK_MESSAGES_PER_SECOND": "20",
    "ASHBY_REQUESTS_PER_MINUTE": "1200",
    "WORKER_SHUTDOWN_GRACE_S": "5",
}


async def chaos_run(
    run: scenario.Pass, *, seed: int, data_dir: Path, log_dir: Path, fsync: str, until: float
) -> tuple[World, Verdict]:
    """Run the scenario and count; `until` (time.time()) bounds the run, settling included."""
    began = time.time()
    configure_logging(level="WARNING")  # the in-process simulators; the fleet logs to files
    postgres = await asyncio.to_thread(Postgres, data_dir / "pg")
    redis = Redis(data_dir / "redis", fsync=fsync)
    await asyncio.to_thread(redis.start)
    try:
        async with _fleet_and_simulators(run, seed, postgres, redis, log_dir) as world:
            world.began = began
            await _play(world, postgres, seed, until)
            world.alive_at_end = sum(1 for member in world.supervisor.members if member.alive)
            world.dead_letters = await count_dead_letters(postgres.url)
            result = verdict(world)
            world.notes = await explain(world, result, postgres.url)
            return world, result
    finally:
        await asyncio.to_thread(redis.stop)
        await asyncio.to_thread(postgres.stop)


@contextlib.asynccontextmanager
async def _fleet_and_simulators(
    run: scenario.Pass, seed: int, postgres: Postgres, redis: Redis, log_dir: Path
) -> AsyncIterator[World]:
    conn = await asyncpg.connect(postgres.url)
    try:
        await apply_migrations(conn, load_migrations(default_directory()))
    finally:
        await conn.close()
    seeded = seed_org(seed=seed)
    interviewer_ids = [
        seeded.org.add_user(f"Interviewer{n}", "Chaos", f"interviewer{n}@chaos.example.com").id
        for n in range(run.interviewers)
    ]
    slack = SlackState()
    slack.random_rate_limits = RandomRateLimits(SLACK_429_SHARE, random.Random(seed * 7 + 1), retry_after_s=1)
    by_ashby_id = mirror_users(seeded.org, slack)
    await _fill_people_directory(postgres.url, seeded, interviewer_ids, by_ashby_id)
    ports = [free_port(), free_port()]
    ingresses = [f"http://127.0.0.1:{port}" for port in ports]
    webhooks = WebhookTarget(
        ingresses[0] + "/webhooks/ashby",
        ASHBY_WEBHOOK_SECRET,
        copies=WEBHOOK_COPIES,
        replicas=(ingresses[1] + "/webhooks/ashby",),
    )
    faults = FaultPlan().random_server_errors(
        ASHBY_5XX_SHARE, rng=random.Random(seed * 7 + 2), processed_share=ASHBY_5XX_AFTER_WRITE_SHARE
    )
    ashby_app = create_ashby(seeded.org, api_key=ASHBY_KEY, faults=faults, webhook=webhooks)
    slack_app = create_slack(slack, token=SLACK_TOKEN, signing_secret=SLACK_SIGNING_SECRET, interactions_url=None)
    async with running(ashby_app) as ashby_url, running(slack_app) as slack_url:
        env = fleet_env(
            redis_url=redis.url, database_url=postgres.url, ashby_url=ashby_url, slack_url=slack_url, **FLEET_SETTINGS
        )
        supervisor = Supervisor(env, log_dir)
        for n, port in enumerate(ports):
            supervisor.add(f"ingress-{n}", "ingress", "--port", str(port))
        for queue in ("default", "interactive"):
            for n in range(3):
                supervisor.add(f"worker-{queue}-{n}", "worker", "--queue", queue, queue=queue)
        await supervisor.start()
        try:
            await _wait_ready(ingresses, redis.url)
            planned = scenario.interviews(run)
            world = World(
                run=run,
                origin=time.time(),
                planned=planned,
                expected=scenario.expected_reminders(run, planned),
                interviewer_ids=interviewer_ids,
                slack_ids=[by_ashby_id[user_id] for user_id in interviewer_ids],
                seeded=seeded,
                ashby=sim_of(ashby_app),
                slack=slack,
                supervisor=supervisor,
                ingress_urls=ingresses,
                faults=FaultRunner(supervisor, postgres, redis, random.Random(seed * 7 + 3)),
                event_ids=[],
                people={},
            )
            yield world
        finally:
            await supervisor.stop()


async def _fill_people_directory(
    url: str, seeded: SeededOrg, interviewer_ids: list[str], slack_ids: dict[str, str]
) -> None:
    """One matched row per interviewer, as after earlier lookups (`bench/reminders.py` does the same):
    resolving 1,500 people through `users.lookupByEmail` (Tier 3, 50/min) would take half an hour."""
    now = datetime.now(UTC)
    conn = await asyncpg.connect(url)
    try:
        for user_id in interviewer_ids:
            email = seeded.org.users[user_id].email.lower()
            person = people_db.Person(
                user_id, email, slack_ids[user_id], "America/New_York", people_db.MATCHED, looked_up_at=now
            )
            await people_db.save_lookup(conn, person)
    finally:
        await conn.close()


async def _wait_ready(ingresses: list[str], redis_url: str) -> None:
    async with httpx.AsyncClient(timeout=2) as http:

        async def answering() -> bool:
            try:
                statuses = [(await http.get(url + "/health")).status_code for url in ingresses]
            except httpx.HTTPError:
                return False
            return statuses == [200] * len(ingresses)

        await wait_until(answering, timeout_s=60, what="both ingress processes to answer /health")
    queue = queue_redis(redis_url)
    try:

        async def polling() -> bool:
            keys = [name + ":health-check" for name in QUEUES.values()]
            return bool(await queue.exists(*keys) == len(keys))

        await wait_until(polling, timeout_s=60, what="a worker on each queue to poll it")
    finally:
        await queue.aclose()


async def _play(world: World, postgres: Postgres, seed: int, until: float) -> None:
    run, origin = world.run, world.origin
    rng = random.Random(seed)
    doubles = scenario.submitters(run, world.expected, rng)
    end = min(until, origin + run.horizon_s + run.settle_s)
    slack = world.slack
    actors = [
        SlackActor(slack, signing_secret=SLACK_SIGNING_SECRET, interactions_url=url + "/slack/interactions")
        for url in world.ingress_urls
    ]
    inbox = Inbox(slack)
    reading = asyncio.create_task(inbox.run())
    people_tasks: list[asyncio.Task[None]] = []

    def start_people(interview: int) -> None:
        """The submitters on this interview start watching their DMs as soon as it is scheduled."""
        event_id = world.event_ids[interview]
        for interviewer in range(3 * interview, 3 * interview + 3):
            if interviewer in doubles:
                user_id = world.interviewer_ids[interviewer]
                person = Interviewer(
                    world.slack_ids[interviewer], doubles[interviewer], _in_ashby(world.seeded, event_id, user_id)
                )
                world.people[interviewer] = person
                people_tasks.append(asyncio.create_task(give_feedback(person, inbox, slack, actors, rng, end)))

    try:
        scheduling = asyncio.create_task(_schedule(world, start_people))
        faults = asyncio.create_task(world.faults.run(scenario.faults(run), origin))
        await scheduling
        await faults
        world.settled = await wait_settled(
            postgres.url,
            horizon=_at(origin + run.horizon_s + 1),
            delivered=lambda: delivered(world),
            tasks=people_tasks,
            until=end,
        )
    finally:
        for task in [*people_tasks, reading]:
            task.cancel()
        await asyncio.gather(*people_tasks, reading, return_exceptions=True)
        for actor in actors:
            await actor.aclose()


async def _schedule(world: World, scheduled: Callable[[int], None]) -> None:
    """Schedule each interview in Ashby at its time; the simulator sends the webhooks as Ashby would."""
    org, seeded = world.seeded.org, world.seeded
    interview_id = seeded.interview_ids["Onsite Panel"]
    for interview in world.planned:
        await asyncio.sleep(max(0.0, world.origin + interview.scheduled_s - time.time()))
        application = seeded.add_application(f"Candidate {interview.index}")
        people = [SimInterviewer(world.interviewer_ids[3 * interview.index + seat]) for seat in range(3)]
        spec = EventSpec(
            interview_id,
            _at(world.origin + interview.start_s),
            _at(world.origin + interview.end_s),
            people,
            meeting_link=f"https://meet.example.com/chaos-{interview.index}",
        )
        world.event_ids.append(org.schedule(application.id, [spec]).event_ids[0])
        scheduled(interview.index)


def _at(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _in_ashby(seeded: SeededOrg, event_id: str, user_id: str) -> Callable[[], bool]:
    def found() -> bool:
        return any(f.event_id == event_id and f.user_id == user_id for f in seeded.org.feedback.values())

    return found
