"""The deployment files: each service starts what it should, is health-checked on what that role serves,
and outlives a worker's shutdown drain."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

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


def compose() -> dict[str, Any]:
    with (ROOT / "compose.yaml").open() as file:
        loaded: dict[str, Any] = yaml.safe_load(file)
    return loaded


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_compose_checks_each_worker_on_its_own_status_port(queue: str) -> None:
    service = compose()["services"][f"worker-{queue}"]
    port = service["environment"]["METRICS_PORT"]
    assert service["healthcheck"]["test"] == ["CMD", "fleet", "probe", "--port", port, "--path", "/health"]
    assert service["environment"]["REDIS_URL"]  # the shared environment is merged in, not replaced
    assert service["stop_grace_period"] == "30s"


def test_compose_checks_the_ingress_on_its_port_and_not_the_one_shot_migration() -> None:
    services = compose()["services"]
    assert services["ingress"]["healthcheck"]["test"][:5] == ["CMD", "fleet", "probe", "--port", "8000"]
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_compose_redis_keeps_an_append_only_file() -> None:
    command = compose()["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_compose_and_the_example_file_run_in_production() -> None:
    assert compose()["x-fleet"]["environment"]["ENVIRONMENT"] == "${ENVIRONMENT:-production}"
    assert "ENVIRONMENT=production" in (ROOT / ".env.example").read_text().splitlines()


def test_the_image_probes_the_role_it_runs() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert 'CMD ["fleet", "probe"]' in dockerfile
