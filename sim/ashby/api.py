"""The simulator's RPC endpoints: request body in, Ashby's success payload out, or `ApiFailure`.

Transport concerns (auth, faults, latency, recording) live in `app.py`; this is the org's API surface.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sim.ashby import wire
from sim.ashby.failure import ApiFailure
from sim.ashby.org import AshbyOrg

Handler = Callable[[Mapping[str, Any]], dict[str, Any]]


def _required(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApiFailure("invalid_input", f"{name} is required")
    return value


def _found(table: Mapping[str, Any], key: str, code: str) -> Any:
    if key not in table:
        raise ApiFailure(code, f"nothing found for this id ({code})")
    return table[key]


class AshbyApi:
    def __init__(self, org: AshbyOrg) -> None:
        self.org = org
        self.handlers: dict[str, Handler] = {
            "interviewSchedule.list": self.interview_schedule_list,
            "interviewEvent.list": self.interview_event_list,
            "interview.info": self.interview_info,
            "interview.list": self.interview_list,
            "interviewPlan.list": self.interview_plan_list,
            "feedbackFormDefinition.info": self.feedback_form_definition_info,
            "feedbackFormDefinition.list": self.feedback_form_definition_list,
            "applicationFeedback.list": self.application_feedback_list,
            "applicationFeedback.submit": self.application_feedback_submit,
            "application.info": self.application_info,
            "application.changeStage": self.application_change_stage,
            "interviewStage.list": self.interview_stage_list,
            "candidate.info": self.candidate_info,
            "user.search": self.user_search,
            "user.list": self.user_list,
            "archiveReason.list": self.archive_reason_list,
            "file.info": self.file_info,
            "job.info": self.job_info,
            "job.list": self.job_list,
            "jobInterviewPlan.info": self.job_interview_plan_info,
        }

    def handle(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.handlers[endpoint](body)

    def _page(
        self, endpoint: str, body: Mapping[str, Any], scope: str, select: Callable[[int], list[Any]]
    ) -> dict[str, Any]:
        return self.org.pager.page(endpoint, scope, body, select, self.org.seq)

    # --- interviews ------------------------------------------------------------------------------

    def interview_schedule_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        org = self.org
        application_id, stage_id = body.get("applicationId"), body.get("interviewStageId")
        created_after = body.get("createdAfter")
        after = datetime.fromtimestamp(created_after / 1000, UTC) if isinstance(created_after, int) else None

        def select(since: int) -> list[dict[str, Any]]:
            return [
                wire.schedule(org, s)
                for s in org.schedules.values()
                if s.seq > since
                and application_id in (None, s.application_id)
                and stage_id in (None, s.stage_id)
                and (after is None or s.created_at > after)
            ]

        return self._page("interviewSchedule.list", body, f"{application_id}|{stage_id}|{created_after}", select)

    def interview_event_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        schedule = _found(self.org.schedules, _required(body, "interviewScheduleId"), "interview_schedule_not_found")
        expand = "interview" in (body.get("expand") or ())

        def select(since: int) -> list[dict[str, Any]]:
            events = [e for e in self.org.live_events(schedule) if e.seq > since]
            return [wire.event(self.org, e, expand_interview=expand) for e in events]

        return self._page("interviewEvent.list", body, schedule.id, select)

    def interview_info(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return {"results": wire.interview(_found(self.org.interviews, _required(body, "id"), "interview_not_found"))}

    def interview_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Shared interviews only, unless `includeNonSharedInterviews` (those of one job) as Ashby documents."""
        archived = bool(body.get("includeArchived", False))
        job_specific = bool(body.get("includeNonSharedInterviews", False))

        def select(since: int) -> list[dict[str, Any]]:
            return [
                wire.interview(i)
                for i in self.org.interviews.values()
                if i.seq > since and (archived or not i.is_archived) and (job_specific or i.job_id is None)
            ]

        return self._page("interview.list", body, f"{archived}|{job_specific}", select)

    # --- feedback --------------------------------------------------------------------------------

    def feedback_form_definition_info(self, body: Mapping[str, Any]) -> dict[str, Any]:
        key = _required(body, "feedbackFormDefinitionId")
        return {"results": wire.form(self.org, _found(self.org.forms, key, "feedback_form_definition_not_found"))}

    def feedback_form_definition_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        archived = bool(body.get("includeArchived", False))

        def select(since: int) -> list[dict[str, Any]]:
            forms = self.org.forms.values()
            return [wire.form(self.org, f) for f in forms if f.seq > since and (archived or not f.is_archived)]

        return self._page("feedbackFormDefinition.list", body, str(archived), select)

    def application_feedback_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        application_id = body.get("applicationId")

        def select(since: int) -> list[dict[str, Any]]:
            found = self.org.feedback.values()
            return [
                wire.feedback(self.org, f)
                for f in found
                if f.seq > since and application_id in (None, f.application_id)
            ]

        return self._page("applicationFeedback.list", body, str(application_id), select)

    def application_feedback_submit(self, body: Mapping[str, Any]) -> dict[str, Any]:
        form = body.get("feedbackForm")
        submissions = form.get("fieldSubmissions") if isinstance(form, Mapping) else None
        if not isinstance(submissions, list):
            raise ApiFailure("invalid_input", "feedbackForm.fieldSubmissions must be an array")
        feedback = self.org.submit_feedback(
            form_id=_required(body, "formDefinitionId"),
            application_id=_required(body, "applicationId"),
            submissions=submissions,
            user_id=body.get("userId"),
            event_id=body.get("interviewEventId"),
        )
        instance = wire.feedback(self.org, feedback)
        keep = ("id", "formDefinition", "submittedValues")
        return {"results": {"submittedFormInstance": {key: instance[key] for key in keep}}}

    # --- applications and the hiring process -----------------------------------------------------

    def application_info(self, body: Mapping[str, Any]) -> dict[str, Any]:
        found = _found(self.org.applications, _required(body, "applicationId"), "application_not_found")
        return {"results": wire.application(self.org, found, detailed=True)}

    def application_change_stage(self, body: Mapping[str, Any]) -> dict[str, Any]:
        email = body.get("archiveEmail")
        moved = self.org.change_stage(
            body.get("applicationId"),
            body.get("interviewStageId"),
            archive_reason_id=body.get("archiveReasonId"),
            archive_email=email if isinstance(email, Mapping) else None,
        )
        return {"results": wire.application(self.org, moved)}

    def interview_stage_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        plan = _found(self.org.plans, _required(body, "interviewPlanId"), "interview_plan_not_found")
        stages = [wire.stage(self.org.stages[stage_id]) for stage_id in plan.stage_ids]
        return {"results": stages, "moreDataAvailable": False}

    def archive_reason_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        archived = bool(body.get("includeArchived", False))
        reasons = [wire.archive_reason(r) for r in self.org.archive_reasons.values() if archived or not r.is_archived]
        return {"results": reasons}

    def job_info(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return {"results": wire.job(self.org, _found(self.org.jobs, _required(body, "id"), "job_not_found"))}

    def job_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Every job but drafts, or those of the statuses asked for (`status: ["Open", ...]`)."""
        wanted = body.get("status")
        statuses = set(wanted) if isinstance(wanted, list) else {"Open", "Closed", "Archived"}

        def select(since: int) -> list[dict[str, Any]]:
            jobs = self.org.jobs.values()
            return [wire.job(self.org, j) for j in jobs if j.seq > since and j.status in statuses]

        return self._page("job.list", body, ",".join(sorted(statuses)), select)

    def interview_plan_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        archived = bool(body.get("includeArchived", False))

        def select(since: int) -> list[dict[str, Any]]:
            plans = self.org.plans.values()
            return [wire.plan(p) for p in plans if p.seq > since and (archived or not p.is_archived)]

        return self._page("interviewPlan.list", body, str(archived), select)

    def job_interview_plan_info(self, body: Mapping[str, Any]) -> dict[str, Any]:
        job = _found(self.org.jobs, _required(body, "jobId"), "job_not_found")
        return {"results": wire.job_plan(self.org, job)}

    # --- people and files ------------------------------------------------------------------------

    def candidate_info(self, body: Mapping[str, Any]) -> dict[str, Any]:
        found = _found(self.org.candidates, _required(body, "id"), "candidate_not_found")
        return {"results": wire.candidate(self.org, found)}

    def file_info(self, body: Mapping[str, Any]) -> dict[str, Any]:
        found = _found(self.org.files, _required(body, "fileHandle"), "file_not_found")
        return {"results": {"url": found.url}}

    def user_search(self, body: Mapping[str, Any]) -> dict[str, Any]:
        email = _required(body, "email").strip().lower()
        return {"results": [wire.user(u) for u in self.org.users.values() if u.email.lower() == email]}

    def user_list(self, body: Mapping[str, Any]) -> dict[str, Any]:
        deactivated = bool(body.get("includeDeactivated", False))

        def select(since: int) -> list[dict[str, Any]]:
            users = self.org.users.values()
            return [wire.user(u) for u in users if u.seq > since and (deactivated or u.is_enabled)]

        return self._page("user.list", body, str(deactivated), select)
