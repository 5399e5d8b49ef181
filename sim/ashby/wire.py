"""The simulated org's records rendered as Ashby's wire objects (camelCase dicts shaped by the published spec)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sim.ashby.org import AshbyOrg
from sim.ashby.records import (
    SimApplication,
    SimCandidate,
    SimEvent,
    SimFeedback,
    SimForm,
    SimInterview,
    SimInterviewer,
    SimJob,
    SimPlan,
    SimSchedule,
    SimStage,
    SimUser,
)

APP_URL = "https://app.ashbyhq.com"


def iso(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def user(u: SimUser) -> dict[str, Any]:
    return {
        "id": u.id,
        "firstName": u.first_name,
        "lastName": u.last_name,
        "email": u.email,
        "globalRole": u.global_role,
        "isEnabled": u.is_enabled,
        "updatedAt": iso(u.updated_at),
    }


def interviewer(org: AshbyOrg, person: SimInterviewer) -> dict[str, Any]:
    return {
        **user(org.users[person.user_id]),
        "trainingRole": person.training_role,
        "interviewerPool": None,
        "isFeedbackRequired": person.feedback_required,
    }


def interview(i: SimInterview) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": i.id,
        "title": i.title,
        "externalTitle": i.title,
        "isArchived": i.is_archived,
        "isDebrief": i.is_debrief,
        "isFeedbackRequired": i.is_feedback_required,
        "isFeedbackRequested": i.is_feedback_required,
        "instructionsHtml": f"<p>{i.instructions}</p>" if i.instructions else "",
        "instructionsPlain": i.instructions,
        "feedbackFormDefinitionId": i.form_id,
    }
    if i.job_id is not None:  # shared interviews have no job; the spec types jobId as a string
        out["jobId"] = i.job_id
    return out


def event(org: AshbyOrg, e: SimEvent, *, expand_interview: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": e.id,
        "interviewId": e.interview_id,
        "interviewScheduleId": e.schedule_id,
        "interviewerUserIds": [person.user_id for person in e.interviewers],
        "interviewers": [interviewer(org, person) for person in e.interviewers],
        "createdAt": iso(e.created_at),
        "updatedAt": iso(e.updated_at),
        "startTime": iso(e.start),
        "endTime": iso(e.end),
        "feedbackLink": f"{APP_URL}/interview-briefings/{e.id}/feedback",
        "location": e.location,
        "meetingLink": e.meeting_link,
        "hasSubmittedFeedback": any(f.event_id == e.id for f in org.feedback.values()),
    }
    if expand_interview:
        out["interview"] = interview(org.interviews[e.interview_id])
    return out


def schedule(org: AshbyOrg, s: SimSchedule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.id,
        "status": s.status,
        "applicationId": s.application_id,
        "interviewStageId": s.stage_id,
        "createdAt": iso(s.created_at),
        "updatedAt": iso(s.updated_at),
        "interviewEvents": [event(org, e) for e in org.live_events(s)],
    }
    if s.scheduled_by is not None:
        out["scheduledBy"] = user(org.users[s.scheduled_by])
    return out


def stage(s: SimStage) -> dict[str, Any]:
    return {
        "id": s.id,
        "title": s.title,
        "type": s.type,
        "orderInInterviewPlan": s.order,
        "interviewPlanId": s.plan_id,
    }


def form(org: AshbyOrg, f: SimForm) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f.id,
        "organizationId": org.id,
        "title": f.title,
        "isArchived": f.is_archived,
        "isDefaultForm": f.is_default,
        "formDefinition": {"sections": f.sections},
    }
    if f.interview_id is not None:
        out["interviewId"] = f.interview_id
    return out


def feedback(org: AshbyOrg, fb: SimFeedback) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": fb.id,
        "formDefinition": {"sections": org.forms[fb.form_id].sections},
        "submittedValues": fb.values,
        "submittedByUser": user(org.users[fb.user_id]),
        "feedbackFormDefinitionId": fb.form_id,
        "applicationId": fb.application_id,
        "submittedAt": iso(fb.created_at),
    }
    if fb.event_id is not None:
        out["interviewEventId"] = fb.event_id
    if fb.interview_id is not None:
        out["interviewId"] = fb.interview_id
    return out


def _contact(value: str) -> dict[str, Any]:
    return {"value": value, "type": "Personal", "isPrimary": True}


def hiring_team(org: AshbyOrg, team: list[tuple[str, str]]) -> list[dict[str, Any]]:
    members = []
    for user_id, role in team:
        u = org.users[user_id]
        members.append(
            {"userId": u.id, "firstName": u.first_name, "lastName": u.last_name, "email": u.email, "role": role}
        )
    return members


def application(org: AshbyOrg, a: SimApplication, *, detailed: bool = False) -> dict[str, Any]:
    candidate = org.candidates[a.candidate_id]
    job = org.jobs[a.job_id]
    out: dict[str, Any] = {
        "id": a.id,
        "createdAt": iso(a.created_at),
        "updatedAt": iso(a.updated_at),
        "status": a.status,
        "customFields": [],
        "candidate": {"id": candidate.id, "name": candidate.name, "primaryEmailAddress": _contact(candidate.email)},
        "currentInterviewStage": stage(org.stages[a.stage_id]),
        "job": {"id": job.id, "title": job.title},
        "hiringTeam": hiring_team(org, a.hiring_team),
    }
    if a.archive_reason_id is not None:
        reason = org.archive_reasons[a.archive_reason_id]
        out["archiveReason"] = {**archive_reason(reason), "customFields": []}
    if a.archived_at is not None:
        out["archivedAt"] = iso(a.archived_at)
    if detailed:
        out["applicationHistory"] = [
            {
                "id": history_id,
                "stageId": stage_id,
                "title": org.stages[stage_id].title,
                "enteredStageAt": iso(entered),
                "stageNumber": org.stages[stage_id].order,
                "allowedActions": ["none"],
            }
            for history_id, stage_id, entered in a.history
        ]
        if candidate.resume is not None:
            out["resumeFileHandle"] = file_handle(candidate)
    return out


def file_handle(c: SimCandidate) -> dict[str, Any]:
    assert c.resume is not None
    return {"id": c.resume.id, "name": c.resume.name, "handle": c.resume.handle}


def candidate(org: AshbyOrg, c: SimCandidate) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "createdAt": iso(c.created_at),
        "updatedAt": iso(c.updated_at),
        "name": c.name,
        "primaryEmailAddress": _contact(c.email),
        "emailAddresses": [_contact(c.email)],
        "phoneNumbers": [_contact(c.phone)] if c.phone else [],
        "socialLinks": [],
        "tags": [],
        "applicationIds": [a.id for a in org.applications.values() if a.candidate_id == c.id],
        "fileHandles": [file_handle(c)] if c.resume else [],
        "customFields": [],
        "profileUrl": f"{APP_URL}/candidates/{c.id}",
    }
    if c.phone:
        out["primaryPhoneNumber"] = _contact(c.phone)
    if c.position is not None:
        out["position"] = c.position
    if c.company is not None:
        out["company"] = c.company
    if c.resume is not None:
        out["resumeFileHandle"] = file_handle(c)
    return out


def archive_reason(r: Any) -> dict[str, Any]:
    return {"id": r.id, "text": r.text, "reasonType": r.reason_type, "isArchived": r.is_archived}


def job(org: AshbyOrg, j: SimJob) -> dict[str, Any]:
    return {
        "id": j.id,
        "title": j.title,
        "confidential": False,
        "status": j.status,
        "employmentType": "FullTime",
        "defaultInterviewPlanId": j.plan_id,
        "interviewPlanIds": [j.plan_id],
        "customFields": [],
        "jobPostingIds": [],
        "hiringTeam": hiring_team(org, j.hiring_team),
        "createdAt": iso(j.created_at),
        "updatedAt": iso(j.updated_at),
        "openedAt": iso(j.created_at),
    }


def plan(p: SimPlan) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "isArchived": p.is_archived,
        "createdAt": iso(p.created_at),
        "updatedAt": iso(p.updated_at),
    }


def job_plan(org: AshbyOrg, j: SimJob) -> dict[str, Any]:
    stages = []
    for stage_id in org.plans[j.plan_id].stage_ids:
        interviews = [org.interviews[i] for i in j.stage_interviews.get(stage_id, [])]
        activities = [
            {
                "id": stage_id,  # one activity per stage in the simulator; Ashby allows several
                "title": org.stages[stage_id].title,
                "interviews": [
                    {
                        "id": i.id,
                        "title": i.title,
                        "interviewId": i.id,
                        "interviewDurationMinutes": i.duration_minutes,
                        "isSchedulable": True,
                    }
                    for i in interviews
                ],
            }
        ]
        stages.append({**stage(org.stages[stage_id]), "activities": activities if interviews else []})
    return {"jobId": j.id, "interviewPlanId": j.plan_id, "stages": stages}
