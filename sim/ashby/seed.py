"""A realistic simulated org and builders for scenarios ("a panel of 3 with one shadow, starting at T").

`seed_org()` gives one job with a six-stage plan (ending in Archived), a recruiter, a coordinator, a
hiring manager, five interviewers, a scorecard covering every Ashby field type, a candidate with a
resume, and an application in the Onsite stage. Names and addresses are invented.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sim.ashby.org import AshbyOrg
from sim.ashby.records import EventSpec, SimApplication, SimInterviewer, SimSchedule

SCORE_LABELS = ("1 - Strong No Hire", "2 - No Hire", "3 - Hire", "4 - Strong Hire")
STAGES = (
    ("Application Review", "PreInterviewScreen"),
    ("Phone Screen", "Active"),
    ("Onsite", "Active"),
    ("Offer", "Offer"),
    ("Hired", "Hired"),
    ("Archived", "Archived"),
)
INTERVIEWERS = (("Alex", "Chen"), ("Blake", "Okafor"), ("Charlie", "Novak"), ("Devon", "Silva"), ("Emery", "Park"))


def form_field(
    new_id: Callable[[], str],
    kind: str,
    path: str,
    title: str,
    *,
    required: bool = False,
    options: Sequence[tuple[str, str]] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """One `formDefinition.sections[].fields[]` entry; `options` are (label, value)."""
    definition: dict[str, Any] = {
        "id": new_id(),
        "type": kind,
        "path": path,
        "humanReadablePath": title,
        "title": title,
        "isNullable": not required,
    }
    if options is not None:
        definition["selectableValues"] = [{"label": label, "value": value} for label, value in options]
    entry: dict[str, Any] = {"isRequired": required, "field": definition}
    if description is not None:
        entry["descriptionPlain"] = description
    return entry


def full_scorecard(new_id: Callable[[], str]) -> list[dict[str, Any]]:
    """Sections covering every field type in `shared.payloads.ashby.FIELD_TYPES`."""
    f = form_field
    score_options = [(label, str(n)) for n, label in enumerate(SCORE_LABELS, start=1)]
    return [
        {
            "title": "Recommendation",
            "fields": [
                f(new_id, "Score", "overall_recommendation", "Overall recommendation", required=True,
                  options=score_options, description="Would you hire this candidate?"),
                f(new_id, "RichText", "notes", "Interview notes", required=True),
                f(new_id, "ValueSelect", "level", "Level", options=[("Junior", "junior"), ("Mid", "mid"),
                                                                     ("Senior", "senior"), ("Staff", "staff")]),
                f(new_id, "MultiValueSelect", "strengths", "Strengths",
                  options=[("Coding", "coding"), ("System design", "design"), ("Communication", "communication")]),
                f(new_id, "Boolean", "would_work_with", "Would you want to work with them?"),
            ],
        },
        {
            "title": "Details",
            "fields": [
                f(new_id, "LongText", "summary", "Summary"),
                f(new_id, "String", "headline", "One-line headline"),
                f(new_id, "Number", "years_experience", "Years of experience"),
                f(new_id, "Date", "available_from", "Available from"),
                f(new_id, "Email", "reference_email", "Reference email"),
                f(new_id, "Phone", "reference_phone", "Reference phone"),
                f(new_id, "Url", "portfolio", "Portfolio link"),
                f(new_id, "UUID", "referral_id", "Referral record"),
                f(new_id, "Currency", "current_salary", "Current salary"),
                f(new_id, "NumberRange", "team_size", "Preferred team size"),
                f(new_id, "CompensationRange", "expected_compensation", "Expected compensation"),
            ],
        },
    ]  # fmt: skip


def short_scorecard(new_id: Callable[[], str]) -> list[dict[str, Any]]:
    score_options = [(label, str(n)) for n, label in enumerate(SCORE_LABELS, start=1)]
    return [
        {
            "fields": [
                form_field(new_id, "Score", "overall_recommendation", "Overall recommendation", required=True,
                           options=score_options),
                form_field(new_id, "RichText", "notes", "Notes", required=True),
            ]
        }
    ]  # fmt: skip


@dataclass
class SeededOrg:
    org: AshbyOrg
    job_id: str
    plan_id: str
    stage_ids: dict[str, str]  # title -> id
    archived_stage_id: str
    form_id: str  # the full scorecard (Onsite Panel)
    short_form_id: str  # Phone Screen
    interview_ids: dict[str, str]  # title -> id
    users: dict[str, str]  # "recruiter", "coordinator", "hiring_manager", "deactivated" -> id
    interviewer_ids: list[str]
    candidate_id: str
    application_id: str
    archive_reason_ids: dict[str, str]  # text -> id
    template_id: str
    _counter: list[int] = field(default_factory=lambda: [0])

    def add_application(self, name: str | None = None, *, stage: str = "Onsite") -> SimApplication:
        self._counter[0] += 1
        name = name or f"Candidate {self._counter[0]}"
        email = name.lower().replace(" ", ".") + "@example.com"
        candidate = self.org.add_candidate(name, email, resume_name=f"{name.lower().replace(' ', '-')}-resume.pdf")
        return self.org.add_application(candidate.id, self.job_id, stage_id=self.stage_ids[stage])

    def panel(
        self,
        *,
        start: datetime,
        interviewers: int = 3,
        shadows: int = 1,
        application_id: str | None = None,
        interview: str = "Onsite Panel",
        duration: timedelta = timedelta(hours=1),
    ) -> SimSchedule:
        """Schedule one interview with `interviewers` people, the last `shadows` of them shadowing
        (trainingRole Shadow, isFeedbackRequired false); emits interviewScheduleCreate and ...Update."""
        if not 0 <= shadows <= interviewers <= len(self.interviewer_ids):
            raise ValueError(f"need 0 <= shadows <= interviewers <= {len(self.interviewer_ids)}")
        people = [
            SimInterviewer(user_id, "Shadow", False) if n >= interviewers - shadows else SimInterviewer(user_id)
            for n, user_id in enumerate(self.interviewer_ids[:interviewers])
        ]
        spec = EventSpec(
            self.interview_ids[interview], start, start + duration, people,
            meeting_link=f"https://meet.example.com/{self.org.new_id()[:8]}",
        )  # fmt: skip
        return self.org.schedule(application_id or self.application_id, [spec])


def seed_org(*, clock: Callable[[], datetime] | None = None, seed: int = 0) -> SeededOrg:
    org = AshbyOrg(clock=clock, seed=seed) if clock else AshbyOrg(seed=seed)
    recruiter = org.add_user("Riley", "Recruiter", "riley@example.com", global_role="Elevated Access")
    coordinator = org.add_user("Casey", "Coordinator", "casey@example.com")
    manager = org.add_user("Morgan", "Manager", "morgan@example.com", global_role="Organization Admin")
    deactivated = org.add_user("Pat", "Former", "pat@example.com", is_enabled=False)
    interviewers = [org.add_user(first, last, f"{first.lower()}@example.com") for first, last in INTERVIEWERS]
    org.api_user_id = recruiter.id
    reasons = [
        org.add_archive_reason("Not a fit", "RejectedByOrg"),
        org.add_archive_reason("Withdrew", "RejectedByCandidate"),
        org.add_archive_reason("Position filled", "Other"),
    ]
    org.add_archive_reason("Legacy reason").is_archived = True
    template_id = org.new_id()
    org.templates.add(template_id)

    plan = org.add_plan("Engineering plan", STAGES)
    stage_ids = {org.stages[i].title: i for i in plan.stage_ids}
    team = [(recruiter.id, "Recruiter"), (coordinator.id, "Coordinator"), (manager.id, "Hiring Manager")]
    job = org.add_job("Senior Backend Engineer", plan.id, team)
    full = org.add_form("Engineering scorecard", full_scorecard(org.new_id), is_default=True)
    short = org.add_form("Phone screen scorecard", short_scorecard(org.new_id))
    phone = org.add_interview(
        "Phone Screen",
        short.id,
        job_id=job.id,
        duration_minutes=30,
        instructions="Screen for fundamentals; keep it friendly.",
    )
    onsite = org.add_interview(
        "Onsite Panel", full.id, job_id=job.id, instructions="Pair on a small service; probe design trade-offs."
    )
    debrief = org.add_interview("Debrief", short.id, is_debrief=True, is_feedback_required=False)  # shared
    job.stage_interviews = {stage_ids["Phone Screen"]: [phone.id], stage_ids["Onsite"]: [onsite.id, debrief.id]}

    candidate = org.add_candidate(
        "Jordan Rivers", "jordan.rivers@example.com", resume_name="jordan-rivers-resume.pdf",
        phone="+1 555 0100", position="Staff Engineer", company="Initech",
    )  # fmt: skip
    application = org.add_application(candidate.id, job.id, stage_id=stage_ids["Onsite"])
    return SeededOrg(
        org=org,
        job_id=job.id,
        plan_id=plan.id,
        stage_ids=stage_ids,
        archived_stage_id=stage_ids["Archived"],
        form_id=full.id,
        short_form_id=short.id,
        interview_ids={i.title: i.id for i in (phone, onsite, debrief)},
        users={
            "recruiter": recruiter.id,
            "coordinator": coordinator.id,
            "hiring_manager": manager.id,
            "deactivated": deactivated.id,
        },
        interviewer_ids=[u.id for u in interviewers],
        candidate_id=candidate.id,
        application_id=application.id,
        archive_reason_ids={r.text: r.id for r in reasons},
        template_id=template_id,
    )


_SAMPLES: dict[str, Any] = {
    "RichText": {"type": "PlainText", "value": "Solid fundamentals; clear communicator."},
    "Boolean": True,
    "LongText": "Strong on design, average on testing.",
    "String": "Pragmatic backend engineer",
    "Number": 7,
    "Date": "2026-03-02",
    "Email": "reference@example.com",
    "Phone": "+1 555 0199",
    "Url": "https://example.com/portfolio",
    "UUID": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "Currency": {"value": 150000, "currencyCode": "USD"},
    "NumberRange": {"type": "number-range", "minValue": 4, "maxValue": 8},
    "CompensationRange": {
        "type": "compensation-range", "minValue": 160000, "maxValue": 190000, "currencyCode": "USD",
        "interval": "1 YEAR",
    },
}  # fmt: skip


def sample_answers(sections: Sequence[dict[str, Any]], *, score: int = 3) -> list[dict[str, Any]]:
    """A valid `fieldSubmissions` list answering every field of a form (Score as `{"score": score}`)."""
    answers = []
    for section in sections:
        for entry in section["fields"]:
            definition = entry["field"]
            kind = definition["type"]
            options = [option["value"] for option in definition.get("selectableValues") or ()]
            if kind == "Score":
                value: Any = {"score": score}
            elif kind == "ValueSelect":
                value = options[0]
            elif kind == "MultiValueSelect":
                value = options[:2]
            else:
                value = _SAMPLES[kind]
            answers.append({"path": definition["path"], "value": value})
    return answers
