"""The result of a chaos run as Markdown, ready to paste into docs/reliability.md (nothing is written there
automatically): the table of checks, then what was done to the fleet and what the fleet logged about it."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from bench.common import count_log_events, percentile
from chaos.accounting import Verdict
from chaos.world import World

LOG_EVENTS = ("job_retry", "job_failed", "reminder_released", "reminder_refused", "feedback_submission_failed")


def render(world: World, verdict: Verdict, *, seed: int, fsync: str, log_dir: Path, title: str) -> str:
    run, failures = world.run, verdict.failures()
    late = verdict.lateness_s
    doubles = sum(1 for person in world.people.values() if person.double_submit)
    lines = [
        f"### {title}",
        "",
        f"{run.name} pass, seed {seed}: {run.interviews} interviews, {run.interviewers} interviewers, "
        f"{len(world.people)} submitting the form ({doubles} of them twice at once); Redis appendfsync {fsync}.",
        "",
        "| check | result |",
        "|---|---|",
        f"| reminders expected | {verdict.reminders_expected} |",
        f"| reminders sent | {verdict.reminders_sent} |",
        f"| sent twice | {verdict.sent_twice} (extra copies after a kill -9: {verdict.duplicates_after_kill}; "
        f"unexplained: {verdict.duplicates_unexplained}) |",
        f"| never sent | {verdict.never_sent} |",
        f"| scorecards expected | {verdict.scorecards_expected} |",
        f"| scorecards in Ashby | {verdict.scorecards_in_ashby} |",
        f"| scorecards duplicated | {verdict.scorecards_duplicated} |",
        f'| "feedback due" DMs turned into "submitted" | {verdict.marked_submitted} of {len(world.people)} |',
        f"| lateness (Slack receive - due), p50 / p99 / max | {_s(percentile(late, 0.5))} / "
        f"{_s(percentile(late, 0.99))} / {_s(verdict.max_lateness_s)} |",
        f"| jobs dead-lettered | {_or_na(verdict.dead_letters)} |",
        f"| process exits the run did not cause | {verdict.unexpected_exits} |",
        f"| processes alive at the end | {verdict.alive} of {verdict.processes} |",
        f"| settled | {_settled(world)} |",
        f"| **verdict** | **{'PASS' if not failures else 'FAIL: ' + '; '.join(failures)}** |",
        "",
        *_details(world, verdict, log_dir),
    ]
    return "\n".join(lines)


def _details(world: World, verdict: Verdict, log_dir: Path) -> list[str]:
    origin = world.origin
    done = sorted(world.faults.done, key=lambda d: d.at)
    kills = Counter(kill.queue for kill in world.supervisor.kills)
    restarts_of_servers = [d for d in done if d.kind not in ("kill", "pg_terminate")]
    others = [f"{d.kind} at +{d.at - origin:.0f} s ({d.seconds:g} s, {d.detail})" for d in restarts_of_servers]
    terminations = [d for d in done if d.kind == "pg_terminate"]
    terminated = ", ".join(f"+{d.at - origin:.0f} s: {d.detail.split()[0]}" for d in terminations)
    failed = [f"{d.kind} at +{d.at - origin:.0f} s: {d.detail}" for d in done if d.detail.startswith("FAILED")]
    slack_calls = world.slack.requests
    injected_429 = world.slack.random_rate_limits.refused if world.slack.random_rate_limits else 0
    ashby_calls = world.ashby.calls
    webhook_posts = [s for d in (world.ashby.webhooks.deliveries if world.ashby.webhooks else []) for s in d.statuses]
    people = world.people.values()
    restarts = {m.name: m.starts - 1 for m in world.supervisor.members if m.starts > 1}
    exits = [f"{e.name} code {e.code} at +{e.at - origin:.0f} s" for e in world.supervisor.unexpected_exits()]
    return [
        f"Faults: {len(world.supervisor.kills)} kill -9 ({dict(kills)}); {'; '.join(others)}; "
        f"{len(terminations)} rounds of pg_terminate_backend on the fleet's connections (terminated: {terminated})."
        + (f" Faults that could not be carried out: {failed}." if failed else ""),
        f"Upstream faults: Slack answered {injected_429} of {len(slack_calls)} Web API calls with an injected 429 "
        f"({sum(1 for r in slack_calls if r.status == 429) - injected_429} more from its rate limits); Ashby answered "
        f"{sum(1 for c in ashby_calls if c.fault == 'server_error')} of {len(ashby_calls)} API calls with a 5xx; "
        f"webhooks: {len(webhook_posts)} POSTs, statuses {dict(Counter(webhook_posts))}.",
        f"Interviewers: {sum(p.clicks for p in people)} clicks ({sum(p.opens_failed for p in people)} opened no "
        f"form), {sum(p.submissions for p in people)} submissions sent ({sum(p.submissions_refused for p in people)} "
        f"not accepted by the ingress), {sum(p.failure_notices for p in people)} 'could not be submitted' DMs "
        f"answered by submitting again; problems: {[x for p in people for x in p.problems][:5] or 'none'}.",
        f"Reminders Slack received that the plan did not expect: {verdict.unexpected_reminders}. Duplicates "
        f"(kind: first copy -> next copy, s after F0): {_duplicates(verdict, origin) or 'none'}.",
        f"Restarts by the supervisor: {restarts or 'none'}; exits the run did not cause: {exits or 'none'}.",
        f"Fleet log events: {count_log_events(log_dir, LOG_EVENTS)}.",
        *world.notes,
        f"Set-up took {origin - world.began:.0f} s (F0 is when the first interview was scheduled).",
    ]


def _duplicates(verdict: Verdict, origin: float, most: int = 12) -> str:
    shown = sorted(verdict.duplicates, key=lambda d: (d.after_kill, d.before))[:most]
    text = ", ".join(
        f"{d.kind}: +{d.before - origin:.1f} -> +{d.at - origin:.1f}{'' if d.after_kill else ' (unexplained)'}"
        for d in shown
    )
    return text + (f", and {len(verdict.duplicates) - most} more" if len(verdict.duplicates) > most else "")


def _settled(world: World) -> str:
    settled = world.settled
    if settled is None:
        return "no"
    if settled.settled:
        return f"yes, {settled.seconds:g} s after the faults"
    return (
        f"NO: deadline {settled.seconds:g} s after the faults, {settled.open_reminders} expected reminders still "
        f"pending or sending, {settled.open_submissions} submissions half done"
    )


def _or_na(dead_letters: int | None) -> str:
    return "n/a (no dead_letters table)" if dead_letters is None else str(dead_letters)


def _s(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f} s"
