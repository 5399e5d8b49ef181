"""The chaos suite's plan and its verdict: the pure parts that decide what a run expects and whether it passed."""

from __future__ import annotations

import random

from chaos import scenario
from chaos.accounting import Expectation, Post, Verdict, count_reminders, count_scorecards


def test_both_passes_plan_the_scale_and_every_fault_kind() -> None:
    kinds = {run.name: {fault.kind for fault in scenario.faults(run)} for run in (scenario.FULL, scenario.SHORT)}
    assert kinds["full"] == set(scenario.FAULT_KINDS)
    assert kinds["short"] == {"kill", "redis_crash", "pg_terminate", "pg_restart"}  # the Redis restart the harsh way
    for run in (scenario.FULL, scenario.SHORT):
        timeline = scenario.faults(run)
        assert all(fault.at_s <= run.horizon_s for fault in timeline)
        assert [f.at_s for f in timeline] == sorted(f.at_s for f in timeline)
    full = scenario.FULL
    planned = scenario.interviews(full)
    expected = scenario.expected_reminders(full, planned)
    assert full.interviews >= 500 and full.interviewers >= 1500
    assert len(scenario.submitters(full, expected, random.Random(1))) >= 300
    assert sum(1 for f in scenario.faults(full) if f.kind in ("redis_restart", "redis_crash")) == 2
    assert sum(1 for f in scenario.faults(full) if f.kind == "pg_terminate") == 13  # every 5 s for a minute
    assert {e.kind for e in expected} == {"brief", "due"} and len(expected) == 750 + 1500


def test_the_short_pass_expects_only_what_falls_before_its_horizon() -> None:
    short = scenario.SHORT
    expected = scenario.expected_reminders(short, scenario.interviews(short))
    assert max(e.due_s for e in expected) <= short.horizon_s
    assert sum(1 for e in expected if e.kind == "brief") == 150  # the ahead cohort's interviews end after the run
    assert sum(1 for e in expected if e.kind == "due") == 150
    chosen = scenario.submitters(short, expected, random.Random(4))
    assert chosen == scenario.submitters(short, expected, random.Random(4))  # seeded
    assert sum(chosen.values()) == round(len(chosen) * short.double_submit_share)


def test_a_duplicate_passes_only_right_after_a_kill_and_a_missing_reminder_fails() -> None:
    expected = [Expectation(0, "brief", 100.0), Expectation(0, "due", 200.0), Expectation(1, "due", 200.0)]
    expected.append(Expectation(2, "due", 200.0))
    posts = [
        Post(0, "brief", 102.5),
        Post(0, "due", 201.0),
        Post(0, "due", 270.0),  # re-sent: the worker was killed just after it posted (Slack stamped it 0.4 s late)
        Post(0, "due", 330.0),  # and again: killed 1.5 s after the second post
        Post(1, "due", 203.0),
        Post(1, "due", 340.0),  # the nearest kills 1.5 s before and 2.5 s after the first copy: a bug
        Post(5, "brief", 50.0),  # not in the plan
    ]
    verdict = Verdict()
    count_reminders(verdict, expected, posts, kill_times=[200.6, 201.5, 205.5, 271.5])
    assert (verdict.reminders_expected, verdict.reminders_sent, verdict.never_sent) == (4, 3, 1)
    assert (verdict.sent_twice, verdict.duplicates_after_kill, verdict.duplicates_unexplained) == (2, 2, 1)
    assert [(d.interviewer, d.at, d.after_kill) for d in verdict.duplicates] == [
        (0, 270.0, True),
        (0, 330.0, True),
        (1, 340.0, False),
    ]
    assert verdict.unexpected_reminders == 1
    assert sorted(verdict.lateness_s) == [1.0, 2.5, 3.0] and verdict.max_lateness_s == 3.0
    assert verdict.failures() == ["1 reminders never sent", "1 duplicate reminders not explained by a kill -9"]


def test_scorecards_missing_or_twice_fail() -> None:
    verdict = Verdict(processes=8, alive=8)
    count_scorecards(verdict, {("e1", "u1"), ("e2", "u2"), ("e3", "u3")}, [("e1", "u1"), ("e2", "u2"), ("e2", "u2")])
    assert (verdict.scorecards_in_ashby, verdict.scorecards_missing, verdict.scorecards_duplicated) == (2, 1, 1)
    assert verdict.failures() == ["1 scorecards missing in Ashby", "1 duplicate scorecards in Ashby"]
    clean = Verdict(processes=8, alive=8)
    count_scorecards(clean, {("e1", "u1")}, [("e1", "u1")])
    assert clean.failures() == []
    assert Verdict(processes=8, alive=7, unexpected_exits=2).failures() == [
        "2 process exits the run did not cause",
        "1 processes not running at the end",
    ]
    assert Verdict(processes=8, alive=8, settled=False).failures() == ["work still open at the deadline"]
