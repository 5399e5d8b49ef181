"""A `Catalog` like the simulator's seeded org (one job, the Engineering plan, its scorecards), plus a second
job and plan, for the rules-file tests; built by hand so the tests read ids they can predict."""

from __future__ import annotations

import itertools
from typing import Any

import msgspec

from shared.advancement.catalog import Catalog, CatalogInterview, CatalogJob, CatalogPlan, CatalogReason
from shared.advancement.model import PlanStage
from shared.payloads.ashby import FeedbackFormDefinition
from sim.ashby.seed import STAGES, full_scorecard, short_scorecard

STAGE_IDS = {title: f"stage-{n}" for n, (title, _) in enumerate(STAGES)}


def _form(form_id: str, title: str, sections: list[dict[str, Any]]) -> FeedbackFormDefinition:
    body = {"id": form_id, "title": title, "formDefinition": {"sections": sections}}
    return msgspec.convert(body, FeedbackFormDefinition)


def seeded_catalog() -> Catalog:
    counter = itertools.count()

    def new_id() -> str:
        return f"field-{next(counter)}"

    stages = tuple(
        PlanStage(id=STAGE_IDS[title], title=title, type=kind, order=n) for n, (title, kind) in enumerate(STAGES)
    )
    sales_stages = (
        PlanStage(id="sales-screen", title="Screen", type="Active", order=0),
        PlanStage(id="sales-offer", title="Offer", type="Offer", order=1),
    )  # no Archived stage: nothing can be rejected in it
    return Catalog.of(
        jobs=[
            CatalogJob("job-backend", "Senior Backend Engineer", "Open", "plan-eng", ("plan-eng",)),
            CatalogJob("job-frontend", "Frontend Engineer", "Open", "plan-eng", ("plan-eng",)),
            CatalogJob("job-old", "Account Executive", "Closed", "plan-sales", ("plan-sales",)),
            CatalogJob("job-sales", "Account Executive", "Open", "plan-sales", ("plan-sales",)),
            CatalogJob("job-multi", "Staff Engineer", "Open", None, ("plan-eng", "plan-sales")),
        ],
        plans=[
            CatalogPlan(
                "plan-eng",
                "Engineering plan",
                stages,
                {
                    STAGE_IDS["Phone Screen"]: ("interview-phone",),
                    STAGE_IDS["Onsite"]: ("interview-onsite", "interview-debrief"),
                },
            ),
            CatalogPlan("plan-sales", "Sales plan", sales_stages, {"sales-screen": ("interview-phone",)}),
        ],
        interviews=[
            CatalogInterview("interview-phone", "Phone Screen", "form-short"),
            CatalogInterview("interview-onsite", "Onsite Panel", "form-full"),
            CatalogInterview("interview-debrief", "Debrief", "form-short"),
        ],
        forms=[
            _form("form-full", "Engineering scorecard", full_scorecard(new_id)),
            _form("form-short", "Phone screen scorecard", short_scorecard(new_id)),
        ],
        reasons=[
            CatalogReason("reason-fit", "Not a fit"),
            CatalogReason("reason-withdrew", "Withdrew"),
            CatalogReason("reason-legacy", "Legacy reason", archived=True),
        ],
    )
