"""Replaying a dead letter: its job goes back on its queue with the arguments it failed with.

Idempotent: the replay's job id is derived from the dead letter and the time it failed, so replaying the
same failure twice (two operators, a double click on the dashboard) queues it once; the row is marked
only after the job is queued, so a crash in between leaves it replayable, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
from arq.connections import ArqRedis

from shared import jobs
from shared.db import dead_letters


@dataclass(frozen=True)
class Replayed:
    dead_letter_id: int
    job_id: str | None  # None: unknown id, or replayed already
    queued: bool


async def replay(pool: asyncpg.Pool, queue: ArqRedis, dead_letter_id: int, *, now: datetime) -> Replayed:
    letter = await dead_letters.get(pool, dead_letter_id)
    if letter is None or letter.replayed_at is not None:
        return Replayed(dead_letter_id, None, False)
    args, kwargs = jobs.deserialize(letter.args)
    job_id = f"replay:{letter.id}:{int(letter.failed_at.timestamp() * 1000)}"
    queued = await jobs.enqueue_unique(queue, letter.job_name, *args, job_id=job_id, queue_name=letter.queue, **kwargs)
    await dead_letters.mark_replayed(pool, letter.id, replay_job_id=job_id, now=now)
    return Replayed(letter.id, job_id, queued)
