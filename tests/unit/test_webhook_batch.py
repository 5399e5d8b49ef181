"""Sorting a batch of webhooks into rounds: no round names a schedule or an event twice, and each schedule's
versions keep their queue order."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.payloads.ashby import InterviewSchedule, decode_schedule_webhook
from shared.webhook_batch import Webhook, decode, rounds
from tests.helpers import event, schedule_webhook

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def schedule(schedule_id: str, *event_ids: str) -> InterviewSchedule:
    body = schedule_webhook(schedule_id, updated_at=AT, events=[event(e, AT) for e in event_ids])
    return decode_schedule_webhook(body).data.interview_schedule


def test_distinct_schedules_share_one_round() -> None:
    assert rounds([schedule("s1", "e1"), schedule("s2", "e2"), schedule("s3")]) == [[0, 1, 2]]


def test_a_schedules_later_versions_go_to_later_rounds_in_queue_order() -> None:
    batch = [schedule("s1", "e1"), schedule("s2", "e2"), schedule("s1", "e1"), schedule("s3"), schedule("s1", "e9")]
    assert rounds(batch) == [[0, 1, 3], [2], [4]]


def test_schedules_sharing_an_event_keep_their_order() -> None:
    # An event that moved from one schedule to another: the two payloads must not touch it in one statement.
    assert rounds([schedule("s1", "e1"), schedule("s2", "e1", "e2"), schedule("s3", "e2")]) == [[0], [1], [2]]


def test_a_body_that_no_longer_decodes_is_marked_not_raised() -> None:
    webhook = Webhook("ashby:x", b'{"action": "interviewScheduleUpdate", "data": {}}', {}, 1, None)
    assert decode(webhook).undecodable
    good = Webhook("ashby:y", schedule_webhook("s1", updated_at=AT, events=[]), {}, 1, None)
    decoded = decode(good)
    assert decoded.schedule is not None and decoded.schedule.id == "s1" and not decoded.undecodable
