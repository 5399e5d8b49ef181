"""Start real `fleet` child processes (for the demo and the end-to-end tests) and wait on conditions."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx

from shared.embedded import free_port


async def wait_until(
    condition: Callable[[], Awaitable[bool]], *, timeout_s: float = 20.0, what: str = "condition"
) -> None:
    """Poll `condition` until it holds; fail with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.05)


class FleetProcess:
    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name

    async def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 45.0) -> int:
        # Longer than a worker's default drain (WORKER_SHUTDOWN_GRACE_S = 20 s) and its hard deadline after it.
        if self.process.returncode is None:
            self.process.send_signal(sig)
        return await asyncio.wait_for(self.process.wait(), timeout_s)

    async def output(self) -> str:
        """Everything the process printed (only when it was started without a log file)."""
        assert self.process.stdout is not None
        return (await self.process.stdout.read()).decode(errors="replace")


@contextlib.asynccontextmanager
async def fleet(
    *args: str, env: dict[str, str], name: str | None = None, log_file: Path | None = None
) -> AsyncIterator[FleetProcess]:
    """Run `fleet <args>` as a child process; its output is kept in memory or written to `log_file`."""
    output = log_file.open("ab") if log_file else asyncio.subprocess.PIPE
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fleet.cli",
            *args,
            env={**os.environ, **env},
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    finally:
        if log_file:
            output.close()  # type: ignore[union-attr]
    handle = FleetProcess(process, name or " ".join(args))
    try:
        yield handle
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@contextlib.asynccontextmanager
async def fleet_ingress(
    env: dict[str, str], *, port: int | None = None, log_file: Path | None = None
) -> AsyncIterator[tuple[FleetProcess, str]]:
    port = port or free_port()
    async with fleet("ingress", "--port", str(port), env=env, log_file=log_file) as process:
        url = f"http://127.0.0.1:{port}"

        async def healthy() -> bool:
            if process.process.returncode is not None:
                raise RuntimeError(f"the ingress exited early (code {process.process.returncode})")
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(url + "/health")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(healthy, what="the ingress to answer /health")
        yield process, url
