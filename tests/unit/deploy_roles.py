"""The fleet's roles as each deployment target declares them: the command, the health check and the stop timeout.

One reader per target, each returning {role: Role}, so the tests can hold every target to the same rules.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from fleet.cli import main
from shared.settings import load_settings
from workers.process import HARD_EXIT_MARGIN_S

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("migrate", "ingress", "admin", "worker-interactive", "worker-default")
SERVED_ROLES = ROLES[1:]
# From SIGTERM to a worker's own forced exit: every platform's stop timeout must be longer.
WORKER_DRAIN_BOUND_S = load_settings({}).worker_shutdown_grace_s + HARD_EXIT_MARGIN_S
RAILWAY_FILES = [
    "railway.toml",
    *(f"docker/railway/{p.name}" for p in sorted((ROOT / "docker/railway").glob("*.toml"))),
]


class Role(NamedTuple):
    argv: list[str]
    # (port, path): port None is the platform's own PORT, path None a TCP check; None: no check at all.
    health: tuple[int | None, str | None] | None = None
    stop_s: float | None = None  # SIGTERM to SIGKILL


def load_yaml(path: str) -> Any:
    with (ROOT / path).open() as file:
        return yaml.safe_load(file)


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    with path.open() as file:
        return [document for document in yaml.safe_load_all(file) if document]


def load_toml(path: str) -> dict[str, Any]:
    with (ROOT / path).open("rb") as file:
        return tomllib.load(file)


def fleet_argv(command: str | list[str]) -> list[str]:
    """`fleet …` from a start command: `fleet …`, `/path/to/fleet …` or `/usr/bin/env NAME=value … fleet …`."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    while argv and (Path(argv[0]).name == "env" or "=" in argv[0]):
        argv.pop(0)
    assert argv and Path(argv[0]).name == "fleet", f"not a fleet command: {command!r}"
    return ["fleet", *argv[1:]]


def role_of(argv: list[str]) -> str:
    return f"worker-{argv[argv.index('--queue') + 1]}" if argv[1] == "worker" else argv[1]


def by_role(roles: list[Role]) -> dict[str, Role]:
    named = [role_of(role.argv) for role in roles]
    assert all(named.count(name) == 1 for name in named if name != "migrate"), named  # migrate: once per service
    return dict(zip(named, roles, strict=True))


def cli_accepts(argv: list[str]) -> bool:
    """Whether the `fleet` command's own parser accepts these arguments: with `--help` appended it exits 0 once
    every argument before it parsed, and 2 on an unknown subcommand, option or queue."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main([*argv[1:], "--help"])
        except SystemExit as exit_:
            return exit_.code == 0
    return False


def seconds(duration: str) -> float:
    """Compose's and Fly's durations: `45s`, `1m30s`, `500ms`."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


def compose_roles() -> dict[str, Role]:
    roles = []
    for service in load_yaml("compose.yaml")["services"].values():
        if service.get("command", [""])[0] != "fleet":
            continue
        test = service.get("healthcheck", {}).get("test")
        health = (int(test[test.index("--port") + 1]), test[test.index("--path") + 1]) if test else None
        roles.append(Role(fleet_argv(service["command"]), health, seconds(service.get("stop_grace_period", "10s"))))
    return by_role(roles)


def railway_roles() -> dict[str, Role]:
    roles = []
    for path in RAILWAY_FILES:
        deploy = load_toml(path)["deploy"]
        health = (None, deploy["healthcheckPath"]) if "healthcheckPath" in deploy else None
        roles.append(Role(fleet_argv(deploy["startCommand"]), health, deploy.get("drainingSeconds", 3)))
        roles.extend(Role(fleet_argv(command)) for command in deploy.get("preDeployCommand", []))
    return by_role(roles)


def render_roles() -> dict[str, Role]:
    roles = []
    for service in load_yaml("render.yaml")["services"]:
        if "dockerCommand" not in service:
            continue
        env = {var["key"]: var.get("value") for var in service["envVars"] if "key" in var}
        health = {
            "web": (None, service.get("healthCheckPath")),
            "pserv": (int(env["ADMIN_PORT"]), None) if "ADMIN_PORT" in env else None,  # Render's TCP check
        }.get(service["type"])
        roles.append(Role(fleet_argv(service["dockerCommand"]), health, service.get("maxShutdownDelaySeconds", 30)))
        roles.append(Role(fleet_argv(service["preDeployCommand"])))
    return by_role(roles)


def fly_roles() -> dict[str, Role]:
    config = load_toml("fly.toml")
    checks: dict[str, tuple[int | None, str | None]] = {}
    service = config["http_service"]
    for check in service.get("checks", []):
        checks.update(dict.fromkeys(service["processes"], (service["internal_port"], check["path"])))
    for check in config.get("checks", {}).values():
        checks.update(dict.fromkeys(check["processes"], (check["port"], check.get("path"))))
    stop_s = float(config["kill_timeout"])
    roles = [Role(fleet_argv(command), checks.get(group), stop_s) for group, command in config["processes"].items()]
    roles.append(Role(fleet_argv(config["deploy"]["release_command"])))
    return by_role(roles)


def k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    return [(path, doc) for path in sorted((ROOT / "deploy/k8s").rglob("*.yaml")) for doc in load_yaml_documents(path)]


def k8s_roles() -> dict[str, Role]:
    roles = []
    for _, doc in k8s_documents():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
        probe = container.get("livenessProbe", {}).get("httpGet")
        health = (ports.get(probe["port"], probe["port"]), probe["path"]) if probe else None
        roles.append(Role(fleet_argv(container["command"]), health, pod.get("terminationGracePeriodSeconds", 30)))
    return by_role(roles)


def systemd_unit(path: Path, instance: str | None = None) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections as {section: {key: [values]}}; continuation lines joined, `%i` given."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    if instance is not None:
        text = text.replace("%i", instance)
    sections: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = sections.setdefault(line[1:-1], {})
        elif line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            section.setdefault(key, []).append(value)
    return sections


def systemd_units() -> dict[str, dict[str, dict[str, list[str]]]]:
    units = {}
    for path in sorted((ROOT / "deploy/systemd").glob("*.service")):
        instance = None
        if path.name.endswith("@.service"):  # a template: read it as its default instance
            (instance,) = systemd_unit(path)["Install"]["DefaultInstance"]
        units[path.name] = systemd_unit(path, instance)
    return units


def systemd_roles() -> dict[str, Role]:
    roles = []
    for unit in systemd_units().values():
        service = unit["Service"]
        (start,) = service["ExecStart"]
        probes = [shlex.split(post) for post in service.get("ExecStartPost", []) if "fleet probe" in post]
        health = None
        if probes:
            argv = shlex.split(probes[0][-1])  # the shell's script: `…; until …/fleet probe --port N --path P; …`
            health = (int(argv[argv.index("--port") + 1]), argv[argv.index("--path") + 1].rstrip(";"))
        stop_s = float(service["TimeoutStopSec"][0]) if "TimeoutStopSec" in service else None
        roles.append(Role(fleet_argv(start), health, stop_s))
    return by_role(roles)


TARGETS = {
    "compose": compose_roles,
    "railway": railway_roles,
    "render": render_roles,
    "fly": fly_roles,
    "kubernetes": k8s_roles,
    "systemd": systemd_roles,
}
