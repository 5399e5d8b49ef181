"""Decoding Ashby API results into the models we read, and Score parsing."""

from __future__ import annotations

import msgspec
import pytest

from shared.payloads.ashby import (
    Application,
    FeedbackSubmission,
    JobInterviewPlan,
    parse_score,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [({"score": 4}, 4), ({"score": "3"}, 3), ("4", 4), (1, 1), (2.0, 2), (" 2 ", 2)],
)
def test_parse_score_accepts_every_shape_ashby_uses(value: object, expected: int) -> None:
    assert parse_score(value) == expected


@pytest.mark.parametrize("value", [True, False, 0, 5, "5", "", "x", 2.5, None, {"score": None}, {"value": 3}, [3]])
def test_parse_score_rejects_non_scores(value: object) -> None:
    assert parse_score(value) is None


def test_feedback_submission_keeps_raw_values_and_ignores_unknown_fields() -> None:
    raw = {
        "id": "fb1",
        "applicationId": "app1",
        "submittedByUser": {"id": "u1", "firstName": "A", "globalRole": "Limited Access", "newField": 1},
        "interviewEventId": "ev1",
        "submittedAt": "2026-03-02T10:00:00.000Z",
        "submittedValues": {"overall": {"score": 3}, "notes": {"type": "PlainText", "value": "ok"}},
        "somethingNew": True,
    }
    fb = msgspec.json.decode(msgspec.json.encode(raw), type=FeedbackSubmission)
    assert fb.submitted_by_user.id == "u1"
    assert fb.interview_event_id == "ev1"
    assert parse_score(fb.submitted_values["overall"]) == 3
    assert fb.submitted_at is not None and fb.submitted_at.tzinfo is not None


def test_application_requires_its_identity_and_reads_the_hiring_team() -> None:
    raw = {
        "id": "a1",
        "status": "Active",
        "candidate": {"id": "c1", "name": "N"},
        "currentInterviewStage": {"id": "s1", "title": "Onsite", "type": "Active", "orderInInterviewPlan": 2,
                                  "interviewPlanId": "p1"},
        "hiringTeam": [{"userId": "u1", "role": "Recruiter"}, {"userId": "u2", "role": "Hiring Manager"}],
    }  # fmt: skip
    app = msgspec.json.decode(msgspec.json.encode(raw), type=Application)
    assert [m.user_id for m in app.team_members("Recruiter")] == ["u1"]
    assert app.current_interview_stage is not None and app.current_interview_stage.interview_plan_id == "p1"
    with pytest.raises(msgspec.ValidationError, match="candidate"):
        msgspec.json.decode(b'{"id": "a1", "status": "Active"}', type=Application)


def test_job_interview_plan_stages_carry_activities() -> None:
    raw = b"""{"jobId": "j", "interviewPlanId": "p", "stages": [{"id": "s", "title": "Archived", "type": "Archived",
        "orderInInterviewPlan": 5, "activities": [{"id": "a", "interviews": [{"id": "i", "interviewId": "i"}]}]}]}"""
    plan = msgspec.json.decode(raw, type=JobInterviewPlan)
    assert plan.stages[0].is_archived_stage
    assert plan.stages[0].activities[0].interviews[0].interview_id == "i"
