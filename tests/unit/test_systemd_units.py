"""deploy/systemd: hardened units for each role, started after the migration and grouped under fleet.target, and
an nginx site that proxies only the ingress's public paths."""

from __future__ import annotations

import re

import pytest

from tests.unit.deploy_roles import ROOT, systemd_unit, systemd_units

# What every role's process gets: its own user, a read-only system, no privileges, the network and nothing else.
HARDENING = {
    "User": "fleet",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "SystemCallArchitectures": "native",
}
UNITS = systemd_units()
SERVED_UNITS = sorted(name for name in UNITS if name != "fleet-migrate.service")


@pytest.mark.parametrize("name", sorted(UNITS))
def test_every_unit_is_hardened_and_reads_its_secrets_from_a_root_only_file(name: str) -> None:
    service = UNITS[name]["Service"]
    for key, value in HARDENING.items():
        assert service.get(key) == [value], f"{name}: {key}"
    assert "@system-service" in service["SystemCallFilter"]
    assert service["EnvironmentFile"] == ["/etc/fleet/fleet.env"]  # read by systemd as root, before User=


def test_the_migration_is_a_one_shot_every_role_starts_after() -> None:
    assert UNITS["fleet-migrate.service"]["Service"]["Type"] == ["oneshot"]
    for name in SERVED_UNITS:
        unit = UNITS[name]["Unit"]
        assert "fleet-migrate.service" in unit["After"][0].split() and "fleet-migrate.service" in unit["Wants"][0]


@pytest.mark.parametrize("name", SERVED_UNITS)
def test_every_role_belongs_to_the_fleet_target_and_restarts_unless_refused(name: str) -> None:
    unit = UNITS[name]
    assert unit["Unit"]["PartOf"] == ["fleet.target"] and unit["Install"]["WantedBy"] == ["fleet.target"]
    assert unit["Service"]["Restart"] == ["on-failure"]
    assert unit["Service"]["RestartPreventExitStatus"] == ["2"]  # a refused configuration: restarting cannot help
    assert unit["Service"]["KillSignal"] == ["SIGTERM"]


def test_a_worker_template_runs_one_queue_on_the_status_port_its_instance_names() -> None:
    unit = systemd_unit(ROOT / "deploy/systemd/fleet-worker-default@.service", instance="9110")
    (start,) = unit["Service"]["ExecStart"]
    assert "METRICS_PORT=9110" in start and start.endswith("fleet worker --queue default")
    assert "--port 9110 --path /health" in unit["Service"]["ExecStartPost"][0]


def test_the_ingress_listens_where_nginx_proxies() -> None:
    (start,) = UNITS["fleet-ingress.service"]["Service"]["ExecStart"]
    assert start.endswith("fleet ingress --host 127.0.0.1 --port 8000")
    assert "server 127.0.0.1:8000;" in NGINX


NGINX = (ROOT / "deploy/systemd/nginx-fleet.conf").read_text()


def nginx_locations() -> dict[str, str]:
    """Each `location` of the TLS server: its match, and its body."""
    tls_server = NGINX[NGINX.index("listen 443 ssl;") :]
    return {match.strip(): body for match, body in re.findall(r"location ([^{]+)\{([^}]*)\}", tls_server)}


def test_nginx_proxies_the_public_paths_and_nothing_else() -> None:
    locations = nginx_locations()
    proxied = {match for match, body in locations.items() if "proxy_pass http://fleet_ingress;" in body}
    assert proxied == {"= /webhooks/ashby", "/slack/", "= /health", r"~ ^/(ready|metrics)$"}
    assert "deny all;" in locations[r"~ ^/(ready|metrics)$"]  # monitoring hosts only
    assert "return 404;" in locations["/"]
    # The only upstream is the ingress: the admin service (8080) is never proxied.
    assert set(re.findall(r"proxy_pass (\S+);", NGINX)) == {"http://fleet_ingress"}
    assert re.findall(r"^\s*server (\S+);", NGINX, re.M) == ["127.0.0.1:8000"]


def test_nginx_stops_oversized_and_slow_requests_before_the_ingress() -> None:
    assert "client_max_body_size 1m;" in NGINX
    assert "client_body_timeout 15s;" in NGINX and "client_header_timeout 10s;" in NGINX
