"""The one-round-trip unique enqueue, alone and coalesced, keeps arq's semantics on a real Redis."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from arq.jobs import Job, JobStatus
from redis.exceptions import RedisError

from shared.embedded import free_port
from shared.jobs import QUEUE_DEFAULT, deserialize, enqueue_batcher, enqueue_unique, queue_redis


@pytest.mark.parametrize("batched", [False, True], ids=["direct", "batched"])
async def test_concurrent_enqueues_of_the_same_ids_queue_each_id_once(
    redis: aioredis.Redis, redis_url: str, batched: bool
) -> None:
    queue = queue_redis(redis_url)
    batcher = enqueue_batcher(queue) if batched else None
    try:
        results = await asyncio.gather(
            *(
                enqueue_unique(
                    queue, "job_fn", n % 25, job_id=f"id-{n % 25}", queue_name=QUEUE_DEFAULT, batcher=batcher
                )
                for n in range(100)
            )
        )
        assert sum(results) == 25
        assert await redis.zcard(QUEUE_DEFAULT) == 25
        job = Job("id-7", queue, _queue_name=QUEUE_DEFAULT, _deserializer=deserialize)
        assert await job.status() == JobStatus.queued
        info = await job.info()
        assert info is not None and info.function == "job_fn" and list(info.args) == [7]
    finally:
        await queue.aclose()


async def test_a_kept_result_blocks_the_same_id_like_arq(redis: aioredis.Redis, redis_url: str) -> None:
    queue = queue_redis(redis_url)
    try:
        await redis.set("arq:result:done-id", b"x")
        assert not await enqueue_unique(
            queue, "job_fn", job_id="done-id", queue_name=QUEUE_DEFAULT, batcher=enqueue_batcher(queue)
        )
    finally:
        await queue.aclose()


async def test_the_script_is_reloaded_after_redis_forgets_it(redis: aioredis.Redis, redis_url: str) -> None:
    queue = queue_redis(redis_url)
    batcher = enqueue_batcher(queue)
    try:
        assert await enqueue_unique(queue, "job_fn", job_id="a", queue_name=QUEUE_DEFAULT, batcher=batcher)
        await redis.script_flush()
        assert await enqueue_unique(queue, "job_fn", job_id="b", queue_name=QUEUE_DEFAULT, batcher=batcher)
    finally:
        await queue.aclose()


async def test_every_caller_in_a_batch_sees_the_redis_failure() -> None:
    queue = queue_redis(f"redis://127.0.0.1:{free_port()}/0")
    batcher = enqueue_batcher(queue)
    try:
        results = await asyncio.gather(
            *(
                enqueue_unique(queue, "job_fn", job_id=f"x{n}", queue_name=QUEUE_DEFAULT, batcher=batcher)
                for n in range(5)
            ),
            return_exceptions=True,
        )
        assert all(isinstance(r, RedisError) for r in results), results
    finally:
        await queue.aclose()


async def test_an_error_reply_fails_its_batch_and_the_next_batch_reads_its_own_replies(
    redis: aioredis.Redis, redis_url: str
) -> None:
    """The batcher reads every reply of a batch even after an error one, so the connection it gives back to the
    pool holds no stale reply for the next batch to mistake for its own."""
    queue = queue_redis(redis_url, max_connections=1)
    batcher = enqueue_batcher(queue)
    try:
        await redis.set("not-a-queue", "x")  # ZADD on a string: WRONGTYPE, after the PSETEX ran
        results = await asyncio.gather(
            enqueue_unique(queue, "job_fn", job_id="a", queue_name="not-a-queue", batcher=batcher),
            enqueue_unique(queue, "job_fn", job_id="b", queue_name=QUEUE_DEFAULT, batcher=batcher),
            return_exceptions=True,
        )
        assert all(isinstance(r, RedisError) and "WRONGTYPE" in str(r) for r in results), results
        queued = await asyncio.gather(
            *(
                enqueue_unique(queue, "job_fn", job_id=f"c{n}", queue_name=QUEUE_DEFAULT, batcher=batcher)
                for n in range(3)
            )
        )
        assert queued == [True, True, True]
        assert await redis.zcard(QUEUE_DEFAULT) == 4  # b (its script ran) and c0..c2
    finally:
        await queue.aclose()


async def test_the_batchers_kept_connection_closed_by_redis_is_replaced_without_failing_a_batch(
    redis: aioredis.Redis, redis_url: str
) -> None:
    queue = queue_redis(redis_url)
    batcher = enqueue_batcher(queue)
    try:
        assert await enqueue_unique(queue, "job_fn", job_id="a", queue_name=QUEUE_DEFAULT, batcher=batcher)
        assert await redis.client_kill_filter(_type="normal", skipme=True) >= 1  # as a Redis restart would
        assert await enqueue_unique(queue, "job_fn", job_id="b", queue_name=QUEUE_DEFAULT, batcher=batcher)
        assert await redis.zcard(QUEUE_DEFAULT) == 2
    finally:
        await queue.aclose()


async def test_a_redis_that_never_answers_fails_the_batch_within_the_clients_operation_timeout() -> None:
    hung_up = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Answers the connection's set-up commands, never the enqueue scripts, until the client hangs up.
        while data := await reader.read(65536):
            if b"EVALSHA" not in data:
                writer.write(b"+OK\r\n" * data.count(b"*"))
        writer.close()
        hung_up.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    queue = queue_redis(f"redis://127.0.0.1:{port}/0", op_timeout_s=0.2)
    batcher = enqueue_batcher(queue)
    try:
        async with asyncio.timeout(5):  # the guard of this test, far above the 0.2 s under test
            results = await asyncio.gather(
                *(
                    enqueue_unique(queue, "job_fn", job_id=f"t{n}", queue_name=QUEUE_DEFAULT, batcher=batcher)
                    for n in range(3)
                ),
                return_exceptions=True,
            )
        assert all(isinstance(r, TimeoutError) for r in results), results  # the batch's own deadline
    finally:
        await queue.aclose()
        await asyncio.wait_for(hung_up.wait(), 5)
        server.close()
        await server.wait_closed()
