"""The people directory on a real PostgreSQL, asking the Slack simulator through the production client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import asyncpg
import pytest

from shared.clients.slack import SlackClient, SlackUser
from shared.errors import Transient
from shared.people import (
    DEACTIVATED_IN_SLACK,
    IS_BOT,
    NO_EMAIL,
    NOT_IN_SLACK,
    Person,
    list_unmatched,
    resolve_person,
    set_override,
)
from sim.serving import running
from sim.slack import SlackState, create_app

TOKEN = "xoxb-test-token"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def _no_sleep(seconds: float) -> None:
    return None


@dataclass
class Slack:
    state: SlackState
    client: SlackClient

    def lookups(self) -> list[str]:
        return [str(r.args["email"]) for r in self.state.calls("users.lookupByEmail")]


@pytest.fixture
async def slack() -> AsyncIterator[Slack]:
    state = SlackState()
    state.rate_limits.enabled = False
    state.add_user("U_ALICE", "alice@example.com", tz="Europe/Berlin")
    state.add_user("U_GONE", "gone@example.com", deleted=True)
    state.add_user("B_BOT", "robot@example.com", is_bot=True)
    app = create_app(state, token=TOKEN, signing_secret="s" * 32, interactions_url=None)
    async with running(app) as url:
        client = SlackClient(token=TOKEN, base_url=f"{url}/api/", limiter=None, sleep=_no_sleep)
        yield Slack(state, client)
        await client.aclose()


async def resolve(pool: asyncpg.Pool, slack: Slack, user: str, email: str | None, now: datetime = NOW) -> Person:
    return await resolve_person(pool, slack.client, ashby_user_id=user, email=email, now=now, max_age=DAY)


async def test_match_is_stored_and_served_from_cache_until_max_age(db_pool: asyncpg.Pool, slack: Slack) -> None:
    person = await resolve(db_pool, slack, "ashby-alice", "alice@example.com")
    assert (person.slack_user_id, person.tz, person.status, person.email) == (
        "U_ALICE",
        "Europe/Berlin",
        "matched",
        "alice@example.com",
    )

    assert await resolve(db_pool, slack, "ashby-alice", "alice@example.com", NOW + DAY / 2) == person
    assert slack.lookups() == ["alice@example.com"]

    slack.state.users["U_ALICE"].tz = "America/New_York"  # she moved
    refreshed = await resolve(db_pool, slack, "ashby-alice", "alice@example.com", NOW + DAY)
    assert refreshed.tz == "America/New_York" and refreshed.looked_up_at == NOW + DAY
    assert len(slack.lookups()) == 2


async def test_email_case_is_tried_as_given_then_lower_cased(db_pool: asyncpg.Pool, slack: Slack) -> None:
    slack.state.email_lookup_case_sensitive = True  # a strict Slack: only the lower-cased retry can match

    person = await resolve(db_pool, slack, "ashby-alice", "  Alice@Example.COM ")

    assert person.slack_user_id == "U_ALICE" and person.email == "alice@example.com"
    assert slack.lookups() == ["Alice@Example.COM", "alice@example.com"]


async def test_case_insensitive_slack_needs_one_lookup(db_pool: asyncpg.Pool, slack: Slack) -> None:
    person = await resolve(db_pool, slack, "ashby-alice", "ALICE@example.com")
    assert person.slack_user_id == "U_ALICE"
    assert slack.lookups() == ["ALICE@example.com"]


@pytest.mark.parametrize(
    ("email", "status", "slack_user_id", "reason"),
    [
        (None, "unmatched", None, NO_EMAIL),
        ("   ", "unmatched", None, NO_EMAIL),
        ("nobody@example.com", "unmatched", None, NOT_IN_SLACK),
        ("gone@example.com", "deactivated", "U_GONE", DEACTIVATED_IN_SLACK),
        ("robot@example.com", "unmatched", None, IS_BOT),
    ],
)
async def test_people_who_cannot_be_reminded_are_recorded_with_a_reason(
    db_pool: asyncpg.Pool, slack: Slack, email: str | None, status: str, slack_user_id: str | None, reason: str
) -> None:
    person = await resolve(db_pool, slack, "ashby-x", email)

    assert (person.status, person.slack_user_id, person.reason) == (status, slack_user_id, reason)
    row = await db_pool.fetchrow("SELECT status, reason FROM people WHERE ashby_user_id = 'ashby-x'")
    assert (row["status"], row["reason"]) == (status, reason)
    if email is None or not email.strip():
        assert slack.lookups() == []  # nothing to ask Slack


async def test_a_changed_email_is_looked_up_again_at_once(db_pool: asyncpg.Pool, slack: Slack) -> None:
    assert (await resolve(db_pool, slack, "ashby-alice", "alice@old.example.com")).status == "unmatched"
    person = await resolve(db_pool, slack, "ashby-alice", "alice@example.com", NOW + timedelta(minutes=1))
    assert person.slack_user_id == "U_ALICE"


async def test_override_wins_over_lookups(db_pool: asyncpg.Pool, slack: Slack) -> None:
    await resolve(db_pool, slack, "ashby-alice", "nobody@example.com")
    override = await set_override(db_pool, "ashby-alice", "U_ALICE", tz="Asia/Tokyo", now=NOW)
    assert (override.status, override.override, override.tz) == ("matched", True, "Asia/Tokyo")

    for later in (NOW, NOW + 30 * DAY):
        person = await resolve(db_pool, slack, "ashby-alice", "gone@example.com", later)
        assert (person.slack_user_id, person.status, person.override) == ("U_ALICE", "matched", True)
    assert slack.lookups() == ["nobody@example.com"]


async def test_override_set_during_a_lookup_is_not_overwritten(db_pool: asyncpg.Pool) -> None:
    class SlowSlack:
        """Someone maps the user by hand while Slack is being asked."""

        async def lookup_user_by_email(self, email: str) -> SlackUser | None:
            await set_override(db_pool, "ashby-alice", "U_MANUAL", now=NOW)
            return SlackUser(id="U_ALICE", email=email)

    person = await resolve_person(
        db_pool,
        cast(SlackClient, SlowSlack()),
        ashby_user_id="ashby-alice",
        email="a@example.com",
        now=NOW,
        max_age=DAY,
    )
    assert (person.slack_user_id, person.override) == ("U_MANUAL", True)


async def test_slack_outage_serves_the_stale_row_or_raises(db_pool: asyncpg.Pool, slack: Slack) -> None:
    await resolve(db_pool, slack, "ashby-alice", "alice@example.com")
    slack.state.fail_next("users.lookupByEmail", status=503, error="service_unavailable", times=100)

    stale = await resolve(db_pool, slack, "ashby-alice", "alice@example.com", NOW + 2 * DAY)
    assert stale.slack_user_id == "U_ALICE" and stale.looked_up_at == NOW

    with pytest.raises(Transient):
        await resolve(db_pool, slack, "ashby-bob", "bob@example.com")
    assert await db_pool.fetchval("SELECT count(*) FROM people WHERE ashby_user_id = 'ashby-bob'") == 0


async def _interview(pool: asyncpg.Pool, event_id: str, start: datetime, *users: str, **flags: bool) -> None:
    await pool.execute(
        "INSERT INTO interview_schedules (id, status, cancelled_at) VALUES ($1, 'Scheduled', $2)",
        f"schedule-{event_id}",
        NOW if flags.get("cancelled") else None,
    )
    await pool.execute(
        "INSERT INTO interview_events (id, schedule_id, start_time, end_time, removed_at) VALUES ($1, $2, $3, $4, $5)",
        event_id,
        f"schedule-{event_id}",
        start,
        start + timedelta(hours=1),
        NOW if flags.get("removed") else None,
    )
    for user in users:
        await pool.execute(
            "INSERT INTO event_interviewers (event_id, user_id, first_name, last_name) VALUES ($1, $2, 'Bo', 'Ng')",
            event_id,
            user,
        )


async def test_unmatched_list_shows_reason_and_upcoming_interviews(db_pool: asyncpg.Pool, slack: Slack) -> None:
    await resolve(db_pool, slack, "ashby-alice", "alice@example.com")
    await resolve(db_pool, slack, "ashby-nobody", "nobody@example.com")
    await resolve(db_pool, slack, "ashby-gone", "gone@example.com")
    await _interview(db_pool, "e-next", NOW + DAY, "ashby-alice", "ashby-nobody")
    await _interview(db_pool, "e-later", NOW + 2 * DAY, "ashby-nobody")
    await _interview(db_pool, "e-past", NOW - 2 * DAY, "ashby-nobody", "ashby-gone")
    await _interview(db_pool, "e-removed", NOW + DAY, "ashby-gone", removed=True)
    await _interview(db_pool, "e-cancelled", NOW + DAY, "ashby-gone", cancelled=True)

    unmatched = await list_unmatched(db_pool, now=NOW)

    assert [(p.ashby_user_id, p.status, p.reason, p.upcoming_interviews) for p in unmatched] == [
        ("ashby-nobody", "unmatched", NOT_IN_SLACK, 2),
        ("ashby-gone", "deactivated", DEACTIVATED_IN_SLACK, 0),
    ]
    assert unmatched[0].name == "Bo Ng"
