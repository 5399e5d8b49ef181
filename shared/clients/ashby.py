"""The Ashby API client: the typed endpoints this system calls, over `AshbyRpc`'s transport (one error
mapping, bounded retries, pages, incremental syncs: `shared/clients/ashby_rpc.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import msgspec

from shared.clients.ashby_rpc import (
    ASHBY_VERSION,
    MAX_PAGE_SIZE,
    SYNC_RESET_CODES,
    AshbyApiError,
    AshbyAuthError,
    AshbyError,
    AshbyResponseError,
    AshbyRpc,
    AshbyTransientError,
    Envelope,
    Page,
    RateLimiter,
    RetryPolicy,
    SyncRun,
)
from shared.payloads.ashby import (
    STAGE_ARCHIVED,
    Application,
    ArchiveReason,
    Candidate,
    FeedbackFormDefinition,
    FeedbackSubmission,
    FileInfo,
    Interview,
    InterviewEvent,
    InterviewPlan,
    InterviewSchedule,
    InterviewStage,
    Job,
    JobInterviewPlan,
    SubmittedForm,
    User,
)
from shared.retry import parse_retry_after

__all__ = [
    "ASHBY_VERSION",
    "MAX_PAGE_SIZE",
    "SYNC_RESET_CODES",
    "AshbyApiError",
    "AshbyAuthError",
    "AshbyClient",
    "AshbyError",
    "AshbyResponseError",
    "AshbyTransientError",
    "Envelope",
    "FieldSubmission",
    "Page",
    "RateLimiter",
    "RetryPolicy",
    "SyncRun",
    "archived_stage",
    "parse_retry_after",
]


class FieldSubmission(msgspec.Struct, frozen=True):
    """`feedbackForm.fieldSubmissions[]`: `value` typed per field (Score `{"score": n}`, Number int, ...)."""

    path: str
    value: Any


def _epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


class AshbyClient(AshbyRpc):
    # --- interviews and feedback -----------------------------------------------------------------

    def list_interview_schedules(
        self,
        *,
        application_id: str | None = None,
        interview_stage_id: str | None = None,
        created_after: datetime | None = None,
    ) -> AsyncIterator[InterviewSchedule]:
        body = _compact(applicationId=application_id, interviewStageId=interview_stage_id)
        if created_after is not None:
            body["createdAfter"] = _epoch_ms(created_after)
        return self.items("interviewSchedule.list", body, InterviewSchedule)

    def sync_interview_schedules(self, sync_token: str | None) -> SyncRun[InterviewSchedule]:
        return self.sync("interviewSchedule.list", {}, InterviewSchedule, sync_token)

    def list_interview_events(
        self, interview_schedule_id: str, *, expand_interview: bool = False
    ) -> AsyncIterator[InterviewEvent]:
        body: dict[str, Any] = {"interviewScheduleId": interview_schedule_id}
        if expand_interview:
            body["expand"] = ["interview"]
        return self.items("interviewEvent.list", body, InterviewEvent)

    async def interview_info(self, interview_id: str) -> Interview:
        return await self._result("interview.info", {"id": interview_id}, Interview)

    def list_interviews(self, *, include_archived: bool = False) -> AsyncIterator[Interview]:
        """Every interview, the ones of a single job included (Ashby lists only shared ones without the flag)."""
        body = {"includeArchived": include_archived, "includeNonSharedInterviews": True}
        return self.items("interview.list", body, Interview)

    async def feedback_form_definition_info(self, feedback_form_definition_id: str) -> FeedbackFormDefinition:
        body = {"feedbackFormDefinitionId": feedback_form_definition_id}
        return await self._result("feedbackFormDefinition.info", body, FeedbackFormDefinition)

    def list_feedback_form_definitions(
        self, *, include_archived: bool = False
    ) -> AsyncIterator[FeedbackFormDefinition]:
        return self.items("feedbackFormDefinition.list", {"includeArchived": include_archived}, FeedbackFormDefinition)

    def list_application_feedback(self, *, application_id: str | None = None) -> AsyncIterator[FeedbackSubmission]:
        return self.items("applicationFeedback.list", _compact(applicationId=application_id), FeedbackSubmission)

    async def feedback_of(self, *, application_id: str, interview_event_id: str, user_id: str) -> str | None:
        """The id of this interviewer's feedback on this event, if Ashby has it. `submit` has no idempotency
        key: a retry after a timeout, or a double click, must look here before submitting again."""
        async for submission in self.list_application_feedback(application_id=application_id):
            if (submission.interview_event_id, submission.submitted_by_user.id) == (interview_event_id, user_id):
                return submission.id
        return None

    def sync_application_feedback(
        self, sync_token: str | None, *, application_id: str | None = None
    ) -> SyncRun[FeedbackSubmission]:
        body = _compact(applicationId=application_id)
        return self.sync("applicationFeedback.list", body, FeedbackSubmission, sync_token)

    async def submit_application_feedback(
        self,
        *,
        form_definition_id: str,
        application_id: str,
        field_submissions: Sequence[FieldSubmission],
        user_id: str | None = None,
        interview_event_id: str | None = None,
    ) -> SubmittedForm:
        """Not idempotent (Ashby has no key for it): after a 5xx or timeout, check `applicationFeedback.list`
        before submitting again. With `interview_event_id`, `user_id` must be an interviewer on that event."""
        if interview_event_id is not None and user_id is None:
            raise ValueError("user_id is required with interview_event_id")
        body: dict[str, Any] = {
            "formDefinitionId": form_definition_id,
            "applicationId": application_id,
            "feedbackForm": {"fieldSubmissions": list(field_submissions)},
            **_compact(userId=user_id, interviewEventId=interview_event_id),
        }
        envelope = await self.call("applicationFeedback.submit", body, idempotent=False)
        results: _SubmitResults = self._decode("applicationFeedback.submit", envelope.results, _SubmitResults)
        return results.submitted_form_instance

    # --- applications and hiring process ---------------------------------------------------------

    async def application_info(self, application_id: str) -> Application:
        return await self._result("application.info", {"applicationId": application_id}, Application)

    async def change_application_stage(
        self,
        application_id: str,
        interview_stage_id: str,
        *,
        archive_reason_id: str | None = None,
        archive_email_template_id: str | None = None,
        archive_email_send_at: datetime | None = None,
    ) -> Application:
        """Move an application. `interview_stage_id` is always required; an Archived target needs
        `archive_reason_id` and other targets refuse it (`invalid_input`). Not idempotent: re-read
        `application_info` before retrying after a 5xx or timeout."""
        if not interview_stage_id:
            raise ValueError("interview_stage_id is required, also when archiving")
        body: dict[str, Any] = {"applicationId": application_id, "interviewStageId": interview_stage_id}
        if archive_reason_id is not None:
            body["archiveReasonId"] = archive_reason_id
        if archive_email_template_id is not None:
            body["archiveEmail"] = {"communicationTemplateId": archive_email_template_id}
            if archive_email_send_at is not None:
                body["archiveEmail"]["sendAt"] = archive_email_send_at.isoformat()
        return await self._result("application.changeStage", body, Application, idempotent=False)

    async def archive_application(
        self, application: Application, archive_reason_id: str, *, archive_email_template_id: str | None = None
    ) -> Application:
        """Reject: move to the plan's stage of type Archived (found with `interviewStage.list`) with a reason."""
        stage = application.current_interview_stage
        if stage is None or stage.interview_plan_id is None:
            raise AshbyResponseError(
                f"application {application.id} has no interview plan", endpoint="application.info", code="no_plan"
            )
        archived = archived_stage(await self.list_interview_stages(stage.interview_plan_id))
        if archived is None:
            raise AshbyApiError(
                "the interview plan has no Archived stage", endpoint="interviewStage.list", code="no_archived_stage"
            )
        return await self.change_application_stage(
            application.id,
            archived.id,
            archive_reason_id=archive_reason_id,
            archive_email_template_id=archive_email_template_id,
        )

    async def list_interview_stages(self, interview_plan_id: str) -> list[InterviewStage]:
        """The plan's stages in plan order (one call: the endpoint has no cursor)."""
        stages = await self._result("interviewStage.list", {"interviewPlanId": interview_plan_id}, list[InterviewStage])
        return sorted(stages, key=lambda stage: stage.order_in_interview_plan)

    async def list_archive_reasons(self, *, include_archived: bool = False) -> list[ArchiveReason]:
        return await self._result("archiveReason.list", {"includeArchived": include_archived}, list[ArchiveReason])

    async def job_info(self, job_id: str) -> Job:
        return await self._result("job.info", {"id": job_id}, Job)

    def list_jobs(self, *, statuses: Sequence[str] = ()) -> AsyncIterator[Job]:
        """Jobs of these statuses (Draft, Open, Closed, Archived); none given: every job but drafts."""
        return self.items("job.list", {"status": list(statuses)} if statuses else {}, Job)

    def list_interview_plans(self, *, include_archived: bool = False) -> AsyncIterator[InterviewPlan]:
        return self.items("interviewPlan.list", {"includeArchived": include_archived}, InterviewPlan)

    async def job_interview_plan_info(self, job_id: str) -> JobInterviewPlan:
        return await self._result("jobInterviewPlan.info", {"jobId": job_id}, JobInterviewPlan)

    # --- people and files ------------------------------------------------------------------------

    async def candidate_info(self, candidate_id: str) -> Candidate:
        return await self._result("candidate.info", {"id": candidate_id}, Candidate)

    async def file_info(self, file_handle: str) -> FileInfo:
        """The parameter is `fileHandle` (a predecessor sent `handle` and got nothing)."""
        return await self._result("file.info", {"fileHandle": file_handle}, FileInfo)

    async def search_users(self, email: str) -> list[User]:
        return await self._result("user.search", {"email": email}, list[User])

    def list_users(self, *, include_deactivated: bool = False) -> AsyncIterator[User]:
        return self.items("user.list", {"includeDeactivated": include_deactivated}, User)


class _SubmitResults(msgspec.Struct, rename="camel"):
    submitted_form_instance: SubmittedForm


def archived_stage(stages: Sequence[InterviewStage]) -> InterviewStage | None:
    return next((stage for stage in stages if stage.type == STAGE_ARCHIVED), None)


def _compact(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
