"""What the fleet's own records say about each failure the simulators' records showed: read from
PostgreSQL before the run tears down, to point at the code path that lost or repeated something. It
never changes the verdict."""

from __future__ import annotations

from collections import Counter

import asyncpg

from chaos.accounting import Verdict
from chaos.settle import connect
from chaos.world import World

_REMINDERS = """
SELECT w.event_id, w.interviewer_id, w.kind, r.state, r.skip_reason, r.attempts
FROM unnest($1::text[], $2::text[], $3::text[]) AS w (event_id, interviewer_id, kind)
LEFT JOIN reminders r USING (event_id, interviewer_id, kind)
"""
_DEAD_LETTERS = "SELECT job_name, error, count(*) AS n FROM dead_letters GROUP BY 1, 2 ORDER BY 3 DESC"
_SUBMISSIONS = """
SELECT w.event_id, w.interviewer_id, s.state, s.error, s.attempts
FROM unnest($1::text[], $2::text[]) AS w (event_id, interviewer_id)
LEFT JOIN feedback_submissions s USING (event_id, interviewer_id)
"""


async def explain(world: World, verdict: Verdict, url: str) -> list[str]:
    """One line per kind of failure: how the fleet recorded the reminders and submissions in question."""
    try:
        conn = await connect(url)
    except (OSError, asyncpg.PostgresError) as exc:
        return [f"The fleet's records could not be read: {type(exc).__name__}."]
    try:
        lines = []
        if verdict.unsent:
            rows = await _reminders(conn, world, verdict.unsent)
            lines.append(f"Never sent, as the fleet recorded them: {_states(rows)}.")
        duplicated = sorted({(d.interviewer, d.kind) for d in verdict.duplicates if not d.after_kill})
        if duplicated:
            rows = await _reminders(conn, world, duplicated)
            lines.append(f"Unexplained duplicates, as the fleet recorded them: {_states(rows)}.")
        if verdict.scorecards_absent:
            events, users = zip(*verdict.scorecards_absent, strict=True)
            rows = await conn.fetch(_SUBMISSIONS, list(events), list(users))
            states = Counter(
                f"{r['state'] or 'no row'}" + (f" ({r['error']})" if r["error"] else "") + f", {r['attempts']} claims"
                for r in rows
            )
            lines.append(f"Scorecards missing in Ashby, as the fleet recorded the submissions: {dict(states)}.")
        if verdict.dead_letters:
            rows = await conn.fetch(_DEAD_LETTERS)
            counts = {f"{r['job_name']} ({r['error']})": r["n"] for r in rows}
            lines.append(f"Dead letters, by job and error: {counts}.")
        return lines
    finally:
        await conn.close()


async def _reminders(conn: asyncpg.Connection, world: World, keys: list[tuple[int, str]]) -> list[asyncpg.Record]:
    events = [world.event_ids[interviewer // 3] for interviewer, _ in keys]
    users = [world.interviewer_ids[interviewer] for interviewer, _ in keys]
    rows: list[asyncpg.Record] = await conn.fetch(_REMINDERS, events, users, [kind for _, kind in keys])
    return rows


def _states(rows: list[asyncpg.Record]) -> dict[str, int]:
    return dict(
        Counter(
            f"{r['kind']} {r['state'] or 'no row'}"
            + (f" ({r['skip_reason']})" if r["skip_reason"] else "")
            + (f", {r['attempts']} claims" if r["state"] else "")
            for r in rows
        )
    )
