"""What an operator can change from the admin service, for the dashboard and the API alike.

Each is idempotent: a replay's job id comes from the dead letter (`shared.dead_letter_replay`), a mapping
is an upsert, and a resync's job ids are fixed, so a double click queues each periodic job once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from admin.state import AdminState
from shared import jobs
from shared.dead_letter_replay import Replayed, replay
from shared.people import Person, set_override

SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
RESYNC_JOBS = (jobs.RECONCILE_SCHEDULES, jobs.SYNC_FEEDBACK)


class InvalidInput(ValueError):
    """The operator's input cannot be used; the message says why (and quotes nothing it was given)."""


@dataclass(frozen=True)
class Mapping:
    ashby_user_id: str
    slack_user_id: str
    tz: str | None


def parse_mapping(ashby_user_id: str | None, slack_user_id: str | None, tz: str | None) -> Mapping:
    """Check a manual mapping before it is stored (pure)."""
    ashby = (ashby_user_id or "").strip()
    slack = (slack_user_id or "").strip().upper()
    zone = (tz or "").strip() or None
    if not ashby or len(ashby) > 200 or not ashby.isprintable():
        raise InvalidInput("The Ashby user id is missing or malformed.")
    if not SLACK_USER_ID.fullmatch(slack):
        raise InvalidInput("A Slack user id looks like U0123ABCD (Slack profile > ⋮ > Copy member ID).")
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput("The time zone must be an IANA name such as Europe/Berlin, or empty.") from None
    return Mapping(ashby, slack, zone)


async def map_person(state: AdminState, mapping: Mapping) -> Person:
    return await set_override(state.pool, mapping.ashby_user_id, mapping.slack_user_id, tz=mapping.tz, now=state.now())


async def replay_dead_letter(state: AdminState, dead_letter_id: int) -> Replayed:
    """Queue a dead letter's job again; `job_id` None when it is unknown or was replayed already."""
    return await replay(state.pool, state.queue, dead_letter_id, now=state.now())


async def resync(state: AdminState) -> dict[str, bool]:
    """Queue the schedule reconciliation and the feedback sync now; per job, False when one is already queued."""
    return {name: await jobs.enqueue_default(state.queue, name, job_id=f"admin:resync:{name}") for name in RESYNC_JOBS}


async def queue_depths(state: AdminState) -> dict[str, int]:
    """Jobs waiting (or deferred) on each queue."""
    return {name: int(await jobs.awaited(state.queue.zcard(key))) for name, key in jobs.QUEUES.items()}
