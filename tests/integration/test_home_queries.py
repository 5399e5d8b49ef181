"""What the Home tab reads, on a real PostgreSQL: who owes which feedback (oldest first), upcoming interviews,
candidates waiting and approvals for those who run hiring, in a fixed number of queries whatever the load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from shared.db import home as home_db

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
ALEX, BLAKE, REC = "ashby-alex", "ashby-blake", "ashby-recruiter"


class Seed:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def schedule(self, schedule_id: str, application_id: str, *, status: str = "Scheduled") -> None:
        await self.pool.execute(
            "INSERT INTO interview_schedules (id, application_id, interview_stage_id, status) VALUES ($1, $2, 's', $3)",
            schedule_id,
            application_id,
            status,
        )

    async def event(
        self, event_id: str, schedule_id: str, *, ends: timedelta, removed: bool = False, interview: str = "iv-1"
    ) -> None:
        end = NOW + ends
        await self.pool.execute(
            "INSERT INTO interview_events (id, schedule_id, interview_id, start_time, end_time, removed_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            event_id,
            schedule_id,
            interview,
            end - timedelta(hours=1),
            end,
            NOW if removed else None,
        )

    async def seat(self, event_id: str, user: str, *, required: bool = True, removed: bool = False) -> None:
        await self.pool.execute(
            "INSERT INTO event_interviewers (event_id, user_id, email, first_name, last_name, feedback_required, "
            "removed_at) VALUES ($1, $2, $3, $4, 'Tester', $5, $6)",
            event_id,
            user,
            f"{user}@Example.com",
            user.removeprefix("ashby-").title(),
            required,
            NOW if removed else None,
        )

    async def feedback(self, event_id: str, user: str) -> None:
        await self.pool.execute(
            "INSERT INTO feedback_received (event_id, interviewer_id, source) VALUES ($1, $2, 'ashby')", event_id, user
        )

    async def person(self, ashby_user_id: str, slack_user_id: str) -> None:
        await self.pool.execute(
            "INSERT INTO people (ashby_user_id, email, slack_user_id, slack_tz, status) "
            "VALUES ($1, $2, $3, 'Europe/Paris', 'matched')",
            ashby_user_id,
            f"{ashby_user_id}@example.com",
            slack_user_id,
        )

    async def application(self, application_id: str, name: str, team: list[tuple[str, str]], **kw: Any) -> None:
        members = [{"userId": u, "role": r, "name": u, "email": f"{u}@example.com"} for u, r in team]
        await self.pool.execute(
            "INSERT INTO ashby_applications (id, candidate_name, job_title, stage_title, hiring_team, fetched_at, "
            "status, plan_id) VALUES ($1, $2, 'Engineer', 'Onsite', $3, $4, $5, 'plan-1')",
            application_id,
            name,
            members,
            NOW,
            kw.get("status", "Active"),
        )

    async def decision(
        self, application_id: str, *, state: str = "awaiting_approval", age: int = 0, version: int = 1
    ) -> int:
        decision_id: int = await self.pool.fetchval(
            "INSERT INTO decisions (application_id, from_stage_id, rule_name, rule_version, mode, outcome, "
            "to_stage_id, reason, evidence, state, created_at) VALUES ($1, 'stage-screen', 'screen', $4, 'approve', "
            "'advance', 'stage-onsite', 'all passed', '{}', $2, $3) RETURNING id",
            application_id,
            state,
            NOW - timedelta(hours=age),
            version,
        )
        return decision_id


async def read(pool: asyncpg.Pool | Any, ids: list[str], *, admin: bool = False, limit: int = 30) -> home_db.Home:
    return await home_db.read_home(pool, "U0SLACK01", ids, tz="Europe/Paris", now=NOW, admin=admin, limit=limit)


async def test_an_interviewer_owes_ended_required_live_seats_oldest_first(db_pool: asyncpg.Pool) -> None:
    seed = Seed(db_pool)
    await seed.schedule("s1", "app-1")
    await seed.schedule("s-cancelled", "app-1", status="Cancelled")
    await seed.pool.execute(
        "INSERT INTO ashby_interviews (id, title, fetched_at) VALUES ('iv-1', 'System design', $1)", NOW
    )
    await seed.application("app-1", "Ada Lovelace", [])
    cases = {
        "owed-older": timedelta(days=-3),
        "owed-newer": timedelta(days=-1),
        "given": timedelta(days=-2),
        "shadowed": timedelta(days=-2),
        "event-removed": timedelta(days=-2),
        "seat-removed": timedelta(days=-2),
        "in-progress": timedelta(minutes=30),
        "tomorrow": timedelta(days=1),
        "in-three-weeks": timedelta(days=21),
    }
    for event_id, ends in cases.items():
        await seed.event(event_id, "s1", ends=ends, removed=event_id == "event-removed")
        await seed.seat(event_id, ALEX, required=event_id != "shadowed", removed=event_id == "seat-removed")
        await seed.seat(event_id, BLAKE)
    await seed.feedback("given", ALEX)
    await seed.event("cancelled", "s-cancelled", ends=timedelta(days=-2))
    await seed.seat("cancelled", ALEX)

    home = await read(db_pool, [ALEX])

    assert [o.event_id for o in home.owed.items] == ["owed-older", "owed-newer"] and home.owed.total == 2
    assert {(o.interviewer_id, o.candidate_name, o.interview_title, o.job_title) for o in home.owed.items} == {
        (ALEX, "Ada Lovelace", "System design", "Engineer")
    }
    assert [u.event_id for u in home.upcoming.items] == ["in-progress", "tomorrow"]
    assert (home.known, home.oversees, home.tz) == (True, False, "Europe/Paris")
    assert home.decisions.total == home.waiting.total == 0


async def test_each_list_is_cut_at_the_limit_and_says_how_many_in_all(db_pool: asyncpg.Pool) -> None:
    seed = Seed(db_pool)
    await seed.schedule("s1", "app-1")
    for n in range(45):
        await seed.event(f"e{n:02d}", "s1", ends=timedelta(hours=-n - 1))
        await seed.seat(f"e{n:02d}", ALEX)
    home = await read(db_pool, [ALEX], limit=10)
    assert [o.event_id for o in home.owed.items] == [f"e{n:02d}" for n in range(44, 34, -1)]  # the oldest ten
    assert (home.owed.total, home.owed.hidden) == (45, 35)


async def test_those_who_run_hiring_see_who_is_missing_and_their_approvals(db_pool: asyncpg.Pool) -> None:
    seed = Seed(db_pool)
    await seed.person(ALEX, "U0ALEX001")
    await seed.application("app-mine", "Casey Jones", [(REC, "Recruiter"), (ALEX, "Interviewer")])
    await seed.application("app-managed", "Dana Scully", [(REC, "Hiring Manager")])
    await seed.application("app-not-mine", "Eve Moneypenny", [(REC, "Sourcer"), (BLAKE, "Recruiter")])
    await seed.application("app-archived", "Fox Mulder", [(REC, "Recruiter")], status="Archived")
    for application_id in ("app-mine", "app-managed", "app-not-mine", "app-archived"):
        await seed.schedule(f"s-{application_id}", application_id)
        await seed.event(f"e-{application_id}", f"s-{application_id}", ends=timedelta(days=-1))
        await seed.seat(f"e-{application_id}", BLAKE)
    await seed.event("e-older", "s-app-mine", ends=timedelta(days=-4))
    await seed.seat("e-older", ALEX)
    await seed.seat("e-older", BLAKE)
    await seed.feedback("e-older", BLAKE)
    await seed.event("e-later", "s-app-mine", ends=timedelta(days=2))  # not over: nobody is missing yet
    await seed.seat("e-later", ALEX)
    mine = await seed.decision("app-mine", age=1)
    managed = await seed.decision("app-managed", age=5)
    others = await seed.decision("app-not-mine")
    await seed.decision("app-mine", state="approved", version=2)

    home = await read(db_pool, [REC])

    assert home.oversees and home.owed.total == 0
    assert [w.application_id for w in home.waiting.items] == ["app-mine", "app-managed"]  # longest waiting first
    casey = home.waiting.items[0]
    assert [(m.name, m.slack_user_id) for m in casey.missing] == [("Alex Tester", "U0ALEX001"), ("Blake Tester", None)]
    assert casey.since == NOW - timedelta(days=4)
    assert [d.id for d in home.decisions.items] == [managed, mine]  # oldest first
    assert home.decisions.items[1].candidate_name == "Casey Jones"

    admin = await read(db_pool, [REC], admin=True)
    assert [d.id for d in admin.decisions.items] == [managed, mine, others]  # an admin may decide any
    nobody = await read(db_pool, [], admin=False)
    assert (nobody.known, nobody.oversees) == (False, False)


class CountingPool:
    """The pool, counting the statements run through it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.statements = 0

    async def fetch(self, *args: Any) -> list[asyncpg.Record]:
        self.statements += 1
        rows: list[asyncpg.Record] = await self.pool.fetch(*args)
        return rows


async def test_the_number_of_queries_does_not_grow_with_the_lists(db_pool: asyncpg.Pool) -> None:
    seed = Seed(db_pool)

    async def counted() -> int:
        counting = CountingPool(db_pool)
        await read(counting, [REC, ALEX])
        return counting.statements

    await seed.application("app-0", "Casey Jones", [(REC, "Recruiter")])
    await seed.schedule("s-0", "app-0")
    await seed.event("e-0", "s-0", ends=timedelta(days=-1))
    await seed.seat("e-0", ALEX)
    await seed.decision("app-0")
    small = await counted()
    for n in range(1, 60):
        await seed.application(f"app-{n}", "Casey Jones", [(REC, "Recruiter")])
        await seed.schedule(f"s-{n}", f"app-{n}")
        await seed.event(f"e-{n}", f"s-{n}", ends=timedelta(days=-1, minutes=n))
        await seed.seat(f"e-{n}", ALEX)
        await seed.seat(f"e-{n}", BLAKE)
        await seed.decision(f"app-{n}")
    assert small == await counted() == 4


async def test_people_are_found_by_email_among_interviewers_and_hiring_teams(db_pool: asyncpg.Pool) -> None:
    seed = Seed(db_pool)
    await seed.schedule("s1", "app-1")
    await seed.event("e1", "s1", ends=timedelta(days=-1))
    await seed.seat("e1", ALEX)  # alex@Example.com as Ashby has it
    await seed.application("app-1", "Casey Jones", [(REC, "Hiring Manager")])
    found = await home_db.ashby_users_with_email(db_pool, "ASHBY-ALEX@example.com")
    assert found == [(ALEX, "ashby-alex@Example.com")]
    assert await home_db.ashby_users_with_email(db_pool, "ashby-recruiter@example.com") == [
        (REC, "ashby-recruiter@example.com")
    ]
    assert await home_db.ashby_users_with_email(db_pool, "nobody@example.com") == []
