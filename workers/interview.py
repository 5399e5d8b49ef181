"""One interviewer's interview, loaded for a job: their seat on the event (PostgreSQL) and the Ashby metadata
a reminder or a feedback form shows about it (the caches, `workers/metadata.py`).

Candidate e-mail and phone are never loaded. An `Interview` is a plain value: the decisions that read it
(`shared/reminders.py`, the jobs' decide steps) need no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from shared.blocks import ReminderInfo
from shared.db import interviews as interviews_db
from shared.db.ashby_cache import CachedApplication, CachedInterview, TeamMember
from shared.db.interviews import Seat
from shared.errors import Permanent
from workers.deps import Deps
from workers.metadata import cached_application, cached_interview

# Stand-ins for metadata Ashby has not given us (no interview or application on the event): every field empty.
NO_INTERVIEW = CachedInterview("", "", None, None, None, datetime.min.replace(tzinfo=UTC))
NO_APPLICATION = CachedApplication("", None, None, None, None, None, None, None, None, (), NO_INTERVIEW.fetched_at)


class InterviewGone(Permanent):
    """The event or the interviewer is not (or no longer) on Ashby's schedule: nothing can be shown."""


@dataclass(frozen=True)
class Interview:
    seat: Seat
    interview: CachedInterview = NO_INTERVIEW
    application: CachedApplication = NO_APPLICATION
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
    def active(self) -> bool:
        return not (self.seat.cancelled or self.removed)

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


async def load_interview(d: Deps, event_id: str, interviewer_id: str, *, resume_key: str | None = None) -> Interview:
    """The interviewer's seat and the metadata it shows; raises `InterviewGone` for an unknown pair."""
    seat = await interviews_db.seat(d.pool, event_id, interviewer_id)
    if seat is None:
        raise InterviewGone("unknown event or interviewer")
    return Interview(
        seat=seat,
        interview=await cached_interview(d, seat.interview_id) or NO_INTERVIEW,
        application=await cached_application(d, seat.application_id) or NO_APPLICATION,
        resume_key=resume_key,
    )
