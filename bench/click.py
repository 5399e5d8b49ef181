"""Issue 4: "Open feedback form" clicked while 10,000 `default` jobs are queued: click to `views.open`.

The ingress runs as in production (`bench/server.py`: uvicorn, httptools, uvloop, one process) against
Redis; the Slack simulator (per-method rate limits on) runs in the bench process, and its actor builds,
signs and sends each `block_actions` exactly as Slack does. The modals are the full engineering
scorecard rendered by `render_modal` and stored with `store_modal`, as a worker does when it sends the
due reminder; the buttons are the real `due_message` ones. Each click is timed from just before the
actor sends it to the moment the simulator receives the ingress's `views.open` (same process, same
clock), and to the ack.

Three conditions in one run, the same clicks at the same pace:
- empty: nothing queued, no worker (the baseline);
- backlog: `--backlog` (10,000) `ingest_ashby_event` jobs of ~2 KB webhook bodies queued, no worker;
- backlog + busy workers: the same backlog kept topped up while `--click-workers` real
  `fleet worker --queue default` processes drain it (PostgreSQL writes) on the same two cores.
Clicks are paced at 0.65 s: `views.open` is Slack tier 4 (100/min), enforced both by our Redis limiter
and by the simulator, so a faster pace would measure the limiter, not the ingress.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import psutil  # type: ignore[import-untyped]

from bench.common import (
    ASHBY_KEY,
    SLACK_SIGNING_SECRET,
    SLACK_TOKEN,
    count_log_events,
    cpu_seconds,
    fleet_env,
    fleet_workers,
    percentile,
)
from bench.loadgen import webhook_body
from fleet.processes import wait_until
from shared.blocks import ReminderInfo, due_message
from shared.embedded import free_port
from shared.feedback_form import Modal, ModalContext, render_modal
from shared.jobs import QUEUE_DEFAULT, enqueue_ashby_event, queue_redis
from shared.logs import configure_logging
from shared.modal_cache import CachedModal, modal_key, store_modal
from shared.payloads.ashby import FeedbackFormDefinition
from sim.ashby import wire
from sim.ashby.app import create_app as create_ashby
from sim.ashby.app import sim_of
from sim.ashby.seed import SeededOrg, seed_org
from sim.pairing import mirror_users
from sim.serving import listening_socket, running
from sim.slack import SlackActor, SlackState
from sim.slack import create_app as create_slack
from sim.slack.state import Message

OPEN_FEEDBACK_FORM = "open_feedback_form"
CONDITIONS = ("empty", "backlog", "backlog + busy workers")


@dataclass(frozen=True)
class ClickRun:
    clicks: int = 70  # per condition
    backlog: int = 10_000
    workers: int = 2
    interval_s: float = 0.65
    warmup_clicks: int = 5


@dataclass(frozen=True)
class Target:
    message: Message
    slack_user_id: str


@dataclass(frozen=True)
class Sample:
    to_views_open_ms: float | None  # None: views.open never reached the simulator
    to_ack_ms: float
    status: int
    opened: bool


async def click_benchmark(database_url: str, redis_url: str, run: ClickRun, log_dir: Path) -> dict[str, Any]:
    configure_logging(level="WARNING")
    queue = queue_redis(redis_url, max_connections=100)
    await queue.flushdb()
    seeded = seed_org()
    slack = SlackState()
    slack.rate_limits.enabled = True
    slack_ids = mirror_users(seeded.org, slack)
    port = free_port()
    ingress_url = f"http://127.0.0.1:{port}"
    slack_app = create_slack(
        slack,
        token=SLACK_TOKEN,
        signing_secret=SLACK_SIGNING_SECRET,
        interactions_url=ingress_url + "/slack/interactions",
    )
    ashby_app = create_ashby(seeded.org, api_key=ASHBY_KEY)
    total = run.warmup_clicks + run.clicks * len(CONDITIONS)
    targets = iter(await _prerender(queue, seeded, slack, slack_ids, total))
    try:
        async with (
            running(slack_app, sock=listening_socket()) as slack_url,
            running(ashby_app, sock=listening_socket(), lifespan="off") as ashby_url,
        ):
            env = fleet_env(redis_url=redis_url, database_url=database_url, ashby_url=ashby_url, slack_url=slack_url)
            ingress = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.server",
                "ingress",
                str(port),
                env={**os.environ, **env},
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                await wait_until(lambda: _healthy(ingress_url), what="the ingress")
                actor: SlackActor = slack_app.state.actor
                await _clicks(actor, slack, targets, run.warmup_clicks, run.interval_s)
                conditions: dict[str, Any] = {}
                results = {
                    "clicks": run.clicks,
                    "backlog_jobs": run.backlog,
                    "workers": run.workers,
                    "conditions": conditions,
                }
                conditions["empty"] = await _condition(actor, slack, targets, run, queue, ingress.pid)
                await _fill(queue, run.backlog, start=0)
                conditions["backlog"] = await _condition(actor, slack, targets, run, queue, ingress.pid)
                async with fleet_workers(run.workers, "default", env, log_dir):
                    topper = _Topper(queue, run.backlog, start=run.backlog)
                    await topper.wait_until_draining()
                    task = asyncio.create_task(topper.run())
                    try:
                        conditions["backlog + busy workers"] = await _condition(
                            actor, slack, targets, run, queue, ingress.pid, topper=topper
                        )
                    finally:
                        task.cancel()
                results["worker_log_events"] = count_log_events(log_dir, ("job_done", "job_retry", "job_failed"))
                return results
            finally:
                ingress.terminate()
                await ingress.wait()
                await sim_of(ashby_app).aclose()
    finally:
        await queue.aclose()


async def _healthy(url: str) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(url + "/health")).status_code == 200
    except httpx.TransportError:
        return False


async def _prerender(
    queue: Any, seeded: SeededOrg, slack: SlackState, slack_ids: dict[str, str], count: int
) -> list[Target]:
    """`count` (event, interviewer) modals in Redis and their "Feedback due" DMs in the simulator."""
    org = seeded.org
    form = msgspec.convert(wire.form(org, org.forms[seeded.form_id]), FeedbackFormDefinition)
    start = datetime.now(UTC) - timedelta(hours=1)
    people = itertools.cycle(seeded.interviewer_ids)
    targets = []
    for n in range(count):
        interviewer_id = next(people)
        event_id = f"bench-event-{n}"
        key = modal_key(event_id, interviewer_id)
        context = ModalContext(
            submission_key=key,
            candidate_name=f"Candidate {n}",
            interview_title="Onsite Panel",
            job_title="Senior Backend Engineer",
            feedback_link=f"https://app.ashbyhq.com/interview-feedback/{n}",
        )
        rendered = render_modal(form, context=context)
        assert isinstance(rendered, Modal)
        slack_user_id = slack_ids[interviewer_id]
        await store_modal(
            queue,
            CachedModal(
                event_id=event_id,
                interviewer_id=interviewer_id,
                slack_user_id=slack_user_id,
                view=rendered.view,
                field_map=rendered.field_map,
            ),
        )
        info = ReminderInfo(
            candidate_name=context.candidate_name,
            interview_title=context.interview_title,
            start=start,
            end=start + timedelta(hours=1),
            job_title=context.job_title,
            feedback_link=context.feedback_link,
            meeting_link="https://meet.example.com/bench",
            resume_key=key,
        )
        text, blocks = due_message(info, tz="America/New_York", kind="due", sequence=1, reminder_key=key)
        channel = slack.open_dm(slack_user_id)[0].id
        now = time.time()
        message = Message(channel=channel, ts=slack.next_ts(channel, now), text=text, blocks=blocks, posted_at=now)
        slack.messages.append(message)
        targets.append(Target(message, slack_user_id))
    return targets


async def _fill(queue: Any, count: int, *, start: int) -> int:
    """Queue `count` distinct `ingest_ashby_event` jobs (webhook bodies numbered from `start`)."""
    end = start + count
    for chunk in range(start, end, 500):
        bodies = [webhook_body(n) for n in range(chunk, min(chunk + 500, end))]
        await asyncio.gather(*(enqueue_ashby_event(queue, body) for body in bodies))
    return start + count


class _Topper:
    """Keeps at least `backlog` jobs queued while workers drain them, as a steady inflow of webhooks would."""

    def __init__(self, queue: Any, backlog: int, *, start: int) -> None:
        self.queue = queue
        self.backlog = backlog
        self.next = start
        self.added = 0
        self.depths: list[int] = []

    async def wait_until_draining(self) -> None:
        async def draining() -> bool:
            return int(await self.queue.zcard(QUEUE_DEFAULT)) < self.backlog - 50

        await wait_until(draining, timeout_s=30, what="the workers to start draining")

    async def run(self) -> None:
        while True:
            depth = int(await self.queue.zcard(QUEUE_DEFAULT))
            self.depths.append(depth)
            missing = self.backlog - depth
            if missing > 0:
                self.next = await _fill(self.queue, missing, start=self.next)
                self.added += missing
            await asyncio.sleep(0.25)


async def _condition(
    actor: SlackActor,
    slack: SlackState,
    targets: Iterator[Target],
    run: ClickRun,
    queue: Any,
    ingress_pid: int,
    *,
    topper: _Topper | None = None,
) -> dict[str, Any]:
    depth_before = int(await queue.zcard(QUEUE_DEFAULT))
    added_before = topper.added if topper else 0
    depths_from = len(topper.depths) if topper else 0
    ingress_cpu = cpu_seconds(ingress_pid)
    psutil.cpu_percent(interval=None)
    started = time.perf_counter()
    samples = await _clicks(actor, slack, targets, run.clicks, run.interval_s)
    elapsed = time.perf_counter() - started
    machine_busy = psutil.cpu_percent(interval=None)
    depth_after = int(await queue.zcard(QUEUE_DEFAULT))
    opened = [s.to_views_open_ms for s in samples if s.to_views_open_ms is not None]
    acks = [s.to_ack_ms for s in samples]
    drained = depth_before + (topper.added - added_before if topper else 0) - depth_after
    return {
        "clicks": len(samples),
        "opened": sum(s.opened for s in samples),
        "statuses": dict(Counter(s.status for s in samples)),
        "views_open_p50_ms": round(percentile(opened, 0.50), 1),
        "views_open_p99_ms": round(percentile(opened, 0.99), 1),
        "views_open_max_ms": round(max(opened, default=float("nan")), 1),
        "slowest_click": max(range(len(samples)), key=lambda n: samples[n].to_ack_ms, default=-1),
        "ack_p50_ms": round(percentile(acks, 0.50), 1),
        "ack_p99_ms": round(percentile(acks, 0.99), 1),
        "queued_before": depth_before,
        "queued_after": depth_after,
        "queued_min": min([depth_before, depth_after, *(topper.depths[depths_from:] if topper else [])]),
        "jobs_drained_per_s": round(drained / elapsed, 1),
        "machine_cpu_percent": round(machine_busy, 1),
        "ingress_cpu_ms_per_click": round((cpu_seconds(ingress_pid) - ingress_cpu) * 1000 / max(1, len(samples)), 2),
    }


async def _clicks(
    actor: SlackActor, slack: SlackState, targets: Iterator[Target], count: int, interval_s: float
) -> list[Sample]:
    samples = []
    next_at = time.perf_counter()
    for _ in range(count):
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        next_at += interval_s
        target = next(targets)
        clicked = time.time()
        response = await actor.click_button(target.message, OPEN_FEEDBACK_FORM, user_id=target.slack_user_id)
        acked = time.time()
        trigger = slack.interactions[-1].payload["trigger_id"]
        opens = (r for r in reversed(slack.requests) if r.method == "views.open")
        call = next((r for r in opens if r.args.get("trigger_id") == trigger), None)
        samples.append(
            Sample(
                to_views_open_ms=None if call is None else (call.at - clicked) * 1000,
                to_ack_ms=(acked - clicked) * 1000,
                status=response.status_code,
                opened=call is not None and call.status == 200 and call.error is None,
            )
        )
    return samples


def click_report(r: dict[str, Any]) -> list[str]:
    lines = [
        f"Open feedback form: {r['clicks']} clicks per condition, one every 0.65 s, from the Slack simulator's actor "
        f"to `fleet ingress`; backlog {r['backlog_jobs']:,} `ingest_ashby_event` jobs; {r['workers']} busy default "
        f"worker(s).",
        "",
        "| condition | opened | click -> views.open p50 ms | p99 ms | max ms | click -> ack p50 ms | p99 ms "
        "| queued (before/after) | jobs drained/s | machine CPU % | ingress CPU ms/click |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in CONDITIONS:
        c = r["conditions"][name]
        lines.append(
            f"| {name} | {c['opened']}/{c['clicks']} | {c['views_open_p50_ms']} | {c['views_open_p99_ms']} | "
            f"{c['views_open_max_ms']} | {c['ack_p50_ms']} | {c['ack_p99_ms']} | "
            f"{c['queued_before']:,}/{c['queued_after']:,} | {c['jobs_drained_per_s']} | {c['machine_cpu_percent']} | "
            f"{c['ingress_cpu_ms_per_click']} |"
        )
    worst = max(float(r["conditions"][name]["views_open_p99_ms"]) for name in CONDITIONS)
    lines += [
        "",
        f"Worst p99 click -> views.open: {worst} ms (target < 300 ms: {'met' if worst < 300 else 'MISSED'}); "
        f"worker log events {r['worker_log_events']}.",
    ]
    return lines
