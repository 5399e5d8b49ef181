"""Every deployment target runs every role with a command the `fleet` CLI accepts, checks each served role on
the port and path that role serves, and gives a draining worker longer than its drain before SIGKILL."""

from __future__ import annotations

import pytest

from shared.jobs import QUEUES
from tests.unit.deploy_roles import (
    ROLES,
    SERVED_ROLES,
    TARGETS,
    WORKER_DRAIN_BOUND_S,
    cli_accepts,
    fleet_argv,
)

# The port and paths each role serves: the ingress on PORT (8000, or the platform's own), the admin service on
# ADMIN_PORT (8080), a worker on METRICS_PORT (9100).
SERVED: dict[str, tuple[set[int | None], set[str | None]]] = {
    "ingress": ({8000, None}, {"/health", "/ready"}),
    "admin": ({8080, None}, {"/health", None}),
    "worker-interactive": ({9100, 9101, None}, {"/health", "/ready"}),
    "worker-default": ({9100, None}, {"/health", "/ready"}),
}
# Render checks web services by HTTP and private services by TCP, and background workers not at all: there the
# worker's /health is for the operator's own monitor (its METRICS_PORT is asserted in test_deployment_files).
UNCHECKED_BY_PLATFORM = {("render", "worker-interactive"), ("render", "worker-default")}
# `fleet admin` is built on another branch at the same time as these files. Strict: once it lands these pass,
# fail as XPASS, and this mark must go.

TARGET_ROLES = [pytest.param(target, role, id=f"{target}-{role}") for target in TARGETS for role in ROLES]


def test_the_cli_check_refuses_what_fleet_does_not_run() -> None:
    assert cli_accepts(["fleet", "worker", "--queue", "default"])
    assert cli_accepts(["fleet", "ingress", "--host", "127.0.0.1", "--port", "8000"])
    assert not cli_accepts(["fleet", "worker", "--queue", "bulk"])
    assert not cli_accepts(["fleet", "serve"])
    assert fleet_argv("/usr/bin/env METRICS_PORT=9100 /opt/fleet/current/.venv/bin/fleet worker --queue default") == [
        "fleet", "worker", "--queue", "default",
    ]  # fmt: skip


@pytest.mark.parametrize(("target", "role"), TARGET_ROLES)
def test_every_target_runs_every_role_with_a_command_fleet_accepts(target: str, role: str) -> None:
    roles = TARGETS[target]()
    assert role in roles, f"{target} does not run {role}"
    assert cli_accepts(roles[role].argv), f"{target}: `{' '.join(roles[role].argv)}` is not a fleet command"


@pytest.mark.parametrize("target", TARGETS)
def test_no_target_runs_a_role_the_fleet_does_not_have(target: str) -> None:
    assert set(TARGETS[target]()) <= set(ROLES)


@pytest.mark.parametrize(("target", "role"), [(target, role) for target in TARGETS for role in SERVED_ROLES])
def test_every_served_role_is_health_checked_where_it_answers(target: str, role: str) -> None:
    health = TARGETS[target]()[role].health
    if (target, role) in UNCHECKED_BY_PLATFORM:
        assert health is None
        return
    assert health is not None, f"{target}: {role} has no health check"
    ports, paths = SERVED[role]
    port, path = health
    assert port in ports and path in paths, f"{target}: {role} is checked on {health}"


@pytest.mark.parametrize("target", TARGETS)
def test_the_one_shot_migration_is_not_health_checked_as_a_server(target: str) -> None:
    assert TARGETS[target]()["migrate"].health is None


@pytest.mark.parametrize(("target", "queue"), [(target, queue) for target in TARGETS for queue in sorted(QUEUES)])
def test_a_worker_is_stopped_only_after_its_drain_is_over(target: str, queue: str) -> None:
    stop_s = TARGETS[target]()[f"worker-{queue}"].stop_s
    assert stop_s is not None and stop_s > WORKER_DRAIN_BOUND_S, f"{target}: {stop_s} s"


def test_the_drain_bound_is_the_grace_plus_the_workers_own_margin() -> None:
    assert WORKER_DRAIN_BOUND_S == 35  # WORKER_SHUTDOWN_GRACE_S 20 s + 15 s, as docs/operations.md says
