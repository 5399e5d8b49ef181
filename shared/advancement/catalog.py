"""What a rules file is resolved against: Ashby's jobs, interview plans (stages in order, with their interviews),
interviews, feedback forms and archive reasons, as one immutable value read from the metadata cache.

Lookups accept an Ashby id or a title (exact first, then ignoring case and surrounding spaces) and raise
`Unknown` with a message that lists what would have matched, so an author can fix a typo from the message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from shared.advancement.model import PlanStage
from shared.payloads.ashby import STAGE_ARCHIVED, FeedbackFormDefinition

JOB_OPEN = "Open"
LISTED = 12  # names quoted in a message before "..."

T = TypeVar("T")


class Unknown(Exception):
    """A name or id the catalog does not hold (or holds several times); the message says which and why."""


@dataclass(frozen=True)
class CatalogJob:
    id: str
    title: str
    status: str = ""
    default_plan_id: str | None = None
    plan_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CatalogPlan:
    id: str
    title: str
    stages: tuple[PlanStage, ...] = ()  # in plan order
    stage_interviews: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # stage id -> interview ids

    def archived_stage(self) -> PlanStage | None:
        return next((stage for stage in self.stages if stage.type == STAGE_ARCHIVED), None)

    def next_stage(self, stage_id: str) -> PlanStage | None:
        ids = [stage.id for stage in self.stages]
        index = ids.index(stage_id)
        return self.stages[index + 1] if index + 1 < len(self.stages) else None


@dataclass(frozen=True)
class CatalogInterview:
    id: str
    title: str
    form_id: str | None = None


@dataclass(frozen=True)
class CatalogReason:
    id: str
    text: str
    archived: bool = False


@dataclass(frozen=True)
class Catalog:
    jobs: Mapping[str, CatalogJob] = field(default_factory=dict)  # every mapping keyed by Ashby id
    plans: Mapping[str, CatalogPlan] = field(default_factory=dict)
    interviews: Mapping[str, CatalogInterview] = field(default_factory=dict)
    forms: Mapping[str, FeedbackFormDefinition] = field(default_factory=dict)
    reasons: Mapping[str, CatalogReason] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        *,
        jobs: Iterable[CatalogJob] = (),
        plans: Iterable[CatalogPlan] = (),
        interviews: Iterable[CatalogInterview] = (),
        forms: Iterable[FeedbackFormDefinition] = (),
        reasons: Iterable[CatalogReason] = (),
    ) -> Catalog:
        return cls(
            jobs={j.id: j for j in jobs},
            plans={p.id: p for p in plans},
            interviews={i.id: i for i in interviews},
            forms={f.id: f for f in forms},
            reasons={r.id: r for r in reasons},
        )

    def job(self, key: str) -> CatalogJob:
        """By id or title; of several jobs with that title (a role reopened), the one open job."""
        found = _matches(key, self.jobs, lambda job: job.title)
        if len(found) > 1:
            found = [job for job in found if job.status == JOB_OPEN] or found
        return _one("job", key, found, [job.title for job in self.jobs.values()], lambda job: job.id)

    def plan(self, key: str) -> CatalogPlan:
        found = _matches(key, self.plans, lambda plan: plan.title)
        return _one("interview plan", key, found, [plan.title for plan in self.plans.values()], lambda p: p.id)

    def stage(self, plan: CatalogPlan, key: str) -> PlanStage:
        found = _matches(key, {stage.id: stage for stage in plan.stages}, lambda stage: stage.title)
        if not found:
            raise Unknown(
                f"stage '{key}' is not in plan '{plan.title}' (stages: {listed(s.title for s in plan.stages)})"
            )
        return _one("stage", key, found, [], lambda stage: stage.id)

    def interview(self, plan: CatalogPlan, stage: PlanStage, key: str) -> CatalogInterview:
        """An interview of `stage` in `plan` (any job's), by id or title."""
        of_stage = {i: self.interviews.get(i, CatalogInterview(i, i)) for i in plan.stage_interviews.get(stage.id, ())}
        found = _matches(key, of_stage, lambda interview: interview.title)
        if not found:
            titles = listed(i.title for i in of_stage.values()) or "none known"
            raise Unknown(f"interview '{key}' is not an interview of stage '{stage.title}' (interviews: {titles})")
        return _one("interview", key, found, [], lambda interview: interview.id)

    def reason(self, key: str) -> CatalogReason:
        found = _matches(key, self.reasons, lambda reason: reason.text)
        if len(found) > 1:
            found = [reason for reason in found if not reason.archived] or found
        texts = [reason.text for reason in self.reasons.values() if not reason.archived]
        return _one("archive reason", key, found, texts, lambda reason: reason.id)


def _matches(key: str, by_id: Mapping[str, T], title: Callable[[T], str]) -> list[T]:
    if key in by_id:
        return [by_id[key]]
    exact = [item for item in by_id.values() if title(item) == key]
    if exact:
        return exact
    folded = key.strip().casefold()
    return [item for item in by_id.values() if title(item).strip().casefold() == folded]


def _one(kind: str, key: str, found: Sequence[T], known: Iterable[str], ident: Callable[[T], str]) -> T:
    if len(found) == 1:
        return found[0]
    if found:
        raise Unknown(
            f"{kind} '{key}' names {len(found)} different ones (ids: {listed(ident(f) for f in found)}): use the id"
        )
    names = listed(known)
    raise Unknown(f"unknown {kind} '{key}'" + (f" (known: {names})" if names else f" (no {kind} is known)"))


def listed(names: Iterable[str]) -> str:
    unique = list(dict.fromkeys(names))
    shown = ", ".join(unique[:LISTED])
    return shown + (", ..." if len(unique) > LISTED else "")
