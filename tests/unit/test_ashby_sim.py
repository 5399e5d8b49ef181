"""The Ashby simulator itself: field rules, auth, paging edges, faults and signed webhooks."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from shared.payloads.ashby import FIELD_TYPES, decode_schedule_webhook
from shared.signatures import verify_ashby
from sim.ashby import FaultPlan, SeededOrg, WebhookTarget, create_app, sample_answers, seed_org, sim_of
from sim.ashby.fields import check_submission, check_value
from sim.serving import running

KEY = "sim-key"
SECRET = "sim-webhook-secret"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

VALID: dict[str, list[Any]] = {
    "Boolean": [True, False],
    "Number": [0, 42, -3],
    "Score": [{"score": 1}, {"score": 4}, {"score": 2, "comments": {"type": "PlainText", "value": "ok"}}],
    "RichText": [{"type": "PlainText", "value": ""}, {"type": "PlainText", "value": "notes"}],
    "Date": ["2026-02-28"],
    "String": ["x", ""],
    "LongText": ["long\ntext"],
    "Phone": ["+1 555 0100"],
    "Email": ["a@example.com"],
    "Url": ["https://example.com/x", ""],
    "UUID": ["3fa85f64-5717-4562-b3fc-2c963f66afa6", {"value": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}],
    "Currency": [{"value": 100000, "currencyCode": "USD"}, {"value": 99.5, "currencyCode": "EUR"}],
    "NumberRange": [{"type": "number-range", "minValue": 1, "maxValue": 10}],
    "CompensationRange": [
        {"type": "compensation-range", "minValue": 1, "maxValue": 2, "currencyCode": "USD", "interval": "1 YEAR"}
    ],
    "ValueSelect": ["a"],
    "MultiValueSelect": [["a", "b"], []],
}
INVALID: dict[str, list[Any]] = {
    "Boolean": ["true", 1, None],
    "Number": [1.5, "3", True],
    "Score": [{"score": 0}, {"score": 5}, {"score": "3"}, 3, "3", {"score": True}, {"score": 3, "extra": 1}],
    "RichText": ["plain", {"type": "Html", "value": "x"}, {"type": "PlainText"}],
    "Date": ["2026-02-30", "02/03/2026", "2026-2-3", 20260203],
    "String": [1, None],
    "LongText": [["a"]],
    "Phone": [5550100],
    "Email": ["not-an-email", 1],
    "Url": ["ftp://x", "example.com"],
    "UUID": ["not-a-uuid", {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, 7],
    "Currency": [{"value": "100", "currencyCode": "USD"}, {"value": 1, "currencyCode": "usd"}, 100],
    "NumberRange": [{"type": "number-range", "minValue": 5, "maxValue": 1}, {"minValue": 1, "maxValue": 2}],
    "CompensationRange": [
        {"type": "compensation-range", "minValue": 1, "maxValue": 2, "currencyCode": "USD", "interval": "yearly"},
        {"type": "number-range", "minValue": 1, "maxValue": 2, "currencyCode": "USD", "interval": "1 YEAR"},
    ],
    "ValueSelect": ["z", ["a"]],
    "MultiValueSelect": ["a", ["a", "z"]],
}
OPTIONS = [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}]


@pytest.mark.parametrize("kind", FIELD_TYPES)
def test_every_field_type_has_value_rules(kind: str) -> None:
    field = {"type": kind, "selectableValues": OPTIONS}
    assert all(check_value(field, value) for value in VALID[kind])
    assert not any(check_value(field, value) for value in INVALID[kind])


def test_seeded_scorecard_covers_every_field_type_and_ashbys_score_labels() -> None:
    seeded = seed_org(clock=lambda: T0)
    sections = seeded.org.forms[seeded.form_id].sections
    fields = [entry["field"] for section in sections for entry in section["fields"]]
    assert {f["type"] for f in fields} == set(FIELD_TYPES)
    score = next(f for f in fields if f["type"] == "Score")
    assert [o["label"] for o in score["selectableValues"]] == [
        "1 - Strong No Hire",
        "2 - No Hire",
        "3 - Hire",
        "4 - Strong Hire",
    ]
    assert check_submission(sections, sample_answers(sections)) == []


def test_problem_messages_name_paths_not_values() -> None:
    seeded = seed_org(clock=lambda: T0)
    sections = seeded.org.forms[seeded.form_id].sections
    answers = [a for a in sample_answers(sections) if a["path"] != "notes"]
    answers[0] = {"path": "overall_recommendation", "value": {"score": "secret-ish"}}
    problems = check_submission(sections, answers)
    assert problems == ['overall_recommendation: a Score field takes an object {"score": 1..4}', "notes: required"]


# --- HTTP surface ----------------------------------------------------------------------------------


class Receiver:
    """The webhook endpoint under test: records requests, answers the queued statuses (then 200)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture
def seeded() -> SeededOrg:
    return seed_org(clock=lambda: T0)


def sim_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim", auth=(KEY, ""))


async def test_auth_unknown_endpoints_and_bad_bodies(seeded: SeededOrg) -> None:
    app = create_app(seeded.org, api_key=KEY)
    async with sim_client(app) as client:
        anonymous = httpx.Request("POST", "http://sim/user.list", json={})
        assert (await client.send(anonymous, auth=lambda request: request)).status_code == 401
        assert (await client.post("/user.list", json={}, auth=("other", ""))).status_code == 403
        assert (await client.post("/nothing.here", json={})).status_code == 404
        bad = await client.post("/user.list", content=b"{not json")
        assert bad.status_code == 200 and bad.json()["errorInfo"]["code"] == "invalid_input"
        ok = await client.post("/user.list", json={})
        assert ok.json()["success"] is True and ok.headers["ashby-version"] == "2026-01-01"
    assert [c.status for c in sim_of(app).calls] == [401, 403, 404, 200, 200]


async def test_cursors_pages_and_limits(seeded: SeededOrg) -> None:
    for n in range(3):
        seeded.org.add_user(f"U{n}", "Extra", f"u{n}@example.com")
    async with sim_client(create_app(seeded.org, api_key=KEY)) as client:
        everyone = (await client.post("/user.list", json={"limit": 500})).json()
        assert len(everyone["results"]) == 11 and everyone["moreDataAvailable"] is False
        first = (await client.post("/user.list", json={"limit": 4})).json()
        again = (await client.post("/user.list", json={"limit": 4, "cursor": first["nextCursor"]})).json()
        repeat = (await client.post("/user.list", json={"limit": 4, "cursor": first["nextCursor"]})).json()
        assert again["results"] == repeat["results"]  # a retried page is the same page
        unpaged = (await client.post("/archiveReason.list", json={})).json()
        assert unpaged["success"] is True and "moreDataAvailable" not in unpaged
        foreign = (await client.post("/applicationFeedback.list", json={"cursor": first["nextCursor"]})).json()
        assert foreign["errorInfo"]["code"] == "invalid_next_cursor"


async def test_catalog_lists_filter_as_ashby_documents(seeded: SeededOrg) -> None:
    """job.list leaves drafts out unless asked; interview.list lists one job's interviews only when asked."""
    draft = seeded.org.add_job("Draft role", seeded.plan_id, [], status="Draft")
    async with sim_client(create_app(seeded.org, api_key=KEY)) as client:

        async def ids(endpoint: str, body: dict[str, Any]) -> set[str]:
            return {r["id"] for r in (await client.post(endpoint, json=body)).json()["results"]}

        assert await ids("/job.list", {}) == {seeded.job_id}
        assert await ids("/job.list", {"status": ["Draft"]}) == {draft.id}
        assert await ids("/interview.list", {}) == {seeded.interview_ids["Debrief"]}  # the shared one
        assert await ids("/interview.list", {"includeNonSharedInterviews": True}) == set(seeded.interview_ids.values())
        assert await ids("/interviewPlan.list", {}) == {seeded.plan_id}


async def test_latency_and_failures_are_injected_per_endpoint(seeded: SeededOrg) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    faults = FaultPlan().latency("*", 0.05).latency("job.info", 1.5).failure("job.info", "job_not_found")
    app = create_app(seeded.org, api_key=KEY, faults=faults, sleep=sleep)
    async with sim_client(app) as client:
        failed = (await client.post("/job.info", json={"id": seeded.job_id})).json()
        ok = (await client.post("/job.info", json={"id": seeded.job_id})).json()
        await client.post("/user.list", json={})
    assert failed["success"] is False and failed["errorInfo"]["code"] == "job_not_found"
    assert ok["success"] is True and slept == [1.5, 1.5, 0.05]
    assert faults.pending() == 0


# --- webhooks --------------------------------------------------------------------------------------


async def test_schedule_changes_send_signed_webhooks_the_ingress_accepts(seeded: SeededOrg) -> None:
    receiver = Receiver()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        app = create_app(
            seeded.org, api_key=KEY, webhook=WebhookTarget("http://fleet/webhooks/ashby", SECRET), http=http
        )
        sim = sim_of(app)
        schedule = seeded.panel(start=T0 + timedelta(days=1), interviewers=3, shadows=1)
        assert await sim.flush_webhooks() == [("interviewScheduleUpdate", 200)]
        seeded.org.update_event(
            schedule.event_ids[0], start=T0 + timedelta(days=2), end=T0 + timedelta(days=2, hours=1)
        )
        seeded.org.cancel_schedule(schedule.id)
        assert await sim.flush_webhooks() == [("interviewScheduleUpdate", 200)] * 2
        assert await sim.flush_webhooks() == []

    for request in receiver.requests:
        assert verify_ashby(SECRET, request.content, request.headers["ashby-signature"])
        assert request.url.path == "/webhooks/ashby"
    first, moved, cancelled = (decode_schedule_webhook(r.content) for r in receiver.requests)
    people = first.data.interview_schedule.interview_events[0].interviewers
    assert [(p.training_role, p.is_feedback_required) for p in people] == [
        (None, True),
        (None, True),
        ("Shadow", False),
    ]
    assert moved.data.interview_schedule.interview_events[0].start_time == T0 + timedelta(days=2)
    assert cancelled.data.interview_schedule.status == "Cancelled"
    assert receiver.bodies()[0]["data"]["interviewSchedule"]["candidateId"] == seeded.candidate_id


async def test_stage_changes_send_candidate_stage_change(seeded: SeededOrg) -> None:
    receiver = Receiver()
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        app = create_app(seeded.org, api_key=KEY, webhook=WebhookTarget("http://fleet/hook", SECRET), http=http)
        async with sim_client(app) as client:
            body = {"applicationId": seeded.application_id, "interviewStageId": seeded.stage_ids["Offer"]}
            assert (await client.post("/application.changeStage", json=body)).json()["success"] is True
            assert (await client.post("/application.changeStage", json=body)).json()["success"] is True  # no-op
        assert await sim_of(app).flush_webhooks() == [("candidateStageChange", 200)]
    data = receiver.bodies()[0]["data"]["application"]
    assert data["currentInterviewStage"]["id"] == seeded.stage_ids["Offer"]


async def test_webhook_retries_follow_ashbys_rules(seeded: SeededOrg) -> None:
    receiver = Receiver(500, 200, 401)
    actions = frozenset({"interviewScheduleCreate", "interviewScheduleUpdate"})
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as http:
        app = create_app(seeded.org, api_key=KEY, webhook=WebhookTarget("http://fleet/h", SECRET, actions), http=http)
        sim = sim_of(app)
        seeded.panel(start=T0)
        # Create also fires Update, in that order; the 500 is kept for the next round, the 401 is dropped.
        assert await sim.flush_webhooks() == [("interviewScheduleCreate", 500), ("interviewScheduleUpdate", 200)]
        assert await sim.flush_webhooks() == [("interviewScheduleCreate", 401)]
        assert await sim.flush_webhooks() == []
        assert sim.webhooks is not None
        sim.webhooks.ping()
        assert await sim.flush_webhooks() == [("ping", 200)]
    assert receiver.bodies()[-1] == {"action": "ping", "data": {"webhookActionType": "ping"}}


async def test_unreachable_webhook_target_reports_no_answer(seeded: SeededOrg) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        app = create_app(seeded.org, api_key=KEY, webhook=WebhookTarget("http://nowhere/h", None), http=http)
        seeded.panel(start=T0)
        assert await sim_of(app).flush_webhooks() == [("interviewScheduleUpdate", 0)]
        assert sim_of(app).webhooks is not None and sim_of(app).webhooks.pending == 1  # type: ignore[union-attr]


async def test_served_simulator_delivers_webhooks_in_the_background(seeded: SeededOrg) -> None:
    received = asyncio.Event()
    bodies: list[bytes] = []

    def receive(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        received.set()
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as hooks:
        app = create_app(seeded.org, api_key=KEY, webhook=WebhookTarget("http://fleet/h", SECRET), http=hooks)
        async with running(app) as url, httpx.AsyncClient(base_url=url, auth=(KEY, "")) as client:
            body = {"applicationId": seeded.application_id, "interviewStageId": seeded.stage_ids["Offer"]}
            assert (await client.post("/application.changeStage", json=body)).json()["success"] is True
            await asyncio.wait_for(received.wait(), timeout=10)  # the lifespan task sent it; nobody flushed
    assert json.loads(bodies[0])["action"] == "candidateStageChange"


async def test_random_server_errors_are_seeded_and_some_take_effect() -> None:
    async def outcomes(seed: int) -> list[tuple[int, int]]:
        """(status, scorecards in the org afterwards) for 40 submissions of the same scorecard."""
        org = seed_org(clock=lambda: T0)
        faults = FaultPlan().random_server_errors(0.5, rng=random.Random(seed), processed_share=0.5)
        form = org.org.forms[org.form_id]
        body = {
            "formDefinitionId": form.id,
            "applicationId": org.application_id,
            "feedbackForm": {"fieldSubmissions": sample_answers(form.sections)},
        }
        seen = []
        async with sim_client(create_app(org.org, api_key=KEY, faults=faults)) as client:
            for _ in range(40):
                status = (await client.post("/applicationFeedback.submit", json=body)).status_code
                seen.append((status, len(org.org.feedback)))
        return seen

    first = await outcomes(7)
    assert first == await outcomes(7)  # the same seed, the same faults
    statuses = [status for status, _ in first]
    assert {500, 502, 503, 504} >= set(statuses) - {200} and 8 < statuses.count(200) < 32
    took_effect = [after - before for (_, before), (_, after) in zip([(0, 0), *first], first, strict=False)]
    failed_but_stored = [status for (status, _), grew in zip(first, took_effect, strict=True) if grew and status >= 500]
    assert failed_but_stored  # a lost answer: the scorecard exists although the client saw a 5xx
    assert sum(took_effect) == statuses.count(200) + len(failed_but_stored)
    with pytest.raises(ValueError):
        FaultPlan().random_server_errors(1.5, rng=random.Random(0))


async def test_queued_faults_come_before_random_ones(seeded: SeededOrg) -> None:
    faults = FaultPlan().random_server_errors(1.0, rng=random.Random(0), statuses=(502,)).rate_limit("user.list")
    async with sim_client(create_app(seeded.org, api_key=KEY, faults=faults)) as client:
        statuses = [(await client.post("/user.list", json={})).status_code for _ in range(3)]
    assert statuses == [429, 502, 502]


async def test_copies_of_a_webhook_go_at_once_round_the_replicas_and_retry_alone(seeded: SeededOrg) -> None:
    in_flight, most_in_flight = 0, 0
    seen: list[tuple[str, bytes]] = []
    refuse_once = {"http://b/h"}

    async def receive(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        await asyncio.sleep(0.01)  # hold the request so that concurrent copies overlap
        in_flight -= 1
        url = str(request.url)
        seen.append((url, request.content))
        if url in refuse_once:
            refuse_once.discard(url)
            return httpx.Response(503)
        return httpx.Response(200)

    target = WebhookTarget("http://a/h", SECRET, copies=3, replicas=("http://b/h",))
    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as http:
        app = create_app(seeded.org, api_key=KEY, webhook=target, http=http)
        seeded.panel(start=T0)
        seeded.panel(start=T0 + timedelta(days=1))
        first = await sim_of(app).flush_webhooks()
        assert first == [("interviewScheduleUpdate", s) for s in (200, 503, 200, 200, 200, 200)]
        assert await sim_of(app).flush_webhooks() == [("interviewScheduleUpdate", 200)]  # only the refused copy
    assert most_in_flight == 3  # three copies of one webhook at once, never two webhooks at once
    urls = [url for url, _ in seen]
    assert sorted(urls[:3]) == ["http://a/h", "http://a/h", "http://b/h"]  # the next webhook starts one further
    assert sorted(urls[3:6]) == ["http://a/h", "http://b/h", "http://b/h"]
    assert urls[6] == "http://b/h"
    bodies = [body for _, body in seen]
    assert len(set(bodies[:3])) == 1 and len(set(bodies[3:6])) == 1 and bodies[0] != bodies[3]
