"""The load the benchmarks send: distinct ~2 KB schedule webhooks (bench/http.py signs them for wrk; the
ingestion and click benchmarks queue them directly)."""

from __future__ import annotations

import json

PADDING = "x" * 1400  # brings the sample schedule webhook to about 2 KB


def webhook_body(n: int) -> bytes:
    event = {
        "id": f"bench-event-{n}",
        "interviewId": "bench-interview",
        "interviewScheduleId": f"bench-schedule-{n}",
        "startTime": "2026-12-01T15:00:00.000Z",
        "endTime": "2026-12-01T16:00:00.000Z",
        "createdAt": "2026-11-01T00:00:00.000Z",
        "updatedAt": "2026-11-01T00:00:00.000Z",
        "feedbackLink": "https://app.ashbyhq.com/interview-feedback/x",
        "hasSubmittedFeedback": False,
        "interviewers": [
            {
                "id": "u1",
                "firstName": "A",
                "lastName": "B",
                "email": "a@example.com",
                "globalRole": "Limited Access",
                "isEnabled": True,
                "updatedAt": "2026-11-01T00:00:00Z",
                "trainingRole": None,
                "isFeedbackRequired": True,
            }
        ],
        "extraData": {"note": PADDING},
    }
    schedule = {
        "id": f"bench-schedule-{n}",
        "status": "Scheduled",
        "applicationId": "bench-app",
        "interviewStageId": "bench-stage",
        "updatedAt": "2026-11-01T00:00:00.000Z",
        "interviewEvents": [event],
    }
    return json.dumps({"action": "interviewScheduleUpdate", "data": {"interviewSchedule": schedule}}).encode()
