"""Posts Slack accepted (reminders, debriefs), remembered in Redis until PostgreSQL has recorded them.

Slack has no idempotency key. Between a post Slack accepted and its record in PostgreSQL (which may be
failing over at that moment) the post is remembered here, so the retry records it instead of posting
again. A mark is kept a day: longer than any retry of the job that wrote it.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

PREFIX = "fleet:posted:"
TTL_S = 24 * 3600


async def remember(redis: Redis, post: str | int, recipient: str, channel: str, ts: str) -> None:
    """`post` names what was posted (a reminder's id, a debrief's key), `recipient` to whom."""
    try:
        await redis.set(f"{PREFIX}{post}:{recipient}", f"{channel} {ts}", ex=TTL_S)
    except (RedisError, OSError):
        pass  # Redis is down too: the record in PostgreSQL is the only guard left


async def recall(redis: Redis, post: str | int, *, recipients: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """The (channel, ts) of each of these recipients' copies of `post` that Slack took."""
    raws = await redis.mget([f"{PREFIX}{post}:{recipient}" for recipient in recipients])
    found = {}
    for recipient, raw in zip(recipients, raws, strict=True):
        if raw is not None:
            channel, _, ts = (raw.decode() if isinstance(raw, bytes) else str(raw)).partition(" ")
            found[recipient] = (channel, ts)
    return found
