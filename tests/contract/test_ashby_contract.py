"""The Ashby client's requests, the simulator's answers and its webhooks, against Ashby's published spec.

Every endpoint the system relies on is driven through the production client into the simulator; each
request body is validated against the operation's `requestBody` schema and each 200 answer against its
`200` schema (success and `success:false` shapes alike).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from shared.clients.ashby import AshbyApiError, AshbyClient, FieldSubmission
from shared.payloads.ashby import CandidateMergeWebhook, decode_candidate_webhook
from sim.ashby import WebhookTarget, create_app, sample_answers, seed_org, sim_of
from tests.contract.openapi import ERRATA, SPEC_PATH, Contract, field_value_errors

KEY = "contract-key"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ENDPOINTS = frozenset(
    {
        "apiKey.info",
        "interviewSchedule.list",
        "interviewEvent.list",
        "interview.info",
        "interview.list",
        "interviewPlan.list",
        "feedbackFormDefinition.info",
        "feedbackFormDefinition.list",
        "applicationFeedback.list",
        "applicationFeedback.submit",
        "application.info",
        "application.changeStage",
        "interviewStage.list",
        "candidate.info",
        "user.search",
        "user.list",
        "archiveReason.list",
        "file.info",
        "job.info",
        "job.list",
        "jobInterviewPlan.info",
    }
)


@dataclass(frozen=True)
class Exchange:
    endpoint: str
    request: Any
    status: int
    response: Any


class Capture(httpx.AsyncBaseTransport):
    """Records every request body the client sends and the answer it gets."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        answer = (
            json.loads(content) if response.headers.get("content-type", "").startswith("application/json") else None
        )
        self.exchanges.append(
            Exchange(request.url.path.lstrip("/"), json.loads(request.content), response.status_code, answer)
        )
        return httpx.Response(response.status_code, headers=response.headers, content=content)


async def drive_every_endpoint() -> tuple[list[Exchange], Any]:
    seeded = seed_org(clock=lambda: T0)
    org = seeded.org
    app = create_app(org, api_key=KEY)
    capture = Capture(httpx.ASGITransport(app=app))
    form = org.forms[seeded.form_id]
    async with httpx.AsyncClient(transport=capture) as http:
        client = AshbyClient(api_key=KEY, base_url="http://ashby.sim", http=http, page_size=3)
        schedule = seeded.panel(start=T0 + timedelta(days=1))
        for n in range(3):
            seeded.panel(start=T0 + timedelta(days=n), application_id=seeded.add_application(f"C {n}").id)
        schedules = client.sync_interview_schedules(None)
        assert len([s async for s in schedules]) == 4
        [e async for e in client.list_interview_events(schedule.id, expand_interview=True)]
        [e async for e in client.list_interview_events(schedule.id)]
        for interview_id in seeded.interview_ids.values():  # a job interview and a shared one (no jobId)
            await client.interview_info(interview_id)
        await client.feedback_form_definition_info(seeded.form_id)
        [f async for f in client.list_feedback_form_definitions(include_archived=True)]

        answers = [FieldSubmission(a["path"], a["value"]) for a in sample_answers(form.sections, score=4)]
        await client.submit_application_feedback(
            form_definition_id=seeded.form_id,
            application_id=seeded.application_id,
            user_id=seeded.interviewer_ids[0],
            interview_event_id=schedule.event_ids[0],
            field_submissions=answers,
        )
        await client.submit_application_feedback(  # credited to the API key's user
            form_definition_id=seeded.form_id, application_id=seeded.application_id, field_submissions=answers
        )
        with pytest.raises(AshbyApiError):
            await client.submit_application_feedback(
                form_definition_id=seeded.form_id,
                application_id=seeded.application_id,
                user_id=seeded.interviewer_ids[4],  # not on the event
                interview_event_id=schedule.event_ids[0],
                field_submissions=answers,
            )
        feedback = client.sync_application_feedback(None, application_id=seeded.application_id)
        assert len([f async for f in feedback]) == 2
        org.expire_sync_tokens()
        again = client.sync_application_feedback(feedback.sync_token, application_id=seeded.application_id)
        [f async for f in again]
        assert again.reset_code == "sync_token_expired"
        [f async for f in client.list_application_feedback()]

        application = await client.application_info(seeded.application_id)
        with pytest.raises(AshbyApiError):
            await client.application_info("3fa85f64-5717-4562-b3fc-2c963f66afa6")
        await client.change_application_stage(seeded.application_id, seeded.stage_ids["Offer"])
        with pytest.raises(AshbyApiError):
            await client.change_application_stage(seeded.application_id, seeded.archived_stage_id)
        await client.archive_application(application, seeded.archive_reason_ids["Withdrew"])
        candidate = await client.candidate_info(seeded.candidate_id)
        assert candidate.resume_file_handle is not None
        await client.file_info(candidate.resume_file_handle.handle)
        await client.search_users("riley@example.com")
        [u async for u in client.list_users(include_deactivated=True)]
        await client.list_archive_reasons(include_archived=True)
        await client.job_info(seeded.job_id)
        assert [job.id async for job in client.list_jobs(statuses=("Draft", "Open", "Closed"))] == [seeded.job_id]
        assert [job.id async for job in client.list_jobs()] == [seeded.job_id]
        assert [plan.id async for plan in client.list_interview_plans()] == [seeded.plan_id]
        interviews = {i.id async for i in client.list_interviews(include_archived=True)}
        assert interviews == set(seeded.interview_ids.values()), "the job's own interviews are listed too"
        await client.job_interview_plan_info(seeded.job_id)
        await client.api_key_info()
    return capture.exchanges, form


async def test_every_request_and_answer_matches_the_published_spec(contract: Contract) -> None:
    exchanges, form = await drive_every_endpoint()
    assert {e.endpoint for e in exchanges} == ENDPOINTS, "every endpoint we rely on is exercised"
    problems: list[str] = []
    for n, exchange in enumerate(exchanges):
        assert contract.has_operation(exchange.endpoint)
        where = f"#{n} {exchange.endpoint}"
        problems += [f"{where} request: {p}" for p in contract.request_errors(exchange.endpoint, exchange.request)]
        if exchange.endpoint == "applicationFeedback.submit":
            submissions = exchange.request["feedbackForm"]["fieldSubmissions"]
            problems += [f"{where} value: {p}" for p in field_value_errors(form.sections, submissions)]
        assert exchange.status == 200, where
        problems += [f"{where} answer: {p}" for p in contract.response_errors(exchange.endpoint, exchange.response)]
    assert problems == []
    failures = [e.response["errorInfo"]["code"] for e in exchanges if not e.response["success"]]
    assert failures == ["invalid_input", "sync_token_expired", "application_not_found", "invalid_input"]
    assert any("syncToken" in e.request for e in exchanges) and any("cursor" in e.request for e in exchanges)


def test_the_validator_has_teeth(contract: Contract) -> None:
    """Mistakes the predecessors made are caught, so a clean run above means something."""
    some_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    stage_less = {"applicationId": some_id, "archiveReasonId": some_id}
    assert contract.request_errors("application.changeStage", stage_less)
    assert contract.request_errors("file.info", {"handle": "fh_1"})
    assert contract.request_errors("applicationFeedback.submit", {"feedbackFormDefinitionId": "x", "values": {}})
    assert contract.response_errors("user.search", {"success": True, "results": [{"id": "u1"}]})
    sections = [{"fields": [{"field": {"path": "s", "type": "Score"}}, {"field": {"path": "n", "type": "Number"}}]}]
    bad: list[dict[str, Any]] = [{"path": "s", "value": "4"}, {"path": "n", "value": 2.5}]
    assert len(field_value_errors(sections, bad)) == 2


def test_interview_event_list_schema_forbids_its_own_pagination(contract: Contract) -> None:
    """A published-schema imprecision the client works around (docs/ashby-and-slack.md): the request schema
    sets additionalProperties:false on the branch without the pagination properties."""
    schedule_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert contract.request_errors("interviewEvent.list", {"interviewScheduleId": schedule_id}) == []
    assert contract.request_errors("interviewEvent.list", {"interviewScheduleId": schedule_id, "limit": 10})


def test_errata_are_needed(contract: Contract) -> None:
    """Each in-memory correction exists because the schema on disk contradicts its own description."""
    original = json.loads(SPEC_PATH.read_text())
    pointer_role, pointer_submit = list(ERRATA)
    role = _at(original, pointer_role)
    assert role["type"] == ["string", "null"] and None not in role["enum"] and "null" in role["description"]
    submit = _at(original, pointer_submit)
    assert set(submit["oneOf"][0]["required"]) < set(submit["oneOf"][1]["required"])
    assert "additionalProperties" not in submit["oneOf"][0]
    assert None in _at(contract.spec, pointer_role)["enum"] and "anyOf" in _at(contract.spec, pointer_submit)


def _at(document: Any, pointer: str) -> Any:
    node = document
    for part in pointer.lstrip("/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node[part.replace("~1", "/").replace("~0", "~")]
    return node


async def test_webhooks_match_the_published_payloads(contract: Contract) -> None:
    seeded = seed_org(clock=lambda: T0)
    bodies: list[Any] = []

    def receive(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200)

    every = frozenset({"interviewScheduleCreate", "interviewScheduleUpdate", "candidateStageChange"})
    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as http:
        app = create_app(seeded.org, api_key=KEY, webhook=WebhookTarget("http://fleet/h", "s", every), http=http)
        sim = sim_of(app)
        assert sim.webhooks is not None
        sim.webhooks.ping()
        schedule = seeded.panel(start=T0, interviewers=4, shadows=1)
        seeded.org.update_event(schedule.event_ids[0], start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2))
        seeded.org.cancel_event(schedule.event_ids[0])
        seeded.org.cancel_schedule(schedule.id)
        seeded.org.change_stage(seeded.application_id, seeded.stage_ids["Offer"])
        seeded.org.change_stage(
            seeded.application_id, seeded.archived_stage_id, archive_reason_id=seeded.archive_reason_ids["Not a fit"]
        )
        delivered = await sim.flush_webhooks()
    assert [action for action, _ in delivered] == [
        "ping",
        "interviewScheduleCreate",
        "interviewScheduleUpdate",
        "interviewScheduleUpdate",
        "interviewScheduleUpdate",
        "interviewScheduleUpdate",
        "candidateStageChange",
        "candidateStageChange",
    ]
    problems = [f"{b['action']}: {p}" for b in bodies for p in contract.webhook_errors(b["action"], b)]
    assert problems == []


async def test_candidate_deletions_and_merges_match_the_published_payloads(contract: Contract) -> None:
    seeded = seed_org(clock=lambda: T0)
    bodies: list[bytes] = []

    def receive(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as http:
        app = create_app(seeded.org, api_key=KEY, webhook=WebhookTarget("http://fleet/h", "s"), http=http)
        moved = seeded.add_application("Sam Lee")
        merged_away = moved.candidate_id
        seeded.org.merge_candidates(merged_away, seeded.candidate_id)
        assert moved.candidate_id == seeded.candidate_id and moved.id in seeded.org.applications
        seeded.org.delete_candidate(seeded.candidate_id)
        delivered = await sim_of(app).flush_webhooks()
    assert delivered == [("candidateMerge", 200), ("candidateDelete", 200)]
    assert [contract.webhook_errors(json.loads(b)["action"], json.loads(b)) for b in bodies] == [[], []]
    merge, delete = (decode_candidate_webhook(b) for b in bodies)
    assert isinstance(merge, CandidateMergeWebhook)
    assert (merge.candidate_id, merge.data.merged_candidate.id) == (merged_away, seeded.candidate_id)
    assert delete.candidate_id == seeded.candidate_id
    assert seeded.org.applications == {}, "the deletion took every application with it, the moved one too"
    assert contract.webhook_errors("candidateDelete", {"action": "candidateDelete", "data": {"candidate": {"id": 7}}})
