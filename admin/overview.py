"""The overview's figures, read together for the dashboard's first page and for `GET /api/overview`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from admin.operations import queue_depths
from admin.state import AdminState
from shared.db import dead_letters, stats
from shared.db.stats import FeedbackFigures, SyncState
from shared.people import list_unmatched

DEFAULT_WEEKS = 12  # the feedback window the overview shows, and the feedback page's default


@dataclass(frozen=True)
class Overview:
    reminders: dict[str, int]  # by state
    feedback: FeedbackFigures  # every interview that ended in the last DEFAULT_WEEKS weeks
    by_week: list[FeedbackFigures]
    decisions: dict[str, int]  # by state
    dead_letters: int  # not replayed yet
    unmatched_people: int
    queues: dict[str, int]  # jobs waiting, by queue
    syncs: list[SyncState]


async def load_overview(state: AdminState) -> Overview:
    now = state.now()
    since = now - timedelta(weeks=DEFAULT_WEEKS)
    async with state.pool.acquire() as conn:
        reminders = await stats.reminder_counts(conn)
        total = await stats.feedback_total(conn, since=since, until=now)
        by_week = await stats.feedback_by_week(conn, since=since, until=now)
        decided = await stats.decision_counts(conn)
        syncs = await stats.sync_states(conn)
    return Overview(
        reminders=reminders.by_state,
        feedback=total,
        by_week=by_week,
        decisions=decided,
        dead_letters=await dead_letters.count_open(state.pool),
        unmatched_people=len(await list_unmatched(state.pool, now=now)),
        queues=await queue_depths(state),
        syncs=syncs,
    )
