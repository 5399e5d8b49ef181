"""The Compose, Railway, Render and Fly.io files: valid, migrating before a rollout, production by default,
secrets only from the platform's store, Redis with an append-only file, and nothing private made public."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from shared.jobs import QUEUES
from shared.settings import SECRETS
from tests.unit.deploy_roles import RAILWAY_FILES, ROOT, fleet_argv, load_toml, load_yaml

COMPOSE_SCHEMA = json.loads((ROOT / "tests/schemas/compose-spec.json").read_text())


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml("compose.yaml")
    return loaded


def fleet_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose()["services"].items() if s.get("command", [""])[0] == "fleet"}


def test_compose_file_follows_the_compose_specification() -> None:
    jsonschema.Draft202012Validator(COMPOSE_SCHEMA).validate(compose())


def test_the_compose_schema_refuses_what_compose_would() -> None:
    broken = compose()
    broken["services"]["ingress"]["stop_grace_perid"] = "45s"  # a typo compose rejects
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(COMPOSE_SCHEMA).validate(broken)


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_compose_workers_scale_and_answer_on_their_status_port(queue: str) -> None:
    service = fleet_services()[f"worker-{queue}"]
    port = service["environment"]["METRICS_PORT"]
    assert service["healthcheck"]["test"] == ["CMD", "fleet", "probe", "--port", port, "--path", "/health"]
    assert service["environment"]["REDIS_URL"]  # the shared environment is merged in, not replaced
    assert port in service["expose"]
    # `docker compose up --scale worker-…=3` needs no fixed host port and no fixed container name.
    assert "ports" not in service and "container_name" not in service


def test_compose_publishes_the_admin_service_on_loopback_only() -> None:
    (mapping,) = fleet_services()["admin"]["ports"]
    assert mapping.startswith("127.0.0.1:") and mapping.endswith(":8080")


def test_compose_runs_every_role_after_the_migration() -> None:
    services = fleet_services()
    assert services["migrate"]["restart"] == "no" and services["migrate"]["healthcheck"] == {"disable": True}
    for name, service in services.items():
        if name != "migrate":
            assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name


def test_compose_redis_keeps_an_append_only_file_and_never_evicts() -> None:
    command = compose()["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert "redis-data:/data" in compose()["services"]["redis"]["volumes"]


def test_compose_runs_in_production_and_takes_every_secret_from_the_environment() -> None:
    environment = compose()["x-fleet"]["environment"]
    assert environment["ENVIRONMENT"] == "${ENVIRONMENT:-production}"
    assert not set(SECRETS) & set(environment)  # from .env, never written here
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]  # no default password: compose refuses to start
    assert "ENVIRONMENT=production" in (ROOT / ".env.example").read_text().splitlines()


@pytest.mark.parametrize("path", RAILWAY_FILES)
def test_railway_services_build_the_image_and_migrate_before_they_deploy(path: str) -> None:
    config = load_toml(path)
    assert config["build"] == {"builder": "DOCKERFILE", "dockerfilePath": "docker/Dockerfile"}
    assert [fleet_argv(command) for command in config["deploy"]["preDeployCommand"]] == [["fleet", "migrate"]]
    assert set(config) == {"build", "deploy"}  # variables, secrets among them, live in Railway, not here


def render() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml("render.yaml")
    return loaded


def render_fleet_services() -> list[dict[str, Any]]:
    return [service for service in render()["services"] if "dockerCommand" in service]


def test_render_services_build_the_image_migrate_first_and_run_in_production() -> None:
    (group,) = render()["envVarGroups"]
    assert {"key": "ENVIRONMENT", "value": "production"} in group["envVars"]
    for service in render_fleet_services():
        assert (service["runtime"], service["dockerfilePath"]) == ("docker", "./docker/Dockerfile")
        assert fleet_argv(service["preDeployCommand"]) == ["fleet", "migrate"]
        assert {"fromGroup": group["name"]} in service["envVars"]


def test_render_takes_secrets_from_its_store_and_databases_from_its_services() -> None:
    for service in render_fleet_services():
        env = {var["key"]: var for var in service["envVars"] if "key" in var}
        for name in SECRETS:
            assert "value" not in env[name] and (env[name].get("sync") is False or "fromService" in env[name])
        assert env["DATABASE_URL"]["fromDatabase"]["name"] == render()["databases"][0]["name"]
        assert env["REDIS_URL"]["fromService"]["type"] == "keyvalue"


def test_render_keeps_the_admin_service_private_and_gives_workers_a_status_port() -> None:
    services = {service["name"]: service for service in render_fleet_services()}
    assert services["fleet-admin"]["type"] == "pserv"
    for queue in QUEUES:
        worker = services[f"fleet-worker-{queue}"]
        assert worker["type"] == "worker"
        assert {"key": "METRICS_PORT", "value": "9100"} in worker["envVars"]


def test_render_redis_persists_and_never_evicts() -> None:
    (redis,) = [service for service in render()["services"] if service["type"] == "keyvalue"]
    assert redis["plan"] != "free"  # free instances keep nothing on disk
    assert redis["maxmemoryPolicy"] == "noeviction"
    assert redis["ipAllowList"] == []


def fly() -> dict[str, Any]:
    return load_toml("fly.toml")


def test_fly_migrates_before_each_release_and_exposes_only_the_ingress() -> None:
    config = fly()
    assert fleet_argv(config["deploy"]["release_command"]) == ["fleet", "migrate"]
    assert config["http_service"]["processes"] == ["ingress"]
    assert config["http_service"]["internal_port"] == int(config["env"]["PORT"])
    assert "services" not in config  # the admin service and the workers have no public port
    assert config["kill_signal"] == "SIGTERM"


def test_fly_runs_in_production_without_a_secret_in_the_file() -> None:
    env = fly()["env"]
    assert env["ENVIRONMENT"] == "production"
    assert not set(SECRETS) & set(env) and "DATABASE_URL" not in env and "REDIS_URL" not in env


def test_fly_scrapes_every_workers_metrics_port() -> None:
    config = fly()
    scraped = {group: m["port"] for m in config["metrics"] for group in m["processes"]}
    assert {group: scraped[group] for group in config["processes"] if group.startswith("worker")} == {
        f"worker_{queue}": int(config["env"]["METRICS_PORT"]) for queue in QUEUES
    }


@pytest.mark.parametrize("queue", sorted(QUEUES))
def test_fly_autoscales_each_worker_group_on_its_own_queue_depth(queue: str) -> None:
    env = load_toml(f"deploy/fly/autoscaler-worker-{queue}.toml")["env"]
    assert env["FAS_APP_NAME"] == fly()["app"]
    assert env["FAS_PROCESS_GROUP"] == f"worker_{queue}" and env["FAS_PROCESS_GROUP"] in fly()["processes"]
    assert env["FAS_PROMETHEUS_QUERY"] == f'max(fleet_queue_depth{{queue="{queue}"}})'
    assert env["FAS_PROMETHEUS_METRIC_NAME"] in env["FAS_STARTED_MACHINE_COUNT"]
    assert int(env["FAS_MIN_STARTED_MACHINE_COUNT"]) >= 1  # the crons run on the workers


def test_fly_redis_keeps_an_append_only_file_on_a_volume() -> None:
    config = load_toml("deploy/fly/redis.toml")
    command = config["processes"]["redis"]
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    assert "--dir /data" in command and config["mounts"]["destination"] == "/data"
    assert '"$REDIS_PASSWORD"' in command  # a secret set with `fly secrets set`
