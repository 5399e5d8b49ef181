"""A chaos run's world, and the evidence read from it: the plan, the simulators' records (what Slack
received, what Ashby holds), the fleet's processes and the faults, put in the terms of `accounting`."""

from __future__ import annotations

from dataclasses import dataclass, field

from chaos import accounting, scenario
from chaos.faults import FaultRunner
from chaos.interviewers import Interviewer
from chaos.settle import Settled
from chaos.supervisor import Supervisor
from sim.ashby.app import AshbySim
from sim.ashby.seed import SeededOrg
from sim.slack import SlackState


@dataclass
class World:
    run: scenario.Pass
    origin: float  # F0, time.time()
    planned: list[scenario.Interview]
    expected: list[scenario.ExpectedReminder]
    interviewer_ids: list[str]  # Ashby user id per interviewer index
    slack_ids: list[str]  # Slack user id per interviewer index
    seeded: SeededOrg
    ashby: AshbySim
    slack: SlackState
    supervisor: Supervisor
    ingress_urls: list[str]
    faults: FaultRunner
    event_ids: list[str]  # Ashby event id per interview index, as they are scheduled
    people: dict[int, Interviewer]  # the submitters, by interviewer index
    began: float = 0.0  # time.time() when the run started its servers
    settled: Settled | None = None
    dead_letters: int | None = None
    alive_at_end: int = 0
    notes: list[str] = field(default_factory=list)  # the fleet's own records about the failures


def posts(world: World) -> list[accounting.Post]:
    """Every reminder DM Slack received for an interviewer of the plan, kind read from its first text."""
    interviewer_of = {slack_id: n for n, slack_id in enumerate(world.slack_ids)}
    found = []
    for message in world.slack.messages:
        channel = world.slack.channels.get(message.channel)
        interviewer = interviewer_of.get(channel.user_id or "") if channel else None
        if interviewer is None:
            continue
        text = str(message.versions[0]["text"]) if message.versions else message.text
        for kind, prefix in accounting.KIND_PREFIXES.items():
            if text.startswith(prefix):
                found.append(accounting.Post(interviewer, kind, message.posted_at))
    return found


def expectations(world: World) -> list[accounting.Expectation]:
    return [accounting.Expectation(e.interviewer, e.kind, world.origin + e.due_s) for e in world.expected]


def delivered(world: World) -> bool:
    """Whether Slack has received every expected reminder at least once."""
    seen = {(post.interviewer, post.kind) for post in posts(world)}
    return all((e.interviewer, e.kind) in seen for e in world.expected)


def verdict(world: World) -> accounting.Verdict:
    result = accounting.Verdict()
    kills = [kill.at for kill in world.supervisor.kills if kill.queue == "default"]
    accounting.count_reminders(result, expectations(world), posts(world), kills)
    wanted = {(world.event_ids[interviewer // 3], world.interviewer_ids[interviewer]) for interviewer in world.people}
    ours = set(world.interviewer_ids)
    scorecards = [(f.event_id, f.user_id) for f in world.seeded.org.feedback.values() if f.user_id in ours]
    accounting.count_scorecards(result, wanted, scorecards)
    result.marked_submitted = _marked_submitted(world)
    result.unexpected_exits = len(world.supervisor.unexpected_exits())
    result.processes = len(world.supervisor.members)
    result.alive = world.alive_at_end
    result.dead_letters = world.dead_letters
    result.settled = world.settled is not None and world.settled.settled
    return result


def _marked_submitted(world: World) -> int:
    """Submitters whose "feedback due" DM was edited into "Feedback submitted" (the design's last step)."""
    submitters = {world.slack_ids[interviewer] for interviewer in world.people}
    marked = set()
    for message in world.slack.messages:
        channel = world.slack.channels.get(message.channel)
        user = channel.user_id if channel else None
        if user in submitters and message.versions and message.text.startswith("Feedback submitted"):
            marked.add(user)
    return len(marked)
