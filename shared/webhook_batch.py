"""A batch of queued Ashby webhooks, sorted for one worker to store together: pure, no I/O.

Invariant: the batch stores what the same webhooks stored one job at a time would. Bodies are classified
once (schedule, application, candidate, or undecodable); the schedules are split into rounds so that no
round holds one schedule or one event twice (a set-based statement cannot touch a row twice), and a later
update of a schedule lands in a later round than an earlier one, in queue order, as sequential jobs would
apply them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from shared.payloads.ashby import (
    Application,
    ApplicationWebhook,
    CandidateWebhook,
    InterviewSchedule,
    InterviewScheduleWebhook,
    decode_webhook,
)


@dataclass(frozen=True, slots=True)
class Webhook:
    """One queued `ingest_ashby_event` job: its arq id, body, keyword arguments and try number."""

    job_id: str
    body: bytes
    kwargs: dict[str, Any]
    job_try: int
    enqueue_ms: int | None


@dataclass(frozen=True, slots=True)
class Decoded:
    webhook: Webhook
    action: str = ""
    schedule: InterviewSchedule | None = None
    application: Application | None = None
    candidate_event: CandidateWebhook | None = None
    undecodable: bool = False

    @property
    def subject(self) -> str:
        """The id a dead letter names it by: the schedule's, the application's or the candidate's."""
        if self.schedule is not None:
            return self.schedule.id
        if self.application is not None:
            return self.application.id
        return self.candidate_event.candidate_id if self.candidate_event is not None else ""


def decode(webhook: Webhook) -> Decoded:
    """What the body says; `undecodable` when it no longer decodes (the ingress validated it: contract drift)."""
    try:
        action, decoded = decode_webhook(webhook.body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return Decoded(webhook, undecodable=True)
    if isinstance(decoded, InterviewScheduleWebhook):
        return Decoded(webhook, action, schedule=decoded.data.interview_schedule)
    if isinstance(decoded, ApplicationWebhook):
        return Decoded(webhook, action, application=decoded.data.application)
    return Decoded(webhook, action, candidate_event=decoded)


def rounds(schedules: Sequence[InterviewSchedule]) -> list[list[int]]:
    """Indexes of `schedules` grouped into rounds: each round names a schedule and an event at most once, and
    every schedule's updates (and those of any schedule sharing an event with it) keep their queue order."""
    last_round: dict[str, int] = {}
    out: list[list[int]] = []
    for index, schedule in enumerate(schedules):
        keys = ["s:" + schedule.id, *("e:" + e.id for e in schedule.interview_events)]
        at = max((last_round[k] + 1 for k in keys if k in last_round), default=0)
        while len(out) <= at:
            out.append([])
        out[at].append(index)
        for key in keys:
            last_round[key] = at
    return out


def subject_of(args: tuple[Any, ...]) -> str:
    """A dead letter's subject: the schedule's, the application's or the candidate's id, read from the body."""
    _, decoded = decode_webhook(args[0])
    if isinstance(decoded, InterviewScheduleWebhook):
        return str(decoded.data.interview_schedule.id)
    if isinstance(decoded, ApplicationWebhook):
        return str(decoded.data.application.id)
    return decoded.candidate_id


def schedule_result(outcome: str, events: int, planned: int) -> dict[str, Any]:
    """What one schedule webhook's job returns (kept as its arq result for the dedupe window)."""
    return {"outcome": outcome, "events": events, "reminders_planned": planned}
