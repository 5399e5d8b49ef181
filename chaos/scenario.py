"""What a chaos run does and when, as a pure plan: interviews, reminders expected, submitters, faults.

Every time is in seconds after F0, the instant the run starts scheduling interviews in Ashby, and the
plan is a function of the pass and the seed alone, so a failing run can be repeated.

Interviews come in two cohorts, scheduled in a stream over the first `schedule_s` seconds:
- *ahead*: starts `BRIEF_LEAD_S` + 10 s after it is scheduled; its brief is due 10 s after scheduling
  and its "feedback due" when it ends (`REMINDER_DUE_MINUTES=0`);
- *ending*: already under way when scheduled (no brief), ends `ending_after_s` later; its "feedback due"
  then falls early in the run, so that submissions meet every fault.
A reminder is expected when it is due before the faults stop (`horizon_s`); a short pass lets the ahead
cohort's interviews run past its end, so it expects their briefs only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

BRIEF_LEAD_S = 180  # REMINDER_BRIEF_MINUTES=3; why 3: docs/reliability.md
BRIEF_AFTER_SCHEDULING_S = 10
# Kills fall between the other faults (which come on whole multiples of 5 s): a duplicate DM is explained
# by the kill just after its first copy, and must not be credited to a kill that only coincided with,
# say, the connection terminations that really caused it.
KILL_PHASE_S = 2.5
FAULT_KINDS = ("kill", "redis_restart", "redis_crash", "pg_terminate", "pg_restart")


@dataclass(frozen=True)
class Pass:
    name: str
    interviews: int  # half ahead, half ending; 3 interviewers each, every interviewer a distinct person
    submitters: int
    double_submit_share: float
    schedule_s: float  # interviews are scheduled in a stream over this long
    ahead_length_s: float
    ending_after_s: float
    kill_every_s: float
    kill_until_s: float
    redis_restarts: tuple[tuple[float, bool], ...]  # (at, crash: SIGKILL instead of SIGTERM)
    pg_terminate: tuple[float, float, float]  # from, until, every
    pg_restart_at_s: float
    horizon_s: float  # faults stop; reminders due by then are expected
    settle_s: float  # after the horizon, at most this long for the fleet to finish

    @property
    def interviewers(self) -> int:
        return 3 * self.interviews


FULL = Pass(
    name="full",
    interviews=500,
    submitters=300,
    double_submit_share=1 / 3,
    schedule_s=150,
    ahead_length_s=10,
    ending_after_s=40,
    kill_every_s=10,
    kill_until_s=350,
    redis_restarts=((75, False), (250, True)),
    pg_terminate=(100, 160, 5),
    pg_restart_at_s=190,
    horizon_s=350,
    settle_s=150,
)
SHORT = Pass(
    name="short",
    interviews=100,
    submitters=40,
    double_submit_share=1 / 3,
    schedule_s=40,
    ahead_length_s=600,  # ends after the run: its "feedback due" is not expected
    ending_after_s=30,
    kill_every_s=10,
    kill_until_s=90,
    redis_restarts=((35, True),),
    pg_terminate=(45, 65, 5),
    pg_restart_at_s=80,
    horizon_s=95,
    settle_s=150,
)


@dataclass(frozen=True)
class Interview:
    index: int
    cohort: str  # "ahead" | "ending"
    scheduled_s: float
    start_s: float
    end_s: float


@dataclass(frozen=True)
class ExpectedReminder:
    interviewer: int  # index: interviewer k sits on interview k // 3
    kind: str  # "brief" | "due"
    due_s: float


@dataclass(frozen=True)
class Fault:
    at_s: float
    kind: str  # one of FAULT_KINDS


def interviews(p: Pass) -> list[Interview]:
    planned = []
    for n in range(p.interviews):
        scheduled = round(p.schedule_s * n / max(p.interviews - 1, 1), 3)
        if n % 2 == 0:
            start = scheduled + BRIEF_AFTER_SCHEDULING_S + BRIEF_LEAD_S
            planned.append(Interview(n, "ahead", scheduled, start, start + p.ahead_length_s))
        else:
            end = scheduled + p.ending_after_s
            planned.append(Interview(n, "ending", scheduled, scheduled - 1800, end))
    return planned


def expected_reminders(p: Pass, planned: list[Interview]) -> list[ExpectedReminder]:
    expected = []
    for interview in planned:
        for seat in range(3):
            interviewer = 3 * interview.index + seat
            if interview.cohort == "ahead":
                expected.append(ExpectedReminder(interviewer, "brief", interview.start_s - BRIEF_LEAD_S))
            expected.append(ExpectedReminder(interviewer, "due", interview.end_s))
    return [e for e in expected if e.due_s <= p.horizon_s]


def submitters(p: Pass, expected: list[ExpectedReminder], rng: random.Random) -> dict[int, bool]:
    """Interviewers who will open the form from their "feedback due" DM and submit it -> submits twice."""
    reminded = sorted({e.interviewer for e in expected if e.kind == "due"})
    chosen = rng.sample(reminded, min(p.submitters, len(reminded)))
    doubles = set(rng.sample(chosen, round(len(chosen) * p.double_submit_share)))
    return {interviewer: interviewer in doubles for interviewer in sorted(chosen)}


def faults(p: Pass) -> list[Fault]:
    kills = _steps(p.kill_every_s + KILL_PHASE_S, p.kill_until_s, p.kill_every_s)
    timeline = [Fault(at, "kill") for at in kills]
    timeline += [Fault(at, "redis_crash" if crash else "redis_restart") for at, crash in p.redis_restarts]
    start, until, every = p.pg_terminate
    timeline += [Fault(at, "pg_terminate") for at in _steps(start, until, every)]
    timeline.append(Fault(p.pg_restart_at_s, "pg_restart"))
    return sorted(timeline, key=lambda fault: (fault.at_s, FAULT_KINDS.index(fault.kind)))


def _steps(start: float, until: float, every: float) -> list[float]:
    count = int((until - start) // every) + 1
    return [start + n * every for n in range(count)]
