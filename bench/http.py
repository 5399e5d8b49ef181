"""`./run bench --only http`: the webhook ingress against a bare Starlette endpoint, both driven by wrk.

Both apps are served by `bench/server.py` with `fleet ingress`'s uvicorn settings and stay up for the whole
run; rounds alternate (bare, ingress, bare, ingress, ...), each measured run after its own warm-up run. wrk
(2 threads, 32 connections) posts the same signed, distinct ~2 KB schedule webhooks to both (bench/webhooks.lua
cycles through a file of pre-signed bodies). Before each ingress run Redis is flushed, so every body is new to
the ingress's dedupe; after it, the queue must hold at least one job per answer (else bodies repeated) and the
server's log one canonical `request` line per request. A non-2xx answer or a socket error fails the run.

CPU is read per measured run: the server (psutil on its pid), wrk (its rusage at exit, minus what reading the
body file cost, which wrk's `init` does before any request), Redis (`INFO cpu`) and the rest of the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import psutil  # type: ignore[import-untyped]
import redis.asyncio as aioredis

from bench.common import cpu_seconds
from bench.loadgen import webhook_body
from fleet.processes import wait_until
from shared.embedded import free_port
from shared.jobs import QUEUE_DEFAULT
from shared.signatures import ashby_signature

APPS = ("bare", "ingress")
LUA = Path(__file__).with_name("webhooks.lua")


@dataclass(frozen=True)
class HttpRun:
    rounds: int = 3
    threads: int = 2
    connections: int = 32
    warmup_s: float = 2.0
    duration_s: float = 10.0
    bodies: int = 200_000  # distinct bodies, split between wrk's threads: more than the ingress answers in one run
    profile: Path | None = None  # after the rounds, one more ingress run under py-spy, its samples written here


@dataclass
class Measured:
    """One measured wrk run against one app."""

    app: str
    round: int
    wrk: dict[str, int]
    server_cpu_s: float
    wrk_cpu_s: float
    redis_cpu_s: float
    machine_busy_s: float  # every core's busy time, all processes
    queued: int | None = None  # ingress: jobs in the queue after the run
    log_lines: int | None = None  # `request` lines the server wrote during warm-up + run
    warmup_requests: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.wrk["duration_us"] / 1e6

    @property
    def rps(self) -> float:
        return self.wrk["requests"] / self.seconds

    def cores(self, cpu_s: float) -> float:
        return cpu_s / self.seconds

    def per_request_us(self, cpu_s: float) -> float:
        return cpu_s / self.wrk["requests"] * 1e6

    @property
    def others_cpu_s(self) -> float:
        return max(0.0, self.machine_busy_s - self.server_cpu_s - self.wrk_cpu_s - self.redis_cpu_s)


class BenchFailure(RuntimeError):
    pass


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise BenchFailure("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu), then run the benchmark again")
    return found


def write_bodies(prefix: Path, count: int, secret: str, threads: int) -> None:
    """`count` distinct signed schedule webhooks, dealt round-robin into one file per wrk thread."""
    files = [(prefix.parent / f"{prefix.name}.{t}").open("wb") for t in range(threads)]
    try:
        for n in range(count):
            body = webhook_body(n)
            assert b"\n" not in body and b"\t" not in body  # one per line, after the signature and a tab
            files[n % threads].write(ashby_signature(secret, body).encode() + b"\t" + body + b"\n")
    finally:
        for f in files:
            f.close()


def _machine_busy_s() -> float:
    # guest time is already inside user time on Linux, and steal is not this machine's: leave both out.
    times = psutil.cpu_times()
    return float(times.user + times.nice + times.system + getattr(times, "irq", 0.0) + getattr(times, "softirq", 0.0))


async def _redis_cpu_s(redis: aioredis.Redis) -> float:
    info = await redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _log_requests(path: Path, offset: int) -> tuple[int, int]:
    """`request` lines written to the server's log after byte `offset`, and the new end of the file."""
    with path.open("rb") as log:
        log.seek(offset)
        data = log.read()
    # Only whole lines: the server may still be writing the last one.
    end = data.rfind(b"\n") + 1
    return data[:end].count(b'"event":"request"'), offset + end


async def _wrk(url: str, bodies: Path, run: HttpRun, duration_s: float) -> tuple[dict[str, int], float, float]:
    """One wrk run: its figures, its CPU seconds after reading the bodies, and its wall time."""
    command = [
        wrk_path(),
        f"-t{run.threads}",
        f"-c{run.connections}",
        f"-d{duration_s:g}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        url,
        "--",
        str(bodies),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: ASYNC220
    # wait4 gives the CPU the process used to its last instruction, which psutil can no longer read after exit.
    _, status, usage = await asyncio.to_thread(os.wait4, process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall_s = time.perf_counter() - started
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read().decode(), process.stderr.read().decode()
    if process.returncode != 0:
        raise BenchFailure(f"wrk exited with {process.returncode}: {err.strip() or out.strip()}")
    line = next((line for line in out.splitlines() if line.startswith("{")), None)
    if line is None:
        raise BenchFailure(f"wrk printed no figures:\n{out}\n{err}")
    figures = {key: int(value) for key, value in msgspec.json.decode(line).items()}
    loading_s = max((float(x.split()[1]) for x in err.splitlines() if x.startswith("loaded ")), default=0.0)
    return figures, usage.ru_utime + usage.ru_stime - loading_s, wall_s


def _check(app: str, figures: dict[str, int], what: str) -> None:
    errors = {key: figures[key] for key in ("non_2xx_3xx", "connect_errors", "read_errors", "write_errors", "timeouts")}
    if any(errors.values()) or figures["requests"] == 0:
        raise BenchFailure(f"{app} {what}: {figures['requests']} requests with errors {errors}: the run is void")


@dataclass
class Server:
    app: str
    port: int
    pid: int
    log: Path
    log_offset: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/ashby"


async def _port_open(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


@contextlib.asynccontextmanager
async def serving(app: str, env: dict[str, str], log: Path) -> AsyncIterator[Server]:
    port = free_port()
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.server",
            app,
            str(port),
            env={**os.environ, **env},
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        await wait_until(lambda: _port_open(port), what=f"the {app} server")
        yield Server(app, port, process.pid, log)
    finally:
        process.terminate()
        await process.wait()


async def measure(server: Server, redis: aioredis.Redis, bodies: Path, run: HttpRun, round_: int) -> Measured:
    """Warm-up run, then the measured run, each against a flushed Redis; every check made."""
    await redis.flushdb()
    warmup, _, _ = await _wrk(server.url, bodies, run, run.warmup_s)
    _check(server.app, warmup, "warm-up")
    await redis.flushdb()
    server_before, redis_before, machine_before = (
        cpu_seconds(server.pid),
        await _redis_cpu_s(redis),
        _machine_busy_s(),
    )
    figures, wrk_cpu_s, _ = await _wrk(server.url, bodies, run, run.duration_s)
    server_cpu_s = cpu_seconds(server.pid) - server_before
    machine_busy_s = _machine_busy_s() - machine_before
    redis_cpu_s = await _redis_cpu_s(redis) - redis_before
    _check(server.app, figures, f"round {round_}")
    result = Measured(
        app=server.app,
        round=round_,
        wrk=figures,
        server_cpu_s=server_cpu_s,
        wrk_cpu_s=wrk_cpu_s,
        redis_cpu_s=redis_cpu_s,
        machine_busy_s=machine_busy_s,
        warmup_requests=warmup["requests"],
    )
    if server.app == "ingress":
        result.queued = int(await redis.zcard(QUEUE_DEFAULT))
        if result.queued < figures["requests"]:
            raise BenchFailure(
                f"ingress round {round_}: {figures['requests']} answers but {result.queued} jobs queued: bodies "
                f"repeated (dedupe answered 'duplicate'); raise --bodies above {figures['requests']}"
            )
        # The last requests' lines may still be on their way: wait for them, but not for ever.
        answered = warmup["requests"] + figures["requests"]
        lines, end = 0, server.log_offset
        for _ in range(50):
            counted, end = _log_requests(server.log, end)
            lines += counted
            if lines >= answered:
                break
            await asyncio.sleep(0.1)
        server.log_offset = end
        result.log_lines = lines
        if not answered <= lines <= answered + 2 * run.connections:
            raise BenchFailure(f"ingress round {round_}: {answered} requests answered but {lines} request log lines")
    return result


async def http_benchmark(redis_url: str, env: dict[str, str], run: HttpRun, workdir: Path) -> list[Measured]:
    wrk_path()
    bodies = workdir / "bodies"
    secret = env["ASHBY_WEBHOOK_SECRET"]
    await asyncio.to_thread(write_bodies, bodies, run.bodies, secret, run.threads)
    redis = aioredis.Redis.from_url(redis_url)
    results: list[Measured] = []
    try:
        async with contextlib.AsyncExitStack() as stack:
            servers = {app: await stack.enter_async_context(serving(app, env, workdir / f"{app}.log")) for app in APPS}
            for round_ in range(1, run.rounds + 1):
                for app in APPS:
                    results.append(await measure(servers[app], redis, bodies, run, round_))
                    print(f"round {round_} {app}: {results[-1].rps:,.0f} requests/s", file=sys.stderr)
            if run.profile is not None:
                await profile(servers["ingress"], redis, bodies, run, run.profile)
    finally:
        await redis.flushdb()
        await redis.aclose()
    return results


async def profile(server: Server, redis: aioredis.Redis, bodies: Path, run: HttpRun, out: Path) -> None:
    """One more warm-up and run against the ingress, sampled by py-spy (not one of the reported rounds: sampling
    slows the server). Writes py-spy's collapsed stacks to `out` and the heaviest frames beside it (`.txt`)."""
    spy = shutil.which("py-spy")
    if spy is None:
        raise BenchFailure("--profile needs py-spy on PATH (`pip install py-spy`)")
    await redis.flushdb()
    _check(server.app, (await _wrk(server.url, bodies, run, run.warmup_s))[0], "profile warm-up")
    await redis.flushdb()
    record = await asyncio.create_subprocess_exec(
        spy, "record", "--pid", str(server.pid), "--duration", f"{run.duration_s:g}", "--rate", "200",
        "--format", "raw", "--output", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    figures, _, _ = await _wrk(server.url, bodies, run, run.duration_s)
    await record.wait()
    _check(server.app, figures, "profiled run")
    summarise_profile(out)


def summarise_profile(collapsed: Path) -> None:
    collapsed.with_suffix(".txt").write_text("\n".join(heaviest_frames(collapsed.read_text())) + "\n")


def heaviest_frames(collapsed: str, top: int = 30) -> list[str]:
    """Share of the samples in which each function is on the stack (inclusive) and on top of it (self)."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = [frame.rsplit(":", 1)[0] for frame in stack.split(";")]  # `function (file.py:line)` -> no line
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + samples
        own[frames[-1]] = own.get(frames[-1], 0) + samples

    def table(counts: dict[str, int]) -> list[str]:
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:top]
        return [f"{100 * n / total:5.1f}%  {frame}" for frame, n in ranked]

    return [f"{total} samples", "", "inclusive:", *table(inclusive), "", "self:", *table(own)]


def http_report(results: Sequence[Measured], run: HttpRun) -> list[str]:
    if not results:  # --rounds 0 --profile: a profile only
        return []
    lines = [
        f"POST /webhooks/ashby under wrk ({run.threads} threads, {run.connections} connections), {run.rounds} "
        f"alternating rounds, each {run.duration_s:g} s measured after a {run.warmup_s:g} s warm-up run:",
        "",
        "| round | endpoint | requests/s | p50 ms | p99 ms | non-2xx | server CPU µs/request | server cores "
        "| wrk cores | wrk CPU µs/request | Redis cores | other processes' cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in results:
        lines.append(
            f"| {m.round} | {m.app} | {m.rps:,.0f} | {m.wrk['p50_us'] / 1000:.2f} | {m.wrk['p99_us'] / 1000:.2f} | "
            f"{m.wrk['non_2xx_3xx']} | {m.per_request_us(m.server_cpu_s):.0f} | {m.cores(m.server_cpu_s):.2f} | "
            f"{m.cores(m.wrk_cpu_s):.2f} | {m.per_request_us(m.wrk_cpu_s):.0f} | {m.cores(m.redis_cpu_s):.2f} | "
            f"{m.cores(m.others_cpu_s):.2f} |"
        )
    by_app = {app: [m for m in results if m.app == app] for app in APPS}

    def median(app: str, key: str = "rps") -> float:
        return statistics.median(m.rps if key == "rps" else m.wrk[key] / 1000 for m in by_app[app])

    ratios = [i.rps / b.rps for b, i in zip(by_app["bare"], by_app["ingress"], strict=True)]
    cpu = {app: statistics.median(m.per_request_us(m.server_cpu_s) for m in by_app[app]) for app in APPS}
    wrk_vs_server = max(m.wrk_cpu_s / m.server_cpu_s for m in results)
    ingress = by_app["ingress"]
    lines += [
        "",
        "| endpoint | median requests/s | median p50 ms | median p99 ms | median server CPU µs/request |",
        "|---|---|---|---|---|",
        *(
            f"| {app} | {median(app):,.0f} | {median(app, key='p50_us'):.2f} | {median(app, key='p99_us'):.2f} | "
            f"{cpu[app]:.0f} |"
            for app in APPS
        ),
        "",
        f"Ingress / bare: **{median('ingress') / median('bare'):.2f}** of the median requests/s (per round: "
        f"{', '.join(f'{r:.2f}' for r in ratios)}; goal >= 0.40, stretch 0.60); p99 "
        f"{median('ingress', key='p99_us'):.1f} ms (goal < 20 ms); server CPU per request "
        f"{cpu['ingress'] / cpu['bare']:.1f}x the bare endpoint's.",
        f"wrk used at most {wrk_vs_server:.2f} CPU-seconds per server CPU-second. Every ingress answer queued a "
        f"new job ({', '.join(f'{m.queued}' for m in ingress)} jobs for "
        f"{', '.join(str(m.wrk['requests']) for m in ingress)} answers) and wrote one request line "
        f"({', '.join(str(m.log_lines) for m in ingress)} lines for warm-up + run).",
    ]
    return lines


def as_json(results: Sequence[Measured]) -> list[dict[str, object]]:
    return [
        {
            "app": m.app,
            "round": m.round,
            "rps": round(m.rps, 1),
            **m.wrk,
            "server_cpu_s": round(m.server_cpu_s, 3),
            "wrk_cpu_s": round(m.wrk_cpu_s, 3),
            "redis_cpu_s": round(m.redis_cpu_s, 3),
            "others_cpu_s": round(m.others_cpu_s, 3),
            "queued": m.queued,
            "log_lines": m.log_lines,
        }
        for m in results
    ]
