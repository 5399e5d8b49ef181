"""`fleet rules validate|apply|list|show` as an operator runs them: a real process, PostgreSQL, and the Ashby
simulator over HTTP holding the seeded org."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.ashby import AshbySim, create_app, seed_org, sim_of
from sim.serving import running
from tests.helpers import ASHBY_KEY, UNREACHABLE

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rules.yaml"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@dataclass
class Fleet:
    db_url: str
    ashby_url: str
    sim: AshbySim

    async def rules(self, *args: str | Path, ashby_url: str | None = None) -> Run:
        env = {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "ASHBY_BASE_URL": ashby_url or self.ashby_url,
            "ASHBY_API_KEY": ASHBY_KEY,
            "LOG_LEVEL": "ERROR",
        }
        env.pop("REDIS_URL", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "fleet.cli", "rules", *map(str, args), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
        assert process.returncode is not None
        return Run(process.returncode, out.decode(), err.decode())


@pytest.fixture
async def fleet(db_url: str) -> AsyncIterator[Fleet]:
    app = create_app(seed_org().org, api_key=ASHBY_KEY)
    async with running(app) as url:
        yield Fleet(db_url, url, sim_of(app))


async def test_a_broken_file_is_refused_line_by_line_and_nothing_is_applied(fleet: Fleet, tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    text = EXAMPLE.read_text()
    broken.write_text(text.replace("stage: Phone Screen", "stage: Phone Screne").replace("field: Level", "field: Lvl"))
    lines = text.splitlines()
    stage = lines.index("    stage: Phone Screen") + 1
    field = lines.index("      - {field: Level, count: {value: Senior, at_least: 1}}") + 1

    for command in ("validate", "apply"):
        run = await fleet.rules(command, broken)
        assert run.code == 1, run
        assert run.out == ""
        assert run.err.splitlines() == [
            f"{broken}, line {stage}: stage 'Phone Screne' is not in plan 'Engineering "
            "plan' (stages: Application Review, Phone Screen, Onsite, Offer, Hired, Archived)",
            f"{broken}, line {field}: field 'Lvl' is not on the feedback forms of stage 'Onsite' (Onsite Panel) "
            "(fields: Overall recommendation, Level, Strengths, Would you want to work with them?, Years of "
            "experience)",
            "2 problems: nothing was applied",
        ]
    assert len(fleet.sim.calls_to("job.list")) == 1, "the catalog was read once, then used from the cache"
    assert (await fleet.rules("list")).out == "No active rules (fleet rules apply FILE).\n"


async def test_validate_apply_list_and_show(fleet: Fleet) -> None:
    validated = await fleet.rules("validate", EXAMPLE)
    assert (validated.code, validated.out, validated.err) == (0, "3 rules valid\n", "")

    applied = await fleet.rules("apply", EXAMPLE)
    assert applied.code == 0, applied
    assert applied.out.splitlines() == [
        "added        backend-phone-screen v1",
        "added        backend-onsite v1",
        "added        engineering-onsite-dry-run v1",
        "3 rules active: 3 added",
    ]
    again = await fleet.rules("apply", EXAMPLE, "--refresh")
    assert again.out.splitlines()[-1] == "3 rules active: 3 unchanged"
    assert len(fleet.sim.calls_to("job.list")) == 2, "read once when none was cached, once more when asked"

    listed = (await fleet.rules("list")).out.splitlines()
    assert listed[0].split() == ["NAME", "VERSION", "MODE", "PRIORITY", "JOB", "/", "PLAN", "/", "STAGE"]
    assert [line.split()[:4] for line in listed[1:]] == [
        ["backend-onsite", "v1", "approve", "0"],
        ["backend-phone-screen", "v1", "auto", "0"],
        ["engineering-onsite-dry-run", "v1", "dry_run", "0"],
    ]
    assert listed[1].endswith("  Senior Backend Engineer / Engineering plan / Onsite")
    assert listed[3].endswith("  every job / Engineering plan / Onsite")

    shown = await fleet.rules("show", "backend-onsite")
    assert shown.code == 0, shown
    lines = shown.out.splitlines()
    assert lines[:12] == [
        "backend-onsite v1, active",
        "  applies to: Senior Backend Engineer / Engineering plan / Onsite",
        "  mode: approve, priority 0",
        "  waits for: Onsite Panel",
        "  requires:",
        "    - no interviewer: Overall recommendation == 1",
        "    - average of Overall recommendation >= 3",
        "    - at least 1 interviewer(s): Level == senior",
        "  on pass: advance to Offer",
        "  on fail: reject (Not a fit)",
        "  quiet period: 30 min after the last feedback; timeout: 5 days",
        "  debrief to: C0DEBRIEF1",
    ]
    assert lines[12] == "as written:" and lines[13] == "  name: backend-onsite"
    assert "  on_pass: {advance: Offer}   # Offer is never entered unless named" in lines
    assert lines[-2] == "history:" and lines[-1].startswith("  v1  applied ") and lines[-1].endswith("(active)")

    missing = await fleet.rules("show", "no-such-rule")
    assert (missing.code, missing.err) == (1, "no rule is named 'no-such-rule'\n")


async def test_an_unreachable_ashby_falls_back_to_the_cached_catalog_or_stops(fleet: Fleet) -> None:
    stopped = await fleet.rules("validate", EXAMPLE, ashby_url=UNREACHABLE)
    assert stopped.code == 2 and "and none are cached" in stopped.err

    assert (await fleet.rules("validate", EXAMPLE)).code == 0
    cached = await fleet.rules("validate", EXAMPLE, "--refresh", ashby_url=UNREACHABLE)
    assert (cached.code, cached.out) == (0, "3 rules valid\n")
    assert "cannot read Ashby now" in cached.err and "using the copy from" in cached.err
