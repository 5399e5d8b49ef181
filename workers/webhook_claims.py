"""Claiming queued webhook jobs straight from arq's queue, so one running `ingest_ashby_event` stores many.

arq costs several Redis round trips and a task per job (start, load, finish): at a thousand webhooks a second
that alone would fill a core. A running ingest job therefore claims other due `ashby:*` jobs in one Lua call,
with arq's own keys, and finishes them in one more, as arq would have:

- claim: the job's `in-progress` key is set (arq's poller then leaves it alone, and a poller that raced us
  fails its WATCH on that key), its try count is incremented like arq's, and its score in the queue is moved
  to the end of the lease. The job stays in the queue: if the claiming worker dies, the job comes due again
  when the lease ends and any worker runs it (nothing lost), exactly as arq re-runs a job whose worker died;
- finish: the result is kept (`arq:result:<id>`, which is what dedupes Ashby's re-deliveries), the job, its
  try count and its in-progress key are deleted and it leaves the queue, in one atomic step;
- release: a job whose batch failed on a blip goes back to the queue, due after a backoff.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

from arq.connections import ArqRedis
from redis.exceptions import NoScriptError

from shared import jobs
from shared.jobs import awaited
from shared.webhook_batch import Webhook

PREFIX = "ashby:"  # `shared.jobs.webhook_job_id`: the ids of queued webhook bodies
# Longer than a job may run (arq cancels it at the job timeout): a claim never ends under a running batch.
LEASE_S = 70.0

# KEYS: the queue. ARGV: now (ms), lease (ms), how many to claim, how many queued ids to look at, the id prefix,
# the claiming job's own id. Returns id, job data, try, for each job claimed.
_CLAIM = """
local queue = KEYS[1]
local now, lease, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local prefix, me = ARGV[5], ARGV[6]
local out, n = {}, 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', queue, '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))) do
  if n >= limit then break end
  if id ~= me and string.sub(id, 1, #prefix) == prefix and redis.call('EXISTS', 'arq:in-progress:' .. id) == 0 then
    local data = redis.call('GET', 'arq:job:' .. id)
    if data then
      redis.call('PSETEX', 'arq:in-progress:' .. id, lease, '1')
      redis.call('ZADD', queue, now + lease, id)
      local try = redis.call('INCR', 'arq:retry:' .. id)
      redis.call('EXPIRE', 'arq:retry:' .. id, 88400)
      out[#out + 1] = id
      out[#out + 1] = data
      out[#out + 1] = try
      n = n + 1
    end
  end
end
return out
"""

# KEYS: the queue. ARGV: how long results are kept (ms), then id, result for each job finished.
_FINISH = """
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  redis.call('PSETEX', 'arq:result:' .. id, ARGV[1], ARGV[i + 1])
  redis.call('DEL', 'arq:job:' .. id, 'arq:retry:' .. id, 'arq:in-progress:' .. id)
  redis.call('ZREM', KEYS[1], id)
end
return #ARGV / 2
"""

# KEYS: the queue. ARGV: id, score (ms) for each job handed back; a job no longer queued stays gone.
_RELEASE = """
for i = 1, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
    redis.call('DEL', 'arq:in-progress:' .. ARGV[i])
  end
end
return #ARGV / 2
"""

_SHAS = {script: hashlib.sha1(script.encode()).hexdigest() for script in (_CLAIM, _FINISH, _RELEASE)}


async def _run(queue: ArqRedis, script: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
    try:
        return await awaited(queue.evalsha(_SHAS[script], len(keys), *keys, *args))
    except NoScriptError:  # first use on this Redis, or after a restart: EVAL loads it
        return await awaited(queue.eval(script, len(keys), *keys, *args))


async def claim(queue: ArqRedis, *, own_id: str, limit: int, queue_name: str = jobs.QUEUE_DEFAULT) -> list[Webhook]:
    """Claim up to `limit` due webhook jobs other than `own_id`, oldest first."""
    if limit <= 0:
        return []
    now_ms = int(time.time() * 1000)
    found = await _run(queue, _CLAIM, [queue_name], [now_ms, int(LEASE_S * 1000), limit, limit * 4, PREFIX, own_id])
    claimed = []
    for n in range(0, len(found), 3):
        job_id = found[n].decode() if isinstance(found[n], bytes) else str(found[n])
        data = jobs.deserialize(found[n + 1])
        args = data.get("a") or ()
        body = args[0] if args and isinstance(args[0], bytes) else b""
        enqueued = data.get("et")
        claimed.append(
            Webhook(
                job_id,
                body,
                dict(data.get("k") or {}),
                int(found[n + 2]),
                enqueued if isinstance(enqueued, int) else None,
            )
        )
    return claimed


def result_of(webhook: Webhook, result: Any, *, started_ms: int, queue_name: str = jobs.QUEUE_DEFAULT) -> bytes:
    """The job's result as arq writes it (`arq.jobs.serialize_result`): arq's `Job.result()` reads it."""
    return jobs.serialize(
        {
            "t": webhook.job_try,
            "f": jobs.INGEST_ASHBY_EVENT,
            "a": (webhook.body,),
            "k": webhook.kwargs,
            "et": webhook.enqueue_ms or 0,
            "s": True,
            "r": result,
            "st": started_ms,
            "ft": int(time.time() * 1000),
            "q": queue_name,
            "id": webhook.job_id,
        }
    )


async def settle(
    queue: ArqRedis,
    *,
    done: Sequence[tuple[Webhook, Any]],
    back: Sequence[tuple[str, float]],
    started_ms: int,
) -> None:
    """Record the claimed jobs that finished, with their results, and hand back those to run again."""
    await finish(queue, [(w.job_id, result_of(w, result, started_ms=started_ms)) for w, result in done])
    await release(queue, back)


async def finish(
    queue: ArqRedis, results: Sequence[tuple[str, bytes]], *, queue_name: str = jobs.QUEUE_DEFAULT
) -> None:
    """Record claimed jobs as done, with their results kept for the webhook dedupe window."""
    if results:
        args: list[Any] = [jobs.WEBHOOK_DEDUPE_S * 1000]
        for job_id, result in results:
            args += [job_id, result]
        await _run(queue, _FINISH, [queue_name], args)


async def release(
    queue: ArqRedis, job_ids: Sequence[tuple[str, float]], *, queue_name: str = jobs.QUEUE_DEFAULT
) -> None:
    """Hand claimed jobs back to the queue, each due after its delay in seconds."""
    if job_ids:
        now_ms = int(time.time() * 1000)
        args: list[Any] = []
        for job_id, delay_s in job_ids:
            args += [job_id, now_ms + int(delay_s * 1000)]
        await _run(queue, _RELEASE, [queue_name], args)
