"""The records of the simulated Ashby org: plain mutable dataclasses, changed only through `AshbyOrg`.

Every record carries `seq`, the org-wide change counter at its last change (what syncTokens compare).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STAGE_ARCHIVED = "Archived"


@dataclass
class Record:
    id: str
    created_at: datetime
    updated_at: datetime
    seq: int


@dataclass
class SimUser(Record):
    first_name: str
    last_name: str
    email: str
    global_role: str = "Limited Access"
    is_enabled: bool = True


@dataclass
class SimArchiveReason(Record):
    text: str
    reason_type: str = "RejectedByOrg"
    is_archived: bool = False


@dataclass
class SimStage(Record):
    title: str
    type: str
    order: int
    plan_id: str


@dataclass
class SimPlan(Record):
    title: str
    stage_ids: list[str] = field(default_factory=list)
    is_archived: bool = False


@dataclass
class SimForm(Record):
    title: str
    sections: list[dict[str, Any]]
    is_archived: bool = False
    is_default: bool = False
    interview_id: str | None = None


@dataclass
class SimInterview(Record):
    title: str
    form_id: str
    job_id: str | None = None
    instructions: str = ""
    is_debrief: bool = False
    is_feedback_required: bool = True
    is_archived: bool = False
    duration_minutes: int = 60


@dataclass
class SimJob(Record):
    title: str
    plan_id: str
    hiring_team: list[tuple[str, str]]
    status: str = "Open"
    stage_interviews: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class SimFile:
    id: str
    name: str
    handle: str
    url: str


@dataclass
class SimCandidate(Record):
    name: str
    email: str
    phone: str | None = None
    position: str | None = None
    company: str | None = None
    resume: SimFile | None = None


@dataclass
class SimApplication(Record):
    candidate_id: str
    job_id: str
    stage_id: str
    status: str
    hiring_team: list[tuple[str, str]]
    archive_reason_id: str | None = None
    archived_at: datetime | None = None
    history: list[tuple[str, str, datetime]] = field(default_factory=list)  # (history id, stage id, entered)


@dataclass
class SimInterviewer:
    user_id: str
    training_role: str | None = None  # "Shadow" / "Reverse-Shadow"
    feedback_required: bool = True


@dataclass
class SimEvent(Record):
    schedule_id: str
    interview_id: str
    start: datetime
    end: datetime
    interviewers: list[SimInterviewer]
    meeting_link: str | None = None
    location: str | None = None
    cancelled: bool = False


@dataclass
class SimSchedule(Record):
    application_id: str
    stage_id: str
    status: str
    event_ids: list[str] = field(default_factory=list)
    scheduled_by: str | None = None


@dataclass
class SimFeedback(Record):
    application_id: str
    form_id: str
    user_id: str
    values: dict[str, Any]
    event_id: str | None = None
    interview_id: str | None = None


@dataclass(frozen=True)
class EventSpec:
    """One interview to schedule: who, when, for which interview."""

    interview_id: str
    start: datetime
    end: datetime
    interviewers: Sequence[SimInterviewer]
    meeting_link: str | None = None
    location: str | None = None
