"""Rows holding a candidate's personal data in every place the system keeps it, for the privacy tests.

Two candidates, each with one application, a schedule, an event with two interviewers, answers (synced and our
own), a draft, a pending reminder, an advancement queue entry, decisions whose evidence the real evaluator
wrote, dead letters and cached modals: one candidate to delete or expire, one that must stay untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import redis.asyncio as aioredis

from shared import jobs
from shared.advancement.evaluate import Decision, Evidence, Feedback, Seat, evaluate
from shared.advancement.model import Condition, Each, FieldRef, PlanStage, Rule
from shared.db.advancement import insert_decisions
from shared.modal_cache import PREFIX as MODAL_PREFIX
from shared.modal_cache import modal_key

SCORE = FieldRef(path="overall", type="Score", title="Overall")
STAGES = (
    PlanStage(id="stage-onsite", title="Onsite", type="Active", order=0),
    PlanStage(id="stage-offer", title="Offer", type="Active", order=1),
)


@dataclass(frozen=True)
class Candidate:
    candidate_id: str
    name: str
    application_id: str
    schedule_id: str
    event_id: str
    company: str
    interviewers: tuple[tuple[str, str, str], ...]  # (user id, first name, last name)

    @property
    def notes(self) -> str:
        """What an interviewer typed into the scorecard."""
        return f"Talked at length about the years at {self.company}"

    @property
    def seats(self) -> list[str]:
        return [MODAL_PREFIX + modal_key(self.event_id, user_id) for user_id, _, _ in self.interviewers]

    @property
    def personal(self) -> list[str]:
        """Text that must not survive the candidate's deletion: their name and employer, what was written about
        them, who interviewed them, their hiring team."""
        people = [text for user_id, first, last in self.interviewers for text in (first, last, f"{user_id}@")]
        return [self.name, self.company, self.notes, *people, f"Recruiter of {self.name}"]


JORDAN = Candidate(
    "cand-jordan",
    "Jordan Rivers",
    "app-jordan",
    "schedule-jordan",
    "event-jordan",
    "Initech",
    (("u-alex", "Alex", "Chen"), ("u-blake", "Blake", "Okafor")),
)
SAM = Candidate(
    "cand-sam",
    "Sam Lee",
    "app-sam",
    "schedule-sam",
    "event-sam",
    "Globex",
    (("u-emery", "Emery", "Park"), ("u-devon", "Devon", "Silva")),
)


async def seed(pool: asyncpg.Pool, redis: aioredis.Redis, candidate: Candidate, *, ended: datetime) -> None:
    """Everything about one candidate, as the jobs would have left it; the interview ended at `ended`."""
    c = candidate
    (first_id, _, _), (second_id, _, _) = c.interviewers
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO ashby_applications (id, candidate_id, candidate_name, candidate_position, candidate_company, "
            "candidate_url, job_id, job_title, stage_title, hiring_team, fetched_at, stage_id, plan_id, status) "
            "VALUES ($1, $2, $3, 'Staff Engineer', $4, $5, 'job-1', 'Backend Engineer', 'Onsite', $6, $7, "
            "'stage-onsite', 'plan', 'Active')",
            c.application_id,
            c.candidate_id,
            c.name,
            c.company,
            f"https://app.ashbyhq.com/candidates/{c.candidate_id}",
            [
                {
                    "userId": "u-riley",
                    "role": "Recruiter",
                    "name": f"Recruiter of {c.name}",
                    "email": "riley@example.com",
                }
            ],
            ended,
        )
        await conn.execute(
            "INSERT INTO interview_schedules (id, application_id, interview_stage_id, candidate_id, status) "
            "VALUES ($1, $2, 'stage-onsite', $3, 'Scheduled')",
            c.schedule_id,
            c.application_id,
            c.candidate_id,
        )
        await conn.execute(
            "INSERT INTO interview_events (id, schedule_id, interview_id, start_time, end_time, location) "
            "VALUES ($1, $2, 'interview-1', $3, $4, $5)",
            c.event_id,
            c.schedule_id,
            ended - timedelta(hours=1),
            ended,
            f"Room 4, ask for {c.name}",
        )
        await conn.executemany(
            "INSERT INTO event_interviewers (event_id, user_id, email, first_name, last_name) "
            "VALUES ($1, $2, $3, $4, $5)",
            [(c.event_id, user_id, f"{user_id}@example.com", first, last) for user_id, first, last in c.interviewers],
        )
        answers = {"overall": {"score": 2}, "notes": {"type": "PlainText", "value": c.notes}}
        await conn.execute(
            "INSERT INTO feedback_received (event_id, interviewer_id, source, submitted_at, submitted_values, "
            "recorded_at) VALUES ($1, $2, 'slack', $3, $4, $3)",
            c.event_id,
            first_id,
            ended,
            answers,
        )
        await conn.execute(
            "INSERT INTO feedback_submissions (event_id, interviewer_id, slack_user_id, state, field_submissions, "
            "updated_at) VALUES ($1, $2, 'U1', 'submitted', $3, $4)",
            c.event_id,
            first_id,
            [{"path": "notes", "value": {"type": "PlainText", "value": c.notes}}],
            ended,
        )
        await conn.execute(
            "INSERT INTO feedback_drafts (event_id, interviewer_id, state_values, updated_at) VALUES ($1, $2, $3, $4)",
            c.event_id,
            second_id,
            {"notes": {"notes": {"type": "plain_text_input", "value": c.notes}}},
            ended,
        )
        await conn.execute(
            "INSERT INTO reminders (event_id, interviewer_id, kind, sequence, due_at) "
            "VALUES ($1, $2, 'overdue', 1, $3)",
            c.event_id,
            second_id,
            ended + timedelta(days=1),
        )
        await conn.execute(
            "INSERT INTO advancement_queue (application_id, evaluate_after, reason) VALUES ($1, $2, 'feedback')",
            c.application_id,
            ended,
        )
        for version, state in ((1, "done"), (2, "awaiting_approval")):
            [(decision_id, _)] = await insert_decisions(conn, [_decided(c, version, ended)], now=ended)
            await conn.execute(
                "UPDATE decisions SET state = $2, created_at = $3, updated_at = $3 WHERE id = $1",
                decision_id,
                state,
                ended,
            )
        await conn.execute(
            "INSERT INTO dead_letters (job_id, job_name, queue, subject, args, error, attempts, failed_at) VALUES "
            "($1, 'ingest_ashby_event', $2, $3, $4, 'UndecodableWebhook', 1, $6), "
            "($5, 'submit_feedback', $2, '', $7, 'KeyError', 1, $6)",
            f"ashby:{c.schedule_id}",
            jobs.QUEUE_DEFAULT,
            c.schedule_id,
            jobs.serialize([[b'{"data": {"interviewSchedule": {"id": "%s"}}}' % c.schedule_id.encode()], {}]),
            f"submit:{c.event_id}",
            ended,
            jobs.serialize([[modal_key(c.event_id, second_id), "U2", {"notes": c.notes}], {}]),
        )
    for key in c.seats:
        await redis.set(key, f"a rendered form for {c.name}: {c.notes}")


def _decided(c: Candidate, version: int, ended: datetime) -> tuple[Evidence, Decision]:
    """A decision the real evaluator takes on this candidate (its evidence names both interviewers)."""
    rule = Rule(
        name="onsite",
        version=version,
        plan_id="plan",
        stage_id="stage-onsite",
        mode="approve",
        quiet_minutes=0,
        requirements=(Each(condition=Condition(field=SCORE, op=">=", value=3)),),
    )
    answer = Feedback({"overall": {"score": 2}}, None)
    seats = tuple(
        Seat(c.event_id, "interview-1", user_id, f"{first} {last}", True, ended, answer)
        for user_id, first, last in c.interviewers
    )
    evidence = Evidence(c.application_id, "job-1", "plan", "stage-onsite", "Active", seats)
    decision = evaluate(evidence, [rule], STAGES, now=ended)
    assert isinstance(decision, Decision)
    return evidence, decision


async def text_of_every_table(pool: asyncpg.Pool) -> str:
    """Every row of every table, as text: what a search for personal data reads."""
    tables = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    parts = []
    for table in sorted(t[0] for t in tables):
        rows = await pool.fetch(f'SELECT * FROM "{table}"')
        parts += [f"{table}: {dict(row)}" for row in rows]
        if table == "dead_letters":
            parts += [bytes(row["args"]).decode(errors="replace") for row in rows]
    return "\n".join(parts)
