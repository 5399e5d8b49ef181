"""Who looked at the app's Home tab recently (a Redis sorted set: Slack user -> when), so that a change they
made elsewhere (a scorecard submitted, a decision clicked) is shown there without reopening it.

Only a cache: lost, the Home tab is still published afresh each time it is opened.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from arq.connections import ArqRedis

from shared import jobs

OPENERS_KEY = "fleet:home:openers"
RECENT = timedelta(hours=1)


async def remember(redis: ArqRedis, slack_user_id: str, *, at: datetime) -> None:
    """`slack_user_id` was just shown their Home tab; forget those not seen within RECENT."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zadd(OPENERS_KEY, {slack_user_id: at.timestamp()})
        pipe.zremrangebyscore(OPENERS_KEY, "-inf", (at - RECENT).timestamp())
        await pipe.execute()


async def refresh_if_open(redis: ArqRedis, slack_user_id: str | None, *, now: datetime, because: str) -> bool:
    """Queue a fresh Home tab for `slack_user_id` if they looked at it within RECENT; `because` (an id of what
    changed) keeps two changes from sharing one job. True when queued."""
    if not slack_user_id:
        return False
    seen = await redis.zscore(OPENERS_KEY, slack_user_id)
    if seen is None or now.timestamp() - seen > RECENT.total_seconds():
        return False
    job_id = f"{jobs.PUBLISH_HOME}:{slack_user_id}:after:{because}"
    return await jobs.enqueue_interactive(redis, jobs.PUBLISH_HOME, slack_user_id, job_id=job_id)
