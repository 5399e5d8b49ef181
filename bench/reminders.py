"""Issue 4: briefs for 1,000 interviews starting at the same instant, delivered with the real clock.

The org is the simulator's seed plus one interviewer per seat (3,000 by default) and one candidate and
application per interview, all mirrored into the Slack simulator (per-channel rate limits on). The bench
process serves both simulators and the ingress; `--reminder-workers` real `fleet worker --queue default`
processes (real clock, cron on) ingest the schedule webhooks, dispatch and send. Every interview starts
`REMINDER_BRIEF_MINUTES` (10) after a due instant D that falls on a tick of the 15 s dispatch cron, a
margin ahead of now, so that everything upstream of the dispatch is done before D:

- ingestion: webhooks -> ingress -> default workers -> schedules, planned reminders, and the Ashby metadata
  the reminders show, which ingestion queues for the refresher (`workers/metadata_refresh.py`: one job at a time
  fetches every queued application and interview). In production that happens days ahead; here the
  workers of this set-up phase get an Ashby budget of 100,000/min so 2,000 fetches take seconds, then
  stop, and the measured workers start with the product's budget (`ASHBY_REQUESTS_PER_MINUTE`, 300);
- the people directory is filled before ingestion (one matched row per interviewer, as after an earlier
  lookup): resolving 3,000 people through `users.lookupByEmail` (tier 3, 50/min) would take an hour;
- `--ashby-cache` then sets the cache as the sends will find it: `stale` (the default: fetched two days ago,
  as for interviews scheduled days ahead; each send uses the copy and queues one refresh), `fresh` (fetched
  within `CACHE_TTL`, no Ashby call during the window) or `cold` (nothing cached: each send fetches inline).

Lateness is the Slack simulator's receive time of each brief minus the reminder's `due_at`. The floor is
the lateness the workspace budget alone imposes (`SLACK_MESSAGES_PER_SECOND`, burst 20): the k-th of n
messages due at one instant cannot leave before (k - 19) / budget seconds. The per-channel limit (1/s) does
not bind: each interviewer gets one brief in their own DM.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.common import (
    ASHBY_KEY,
    ASHBY_WEBHOOK_SECRET,
    SLACK_SIGNING_SECRET,
    SLACK_TOKEN,
    count_log_events,
    cpu_seconds,
    dispatch_timeline,
    fleet_env,
    fleet_workers,
    percentile,
)
from ingress.app import create_app as create_ingress
from shared.clients.slack import SlackLimits
from shared.db import people as people_db
from shared.jobs import QUEUE_DEFAULT, queue_redis
from shared.logs import configure_logging
from shared.settings import Settings, load_settings
from sim.ashby.app import AshbySim, sim_of
from sim.ashby.app import create_app as create_ashby
from sim.ashby.records import EventSpec, SimInterviewer
from sim.ashby.seed import SeededOrg, seed_org
from sim.ashby.webhooks import WebhookTarget
from sim.pairing import mirror_users
from sim.serving import listening_socket, running, url_of
from sim.slack import SlackState
from sim.slack import create_app as create_slack
from workers.jobs.reminders import HORIZON, PLAN_SHARE
from workers.metadata_refresh import QUEUED_PREFIX

CACHE_MODES = ("stale", "fresh", "cold")
CACHE_TABLES = ("ashby_applications", "ashby_interviews")
CRON_STEP_S = 15  # workers/dispatch_clock.py: dispatch_due_reminders on every multiple of 15 s
SETUP_S = 60.0  # schedules to ingest and metadata to cache before the first brief may leave
LOG_EVENTS = ("reminder_sent", "reminder_released", "job_retry", "job_failed")
BRIEF_COLUMNS = "id, interviewer_id, due_at, state, skip_reason, attempts, channel, ts"


@dataclass(frozen=True)
class ReminderRun:
    interviews: int = 1000
    interviewers_per_interview: int = 3
    workers: int = 2
    slack_budget: float | None = None  # SLACK_MESSAGES_PER_SECOND; None: the product default
    ashby_cache: str = "stale"  # fresh | stale | cold: the metadata cache as the sends find it
    margin_s: float | None = None  # from scheduling to the due instant; None: what the crowd needs (see below)
    brief_early_minutes: int | None = None  # REMINDER_BRIEF_EARLY_MINUTES; None: the product default

    @property
    def briefs(self) -> int:
        return self.interviews * self.interviewers_per_interview

    def margin(self, settings: Settings) -> float:
        """Schedules are known days ahead in production; here, long enough before the due instant for the
        dispatcher to spread the crowd at its pace (`workers/jobs/reminders.py`), within its tolerance, plus a
        minute for the set-up (ingestion and the metadata cache)."""
        if self.margin_s is not None:
            return self.margin_s
        spread_s = self.briefs / (settings.slack_messages_per_second * PLAN_SHARE) + HORIZON.total_seconds()
        return SETUP_S + min(spread_s, settings.reminder_brief_early_minutes * 60)


def budget_floor(count: int, per_s: float, burst: int) -> list[float]:
    """Lateness of each of `count` messages due at one instant under a GCRA budget: the theoretical minimum."""
    return [max(0, k - (burst - 1)) / per_s for k in range(count)]


async def _wait_for(what: str, condition: Callable[[], Awaitable[bool]], timeout_s: float, every_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(every_s)


async def reminders_benchmark(database_url: str, redis_url: str, run: ReminderRun, log_dir: Path) -> dict[str, Any]:
    configure_logging(level="WARNING")  # the in-process ingress and clients; the workers log to files
    queue = queue_redis(redis_url)
    await queue.flushdb()
    await queue.aclose()
    seeded = seed_org()
    interviewers = [
        seeded.org.add_user(f"Interviewer{n}", "Bench", f"interviewer{n}@bench.example.com").id
        for n in range(run.briefs)
    ]
    applications = [seeded.add_application(f"Candidate {n}").id for n in range(run.interviews)]
    slack = SlackState()
    slack.rate_limits.enabled = True
    slack_ids = mirror_users(seeded.org, slack)
    ingress_sock = listening_socket()
    ashby_app = create_ashby(
        seeded.org,
        api_key=ASHBY_KEY,
        webhook=WebhookTarget(url_of(ingress_sock) + "/webhooks/ashby", ASHBY_WEBHOOK_SECRET),
    )
    slack_app = create_slack(slack, token=SLACK_TOKEN, signing_secret=SLACK_SIGNING_SECRET, interactions_url=None)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        async with (
            running(ashby_app, sock=listening_socket(), lifespan="off") as ashby_url,
            running(slack_app, sock=listening_socket()) as slack_url,
        ):
            budget = {} if run.slack_budget is None else {"SLACK_MESSAGES_PER_SECOND": f"{run.slack_budget:g}"}
            if run.brief_early_minutes is not None:
                budget["REMINDER_BRIEF_EARLY_MINUTES"] = str(run.brief_early_minutes)
            env = fleet_env(
                redis_url=redis_url, database_url=database_url, ashby_url=ashby_url, slack_url=slack_url, **budget
            )
            settings = load_settings(env)
            now = datetime.now(UTC)
            for user_id in interviewers:
                person = people_db.Person(
                    user_id,
                    seeded.org.users[user_id].email.lower(),
                    slack_ids[user_id],
                    "America/New_York",
                    people_db.MATCHED,
                    looked_up_at=now,
                )
                await people_db.save_lookup(pool, person)
            async with running(create_ingress(settings), sock=ingress_sock):
                measure = _Measure(run, settings, env, log_dir, pool, seeded, sim_of(ashby_app), slack)
                result = await measure.run(interviewers, applications)
            await sim_of(ashby_app).aclose()
        result["worker_log_events"] = count_log_events(log_dir, LOG_EVENTS)
        ticks = dispatch_timeline(log_dir, datetime.fromisoformat(result["due"]).timestamp())
        # Every dispatch of the measured workers, from the first brief sent to the last (early ones included).
        first, last = result["sending_s"]
        result["dispatches"] = [tick for tick in ticks if first - CRON_STEP_S <= tick[0] <= last]
        delays = [delay for _, delay in result["dispatches"]]
        result["dispatch_delay_p50_s"] = round(percentile(delays, 0.50), 2) if delays else math.nan
        result["dispatch_delay_max_s"] = max(delays, default=math.nan)
        return result
    finally:
        await pool.close()


class _Measure:
    def __init__(
        self,
        run: ReminderRun,
        settings: Settings,
        env: dict[str, str],
        log_dir: Path,
        pool: asyncpg.Pool,
        seeded: SeededOrg,
        ashby: AshbySim,
        slack: SlackState,
    ) -> None:
        self.run_ = run
        self.settings = settings
        self.env = env
        self.log_dir = log_dir
        self.pool = pool
        self.seeded = seeded
        self.ashby = ashby
        self.slack = slack
        self.progress: list[tuple[float, int, int, int]] = []  # s after due, done, being sent, claimed again

    async def run(self, interviewers: list[str], applications: list[str]) -> dict[str, Any]:
        run, per = self.run_, self.run_.interviewers_per_interview
        margin_s = run.margin(self.settings)
        due_s = math.ceil((time.time() + margin_s) / CRON_STEP_S) * CRON_STEP_S
        due = datetime.fromtimestamp(due_s, UTC)
        start = due + timedelta(minutes=self.settings.reminder_brief_minutes)
        interview_id = self.seeded.interview_ids["Onsite Panel"]
        began = time.perf_counter()
        for n, application_id in enumerate(applications):
            people = [SimInterviewer(user_id) for user_id in interviewers[n * per : (n + 1) * per]]
            meeting = f"https://meet.example.com/bench-{n}"
            spec = EventSpec(interview_id, start, start + timedelta(hours=1), people, meeting_link=meeting)
            self.seeded.org.schedule(application_id, [spec])
        # Set-up workers: ingestion and its metadata refreshes, with an Ashby budget that does days' work in seconds.
        setup_logs = self.log_dir / "setup"
        setup_logs.mkdir(exist_ok=True)
        fast = {**self.env, "ASHBY_REQUESTS_PER_MINUTE": "100000"}
        async with fleet_workers(run.workers, "default", fast, setup_logs):
            statuses = Counter(status for _, status in await self.ashby.flush_webhooks())
            await _wait_for("the schedules to be ingested and planned", self._planned, margin_s, every_s=0.2)
            ingest_s = time.perf_counter() - began
            await _wait_for("ingestion to warm the metadata cache", self._cached, margin_s, every_s=0.2)
            await _wait_for("the set-up jobs to finish", self._drained, margin_s, every_s=0.2)
            warm_s = time.perf_counter() - began - ingest_s
        await self._set_cache(run.ashby_cache)
        calls_before = len(self.ashby.calls)
        async with fleet_workers(run.workers, "default", self.env, self.log_dir) as workers:
            spare_s = due_s - time.time()
            if spare_s < 0:
                raise RuntimeError(f"set-up ended {-spare_s:.1f} s after the due instant; raise --reminder-margin")
            cpu_before = {p.pid: cpu_seconds(p.pid) for p in workers}
            # Briefs may leave before the due instant: progress is recorded from now on.
            await _wait_for("the due instant", lambda: self._finished(due_s, start, until_s=due_s), spare_s + 5, 1.0)
            timeout_s = (start - due).total_seconds() + 60
            await _wait_for("every brief to be sent or skipped", lambda: self._finished(due_s, start), timeout_s, 1.0)
            await asyncio.sleep(2)  # a send whose row was claimed again meanwhile may still be posting
            worker_cpu_s = sum(cpu_seconds(p.pid) - cpu_before[p.pid] for p in workers)
        rows = await self.pool.fetch(f"SELECT {BRIEF_COLUMNS} FROM reminders WHERE kind = 'brief'")
        return {
            **self._figures(rows, due, start, calls_before),
            "webhook_statuses": dict(statuses),
            "ingest_s": round(ingest_s, 1),
            "warm_s": round(warm_s, 1),
            "spare_s": round(spare_s, 1),
            "margin_s": round(margin_s, 1),
            "worker_cpu_s": round(worker_cpu_s, 1),
            "progress": [(round(t), *counts) for t, *counts in self.progress[:: max(1, len(self.progress) // 30)]],
        }

    async def _planned(self) -> bool:
        planned = await self.pool.fetchval("SELECT count(*) FROM reminders WHERE kind = 'brief'")
        return bool(planned >= self.run_.briefs)

    async def _finished(self, due_s: float, start: datetime, *, until_s: float | None = None) -> bool:
        row = await self.pool.fetchrow(
            "SELECT count(*) FILTER (WHERE state IN ('sent', 'skipped')) AS done, "
            "count(*) FILTER (WHERE state = 'sending') AS sending, count(*) FILTER (WHERE attempts > 1) AS again "
            "FROM reminders WHERE kind = 'brief'"
        )
        self.progress.append((time.time() - due_s, row["done"], row["sending"], row["again"]))
        if until_s is not None:
            return time.time() >= until_s
        return bool(row["done"] == self.run_.briefs) or time.time() > start.timestamp() + 30

    async def _cached(self) -> bool:
        applications = await self.pool.fetchval("SELECT count(*) FROM ashby_applications")
        interviews = await self.pool.fetchval("SELECT count(*) FROM ashby_interviews")
        return bool(applications >= self.run_.interviews and interviews >= 1)

    async def _drained(self) -> bool:
        assert self.settings.redis_url is not None
        queue = queue_redis(self.settings.redis_url)
        try:
            return not await queue.zcard(QUEUE_DEFAULT)
        finally:
            await queue.aclose()

    async def _set_cache(self, mode: str) -> None:
        """The metadata cache as the sends will find it; see the module docstring."""
        if mode == "stale":
            # Days pass: ingestion's marks that it queued each object (a 5-minute window) are long gone.
            assert self.settings.redis_url is not None
            queue = queue_redis(self.settings.redis_url)
            try:
                markers = [key async for key in queue.scan_iter(match=QUEUED_PREFIX + "*", count=1000)]
                if markers:
                    await queue.delete(*markers)
            finally:
                await queue.aclose()
        for table in CACHE_TABLES:
            if mode == "stale":
                await self.pool.execute(f"UPDATE {table} SET fetched_at = fetched_at - interval '2 days'")
            elif mode == "cold":
                await self.pool.execute(f"DELETE FROM {table}")
            elif mode != "fresh":
                raise ValueError(f"unknown cache mode {mode!r}; expected one of {CACHE_MODES}")

    def _figures(self, rows: list[asyncpg.Record], due: datetime, start: datetime, calls_from: int) -> dict[str, Any]:
        posted = {(m.channel, m.ts): m.posted_at for m in self.slack.messages}
        briefs_by_channel: dict[str, list[float]] = defaultdict(list)
        for message in self.slack.messages:
            if message.text.startswith("Upcoming interview"):
                briefs_by_channel[message.channel].append(round(message.posted_at - due.timestamp(), 1))
        offsets = []  # receive time - due_at: negative for a brief sent early
        sent_at = []
        for row in rows:
            at = posted.get((row["channel"], row["ts"])) if row["state"] == "sent" else None
            if at is not None:
                offsets.append(at - row["due_at"].timestamp())
                sent_at.append(at - due.timestamp())
        # Lateness as the goal counts it: an early brief is not late (0); how early the early ones went is shown
        # beside it, so the trade is visible.
        lateness = [max(0.0, offset) for offset in offsets]
        earliness = [-offset for offset in offsets if offset < 0]
        limits = SlackLimits(workspace_per_s=self.settings.slack_messages_per_second)
        floor = budget_floor(len(rows), limits.workspace_per_s, limits.workspace_burst)
        posts = [r for r in self.slack.requests if r.method == "chat.postMessage"]
        run = self.run_
        return {
            "interviews": run.interviews,
            "briefs": len(rows),
            "workers": run.workers,
            "ashby_cache": run.ashby_cache,
            "budget_per_s": limits.workspace_per_s,
            "budget_burst": limits.workspace_burst,
            "due": due.isoformat(),
            "states": dict(Counter(r["state"] for r in rows)),
            "skip_reasons": dict(Counter(r["skip_reason"] for r in rows if r["state"] == "skipped")),
            "delivered": len(offsets),
            "delivered_before_start": sum(1 for offset in offsets if offset < (start - due).total_seconds()),
            "sent_early": len(earliness),
            "earliness_p50_s": round(percentile(earliness, 0.50), 1) if earliness else 0.0,
            "earliness_max_s": round(max(earliness), 1) if earliness else 0.0,
            "sending_s": (round(min(sent_at), 1), round(max(sent_at), 1)) if sent_at else (0.0, 0.0),
            "brief_early_minutes": self.settings.reminder_brief_early_minutes,
            "duplicate_briefs": sum(len(times) - 1 for times in briefs_by_channel.values()),
            "duplicate_times_s": sorted(times for times in briefs_by_channel.values() if len(times) > 1)[:10],
            "claimed_more_than_once": sum(1 for r in rows if r["attempts"] > 1),
            "max_attempts": max((r["attempts"] for r in rows), default=0),
            "posts": len(posts),
            "posts_429": sum(1 for r in posts if r.status == 429),
            "ashby_calls_by_endpoint": dict(Counter(call.endpoint for call in self.ashby.calls[calls_from:])),
            "p50_s": round(percentile(lateness, 0.50), 1),
            "p99_s": round(percentile(lateness, 0.99), 1),
            "max_s": round(max(lateness, default=math.nan), 1),
            "floor_p50_s": round(percentile(floor, 0.50), 1),
            "floor_p99_s": round(percentile(floor, 0.99), 1),
            "floor_max_s": round(floor[-1], 1) if floor else math.nan,
        }


def reminders_report(r: dict[str, Any]) -> list[str]:
    met = r["delivered_before_start"] == r["briefs"]
    return [
        f"Briefs: {r['interviews']} interviews starting at one instant, {r['briefs']} interviewers, every brief due at "
        f"{r['due']} (a dispatch tick); {r['workers']} `fleet worker --queue default` processes; Slack simulator "
        f"per-channel limits on; Ashby metadata cache {r['ashby_cache']} at the due time. Set-up: ingest "
        f"{r['ingest_s']} s, metadata warmed by ingestion in {r['warm_s']} s more, done {r['spare_s']} s before the "
        f"due instant (scheduled {r['margin_s']} s before it). "
        f"REMINDER_BRIEF_EARLY_MINUTES={r['brief_early_minutes']}.",
        "",
        "| lateness against due_at (an early brief counts 0) | p50 s | p99 s | max s |",
        "|---|---|---|---|",
        f"| floor of sending each when due: budget {r['budget_per_s']:g}/s, burst {r['budget_burst']} | "
        f"{r['floor_p50_s']} | {r['floor_p99_s']} | {r['floor_max_s']} |",
        f"| measured: Slack simulator receive time | {r['p50_s']} | {r['p99_s']} | {r['max_s']} |",
        "",
        f"Sent early: {r['sent_early']} of {r['briefs']}, by p50 {r['earliness_p50_s']} s, "
        f"max {r['earliness_max_s']} s. "
        f"First and last brief received {r['sending_s'][0]} s and {r['sending_s'][1]} s after the due instant.",
        f"Delivered before the start: {r['delivered_before_start']} of {r['briefs']} "
        f"({'target met' if met else 'target MISSED'}). States {r['states']}, skipped {r['skip_reasons']}.",
        f"Duplicate briefs: {r['duplicate_briefs']} (rows claimed more than once: {r['claimed_more_than_once']}, "
        f"max attempts {r['max_attempts']}; first duplicates, s after due: {r['duplicate_times_s']}).",
        f"chat.postMessage calls {r['posts']} (429: {r['posts_429']}); Ashby API calls after set-up "
        f"{r['ashby_calls_by_endpoint']}; "
        f"worker "
        f"log events {r['worker_log_events']}; worker CPU {r['worker_cpu_s']} s.",
        f"Dispatch runs while briefs were sent: {len(r['dispatches'])}, started after their tick by p50 "
        f"{r['dispatch_delay_p50_s']} s, max {r['dispatch_delay_max_s']} s; each (tick: s after due, started: s "
        f"after its tick): {r['dispatches']}",
        f"Progress (s after due, briefs sent or skipped, claimed and not yet sent, claimed more than once): "
        f"{r['progress']}",
    ]
