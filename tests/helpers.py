"""Builders shared by the tests: settings, signed Ashby webhook requests, schedule payloads."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.settings import Settings
from shared.signatures import ashby_signature

WEBHOOK_SECRET = "test-webhook-secret-with-at-least-32-chars"
SIGNING_SECRET = "test-slack-signing-secret-with-32-chars!"
SLACK_TOKEN = "xoxb-test-token"
ASHBY_KEY = "test-ashby-api-key"
# Port 9 (discard) refuses connections at once: a test that forgets a simulator fails fast, offline.
UNREACHABLE = "http://127.0.0.1:9/"


def make_settings(db_url: str | None = None, redis_url: str | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": db_url,
        "redis_url": redis_url,
        "ashby_webhook_secret": WEBHOOK_SECRET,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_bot_token": SLACK_TOKEN,
        "ashby_api_key": ASHBY_KEY,
        "ashby_base_url": UNREACHABLE,
        "slack_base_url": UNREACHABLE,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


def signed_headers(body: bytes, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    return {"Ashby-Signature": ashby_signature(secret, body), "Content-Type": "application/json"}


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def interviewer(user_id: str, *, shadow: bool = False, email: str | None = None) -> dict[str, Any]:
    return {
        "id": user_id,
        "firstName": user_id.title(),
        "lastName": "Tester",
        "email": email or f"{user_id}@example.com",
        "globalRole": "Limited Access",
        "isEnabled": True,
        "updatedAt": "2026-01-01T00:00:00.000Z",
        "trainingRole": "Shadow" if shadow else None,
        "isFeedbackRequired": not shadow,
    }


def event(
    event_id: str,
    start: datetime,
    *,
    minutes: int = 60,
    interviewers: list[dict[str, Any]] | None = None,
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "id": event_id,
        "interviewId": "interview-1",
        "interviewScheduleId": "schedule-1",
        "interviewerUserIds": [i["id"] for i in interviewers or []],
        "interviewers": interviewers if interviewers is not None else [interviewer("alice")],
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": iso(updated_at or start - timedelta(days=1)),
        "startTime": iso(start),
        "endTime": iso(start + timedelta(minutes=minutes)),
        "feedbackLink": f"https://app.ashbyhq.com/interview-feedback/{event_id}",
        "location": None,
        "meetingLink": "https://meet.example.com/abc",
        "hasSubmittedFeedback": False,
    }


def schedule_webhook(
    schedule_id: str = "schedule-1",
    *,
    status: str = "Scheduled",
    updated_at: datetime,
    events: list[dict[str, Any]],
    action: str = "interviewScheduleUpdate",
) -> bytes:
    payload = {
        "action": action,
        "data": {
            "interviewSchedule": {
                "id": schedule_id,
                "status": status,
                "applicationId": "application-1",
                "interviewStageId": "stage-1",
                "createdAt": "2026-01-01T00:00:00.000Z",
                "updatedAt": iso(updated_at),
                "interviewEvents": events,
                "candidateId": "candidate-1",
            }
        },
    }
    return json.dumps(payload).encode()


@contextlib.contextmanager
def server_directory(prefix: str) -> Iterator[Path]:
    """A private directory outside pytest's tmp tree: as root, pgserver runs PostgreSQL as an unprivileged
    user that must traverse the path, and pytest resets its own tree to 0700 whenever a session starts."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
