"""Coalesce concurrent enqueues from one process into a single Redis pipeline per event-loop tick.

Under load the ingress has many requests in flight; sending their enqueue scripts together costs one
write and one read instead of one of each per request. Each caller still gets its own answer (queued,
duplicate, or the Redis error), and nothing waits longer than one loop iteration plus the round trip.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

Call = tuple[tuple[Any, ...], asyncio.Future[Any]]


class ScriptBatcher:
    def __init__(self, redis: Redis, script: str, sha: str, *, max_batch: int = 256) -> None:
        self._redis = redis
        self._script = script
        self._sha = sha
        self._max_batch = max_batch
        self._pending: list[Call] = []
        self._flush_task: asyncio.Task[None] | None = None
        self._connection: Connection | None = None  # taken from the client's pool, closed with it
        self._timeout_s: float | None = None

    async def call(self, numkeys: int, *keys_and_args: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append(((numkeys, *keys_and_args), future))
        if self._flush_task is None:
            # Starts on the next loop iteration, so callers arriving in this one join the same pipeline.
            # The reference is kept: an unreferenced task may be garbage-collected before it finishes.
            self._flush_task = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                await self._send(batch)
        finally:
            self._flush_task = None

    async def _send(self, batch: list[Call]) -> None:
        try:
            results = await self._execute(batch)
        except BaseException as exc:  # every caller in the batch gets the failure (e.g. Redis down -> 503)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else ConnectionError(str(exc)))
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _execute(self, batch: list[Call]) -> list[Any]:
        # One write, then the replies in order: what redis-py's pipeline does, without its per-command encoder
        # and bookkeeping (a tenth of the ingress's CPU per webhook went there). Batches go one at a time, so
        # they share one connection, kept: taking one from the pool costs a lock and a read on every batch.
        packed = b"".join(_evalsha(self._sha, args) for args, _ in batch)
        try:
            results = await self._round_trip(packed, len(batch))
        except RedisConnectionError:
            # The kept connection may have been closed while idle (a Redis restart, a proxy's idle timeout),
            # which the pool would have noticed before lending it: one more try on a new connection. Safe to
            # repeat: the script queues a job id once however often it runs.
            results = await self._round_trip(packed, len(batch))
        if any(isinstance(r, NoScriptError) for r in results):  # first use on this Redis, or after a restart
            await self._redis.script_load(self._script)
            return await self._execute(batch)
        for result in results:
            if isinstance(result, Exception):
                raise result
        return results

    async def _round_trip(self, packed: bytes, replies: int) -> list[Any]:
        connection = self._connection
        if connection is None:
            connection = await self._redis.connection_pool.get_connection()
            # The client's operation timeout bounds the whole round trip below, once, instead of every reply.
            self._timeout_s, connection.socket_timeout = connection.socket_timeout, None
            self._connection = connection
        try:
            async with asyncio.timeout(self._timeout_s):
                await connection.send_packed_command(packed)
                results: list[Any] = []
                for _ in range(replies):
                    try:
                        results.append(await connection.read_response())
                    except ResponseError as exc:  # this call's error: the next replies are still on their way
                        results.append(exc)
        except BaseException:
            # Replies may be left unread: close it (the next batch connects it again).
            await connection.disconnect(nowait=True)
            raise
        return results


def _evalsha(sha: str, args: tuple[Any, ...]) -> bytes:
    """EVALSHA sha numkeys keys... args... in the Redis protocol (arguments are bytes, str or int)."""
    parts = [b"*%d\r\n$7\r\nEVALSHA\r\n$%d\r\n%s\r\n" % (len(args) + 2, len(sha), sha.encode())]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts += (b"$%d\r\n" % len(data), data, b"\r\n")  # the job (2 KB) copied once, by the join
    return b"".join(parts)
