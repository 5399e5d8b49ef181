"""The people directory: which Slack user (and time zone) an Ashby user is, matched by email and cached.

`resolve_person` answers from Postgres while the row is younger than `max_age`, else asks Slack
(`users.lookupByEmail`) and stores the outcome; a manual override always wins and is never overwritten.
The Slack call happens before, never inside, the one short write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg
import structlog

from shared.clients.slack import SlackClient, SlackUser
from shared.db import people as db
from shared.db.people import DEACTIVATED, MATCHED, UNMATCHED, Person, UnmatchedPerson
from shared.errors import Transient

__all__ = ["Person", "UnmatchedPerson", "list_unmatched", "match", "resolve_people", "resolve_person", "set_override"]

log = structlog.get_logger(__name__)

NO_EMAIL = "no email in Ashby"
NOT_IN_SLACK = "no Slack user with this email"
IS_BOT = "the Slack user with this email is a bot"
DEACTIVATED_IN_SLACK = "the Slack account is deactivated"


def normalize_email(email: str | None) -> str | None:
    cleaned = (email or "").strip()
    return cleaned.lower() or None


def match(ashby_user_id: str, email: str | None, found: SlackUser | None, *, now: datetime) -> Person:
    """The directory row for one lookup outcome (pure). Bots never match; a deleted account is deactivated."""
    stored = normalize_email(email)
    if stored is None:
        return Person(ashby_user_id, None, None, None, UNMATCHED, NO_EMAIL, looked_up_at=now)
    if found is None:
        return Person(ashby_user_id, stored, None, None, UNMATCHED, NOT_IN_SLACK, looked_up_at=now)
    if found.is_bot:
        return Person(ashby_user_id, stored, None, None, UNMATCHED, IS_BOT, looked_up_at=now)
    if found.deleted:
        return Person(ashby_user_id, stored, found.id, found.tz, DEACTIVATED, DEACTIVATED_IN_SLACK, looked_up_at=now)
    return Person(ashby_user_id, stored, found.id, found.tz, MATCHED, None, looked_up_at=now)


def is_fresh(person: Person, email: str | None, *, now: datetime, max_age: timedelta) -> bool:
    if person.override:
        return True
    if person.email != normalize_email(email) or person.looked_up_at is None:
        return False  # the address changed in Ashby: the old answer says nothing about the new one
    return now - person.looked_up_at < max_age


async def lookup(slack: SlackClient, email: str) -> SlackUser | None:
    """Slack matches the whole address; try it as Ashby has it, then lower-cased if that differs."""
    candidates = [email.strip()]
    if candidates[0].lower() != candidates[0]:
        candidates.append(candidates[0].lower())
    for candidate in candidates:
        found = await slack.lookup_user_by_email(candidate)
        if found is not None:
            return found
    return None


async def resolve_person(
    pool: asyncpg.Pool,
    slack: SlackClient,
    *,
    ashby_user_id: str,
    email: str | None,
    now: datetime,
    max_age: timedelta,
) -> Person:
    """The cached or freshly looked-up directory row for an Ashby user.

    Idempotent; safe to run concurrently (the last lookup wins, an override is never replaced). A Slack
    outage while refreshing a row for the same address returns the stale row instead of failing, so
    reminders keep flowing; with nothing cached it raises `Transient`.
    """
    cached = await db.get(pool, ashby_user_id)
    if cached is not None and is_fresh(cached, email, now=now, max_age=max_age):
        return cached
    if normalize_email(email) is None:
        found = None
    else:
        assert email is not None
        try:
            found = await lookup(slack, email)
        except Transient:
            if cached is not None and cached.email == normalize_email(email):
                log.warning("people.stale_served", ashby_user_id=ashby_user_id, status=cached.status)
                return cached
            raise
    person = match(ashby_user_id, email, found, now=now)
    saved = await db.save_lookup(pool, person)
    if saved is None:  # an override was set while we were asking Slack
        overridden = await db.get(pool, ashby_user_id)
        assert overridden is not None
        return overridden
    return saved


async def resolve_people(
    pool: asyncpg.Pool,
    slack: SlackClient,
    people: Sequence[tuple[str, str | None]],
    *,
    now: datetime,
    max_age: timedelta,
) -> list[Person]:
    """`resolve_person` for several (Ashby user id, e-mail) pairs, in order."""
    return [
        await resolve_person(pool, slack, ashby_user_id=user_id, email=email, now=now, max_age=max_age)
        for user_id, email in people
    ]


async def set_override(
    pool: asyncpg.Pool,
    ashby_user_id: str,
    slack_user_id: str,
    *,
    tz: str | None = None,
    now: datetime | None = None,
) -> Person:
    """Map an Ashby user to a Slack user by hand; lookups never change it afterwards."""
    return await db.save_override(pool, ashby_user_id, slack_user_id, tz=tz, now=now)


async def list_unmatched(pool: asyncpg.Pool, *, now: datetime) -> list[UnmatchedPerson]:
    """Interviewers who cannot be reminded in Slack, with the reason and their upcoming interview count."""
    return await db.list_unmatched(pool, now=now)
