"""The fleet as a platform runs it: real `fleet` child processes, each restarted about a second after it exits.

Every exit is recorded with whether this run caused it (its `kill -9`, or the final stop). An exit the
run did not cause is a fleet bug: a process must ride out a dependency's outage, not leave.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

RESTART_DELAY_S = 1.0


@dataclass(frozen=True)
class Exit:
    name: str
    pid: int
    code: int | None
    at: float  # time.time()
    caused: bool  # by this run (kill -9); False is a failure


@dataclass(frozen=True)
class Kill:
    name: str
    queue: str
    pid: int
    at: float


@dataclass
class Member:
    name: str
    args: tuple[str, ...]
    queue: str  # "default" / "interactive" for workers, "" for an ingress
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    killed_pids: set[int] = field(default_factory=set)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None


class Supervisor:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self._env = {**os.environ, **env}
        self._log_dir = log_dir
        self.members: list[Member] = []
        self.exits: list[Exit] = []
        self.kills: list[Kill] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def add(self, name: str, *args: str, queue: str = "") -> Member:
        member = Member(name, args, queue)
        self.members.append(member)
        return member

    async def start(self) -> None:
        for member in self.members:
            await self._spawn(member)
            self._tasks.append(asyncio.create_task(self._watch(member)))

    def workers(self) -> list[Member]:
        return [m for m in self.members if m.queue]

    def kill_random_worker(self, rng: random.Random) -> Kill | None:
        """`kill -9` one running worker, chosen by `rng`; None when none is running (all restarting)."""
        running = [m for m in self.workers() if m.alive]
        if not running:
            return None
        member = rng.choice(running)
        assert member.process is not None
        member.killed_pids.add(member.process.pid)
        member.process.send_signal(signal.SIGKILL)
        kill = Kill(member.name, member.queue, member.process.pid, time.time())
        self.kills.append(kill)
        return kill

    def unexpected_exits(self) -> list[Exit]:
        return [e for e in self.exits if not e.caused]

    async def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM every process, as a deploy would; SIGKILL what has not exited after `timeout_s`."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        processes = [m.process for m in self.members if m.process is not None and m.process.returncode is None]
        for process in processes:
            process.send_signal(signal.SIGTERM)
        await asyncio.gather(*(self._stopped(process, timeout_s) for process in processes))

    @staticmethod
    async def _stopped(process: asyncio.subprocess.Process, timeout_s: float) -> None:
        try:
            await asyncio.wait_for(process.wait(), timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def _spawn(self, member: Member) -> None:
        log = self._log_dir / f"{member.name}.log"
        with log.open("ab") as output:
            member.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "fleet.cli",
                *member.args,
                env=self._env,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
            )
        member.starts += 1

    async def _watch(self, member: Member) -> None:
        while not self._stopping:
            assert member.process is not None
            code = await member.process.wait()
            if self._stopping:
                return
            pid = member.process.pid
            self.exits.append(Exit(member.name, pid, code, time.time(), caused=pid in member.killed_pids))
            await asyncio.sleep(RESTART_DELAY_S)  # as a platform would, not in a tight loop
            await self._spawn(member)
