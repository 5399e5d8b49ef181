"""One interviewer's interview as the jobs see it: a plain value (their seat on the event, the Ashby metadata
it shows, their feedback's state), so every decision read from it is a pure function.

Candidate e-mail and phone are never part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.blocks import ReminderInfo
from shared.db.ashby_cache import CachedApplication, CachedInterview, TeamMember
from shared.db.interviews import Seat
from shared.payloads.ashby import FeedbackFormDefinition

# Stand-ins for metadata Ashby has not given us (no interview or application on the event): every field empty.
NO_INTERVIEW = CachedInterview("", "", None, None, None, datetime.min.replace(tzinfo=UTC))
NO_APPLICATION = CachedApplication("", None, None, None, None, None, None, None, None, (), NO_INTERVIEW.fetched_at)


@dataclass(frozen=True)
class Interview:
    seat: Seat
    interview: CachedInterview = NO_INTERVIEW
    application: CachedApplication = NO_APPLICATION
    form: FeedbackFormDefinition | None = None  # loaded when asked for (it may be stale: better than none)
    form_unavailable: bool = False  # asked for, never cached, and Ashby did not answer
    resume_key: str | None = None

    @property
    def event_id(self) -> str:
        return self.seat.event_id

    @property
    def interviewer_id(self) -> str:
        return self.seat.interviewer_id

    @property
    def interviewer_name(self) -> str:
        return f"{self.seat.first_name or ''} {self.seat.last_name or ''}".strip() or "An interviewer"

    @property
    def start(self) -> datetime:
        return self.seat.start

    @property
    def end(self) -> datetime:
        return self.seat.end

    @property
    def removed(self) -> bool:
        """The event, or this interviewer, was taken off the schedule."""
        return self.seat.event_removed or self.seat.interviewer_removed

    @property
    def has_feedback(self) -> bool:
        return self.seat.has_feedback

    @property
    def draft(self) -> dict[str, Any] | None:
        return self.seat.draft

    @property
    def title(self) -> str:
        return self.interview.title or "Interview"

    @property
    def form_id(self) -> str | None:
        return self.interview.feedback_form_definition_id

    @property
    def application_id(self) -> str | None:
        return self.seat.application_id

    @property
    def candidate_id(self) -> str | None:
        return self.application.candidate_id

    @property
    def candidate_name(self) -> str:
        return self.application.candidate_name or "the candidate"

    @property
    def hiring_team(self) -> tuple[TeamMember, ...]:
        return self.application.hiring_team

    @property
    def info(self) -> ReminderInfo:
        """What a reminder message shows."""
        return ReminderInfo(
            candidate_name=self.candidate_name,
            interview_title=self.title,
            start=self.seat.start,
            end=self.seat.end,
            job_title=self.application.job_title,
            candidate_position=self.application.candidate_position,
            candidate_company=self.application.candidate_company,
            meeting_link=self.seat.meeting_link,
            location=self.seat.location,
            instructions=self.interview.instructions_plain,
            candidate_url=self.application.candidate_url,
            feedback_link=self.seat.feedback_link,
            resume_key=self.resume_key,
        )
