"""`fleet doctor` as a process, against real PostgreSQL and Redis and the Ashby and Slack simulators over HTTP:
a configuration that works passes, and one that cannot work fails with what to fix."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from fleet.processes import fleet
from shared.db.pool import with_database
from sim.ashby import create_app as ashby_app
from sim.ashby import seed_org, sim_of
from sim.serving import running
from sim.slack import SlackState
from sim.slack import create_app as slack_app
from tests.helpers import ASHBY_KEY, SIGNING_SECRET, SLACK_TOKEN, WEBHOOK_SECRET

pytestmark = pytest.mark.e2e


@dataclass
class Outside:
    ashby_url: str
    slack_url: str
    slack: SlackState
    key_scopes: list[str]


@pytest.fixture
async def outside() -> AsyncIterator[Outside]:
    ashby = ashby_app(seed_org().org, api_key=ASHBY_KEY)
    slack = SlackState()
    async with (
        running(ashby) as ashby_url,
        running(slack_app(slack, token=SLACK_TOKEN, signing_secret=SIGNING_SECRET, interactions_url=None)) as slack_url,
    ):
        yield Outside(ashby_url, slack_url + "/api/", slack, sim_of(ashby).api.key_scopes)


def environment(outside: Outside, db_url: str, redis_url: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "test",
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "ASHBY_API_KEY": ASHBY_KEY,
        "ASHBY_BASE_URL": outside.ashby_url,
        "ASHBY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_BASE_URL": outside.slack_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    }


async def doctor(env: dict[str, str]) -> tuple[int, dict[str, str], str]:
    """Exit status, each check's line by name, and the whole report."""
    async with fleet("doctor", env=env) as process:
        code = await process.process.wait()
        report = await process.output()
    lines = {line[6:22].strip(): line for line in report.splitlines() if line[:4] in ("PASS", "WARN", "FAIL")}
    return code, lines, report


async def test_a_working_configuration_passes(outside: Outside, db_url: str, redis_url: str) -> None:
    code, lines, report = await doctor(environment(outside, db_url, redis_url))
    assert code == 0, report
    for name in ("configuration", "webhook secrets", "database", "ashby key", "slack token"):
        assert lines[name].startswith("PASS"), report
    assert lines["redis"].startswith(("PASS", "WARN")), report  # the test Redis may run without an AOF
    assert "slack token" in lines and "team T0SIMTEAM" in lines["slack token"]
    assert report.rstrip().endswith("checks pass")
    for secret in (ASHBY_KEY, SLACK_TOKEN, WEBHOOK_SECRET, SIGNING_SECRET, db_url):
        assert secret not in report


@pytest.fixture
async def empty_database(pg_server_url: str) -> AsyncIterator[str]:
    name = f"fleet_unmigrated_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(pg_server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield with_database(pg_server_url, name)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def test_a_broken_configuration_fails_and_says_what_to_fix(
    outside: Outside, empty_database: str, redis_url: str
) -> None:
    outside.slack.token_scopes = ["chat:write", "users:read"]
    outside.key_scopes.remove("candidates:write")
    env = environment(outside, empty_database, redis_url)
    del env["ASHBY_WEBHOOK_SECRET"]
    code, lines, report = await doctor(env)
    assert code == 1, report
    assert lines["configuration"].startswith("WARN") and "ASHBY_WEBHOOK_SECRET" in lines["configuration"]
    assert lines["webhook secrets"].startswith("FAIL")
    assert lines["database"].startswith("FAIL") and "missing migrations" in lines["database"]
    assert "fix: run `fleet migrate`" in report
    assert lines["ashby key"].startswith("FAIL") and "candidates:write" in lines["ashby key"]
    assert lines["slack token"].startswith("FAIL")
    assert "im:write (conversations.open)" in lines["slack token"] and "users:read.email" in lines["slack token"]
    assert report.rstrip().endswith("doctor: 4 of 6 checks failing")

    env.update(ASHBY_API_KEY="not-the-key", SLACK_BOT_TOKEN="xoxb-not-the-token", REDIS_URL="redis://127.0.0.1:9/0")
    code, lines, report = await doctor(env)
    assert code == 1
    assert "Ashby refused the key (forbidden)" in lines["ashby key"]
    assert "Slack refused the token (invalid_auth)" in lines["slack token"]
    assert lines["redis"].startswith("FAIL") and "unreachable" in lines["redis"]
    assert "not-the-key" not in report and "xoxb-not-the-token" not in report
