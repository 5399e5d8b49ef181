"""The queue contract shared by the ingress and the workers: queue names, job names, job ids, encoding.

Job arguments are primitives or raw verified bytes, encoded with msgpack (never pickle). Job ids are
deterministic so that a duplicate delivery of the same thing is a no-op at enqueue time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable
from typing import Any, cast

import msgspec
import structlog
from arq.connections import ArqRedis
from arq.constants import expires_extra_ms, job_key_prefix, result_key_prefix
from redis.asyncio import ConnectionPool
from redis.exceptions import NoScriptError

from shared.enqueue_batch import ScriptBatcher

QUEUE_INTERACTIVE = "fleet:queue:interactive"
QUEUE_DEFAULT = "fleet:queue:default"
QUEUES = {"interactive": QUEUE_INTERACTIVE, "default": QUEUE_DEFAULT}

INGEST_ASHBY_EVENT = "ingest_ashby_event"
# interactive queue: a person is waiting on these
HYDRATE_MODAL = "hydrate_modal"
SUBMIT_FEEDBACK = "submit_feedback"
SAVE_DRAFT = "save_draft"
SEND_RESUME_LINK = "send_resume_link"
NOTIFY_OPEN_FAILED = "notify_open_failed"
NOTIFY_SUBMISSION_FAILED = "notify_submission_failed"
# default queue
SEND_REMINDER = "send_reminder"
RESOLVE_PEOPLE = "resolve_people"
MARK_FEEDBACK_SUBMITTED = "mark_feedback_submitted"
DISPATCH_DUE_REMINDERS = "dispatch_due_reminders"
SYNC_FEEDBACK = "sync_feedback"
RECONCILE_SCHEDULES = "reconcile_schedules"
REFRESH_METADATA = "refresh_metadata"
EVALUATE_ADVANCEMENT = "evaluate_advancement"
EXECUTE_DECISION = "execute_decision"
POST_DECISION = "post_decision"
POST_DEBRIEF = "post_debrief"
# interactive queue: an approver clicked
DECIDE_CLICK = "decide_click"
# interactive queue: someone opened the app's Home tab, or typed /feedback
PUBLISH_HOME = "publish_home"
ANSWER_FEEDBACK_COMMAND = "answer_feedback_command"
# Opens of the Home tab within this many seconds share one publish_home job (Slack sends one per tab switch).
HOME_BURST_S = 10

# The keyword argument that carries the request id from whoever enqueued a job to its log lines.
REQUEST_ID = "request_id"

# How long a finished webhook job's result is kept: its id then blocks re-enqueueing the same body, which
# covers Ashby's retry schedule (up to 10 attempts over about 3 hours).
WEBHOOK_DEDUPE_S = 6 * 3600


def _encode_unknown(obj: Any) -> Any:
    # arq stores a failed job's exception as its result; keep only the type name (messages may carry data).
    if isinstance(obj, BaseException):
        return {"error": type(obj).__name__}
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_encoder = msgspec.msgpack.Encoder(enc_hook=_encode_unknown)
_decoder = msgspec.msgpack.Decoder()


def serialize(obj: Any) -> bytes:
    return _encoder.encode(obj)


def deserialize(data: bytes) -> Any:
    return _decoder.decode(data)


def webhook_job_id(body: bytes) -> str:
    return "ashby:" + hashlib.sha256(body).hexdigest()


def home_job_id(slack_user_id: str, at_s: float) -> str:
    """One publish_home per person per HOME_BURST_S (at_s: when the tab was opened, Unix seconds)."""
    return f"{PUBLISH_HOME}:{slack_user_id}:{int(at_s // HOME_BURST_S)}"


def queue_redis(
    url: str, *, connect_timeout_s: float = 1.0, op_timeout_s: float = 2.0, max_connections: int = 50
) -> ArqRedis:
    """An arq client that connects lazily and fails fast, so a Redis outage becomes a quick 503."""
    pool = ConnectionPool.from_url(
        url,
        socket_connect_timeout=connect_timeout_s,
        socket_timeout=op_timeout_s,
        max_connections=max_connections,
        health_check_interval=30,
    )
    queue = ArqRedis(pool, job_serializer=serialize, job_deserializer=deserialize, default_queue_name=QUEUE_DEFAULT)
    queue.auto_close_connection_pool = True  # this client owns its pool: aclose() releases the sockets too
    return queue


# arq's enqueue_job takes four round trips (WATCH, EXISTS, MULTI/EXEC); this does the same check-and-write
# atomically in one, with arq's own key layout and job encoding, so arq workers run these jobs unchanged.
_ENQUEUE_UNIQUE = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('PSETEX', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1
"""
_ENQUEUE_UNIQUE_SHA = hashlib.sha1(_ENQUEUE_UNIQUE.encode()).hexdigest()


async def enqueue_unique(
    queue: ArqRedis,
    function: str,
    *args: Any,
    job_id: str,
    queue_name: str,
    defer_s: float = 0,
    batcher: ScriptBatcher | None = None,
    **kwargs: Any,
) -> bool:
    """Enqueue `function(*args, **kwargs)` unless a job or kept result with `job_id` exists (arq semantics).
    With a `batcher` (the ingress's), concurrent calls share one pipeline.

    The request id bound to the caller's log context (the ingress request's, or the job's that enqueues)
    travels with the job as `request_id`: the job boundary binds it to the job's log lines and removes it
    before the job runs. Returns True when queued, False for a duplicate.
    """
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id is not None:
        kwargs = {**kwargs, REQUEST_ID: request_id}
    enqueue_ms = int(time.time() * 1000)
    score = enqueue_ms + int(defer_s * 1000)
    job = serialize({"t": None, "f": function, "a": args, "k": kwargs, "et": enqueue_ms})
    keys_and_args = (
        job_key_prefix + job_id,
        result_key_prefix + job_id,
        queue_name,
        job,
        score - enqueue_ms + expires_extra_ms,
        score,
        job_id,
    )
    if batcher is not None:
        return bool(await batcher.call(3, *keys_and_args))
    try:
        queued = await queue.evalsha(_ENQUEUE_UNIQUE_SHA, 3, *keys_and_args)  # type: ignore[arg-type, misc]
    except NoScriptError:  # first use on this Redis, or after a restart: EVAL loads it
        queued = await queue.eval(_ENQUEUE_UNIQUE, 3, *keys_and_args)  # type: ignore[arg-type, misc]
    return bool(queued)


async def enqueue_interactive(
    queue: ArqRedis, function: str, *args: Any, job_id: str, batcher: ScriptBatcher | None = None
) -> bool:
    return await enqueue_unique(queue, function, *args, job_id=job_id, queue_name=QUEUE_INTERACTIVE, batcher=batcher)


async def enqueue_default(queue: ArqRedis, function: str, *args: Any, job_id: str, defer_s: float = 0) -> bool:
    return await enqueue_unique(queue, function, *args, job_id=job_id, queue_name=QUEUE_DEFAULT, defer_s=defer_s)


def enqueue_batcher(queue: ArqRedis) -> ScriptBatcher:
    """A batcher for `enqueue_unique`: one process's concurrent enqueues in one pipeline (the ingress)."""
    return ScriptBatcher(queue, _ENQUEUE_UNIQUE, _ENQUEUE_UNIQUE_SHA)


async def enqueue_ashby_event(queue: ArqRedis, body: bytes, *, batcher: ScriptBatcher | None = None) -> bool:
    """Queue a verified Ashby webhook body; False when the same body is already queued or recently done."""
    return await enqueue_unique(
        queue, INGEST_ASHBY_EVENT, body, job_id=webhook_job_id(body), queue_name=QUEUE_DEFAULT, batcher=batcher
    )


def awaited(result: object) -> Awaitable[Any]:
    """redis-py types each command for its sync and asyncio clients at once; on ours they are awaitable."""
    return cast(Awaitable[Any], result)
