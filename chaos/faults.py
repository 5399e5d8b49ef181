"""The fault timeline of a chaos run, carried out on the real clock: each fault starts at its time, even
while an earlier one (a restart) is still going on, and is logged with when it really happened."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import asyncpg

from chaos.scenario import Fault
from chaos.servers import FLEET_APPLICATION, TERMINATE_FLEET, Postgres, Redis
from chaos.supervisor import Supervisor

DOWN_S = 2.0  # how long a restarted server stays down


@dataclass(frozen=True)
class Done:
    kind: str
    at: float  # time.time() when it started
    seconds: float
    detail: str


class FaultRunner:
    def __init__(self, supervisor: Supervisor, postgres: Postgres, redis: Redis, rng: random.Random) -> None:
        self._supervisor = supervisor
        self._postgres = postgres
        self._redis = redis
        self._rng = rng
        self.done: list[Done] = []

    async def run(self, timeline: list[Fault], origin: float) -> None:
        """Start every fault at `origin` + its time; return when all have finished."""
        started = []
        for fault in timeline:
            await asyncio.sleep(max(0.0, origin + fault.at_s - time.time()))
            started.append(asyncio.create_task(self._one(fault.kind)))
        await asyncio.gather(*started)

    async def _one(self, kind: str) -> None:
        began = time.time()
        try:
            detail = await self._inflict(kind)
        except Exception as exc:  # the run must go on and report it; a fault that failed is not a fault
            detail = f"FAILED: {type(exc).__name__}: {exc}"
        self.done.append(Done(kind, began, round(time.time() - began, 2), detail))

    async def _inflict(self, kind: str) -> str:
        if kind == "kill":
            kill = self._supervisor.kill_random_worker(self._rng)
            return f"{kill.name} (pid {kill.pid})" if kill else "no worker running"
        if kind in ("redis_restart", "redis_crash"):
            await asyncio.to_thread(self._redis.restart, kill=kind == "redis_crash", down_s=DOWN_S)
            return "SIGKILL" if kind == "redis_crash" else "SIGTERM"
        if kind == "pg_terminate":
            conn = await asyncpg.connect(self._postgres.url, server_settings={"application_name": "chaos"})
            try:
                return f"{await conn.fetchval(TERMINATE_FLEET, FLEET_APPLICATION)} connections"
            finally:
                await conn.close()
        if kind == "pg_restart":
            await asyncio.to_thread(self._postgres.restart, down_s=DOWN_S)
            return "pg_ctl stop -m fast, start"
        raise ValueError(f"unknown fault {kind!r}")
