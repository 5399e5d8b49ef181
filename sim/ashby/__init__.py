"""A stateful Ashby simulator: the org model, its API as a Starlette app, faults and signed webhooks."""

from __future__ import annotations

from sim.ashby.app import AshbySim, RecordedCall, create_app, sim_of
from sim.ashby.failure import ApiFailure
from sim.ashby.faults import Fault, FaultPlan
from sim.ashby.org import AshbyOrg
from sim.ashby.records import EventSpec, SimInterviewer
from sim.ashby.seed import SeededOrg, sample_answers, seed_org
from sim.ashby.webhooks import WebhookTarget

__all__ = [
    "ApiFailure",
    "AshbyOrg",
    "AshbySim",
    "EventSpec",
    "Fault",
    "FaultPlan",
    "RecordedCall",
    "SeededOrg",
    "SimInterviewer",
    "WebhookTarget",
    "create_app",
    "sample_answers",
    "seed_org",
    "sim_of",
]
