"""Issue 9: what one advancement evaluation cycle costs with 5,000 open applications, 200 of them dirty.

Set-up, not measured. The Ashby simulator's seeded org grows to `applications` open applications of its job:
60% at the Phone Screen (two interviewers and a shadow), 40% at the Onsite (a panel of three and a shadow,
after a complete phone screen), each with all but one (phone) or two (onsite) of its required scorecards in.
The cache is filled the way production fills it: each schedule stored by ingestion's `upsert_schedule`, each
application's place (job, plan, stage, status) as the metadata refresher caches it, the catalog read by
`sync_catalog` and the rules resolved and stored as `fleet rules apply` does (`RULES`), the feedback by a first
full `sync_feedback`; that first backlog is then evaluated (every application waits for a scorecard and is
queued again at its timeout, days ahead: the queue holds 5,000 rows, none due).

A cycle: `dirty` applications get one more scorecard in the simulator; the real `sync_feedback` job reads it
(one incremental `applicationFeedback.list` chain) and queues those applications; then the real
`evaluate_advancement` job runs against PostgreSQL, measured: wall time, SQL statements (the pool's query
logger, `shared/db/pool.py`), Ashby calls (the simulator's log), Redis enqueues and decisions. Then the
automatic decisions are executed (`execute_decision`: `application.info` + `application.changeStage` each),
as the default workers would within seconds, and the next run evaluates the applications they moved. After
the cycles: smaller and larger dirty sets (the statements per batch do not depend on them), and the
predecessor's cycle: one `applicationFeedback.list` per open application, one after the other, with the
production client over HTTP.

The rules have no quiet period (`quiet_minutes: 0`): with one, each scorecard costs a second evaluation when
its quiet period ends, and a cycle's batch holds those too.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec

from bench.common import ASHBY_KEY, fleet_env
from shared import jobs
from shared.advancement.rules_file import resolve
from shared.catalog_sync import sync_catalog
from shared.clients.ashby import AshbyClient
from shared.db import catalog as catalog_db
from shared.db import rules as rules_db
from shared.db.pool import create_pool
from shared.db.schedules import upsert_schedule
from shared.jobs import queue_redis
from shared.logs import configure_logging
from shared.payloads.ashby import InterviewSchedule
from shared.settings import load_settings
from sim.ashby import sample_answers, wire
from sim.ashby.app import AshbySim, sim_of
from sim.ashby.app import create_app as create_ashby
from sim.ashby.records import EventSpec, SimInterviewer
from sim.ashby.seed import SeededOrg, seed_org
from sim.serving import running
from workers.deps import Deps, build_deps
from workers.jobs.advancement import evaluate_advancement, execute_decision
from workers.jobs.sync import sync_feedback

RULES = """\
rules:
  - name: phone-screen
    job: Senior Backend Engineer
    stage: Phone Screen
    mode: auto
    require:
      - {field: Overall recommendation, each: ">= 3"}
    on_pass: advance
    on_fail:
      reject: {reason: Not a fit}
    quiet_minutes: 0
  - name: onsite
    job: Senior Backend Engineer
    stage: Onsite
    mode: approve
    interviews: [Onsite Panel]
    require:
      - {field: Overall recommendation, veto: 1 - Strong No Hire}
      - {field: Overall recommendation, average: ">= 3"}
    on_pass: {advance: Offer}
    on_fail:
      reject: {reason: Not a fit}
    quiet_minutes: 0
"""
PHONE_SHARE = 0.6
INTERVIEWERS = 40
PHONE = (2, 1)  # required interviewers, scorecards in before the first cycle
ONSITE = (3, 1)
STORE_CHUNK = 250
# The product's Ashby budget (ASHBY_REQUESTS_PER_MINUTE; Ashby publishes no number): the predecessor's calls
# at this pace are its floor in production. The bench's own clients get a budget that never binds.
PRODUCT_BUDGET_PER_MIN = 300
BENCH_BUDGET_PER_MIN = 100_000  # the most settings accept

# What each statement is, by a fragment of its text (the first match wins).
STATEMENTS = (
    ("BEGIN", "BEGIN"),
    ("COMMIT", "COMMIT"),
    ("pg_advisory_unlock_all", "pool reset on release"),
    ("DELETE FROM advancement_queue", "claim_due"),
    ("FROM ashby_applications WHERE id = ANY", "load_evidence: places"),
    ("JOIN interview_schedules s ON s.application_id = a.id", "load_evidence: seats"),
    ("SELECT rule FROM rules", "active_rules"),
    ("FROM ashby_plan_stages", "stages_of_plans"),
    ("INSERT INTO decisions", "insert_decisions"),
    ("INSERT INTO advancement_queue (application_id, evaluate_after, reason)\n        SELECT * FROM", "requeue"),
    ("UPDATE advancement_queue q", "evaluate_once_placed"),
    ("FROM decisions WHERE state IN", "stalled"),
    # asyncpg reads a type's definition the first time a connection sends it (here jsonb[]), then caches it.
    ("current_setting('jit')", "type introspection (jit off)"),
    ("typeinfo_tree", "type introspection"),
    ("set_config('jit', $1", "type introspection (jit back)"),
)


@dataclass(frozen=True)
class AdvancementRun:
    applications: int = 5000
    dirty: int = 200
    cycles: int = 5
    other_sizes: tuple[int, ...] = (50, 1, 400)  # dirty applications in the fixed-statements runs
    predecessor_calls: int | None = None  # default: one per open application


@dataclass(eq=False)  # asyncpg keeps its loggers in a set
class QueryLog:
    """Every statement the counted pool ran: (text, seconds)."""

    queries: list[tuple[str, float]] = field(default_factory=list)

    def __call__(self, logged: Any) -> None:
        self.queries.append((logged.query, logged.elapsed))

    async def since(self, mark: int) -> list[tuple[str, float]]:
        await asyncio.sleep(0)  # asyncpg reports each statement on the loop's next iteration
        await asyncio.sleep(0)
        return self.queries[mark:]


def kind(query: str) -> str:
    return next((name for fragment, name in STATEMENTS if fragment in query), " ".join(query.split())[:60])


def batches(queries: list[tuple[str, float]]) -> list[list[str]]:
    """The run's statements cut at each BEGIN: one list per batch transaction (with what follows it)."""
    cut: list[list[str]] = [[]]
    for query, _ in queries:
        if kind(query) == "BEGIN" and cut[-1]:
            cut.append([])
        cut[-1].append(kind(query))
    return cut


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Org:
    """The simulated org with the bench's applications: who still owes a scorecard, per application."""

    seeded: SeededOrg
    missing: dict[str, list[tuple[str, str, str]]]  # application -> [(event, interviewer, form)] still owed
    rng: random.Random

    def give_feedback(self, count: int) -> list[str]:
        """One more scorecard (a random score) for `count` applications that still owe one."""
        owing = sorted(a for a, seats in self.missing.items() if seats)
        chosen = self.rng.sample(owing, min(count, len(owing)))
        org = self.seeded.org
        for application_id in chosen:
            event_id, user_id, form_id = self.missing[application_id].pop(0)
            answers = sample_answers(org.forms[form_id].sections, score=self.rng.randint(1, 4))
            org.submit_feedback(
                form_id=form_id, application_id=application_id, submissions=answers, user_id=user_id, event_id=event_id
            )
        return chosen


def build_org(applications: int, now: datetime, clock: Clock) -> Org:
    seeded = seed_org(clock=clock, seed=9)
    org = seeded.org
    people = [org.add_user(f"Interviewer{n}", "Bench", f"interviewer{n}@example.com").id for n in range(INTERVIEWERS)]
    rng = random.Random(9)
    missing: dict[str, list[tuple[str, str, str]]] = {}
    phone_form, onsite_form = seeded.short_form_id, seeded.form_id

    def panel(application_id: str, interview: str, required: int, end: datetime, status: str) -> list[str]:
        chosen = rng.sample(people, required + 1)
        seats = [SimInterviewer(p) for p in chosen[:required]] + [SimInterviewer(chosen[-1], "Shadow", False)]
        spec = EventSpec(seeded.interview_ids[interview], end - timedelta(hours=1), end, seats)
        schedule = org.schedule(application_id, [spec], status=status)
        return [schedule.event_ids[0], *chosen[:required]]

    def answer(application_id: str, event_id: str, user_id: str, form_id: str) -> None:
        answers = sample_answers(org.forms[form_id].sections, score=rng.randint(2, 4))
        org.submit_feedback(
            form_id=form_id, application_id=application_id, submissions=answers, user_id=user_id, event_id=event_id
        )

    for n in range(applications):
        onsite = n >= applications * PHONE_SHARE
        application = seeded.add_application(f"Candidate {n}", stage="Phone Screen")
        end = now - timedelta(hours=rng.randint(2, 72))
        if onsite:  # a complete phone screen first, then the onsite
            event_id, *people_in = panel(application.id, "Phone Screen", PHONE[0], end - timedelta(days=7), "Complete")
            for user_id in people_in:
                answer(application.id, event_id, user_id, phone_form)
            application.stage_id = seeded.stage_ids["Onsite"]
        required, given = ONSITE if onsite else PHONE
        form_id = onsite_form if onsite else phone_form
        interview = "Onsite Panel" if onsite else "Phone Screen"
        event_id, *people_in = panel(application.id, interview, required, end, "WaitingOnFeedback")
        for user_id in people_in[:given]:
            answer(application.id, event_id, user_id, form_id)
        missing[application.id] = [(event_id, user_id, form_id) for user_id in people_in[given:]]
    return Org(seeded, missing, random.Random(90))


async def fill_cache(pool: asyncpg.Pool, org: Org, now: datetime) -> None:
    """The schedules as ingestion stores them, and each application's place as the refresher caches it."""
    sim = org.seeded.org
    schedules = [
        msgspec.json.decode(msgspec.json.encode(wire.schedule(sim, s)), type=InterviewSchedule)
        for s in sim.schedules.values()
    ]
    for start in range(0, len(schedules), STORE_CHUNK):
        async with pool.acquire() as conn, conn.transaction():
            for schedule in schedules[start : start + STORE_CHUNK]:
                await upsert_schedule(conn, schedule, now=now)
    stages = {s.id: s for s in sim.stages.values()}
    rows = [
        (
            a.id,
            a.candidate_id,
            sim.candidates[a.candidate_id].name,
            a.job_id,
            sim.jobs[a.job_id].title,
            stages[a.stage_id].title,
            a.stage_id,
            stages[a.stage_id].plan_id,
            a.status,
        )
        for a in sim.applications.values()
        if a.id in org.missing
    ]
    await pool.execute(
        """
        INSERT INTO ashby_applications (id, candidate_id, candidate_name, job_id, job_title, stage_title, stage_id,
            plan_id, status, fetched_at)
        SELECT *, $10::timestamptz FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
            $6::text[], $7::text[], $8::text[], $9::text[])
        """,
        *[list(column) for column in zip(*rows, strict=True)],
        now,
    )


@dataclass
class Bench:
    deps: Deps
    log: QueryLog
    sim: AshbySim
    clock: Clock

    @property
    def ctx(self) -> dict[str, Any]:
        return {"deps": self.deps, "job_try": 1}

    async def measured(self, job: Any, *args: Any) -> dict[str, Any]:
        """Run a job once: its wall time, statements (by kind and per batch), database time, Ashby calls, and
        the follow-up jobs it queued in Redis (one round trip each) with their time."""
        mark, calls = len(self.log.queries), len(self.sim.calls)
        with timed_enqueues() as enqueues:
            started = time.perf_counter()
            outcome = await job(self.ctx, *args)
            wall = time.perf_counter() - started
        queries = await self.log.since(mark)
        return {
            "outcome": outcome,
            "wall_s": wall,
            "statements": len(queries),
            "db_s": sum(elapsed for _, elapsed in queries),
            "kinds": Counter(kind(q) for q, _ in queries),
            "batches": batches(queries),
            "ashby_calls": Counter(c.endpoint for c in self.sim.calls[calls:]),
            "enqueues": enqueues[0],
            "enqueue_s": enqueues[1],
        }

    async def cycle(self, org: Org, dirty: int) -> dict[str, Any]:
        """`dirty` applications get a scorecard; the feedback sync queues them; the evaluation runs (measured);
        the automatic decisions are executed, as the default workers would within seconds; the applications
        they moved are evaluated at their new stage by the next run."""
        self.clock.now += timedelta(minutes=5)
        org.give_feedback(dirty)
        synced = await self.measured(sync_feedback)
        queued = await self.deps.pool.fetchval(
            "SELECT count(*) FROM advancement_queue WHERE evaluate_after <= $1", self.clock.now
        )
        evaluated = await self.measured(evaluate_advancement)
        executed = await self.execute_approved()
        follow_up = await self.measured(evaluate_advancement)
        return {
            "dirty": dirty,
            "queued_due": queued,
            "sync": synced,
            "evaluation": evaluated,
            "executions": executed,
            "follow_up": follow_up,
        }

    async def execute_approved(self) -> dict[str, Any]:
        """Every automatic decision waiting for its execution, executed one after the other."""
        ids = [r["id"] for r in await self.deps.pool.fetch("SELECT id FROM decisions WHERE state = 'approved'")]
        calls = len(self.sim.calls)
        started = time.perf_counter()
        outcomes = Counter([(await execute_decision(self.ctx, decision_id))["outcome"] for decision_id in ids])
        return {
            "decisions": len(ids),
            "wall_s": time.perf_counter() - started,
            "outcomes": dict(outcomes),
            "ashby_calls": Counter(c.endpoint for c in self.sim.calls[calls:]),
        }


@contextlib.contextmanager
def timed_enqueues() -> Iterator[list[Any]]:
    """Count and time `shared.jobs.enqueue_default` (the jobs call it through the module) while the block runs:
    [count, seconds]."""
    original = jobs.enqueue_default
    found: list[Any] = [0, 0.0]

    async def counted(*args: Any, **kwargs: Any) -> bool:
        started = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            found[0] += 1
            found[1] += time.perf_counter() - started

    jobs.enqueue_default = counted
    try:
        yield found
    finally:
        jobs.enqueue_default = original


async def advancement_benchmark(database_url: str, redis_url: str, run: AdvancementRun) -> dict[str, Any]:
    configure_logging(level="WARNING")  # the jobs run in this process: one line per job would flood the report
    # The jobs' clock stays behind PostgreSQL's: `stalled` compares it with `updated_at` (the database's now()),
    # and a clock ahead would find every fresh automatic decision stalled and queue its execution again.
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    clock = Clock(now)
    started = time.perf_counter()
    org = build_org(run.applications, now, clock)
    ashby_app = create_ashby(org.seeded.org, api_key=ASHBY_KEY)
    log = QueryLog()
    queue = queue_redis(redis_url)
    counted = await create_pool(database_url, min_size=1, max_size=10, query_logger=log)
    try:
        await queue.flushdb()
        async with running(ashby_app, lifespan="off") as ashby_url:
            settings = load_settings(
                fleet_env(
                    redis_url=redis_url,
                    database_url=database_url,
                    ashby_url=ashby_url,
                    ASHBY_REQUESTS_PER_MINUTE=str(BENCH_BUDGET_PER_MIN),
                    LOG_LEVEL="WARNING",
                )
            )
            async with build_deps(settings, queue, clock=clock) as built:
                bench = Bench(dataclasses.replace(built, pool=counted), log, sim_of(ashby_app), clock)
                await fill_cache(counted, org, now)
                await sync_catalog(built.ashby, counted, now=now)
                await rules_db.apply(counted, resolve(RULES, await catalog_db.load(counted)), now=now)
                first_sync = await bench.measured(sync_feedback)
                backlog = [await bench.measured(evaluate_advancement)]
                while await counted.fetchval("SELECT count(*) FROM advancement_queue WHERE evaluate_after <= $1", now):
                    backlog.append(await bench.measured(evaluate_advancement))  # past the job's time budget
                setup_s = time.perf_counter() - started
                open_at_start = await counted.fetchval(
                    "SELECT count(*) FROM ashby_applications WHERE status = 'Active'"
                )
                rows_at_start = await table_rows(counted)
                cycles = [await bench.cycle(org, run.dirty) for _ in range(run.cycles)]
                sizes = [await bench.cycle(org, size) for size in run.other_sizes]
            predecessor = await predecessor_cycle(
                ashby_url, list(org.missing), run.predecessor_calls or run.applications
            )
        await sim_of(ashby_app).aclose()
        return {
            "applications": run.applications,
            "open": open_at_start,
            "table_rows": rows_at_start,
            "table_rows_after": await table_rows(counted),
            "setup_s": setup_s,
            "first_sync": first_sync,
            "backlog": backlog,
            "cycles": cycles,
            "sizes": sizes,
            "predecessor": predecessor,
            "postgres": await counted.fetchval("SHOW server_version"),
        }
    finally:
        await counted.close()
        await queue.aclose()


async def table_rows(pool: asyncpg.Pool) -> dict[str, int]:
    tables = (
        "ashby_applications", "interview_schedules", "interview_events", "event_interviewers",
        "feedback_received", "advancement_queue", "decisions", "rules",
    )  # fmt: skip
    return {t: int(await pool.fetchval(f"SELECT count(*) FROM {t}")) for t in tables}


async def predecessor_cycle(ashby_url: str, application_ids: list[str], calls: int) -> dict[str, Any]:
    """The predecessor's feedback poll: `applicationFeedback.list` for each open application, one after the
    other, with the production client (no rate limiter: the simulator answers as fast as it can)."""
    chosen = list(_cycled(application_ids, calls))
    async with httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0)) as http:
        client = AshbyClient(api_key=ASHBY_KEY, base_url=ashby_url, http=http)
        started = time.perf_counter()
        submissions = 0
        for application_id in chosen:
            submissions += len([s async for s in client.list_application_feedback(application_id=application_id)])
        wall = time.perf_counter() - started
    return {
        "calls": len(chosen),
        "wall_s": wall,
        "submissions": submissions,
        "floor_at_budget_s": len(chosen) / (PRODUCT_BUDGET_PER_MIN / 60.0),
    }


def _cycled(items: list[str], count: int) -> Iterator[str]:
    for n in range(count):
        yield items[n % len(items)]


def _decided(evaluation: dict[str, Any]) -> int:
    return int(evaluation["outcome"].get("decided", 0))


def _ashby(calls: Counter[str] | dict[str, int]) -> str:
    return ", ".join(f"{n} {e}" for e, n in sorted(calls.items())) or "0"


def _per_batch(evaluation: dict[str, Any]) -> str:
    """Statements per batch that claimed something, then the closing empty claim and the stalled check."""
    return " + ".join(str(len(b)) for b in evaluation["batches"])


def advancement_report(result: dict[str, Any]) -> list[str]:
    rows = result["table_rows"]
    every = [*result["cycles"], *result["sizes"]]
    lines = [
        f"Advancement evaluation: {result['open']} open applications (PostgreSQL {result['postgres']}; rows: "
        + ", ".join(f"{t} {n}" for t, n in rows.items())
        + f"), set up in {result['setup_s']:.1f} s.",
        "",
        f"First full feedback sync: {result['first_sync']['wall_s']:.2f} s, "
        f"{_ashby(result['first_sync']['ashby_calls'])} calls; first backlog evaluated in "
        f"{len(result['backlog'])} run(s): "
        + "; ".join(
            f"{b['outcome'].get('evaluated')} applications in {b['wall_s']:.2f} s, {b['statements']} statements"
            for b in result["backlog"]
        ),
        "",
        "Evaluation (`evaluate_advancement`), per cycle:",
        "",
        "| cycle | dirty | queued due | evaluated | decided | waiting | wall ms | SQL statements | per batch | "
        "DB ms | Redis enqueues (ms) | Ashby calls |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, c in enumerate(every, start=1):
        ev = c["evaluation"]
        out = ev["outcome"]
        lines.append(
            f"| {n} | {c['dirty']} | {c['queued_due']} | {out.get('evaluated')} | {out.get('decided')} | "
            f"{out.get('waiting')} | {ev['wall_s'] * 1000:.0f} | {ev['statements']} | {_per_batch(ev)} | "
            f"{ev['db_s'] * 1000:.0f} | {ev['enqueues']} ({ev['enqueue_s'] * 1000:.0f}) | {_ashby(ev['ashby_calls'])} |"
        )
    lines += [
        "",
        "The rest of each cycle: the feedback sync before it, then the executions and the moved ones' evaluation:",
        "",
        "| cycle | feedback sync ms | its Ashby calls | its SQL | executed | execution s | their Ashby calls | "
        "moved, evaluated | ms | SQL |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, c in enumerate(every, start=1):
        sy, ex, fu = c["sync"], c["executions"], c["follow_up"]
        lines.append(
            f"| {n} | {sy['wall_s'] * 1000:.0f} | {_ashby(sy['ashby_calls'])} | {sy['statements']} | "
            f"{ex['decisions']} {ex['outcomes']} | {ex['wall_s']:.2f} | {_ashby(ex['ashby_calls'])} | "
            f"{fu['outcome'].get('evaluated')} | {fu['wall_s'] * 1000:.0f} | {fu['statements']} |"
        )
    lines += ["", "Statements of cycle 1's evaluation, by kind: " + _kinds(result["cycles"][0]["evaluation"]["kinds"])]
    lines += ["", "Each evaluation's statements, batch by batch (a batch: its transaction and what follows it):", ""]
    for n, c in enumerate(every, start=1):
        for b in c["evaluation"]["batches"]:
            lines.append(f"- cycle {n} ({c['dirty']} dirty): " + ", ".join(b))
    pred = result["predecessor"]
    lines += [
        "",
        f"Predecessor's cycle: {pred['calls']} `applicationFeedback.list` calls (one per open application) in "
        f"{pred['wall_s']:.1f} s against the simulator on this machine ({pred['submissions']} submissions read); "
        f"at the product's Ashby budget of {PRODUCT_BUDGET_PER_MIN}/min the floor is "
        f"{pred['floor_at_budget_s']:.0f} s.",
    ]
    return lines


def _kinds(kinds: Counter[str]) -> str:
    return ", ".join(f"{name} {n}" for name, n in kinds.most_common())
