"""The README's first command: `fleet demo` runs the whole interview loop on the embedded servers."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.helpers import server_directory

pytestmark = pytest.mark.e2e


async def test_fleet_demo_runs_the_interview_loop_and_stops_cleanly() -> None:
    with server_directory("fleet-demo-") as data:
        await run_demo_in(data)


async def run_demo_in(data: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["DATA_DIR"] = str(data)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fleet.cli",
        "demo",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=150)
    text = out.decode()
    assert process.returncode == 0, text
    assert "forged signature is refused: 401" in text
    assert "Slack DMs to Alex: ['Feedback due']" in text
    assert "Upcoming interview" in text
    assert "Ashby now holds 1 scorecard from Alex" in text
    assert "Feedback submitted" in text
    assert "skipped (feedback_submitted)" in text
    # The advancement act: rules applied by the CLI, three candidates decided three ways, the audit.
    assert "2 rules active: 2 added" in text
    assert "Jordan: advanced automatically, now at Onsite in Ashby." in text
    assert "Morgan: held for a person, still at Phone Screen in Ashby." in text
    assert "rejected after the click, now Archived in Ashby." in text
    assert "at Phone Screen (" in text and ": advance -> Onsite (" in text and "[done]" in text
    assert ": hold [held]" in text and ": reject -> Archived (" in text
    assert "rule backend-onsite v1 (approve); decided by U" in text  # the recruiter's Slack id, not "rule"
    assert "[FAIL] each: Overall recommendation >= 3.0: not: Blake Okafor" in text
    assert text.rstrip().endswith("Demo finished cleanly.")
