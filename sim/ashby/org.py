"""The simulated Ashby organisation: its records, the change counter behind syncTokens, and UI-side actions.

Every change bumps one org-wide sequence number stored on the changed record (`seq`), so "changed since
token" is `record.seq > token.seq`. Changes Ashby announces by webhook (schedules, stage moves, candidates
deleted or merged) are published to subscribers as `(action, kind, id)`; the app renders and sends them.
Methods that mirror what a person does in Ashby's UI (`submit_feedback`, `change_stage`) validate exactly
like the API and raise `ApiFailure`.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sim.ashby.failure import ApiFailure
from sim.ashby.fields import check_submission
from sim.ashby.paging import Pager
from sim.ashby.records import (
    STAGE_ARCHIVED,
    EventSpec,
    Record,
    SimApplication,
    SimArchiveReason,
    SimCandidate,
    SimEvent,
    SimFeedback,
    SimFile,
    SimForm,
    SimInterview,
    SimInterviewer,
    SimJob,
    SimPlan,
    SimSchedule,
    SimStage,
    SimUser,
)

Listener = Callable[[str, str, str], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AshbyOrg:
    def __init__(self, *, clock: Callable[[], datetime] = _utcnow, seed: int = 0, name: str = "Simulated Org") -> None:
        self.clock = clock
        self.name = name
        self._rng = random.Random(seed)
        self.id = self.new_id()
        self._seq = 0
        self.users: dict[str, SimUser] = {}
        self.archive_reasons: dict[str, SimArchiveReason] = {}
        self.plans: dict[str, SimPlan] = {}
        self.stages: dict[str, SimStage] = {}
        self.forms: dict[str, SimForm] = {}
        self.interviews: dict[str, SimInterview] = {}
        self.jobs: dict[str, SimJob] = {}
        self.candidates: dict[str, SimCandidate] = {}
        self.applications: dict[str, SimApplication] = {}
        self.schedules: dict[str, SimSchedule] = {}
        self.events: dict[str, SimEvent] = {}
        self.feedback: dict[str, SimFeedback] = {}
        self.files: dict[str, SimFile] = {}
        self.templates: set[str] = set()
        self.merged_into: dict[str, str] = {}  # candidate merged away -> the one that remains
        self.api_user_id: str | None = None  # whom feedback without `userId` is credited to
        self.pager = Pager(self.new_id)
        self._listeners: list[Listener] = []

    # --- plumbing ---------------------------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def now(self) -> datetime:
        return self.clock()

    @property
    def seq(self) -> int:
        return self._seq

    def _stamp(self) -> tuple[datetime, int]:
        self._seq += 1
        return self.now(), self._seq

    def _new(self) -> dict[str, Any]:
        now, seq = self._stamp()
        return {"id": self.new_id(), "created_at": now, "updated_at": now, "seq": seq}

    def touch(self, record: Record) -> None:
        record.updated_at, record.seq = self._stamp()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _publish(self, action: str, kind: str, record_id: str) -> None:
        for listener in self._listeners:
            listener(action, kind, record_id)

    def expire_sync_tokens(self) -> None:
        """Every syncToken issued so far answers `sync_token_expired` from now on."""
        self.pager.expire_tokens()

    # --- building the org -------------------------------------------------------------------------

    def add_user(self, first_name: str, last_name: str, email: str, **extra: Any) -> SimUser:
        user = SimUser(**self._new(), first_name=first_name, last_name=last_name, email=email, **extra)
        self.users[user.id] = user
        return user

    def add_archive_reason(self, text: str, reason_type: str = "RejectedByOrg") -> SimArchiveReason:
        reason = SimArchiveReason(**self._new(), text=text, reason_type=reason_type)
        self.archive_reasons[reason.id] = reason
        return reason

    def add_plan(self, title: str, stages: Sequence[tuple[str, str]]) -> SimPlan:
        """`stages` are (title, type) in plan order; include one of type "Archived" to allow rejections."""
        plan = SimPlan(**self._new(), title=title)
        for order, (stage_title, stage_type) in enumerate(stages):
            stage = SimStage(**self._new(), title=stage_title, type=stage_type, order=order, plan_id=plan.id)
            self.stages[stage.id] = stage
            plan.stage_ids.append(stage.id)
        self.plans[plan.id] = plan
        return plan

    def add_form(self, title: str, sections: list[dict[str, Any]], **extra: Any) -> SimForm:
        form = SimForm(**self._new(), title=title, sections=sections, **extra)
        self.forms[form.id] = form
        return form

    def add_interview(self, title: str, form_id: str, **extra: Any) -> SimInterview:
        interview = SimInterview(**self._new(), title=title, form_id=form_id, **extra)
        self.interviews[interview.id] = interview
        if self.forms[form_id].interview_id is None:
            self.forms[form_id].interview_id = interview.id
        return interview

    def add_job(self, title: str, plan_id: str, hiring_team: Sequence[tuple[str, str]], **extra: Any) -> SimJob:
        job = SimJob(**self._new(), title=title, plan_id=plan_id, hiring_team=list(hiring_team), **extra)
        self.jobs[job.id] = job
        return job

    def add_candidate(self, name: str, email: str, *, resume_name: str | None = None, **extra: Any) -> SimCandidate:
        resume = None
        if resume_name is not None:
            handle = f"fh_{self.new_id().replace('-', '')}"
            resume = SimFile(self.new_id(), resume_name, handle, f"https://files.ashby.invalid/{handle}?expires=3600")
            self.files[handle] = resume
        candidate = SimCandidate(**self._new(), name=name, email=email, resume=resume, **extra)
        self.candidates[candidate.id] = candidate
        return candidate

    def add_application(self, candidate_id: str, job_id: str, *, stage_id: str | None = None) -> SimApplication:
        job = self.jobs[job_id]
        stage_id = stage_id or self.plans[job.plan_id].stage_ids[0]
        values = self._new()
        application = SimApplication(
            **values,
            candidate_id=candidate_id,
            job_id=job_id,
            stage_id=stage_id,
            status="Active",
            hiring_team=list(job.hiring_team),
            history=[(self.new_id(), stage_id, values["created_at"])],
        )
        self.applications[application.id] = application
        return application

    # --- candidates deleted or merged (announced as candidateDelete / candidateMerge, ids only) ----------

    def delete_candidate(self, candidate_id: str) -> None:
        """Delete the candidate with their resume, applications, schedules, events and feedback, as Ashby does."""
        candidate = self.candidates.pop(candidate_id)
        if candidate.resume is not None:
            del self.files[candidate.resume.handle]
        applications = {a for a, application in self.applications.items() if application.candidate_id == candidate_id}
        schedules = {s for s, schedule in self.schedules.items() if schedule.application_id in applications}
        for schedule_id in schedules:
            for event_id in self.schedules.pop(schedule_id).event_ids:
                self.events.pop(event_id, None)
        self.feedback = {f: fb for f, fb in self.feedback.items() if fb.application_id not in applications}
        for application_id in applications:
            del self.applications[application_id]
        self._publish("candidateDelete", "candidate", candidate_id)

    def merge_candidates(self, merged_away: str, remaining: str) -> None:
        """Merge `merged_away` into `remaining`: its applications move over (ids unchanged) and it is deleted."""
        if merged_away == remaining or remaining not in self.candidates:
            raise ValueError("merge into another existing candidate")
        del self.candidates[merged_away]
        for application in self.applications.values():
            if application.candidate_id == merged_away:
                application.candidate_id = remaining
                self.touch(application)
        self.merged_into[merged_away] = remaining
        self._publish("candidateMerge", "candidate", merged_away)

    # --- schedules (each change announced as interviewScheduleUpdate, creation also as ...Create) -------

    def schedule(self, application_id: str, events: Sequence[EventSpec], *, status: str = "Scheduled") -> SimSchedule:
        application = self.applications[application_id]
        schedule = SimSchedule(
            **self._new(), application_id=application_id, stage_id=application.stage_id, status=status,
            scheduled_by=application.hiring_team[0][0] if application.hiring_team else None,
        )  # fmt: skip
        self.schedules[schedule.id] = schedule
        for spec in events:
            self._add_event(schedule, spec)
        self._publish("interviewScheduleCreate", "schedule", schedule.id)
        self._publish("interviewScheduleUpdate", "schedule", schedule.id)
        return schedule

    def _add_event(self, schedule: SimSchedule, spec: EventSpec) -> SimEvent:
        event = SimEvent(
            **self._new(), schedule_id=schedule.id, interview_id=spec.interview_id, start=spec.start, end=spec.end,
            interviewers=list(spec.interviewers), meeting_link=spec.meeting_link, location=spec.location,
        )  # fmt: skip
        self.events[event.id] = event
        schedule.event_ids.append(event.id)
        return event

    def add_event(self, schedule_id: str, spec: EventSpec) -> SimEvent:
        schedule = self.schedules[schedule_id]
        event = self._add_event(schedule, spec)
        self._schedule_changed(schedule)
        return event

    def update_event(
        self,
        event_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        interviewers: Sequence[SimInterviewer] | None = None,
    ) -> SimEvent:
        event = self.events[event_id]
        event.start = start or event.start
        event.end = end or event.end
        if interviewers is not None:
            event.interviewers = list(interviewers)
        self.touch(event)
        self._schedule_changed(self.schedules[event.schedule_id])
        return event

    def cancel_event(self, event_id: str) -> None:
        event = self.events[event_id]
        event.cancelled = True
        self.touch(event)
        self._schedule_changed(self.schedules[event.schedule_id])

    def set_schedule_status(self, schedule_id: str, status: str) -> None:
        schedule = self.schedules[schedule_id]
        schedule.status = status
        self._schedule_changed(schedule)

    def cancel_schedule(self, schedule_id: str) -> None:
        self.set_schedule_status(schedule_id, "Cancelled")

    def _schedule_changed(self, schedule: SimSchedule) -> None:
        self.touch(schedule)
        self._publish("interviewScheduleUpdate", "schedule", schedule.id)

    def live_events(self, schedule: SimSchedule) -> list[SimEvent]:
        return [self.events[i] for i in schedule.event_ids if not self.events[i].cancelled]

    # --- feedback and stage moves (the API calls these too) -----------------------------------------

    def submit_feedback(
        self,
        *,
        form_id: str,
        application_id: str,
        submissions: Sequence[Mapping[str, Any]],
        user_id: str | None = None,
        event_id: str | None = None,
    ) -> SimFeedback:
        """Record a scorecard as if submitted in Ashby's UI (or via the API); raises `ApiFailure`."""
        form = self.forms.get(form_id)
        if form is None or form.is_archived:
            raise ApiFailure("invalid_input", "formDefinitionId does not name an active feedback form")
        if application_id not in self.applications:
            raise ApiFailure("application_not_found", "no application with this applicationId")
        if user_id is None:
            if event_id is not None:
                raise ApiFailure("invalid_input", "userId is required with interviewEventId")
            user_id = self.api_user_id
        if user_id is None or user_id not in self.users:
            raise ApiFailure("invalid_input", "userId does not name a user")
        event = self.events.get(event_id) if event_id is not None else None
        if event_id is not None:
            if event is None or event.cancelled:
                raise ApiFailure("invalid_input", "interviewEventId does not name an interview event")
            if self.schedules[event.schedule_id].application_id != application_id:
                raise ApiFailure("invalid_input", "the interview event belongs to another application")
            if all(person.user_id != user_id for person in event.interviewers):
                raise ApiFailure("invalid_input", "userId must be an interviewer on the interview event")
        problems = check_submission(form.sections, submissions)
        if problems:
            raise ApiFailure("invalid_input", "; ".join(problems))
        feedback = SimFeedback(
            **self._new(), application_id=application_id, form_id=form_id, user_id=user_id,
            values={item["path"]: item["value"] for item in submissions},
            event_id=event_id, interview_id=event.interview_id if event else None,
        )  # fmt: skip
        self.feedback[feedback.id] = feedback
        if event is not None:
            self.touch(event)  # hasSubmittedFeedback changed; no webhook: Ashby has none for feedback
        return feedback

    def change_stage(
        self,
        application_id: str | None,
        stage_id: str | None,
        *,
        archive_reason_id: str | None = None,
        archive_email: Mapping[str, Any] | None = None,
    ) -> SimApplication:
        """`application.changeStage` rules: stage always required; Archived needs a reason, others refuse one."""
        if not application_id or not stage_id:
            raise ApiFailure("invalid_input", "applicationId and interviewStageId are required")
        application = self.applications.get(application_id)
        if application is None:
            raise ApiFailure("application_not_found", "no application with this applicationId")
        stage = self.stages.get(stage_id)
        if stage is None or stage.plan_id != self.jobs[application.job_id].plan_id:
            raise ApiFailure("interview_stage_not_found", "the stage is not in the application's interview plan")
        archiving = stage.type == STAGE_ARCHIVED
        if archiving and not archive_reason_id:
            raise ApiFailure("invalid_input", "archiveReasonId is required when moving to an Archived stage")
        if not archiving and (archive_reason_id or archive_email):
            raise ApiFailure("invalid_input", "archiveReasonId and archiveEmail are only allowed for Archived stages")
        if archive_reason_id and archive_reason_id not in self.archive_reasons:
            raise ApiFailure("archive_reason_not_found", "no archive reason with this archiveReasonId")
        if archive_email is not None and archive_email.get("communicationTemplateId") not in self.templates:
            raise ApiFailure("communication_template_not_found", "no email template with this id")
        if application.stage_id == stage_id:
            return application
        now = self.now()
        application.stage_id = stage_id
        application.history.append((self.new_id(), stage_id, now))
        application.status = {"Archived": "Archived", "Hired": "Hired"}.get(stage.type, "Active")
        application.archive_reason_id = archive_reason_id if archiving else None
        application.archived_at = now if archiving else None
        self.touch(application)
        self._publish("candidateStageChange", "application", application.id)
        return application
