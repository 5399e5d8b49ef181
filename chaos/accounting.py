"""The verdict of a chaos run, counted from the simulators' own records (what Slack received, what Ashby
holds), never from the fleet's database: a pure function of those records, the plan and the fault log.

A duplicate DM is allowed only in the post-then-crash window: Slack accepted a post and the worker was
killed (`kill -9`, by the run) before it recorded the post, so the reminder was sent again later. Each
duplicate must come with a kill of a `default` worker from `SENT_BEFORE_KILL_S` before to
`POST_THEN_CRASH_S` after Slack received the copy before it; any other duplicate fails the run. (Slack's
simulator stamps a post when its event loop, shared with the run, gets to it: a request the worker wrote
just before it died can be stamped a little after the kill.)
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

POST_THEN_CRASH_S = 2.0
SENT_BEFORE_KILL_S = 1.0
KIND_PREFIXES = {"brief": "Upcoming interview with ", "due": "Feedback due: "}


@dataclass(frozen=True)
class Post:
    """One DM as Slack received it: the interviewer it went to, the reminder kind (from the first text it
    had: a submitted "feedback due" is edited into "Feedback submitted" later) and when."""

    interviewer: int
    kind: str
    at: float


@dataclass(frozen=True)
class Expectation:
    interviewer: int
    kind: str
    due_at: float  # time.time()


@dataclass(frozen=True)
class Duplicate:
    interviewer: int
    kind: str
    before: float  # when Slack received the copy before it
    at: float
    after_kill: bool


@dataclass
class Verdict:
    reminders_expected: int = 0
    reminders_sent: int = 0
    sent_twice: int = 0  # expected reminders that reached Slack more than once
    duplicates_after_kill: int = 0  # extra copies, each explained by a kill -9 just after the copy before
    duplicates_unexplained: int = 0
    never_sent: int = 0
    unexpected_reminders: int = 0  # reminders Slack received that the plan did not expect
    lateness_s: list[float] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    unsent: list[tuple[int, str]] = field(default_factory=list)  # (interviewer, kind) of each never sent
    scorecards_absent: list[tuple[str, str]] = field(default_factory=list)  # (event id, user id) never in Ashby
    scorecards_expected: int = 0
    scorecards_in_ashby: int = 0
    scorecards_duplicated: int = 0
    marked_submitted: int = 0  # submitters whose "feedback due" DM now reads "Feedback submitted"
    unexpected_exits: int = 0
    processes: int = 0
    alive: int = 0
    dead_letters: int | None = None  # None: the fleet has no dead-letter table (yet)
    settled: bool = True  # the fleet finished its work for the plan before the deadline

    @property
    def scorecards_missing(self) -> int:
        return self.scorecards_expected - self.scorecards_in_ashby

    @property
    def max_lateness_s(self) -> float:
        return max(self.lateness_s, default=math.nan)

    def failures(self) -> list[str]:
        """Why the run fails; empty when every check holds."""
        checks = [
            (self.never_sent, "reminders never sent"),
            (self.duplicates_unexplained, "duplicate reminders not explained by a kill -9"),
            (self.scorecards_missing, "scorecards missing in Ashby"),
            (self.scorecards_duplicated, "duplicate scorecards in Ashby"),
            (self.unexpected_exits, "process exits the run did not cause"),
            (self.processes - self.alive, "processes not running at the end"),
        ]
        failed = [f"{count} {what}" for count, what in checks if count]
        return failed if self.settled else [*failed, "work still open at the deadline"]


def count_reminders(
    verdict: Verdict, expected: Sequence[Expectation], posts: Sequence[Post], kill_times: Sequence[float]
) -> None:
    """Fill the reminder figures. `kill_times`: when the run killed a `default` worker (the queue that sends)."""
    posted: dict[tuple[int, str], list[float]] = defaultdict(list)
    for post in posts:
        posted[(post.interviewer, post.kind)].append(post.at)
    wanted = {(e.interviewer, e.kind): e.due_at for e in expected}
    verdict.reminders_expected = len(wanted)
    verdict.unexpected_reminders = sum(len(times) for key, times in posted.items() if key not in wanted)
    for key, due_at in wanted.items():
        times = sorted(posted.get(key, []))
        if not times:
            verdict.never_sent += 1
            verdict.unsent.append(key)
            continue
        verdict.reminders_sent += 1
        verdict.lateness_s.append(times[0] - due_at)
        if len(times) > 1:
            verdict.sent_twice += 1
        for before, at in itertools.pairwise(times):
            after_kill = any(before - SENT_BEFORE_KILL_S <= kill <= before + POST_THEN_CRASH_S for kill in kill_times)
            verdict.duplicates.append(Duplicate(key[0], key[1], before, at, after_kill))
            if after_kill:
                verdict.duplicates_after_kill += 1
            else:
                verdict.duplicates_unexplained += 1


def count_scorecards(
    verdict: Verdict, expected: set[tuple[str, str]], scorecards: Sequence[tuple[str | None, str]]
) -> None:
    """`expected` and `scorecards` are (event id, Ashby user id) pairs; the latter one per scorecard in Ashby."""
    per_pair: dict[tuple[str | None, str], int] = defaultdict(int)
    for pair in scorecards:
        per_pair[pair] += 1
    verdict.scorecards_expected = len(expected)
    verdict.scorecards_absent = sorted(pair for pair in expected if not per_pair.get(pair))
    verdict.scorecards_in_ashby = len(expected) - len(verdict.scorecards_absent)
    verdict.scorecards_duplicated = sum(count - 1 for count in per_pair.values() if count > 1)
