"""The Railway files: each service starts what it should and outlives a worker's shutdown drain."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from shared.jobs import QUEUES
from shared.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def deploy_section(path: str) -> dict[str, object]:
    with (ROOT / path).open("rb") as file:
        config = tomllib.load(file)
    assert config["build"]["dockerfilePath"] == "docker/Dockerfile"
    assert (ROOT / config["build"]["dockerfilePath"]).is_file()
    deploy: dict[str, object] = config["deploy"]
    return deploy


def test_railway_ingress_migrates_before_it_starts() -> None:
    deploy = deploy_section("railway.toml")
    assert deploy["startCommand"] == "fleet ingress"
    assert deploy["preDeployCommand"] == ["fleet migrate"]
    assert deploy["healthcheckPath"] == "/health"


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_railway_worker_of_each_queue_drains_before_it_is_killed(queue: str) -> None:
    deploy = deploy_section(f"docker/railway/worker-{queue}.toml")
    assert deploy["startCommand"] == f"fleet worker --queue {queue}"
    draining = deploy["drainingSeconds"]
    assert isinstance(draining, int) and draining > load_settings({}).worker_shutdown_grace_s
