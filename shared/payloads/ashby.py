"""msgspec models of the Ashby payloads the system reads (webhooks and API results).

Only the fields we read are declared; unknown fields are ignored, so Ashby adding fields never breaks
decoding, and required fields are enforced at the boundary. Enumerations that Ashby extends over time
(schedule status, stage type, field type) are plain strings: a future value is stored, not rejected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from shared.storable import storable_json

SCHEDULE_STATUSES = (
    "NeedsScheduling",
    "WaitingOnCandidateBooking",
    "WaitingOnCandidateAvailability",
    "CandidateAvailabilitySubmitted",
    "Scheduled",
    "WaitingOnFeedback",
    "Complete",
    "Cancelled",
    "OnHold",
    "Unknown",
)
CANCELLED = "Cancelled"

# Every field type that applicationFeedback.submit accepts (its description in Ashby's OpenAPI document).
FIELD_TYPES = (
    "Boolean",
    "Currency",
    "Date",
    "Email",
    "LongText",
    "MultiValueSelect",
    "Number",
    "NumberRange",
    "CompensationRange",
    "Phone",
    "RichText",
    "Score",
    "String",
    "Url",
    "UUID",
    "ValueSelect",
)


class Model(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """Base for Ashby payloads: camelCase on the wire, immutable once decoded."""


# --- webhooks -------------------------------------------------------------------------------------


class WebhookEnvelope(Model, frozen=True):
    """`{"action": ..., "data": {...}}`: the action names the event; `data` is decoded per action."""

    action: str
    data: msgspec.Raw = msgspec.Raw(b"{}")


class Interviewer(Model, frozen=True):
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    is_enabled: bool = True
    training_role: str | None = None
    is_feedback_required: bool = True


class EmbeddedInterview(Model, frozen=True):
    id: str
    title: str = ""
    feedback_form_definition_id: str | None = None
    instructions_plain: str | None = None


class InterviewEvent(Model, frozen=True):
    id: str
    interview_id: str
    start_time: datetime
    end_time: datetime
    interviewers: list[Interviewer] = []
    interview_schedule_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    feedback_link: str | None = None
    location: str | None = None
    meeting_link: str | None = None
    has_submitted_feedback: bool = False
    interview: EmbeddedInterview | None = None


class InterviewSchedule(Model, frozen=True):
    id: str
    status: str
    application_id: str | None = None
    interview_stage_id: str | None = None
    candidate_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    interview_events: list[InterviewEvent] = []


class InterviewScheduleData(Model, frozen=True):
    interview_schedule: InterviewSchedule


class InterviewScheduleWebhook(Model, frozen=True):
    """`interviewScheduleCreate` / `interviewScheduleUpdate` (Update also carries `candidateId`)."""

    action: str
    data: InterviewScheduleData


# --- feedback forms -------------------------------------------------------------------------------


class SelectableValue(Model, frozen=True):
    label: str
    value: str


class FieldDefinition(Model, frozen=True):
    id: str
    type: str
    path: str
    title: str = ""
    human_readable_path: str = ""
    is_nullable: bool = True
    selectable_values: list[SelectableValue] | None = None


class FormField(Model, frozen=True):
    field: FieldDefinition
    is_required: bool = True
    description_plain: str | None = None
    description_html: str | None = None


class FormSection(Model, frozen=True):
    fields: list[FormField] = []
    title: str | None = None
    description_plain: str | None = None


class FormDefinition(Model, frozen=True):
    sections: list[FormSection] = []


class FeedbackFormDefinition(Model, frozen=True):
    id: str
    title: str = ""
    is_archived: bool = False
    form_definition: FormDefinition = msgspec.field(default_factory=FormDefinition)
    interview_id: str | None = None


# --- API results (interview, feedback, application, candidate, users, plans) ----------------------

# Hiring team roles as Ashby names them in `hiringTeam[].role`.
ROLE_RECRUITER = "Recruiter"
ROLE_COORDINATOR = "Coordinator"
ROLE_HIRING_MANAGER = "Hiring Manager"
STAGE_ARCHIVED = "Archived"


class User(Model, frozen=True):
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    global_role: str | None = None
    is_enabled: bool = True


class Interview(Model, frozen=True):
    """`interview.info`: `feedback_form_definition_id` is the link from an event to its scorecard."""

    id: str
    title: str = ""
    external_title: str | None = None
    is_archived: bool = False
    is_debrief: bool = False
    is_feedback_required: bool = True
    instructions_plain: str | None = None
    job_id: str | None = None
    feedback_form_definition_id: str | None = None


class FeedbackSubmission(Model, frozen=True):
    """One `applicationFeedback.list` item: `submitted_values` maps field path -> value as Ashby stores it."""

    id: str
    application_id: str
    submitted_by_user: User
    interview_event_id: str | None = None
    interview_id: str | None = None
    submitted_at: datetime | None = None
    submitted_values: dict[str, Any] = {}
    feedback_form_definition_id: str | None = None
    form_definition: FormDefinition | None = None


class SubmittedForm(Model, frozen=True):
    """`applicationFeedback.submit` result (`results.submittedFormInstance`)."""

    id: str
    submitted_values: dict[str, Any] = {}


class InterviewStage(Model, frozen=True):
    id: str
    title: str = ""
    type: str = ""
    order_in_interview_plan: int = 0
    interview_plan_id: str | None = None

    @property
    def is_archived_stage(self) -> bool:
        return self.type == STAGE_ARCHIVED


class CandidateRef(Model, frozen=True):
    id: str
    name: str = ""


class JobRef(Model, frozen=True):
    id: str
    title: str = ""


class HiringTeamMember(Model, frozen=True):
    user_id: str
    role: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str | None = None


class ArchiveReason(Model, frozen=True):
    id: str
    text: str = ""
    reason_type: str = ""
    is_archived: bool = False


class Application(Model, frozen=True):
    """`application.info` / `changeStage` result and `candidateStageChange` webhook `data.application`."""

    id: str
    status: str
    candidate: CandidateRef
    current_interview_stage: InterviewStage | None = None
    job: JobRef | None = None
    hiring_team: list[HiringTeamMember] = []
    updated_at: datetime | None = None
    archive_reason: ArchiveReason | None = None

    def team_members(self, role: str) -> list[HiringTeamMember]:
        return [member for member in self.hiring_team if member.role == role]


class FileHandle(Model, frozen=True):
    id: str
    handle: str
    name: str = ""


class Candidate(Model, frozen=True):
    id: str
    name: str = ""
    position: str | None = None
    company: str | None = None
    profile_url: str | None = None
    resume_file_handle: FileHandle | None = None


class FileInfo(Model, frozen=True):
    """`file.info`: a short-lived download URL; resolve on demand, never store it."""

    url: str


class Job(Model, frozen=True):
    id: str
    title: str = ""
    status: str = ""
    default_interview_plan_id: str | None = None
    interview_plan_ids: list[str] = []
    hiring_team: list[HiringTeamMember] = []


class InterviewPlan(Model, frozen=True):
    """`interviewPlan.list`: a plan's title (its stages come from `interviewStage.list`)."""

    id: str
    title: str = ""
    is_archived: bool = False


class PlanInterview(Model, frozen=True):
    id: str
    title: str = ""
    interview_id: str | None = None
    interview_duration_minutes: float | None = None
    is_schedulable: bool = True


class PlanActivity(Model, frozen=True):
    id: str
    title: str = ""
    interviews: list[PlanInterview] = []


class PlanStage(InterviewStage, frozen=True):
    activities: list[PlanActivity] = []


class JobInterviewPlan(Model, frozen=True):
    """`jobInterviewPlan.info`: the plan's stages in order, with the interviews each stage expects."""

    job_id: str
    interview_plan_id: str
    stages: list[PlanStage] = []


def parse_score(value: Any) -> int | None:
    """A Score value as an int, or None: Ashby documents `{"score": n}`, but `"4"` and `4` are seen too.

    Booleans are not scores (Python's `True == 1`), and neither are fractions or out-of-range numbers.
    """
    if isinstance(value, dict):
        value = value.get("score")
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit():
            return None
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 1 <= value <= 4:
        return value
    return None


SCHEDULE_ACTIONS = frozenset({"interviewScheduleCreate", "interviewScheduleUpdate"})
APPLICATION_ACTIONS = frozenset({"candidateStageChange", "applicationUpdate"})


class ApplicationData(Model, frozen=True):
    application: Application


class ApplicationWebhook(Model, frozen=True):
    """`candidateStageChange` / `applicationUpdate`: the application as it is now."""

    action: str
    data: ApplicationData


CANDIDATE_ACTIONS = frozenset({"candidateDelete", "candidateMerge"})
NonEmptyId = Annotated[str, msgspec.Meta(min_length=1)]


class CandidateId(Model, frozen=True):
    id: NonEmptyId


class CandidateDeleteData(Model, frozen=True):
    candidate: CandidateId


class CandidateDeleteWebhook(Model, frozen=True, tag_field="action", tag="candidateDelete"):
    """`candidateDelete`: only the deleted candidate's id (Ashby's payload carries nothing else)."""

    data: CandidateDeleteData

    @property
    def candidate_id(self) -> str:
        return self.data.candidate.id


class CandidateMergeData(Model, frozen=True):
    deleted_candidate: CandidateId
    merged_candidate: CandidateId


class CandidateMergeWebhook(Model, frozen=True, tag_field="action", tag="candidateMerge"):
    """`candidateMerge`: the candidate merged away and the one that remains, by id only."""

    data: CandidateMergeData

    @property
    def candidate_id(self) -> str:
        """The candidate merged away (the one whose rows change)."""
        return self.data.deleted_candidate.id


CandidateWebhook = CandidateDeleteWebhook | CandidateMergeWebhook


def decode_candidate_webhook(body: bytes) -> CandidateWebhook:
    """Strict: the ids are required and non-empty (the published schema marks nothing required, but without
    them the webhook says nothing)."""
    return _candidate_webhook_decoder.decode(storable_json(body))


def decode_application_webhook(body: bytes) -> ApplicationWebhook:
    return _application_webhook_decoder.decode(storable_json(body))


def decode_schedule_webhook(body: bytes) -> InterviewScheduleWebhook:
    """Raises msgspec.ValidationError / DecodeError with a message naming the offending field. Text comes out
    storable (no NUL, which PostgreSQL refuses)."""
    return _schedule_webhook_decoder.decode(storable_json(body))


AshbyWebhook = InterviewScheduleWebhook | ApplicationWebhook | CandidateWebhook


def decode_webhook(body: bytes) -> tuple[str, AshbyWebhook]:
    """Any webhook the fleet subscribes to, by its action, made storable once: (action, webhook). Raises
    msgspec.ValidationError / DecodeError like the decoders of each kind."""
    body = storable_json(body)
    action = envelope_decoder.decode(body).action
    if action in CANDIDATE_ACTIONS:
        return action, _candidate_webhook_decoder.decode(body)
    if action in APPLICATION_ACTIONS:
        return action, _application_webhook_decoder.decode(body)
    return action, _schedule_webhook_decoder.decode(body)


_schedule_webhook_decoder = msgspec.json.Decoder(InterviewScheduleWebhook)
_application_webhook_decoder = msgspec.json.Decoder(ApplicationWebhook)
_candidate_webhook_decoder = msgspec.json.Decoder(CandidateWebhook)
envelope_decoder = msgspec.json.Decoder(WebhookEnvelope)


def to_builtins(model: Model) -> Any:
    return msgspec.to_builtins(model)
