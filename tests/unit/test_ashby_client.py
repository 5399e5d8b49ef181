"""The production Ashby client against the Ashby simulator, in process (httpx.ASGITransport), fake time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import structlog

from shared.clients.ashby import (
    AshbyApiError,
    AshbyAuthError,
    AshbyClient,
    AshbyTransientError,
    FieldSubmission,
    RetryPolicy,
    parse_retry_after,
)
from shared.errors import Permanent, Transient
from sim.ashby import AshbySim, FaultPlan, SeededOrg, create_app, sample_answers, seed_org, sim_of
from sim.serving import running

KEY = "test-ashby-key"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class FakeTime:
    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Rig:
    seeded: SeededOrg
    sim: AshbySim
    client: AshbyClient
    time: FakeTime
    http: httpx.AsyncClient

    def make_client(self, **overrides: Any) -> AshbyClient:
        options: dict[str, Any] = {
            "api_key": KEY,
            "base_url": "http://ashby.sim",
            "http": self.http,
            "sleep": self.time.sleep,
            "clock": self.time.clock,
            "wall_clock": self.time.clock,
            "jitter": lambda: 1.0,
        }
        options.update(overrides)
        return AshbyClient(**options)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    seeded = seed_org(clock=lambda: T0)
    fake = FakeTime()
    app = create_app(seeded.org, api_key=KEY, faults=FaultPlan(), clock=fake.clock, sleep=fake.sleep)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ashby.sim") as http:
        rig = Rig(seeded, sim_of(app), None, fake, http)  # type: ignore[arg-type]
        rig.client = rig.make_client()
        yield rig


def answers(rig: Rig, **replace: Any) -> list[FieldSubmission]:
    form = rig.seeded.org.forms[rig.seeded.form_id]
    items = [FieldSubmission(a["path"], replace.pop(a["path"], a["value"])) for a in sample_answers(form.sections)]
    return items + [FieldSubmission(path, value) for path, value in replace.items()]


# --- requests --------------------------------------------------------------------------------------


async def test_requests_carry_basic_auth_version_and_json(rig: Rig) -> None:
    seen: list[httpx.Request] = []
    rig.http.event_hooks["request"].append(lambda request: _append(seen, request))
    await rig.client.application_info(rig.seeded.application_id)
    request = seen[0]
    assert request.method == "POST" and request.url.path == "/application.info"
    assert request.headers["authorization"] == "Basic dGVzdC1hc2hieS1rZXk6"  # base64("test-ashby-key:")
    assert request.headers["ashby-version"] == "2026-01-01"
    assert request.headers["accept"] == "application/json; version=1"
    assert request.headers["content-type"] == "application/json"
    assert rig.sim.calls[0].body == {"applicationId": rig.seeded.application_id}
    assert "test-ashby-key" not in repr(rig.client)


async def _append(seen: list[httpx.Request], request: httpx.Request) -> None:
    seen.append(request)


async def test_file_info_sends_file_handle(rig: Rig) -> None:
    candidate = await rig.client.candidate_info(rig.seeded.candidate_id)
    assert candidate.resume_file_handle is not None
    info = await rig.client.file_info(candidate.resume_file_handle.handle)
    assert info.url.startswith("https://")
    assert rig.sim.calls_to("file.info")[0].body == {"fileHandle": candidate.resume_file_handle.handle}


async def test_api_key_info_lists_the_keys_permissions(rig: Rig) -> None:
    info = await rig.client.api_key_info()
    assert info.title == "Simulated key" and "candidates:write" in info.scopes
    assert rig.sim.calls_to("apiKey.info")[0].body == {}
    rig.sim.api.key_scopes = ["candidates:read"]  # without API Keys read, the key cannot describe itself
    with pytest.raises(AshbyApiError) as refused:
        await rig.client.api_key_info()
    assert refused.value.code == "missing_endpoint_permission"


# --- pagination and incremental sync ---------------------------------------------------------------


async def test_pagination_follows_next_cursor_across_pages(rig: Rig) -> None:
    for n in range(4):
        application = rig.seeded.add_application(f"Paged {n}")
        rig.seeded.panel(start=T0 + timedelta(days=n), application_id=application.id)
    rig.seeded.panel(start=T0)
    client = rig.make_client(page_size=2)
    schedules = [s async for s in client.list_interview_schedules()]
    assert len(schedules) == 5 and len({s.id for s in schedules}) == 5
    calls = rig.sim.calls_to("interviewSchedule.list")
    assert [c.body.get("cursor") is not None for c in calls] == [False, True, True]
    assert all(c.body["limit"] == 2 for c in calls)
    assert calls[-1].response["syncToken"] and not calls[-1].response["moreDataAvailable"]


async def test_incremental_sync_returns_only_changes_and_a_new_token(rig: Rig) -> None:
    first = rig.seeded.panel(start=T0)
    second = rig.seeded.panel(start=T0 + timedelta(hours=3))
    run = rig.client.sync_interview_schedules(None)
    assert {s.id async for s in run} == {first.id, second.id}
    assert run.sync_token and run.full_resync and run.reset_code is None

    event_id = second.event_ids[0]
    rig.seeded.org.update_event(event_id, start=T0 + timedelta(hours=4), end=T0 + timedelta(hours=5))
    again = rig.client.sync_interview_schedules(run.sync_token)
    changed = [s async for s in again]
    assert [s.id for s in changed] == [second.id]
    assert changed[0].interview_events[0].start_time == T0 + timedelta(hours=4)
    assert again.sync_token and again.sync_token != run.sync_token and not again.full_resync

    quiet = rig.client.sync_interview_schedules(again.sync_token)
    assert [s async for s in quiet] == []
    assert quiet.sync_token


@pytest.mark.parametrize("cause", ["sync_token_expired", "sync_token_invalid", "incremental_sync_too_large"])
async def test_refused_sync_token_falls_back_to_a_full_sync(rig: Rig, cause: str) -> None:
    rig.seeded.panel(start=T0)
    full = rig.client.sync_interview_schedules(None)
    assert len([s async for s in full]) == 1
    rig.seeded.panel(start=T0 + timedelta(days=1))
    token = full.sync_token
    if cause == "sync_token_expired":
        rig.seeded.org.expire_sync_tokens()
    elif cause == "sync_token_invalid":
        token = "not-a-token"
    else:
        rig.seeded.org.pager.max_incremental = 0

    run = rig.client.sync_interview_schedules(token)
    assert len([s async for s in run]) == 2  # everything, not just the change
    assert run.full_resync and run.reset_code == cause
    assert run.sync_token and run.sync_token != token
    bodies = [c.body for c in rig.sim.calls_to("interviewSchedule.list")]
    assert bodies[-2] == {"syncToken": token} and bodies[-1] == {}


async def test_feedback_sync_sees_feedback_submitted_in_ashbys_ui(rig: Rig) -> None:
    schedule = rig.seeded.panel(start=T0)
    run = rig.client.sync_application_feedback(None)
    assert [f async for f in run] == []
    form = rig.seeded.org.forms[rig.seeded.form_id]
    rig.seeded.org.submit_feedback(
        form_id=form.id,
        application_id=rig.seeded.application_id,
        submissions=sample_answers(form.sections, score=4),
        user_id=rig.seeded.interviewer_ids[1],
        event_id=schedule.event_ids[0],
    )
    later = rig.client.sync_application_feedback(run.sync_token)
    found = [f async for f in later]
    assert [(f.submitted_by_user.id, f.interview_event_id) for f in found] == [
        (rig.seeded.interviewer_ids[1], schedule.event_ids[0])
    ]
    assert found[0].submitted_values["overall_recommendation"] == {"score": 4}


# --- retries ---------------------------------------------------------------------------------------


async def test_429_waits_exactly_retry_after_then_succeeds(rig: Rig) -> None:
    rig.sim.faults.rate_limit("application.info", retry_after=7)
    application = await rig.client.application_info(rig.seeded.application_id)
    assert application.id == rig.seeded.application_id
    assert rig.time.sleeps == [7.0]
    assert [c.status for c in rig.sim.calls] == [429, 200]


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("3", now=0) == 3.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", now=10.0) == 20.0
    assert parse_retry_after(None, now=0) is None
    assert parse_retry_after("soon", now=0) is None


async def test_5xx_backs_off_exponentially_and_gives_up_at_the_time_budget(rig: Rig) -> None:
    rig.sim.faults.server_error("*", status=503, times=50)
    client = rig.make_client(retry=RetryPolicy(attempts=10, base_delay_s=1.0, max_delay_s=60.0, budget_s=10.0))
    with pytest.raises(AshbyTransientError) as caught:
        await client.application_info(rig.seeded.application_id)
    # jitter pinned to its maximum: 1, 2, 4 fit in 10 s; the next (8) would end at 15 s.
    assert rig.time.sleeps == [1.0, 2.0, 4.0]
    assert len(rig.sim.calls) == 4
    assert caught.value.status == 503 and caught.value.retry_after == 8.0
    assert isinstance(caught.value, Transient)


async def test_5xx_gives_up_after_the_attempt_limit(rig: Rig) -> None:
    rig.sim.faults.server_error("*", status=502, times=50)
    client = rig.make_client(retry=RetryPolicy(attempts=3, base_delay_s=0.5, budget_s=1_000.0), jitter=lambda: 0.5)
    with pytest.raises(AshbyTransientError):
        await client.interview_info(rig.seeded.interview_ids["Onsite Panel"])
    assert len(rig.sim.calls) == 3 and rig.time.sleeps == [0.25, 0.5]


async def test_recovers_when_5xx_stops_within_budget(rig: Rig) -> None:
    rig.sim.faults.server_error("job.info", times=2)
    job = await rig.client.job_info(rig.seeded.job_id)
    assert job.title == "Senior Backend Engineer" and len(rig.sim.calls) == 3


async def test_network_errors_are_retried(rig: Rig) -> None:
    inner = httpx.ASGITransport(app=create_app(rig.seeded.org, api_key=KEY))
    transport = FlakyTransport(inner, failures=2)
    async with httpx.AsyncClient(transport=transport) as http:
        client = rig.make_client(http=http)
        stages = await client.list_interview_stages(rig.seeded.plan_id)
    assert [s.title for s in stages][-1] == "Archived"
    assert transport.calls == 3 and len(rig.time.sleeps) == 2


class FlakyTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, *, failures: int, error: type[Exception] = httpx.ConnectError):
        self.inner, self.failures, self.error, self.calls = inner, failures, error, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error("simulated network failure")
        return await self.inner.handle_async_request(request)


async def test_writes_are_not_resent_after_a_5xx_or_read_timeout(rig: Rig) -> None:
    schedule = rig.seeded.panel(start=T0)
    rig.sim.faults.server_error("applicationFeedback.submit")
    submit: dict[str, Any] = {
        "form_definition_id": rig.seeded.form_id,
        "application_id": rig.seeded.application_id,
        "user_id": rig.seeded.interviewer_ids[0],
        "interview_event_id": schedule.event_ids[0],
        "field_submissions": answers(rig),
    }
    with pytest.raises(AshbyTransientError):
        await rig.client.submit_application_feedback(**submit)
    assert len(rig.sim.calls_to("applicationFeedback.submit")) == 1 and rig.time.sleeps == []

    transport = FlakyTransport(httpx.ASGITransport(app=create_app(rig.seeded.org, api_key=KEY)), failures=1)
    transport.error = httpx.ReadTimeout
    async with httpx.AsyncClient(transport=transport) as http:
        with pytest.raises(AshbyTransientError):
            await rig.make_client(http=http).submit_application_feedback(**submit)
    assert transport.calls == 1


async def test_writes_are_resent_after_429(rig: Rig) -> None:
    schedule = rig.seeded.panel(start=T0)
    rig.sim.faults.rate_limit("applicationFeedback.submit", retry_after=2)
    result = await rig.client.submit_application_feedback(
        form_definition_id=rig.seeded.form_id,
        application_id=rig.seeded.application_id,
        user_id=rig.seeded.interviewer_ids[0],
        interview_event_id=schedule.event_ids[0],
        field_submissions=answers(rig),
    )
    assert result.submitted_values["overall_recommendation"] == {"score": 3}
    assert rig.time.sleeps == [2.0] and len(rig.seeded.org.feedback) == 1


# --- success:false and auth ------------------------------------------------------------------------


async def test_success_false_is_typed_and_never_retried(rig: Rig) -> None:
    with pytest.raises(AshbyApiError) as caught:
        await rig.client.application_info("00000000-0000-4000-8000-000000000000")
    error = caught.value
    assert error.code == "application_not_found" and error.endpoint == "application.info"
    assert error.request_id and error.request_id == rig.sim.calls[0].response["errorInfo"]["requestId"]
    assert not error.retryable and isinstance(error, Permanent)
    assert len(rig.sim.calls) == 1 and rig.time.sleeps == []


async def test_unknown_failure_codes_are_retryable_but_not_retried_here(rig: Rig) -> None:
    rig.sim.faults.failure("user.search", "internal_server_hiccup", "try later")
    with pytest.raises(AshbyApiError) as caught:
        await rig.client.search_users("riley@example.com")
    assert caught.value.retryable and len(rig.sim.calls) == 1


async def test_wrong_or_missing_key_is_a_permanent_auth_error(rig: Rig) -> None:
    with pytest.raises(AshbyAuthError) as caught:
        await rig.make_client(api_key="wrong").search_users("riley@example.com")
    assert caught.value.code == "forbidden" and not caught.value.retryable
    response = await rig.http.post("/user.search", json={"email": "riley@example.com"})
    assert response.status_code == 401
    assert rig.time.sleeps == []


async def test_failed_calls_log_one_line_without_bodies_or_personal_data(rig: Rig) -> None:
    with structlog.testing.capture_logs() as logs, pytest.raises(AshbyApiError):
        await rig.client.search_users("nobody@example.com")  # fine: empty list
        await rig.client.change_application_stage(rig.seeded.application_id, rig.seeded.archived_stage_id)
    assert len(logs) == 1
    line = logs[0]
    assert line["event"] == "ashby_call_failed" and line["endpoint"] == "application.changeStage"
    assert line["code"] == "invalid_input" and line["request_id"] and line["attempt"] == 1
    assert "example.com" not in repr(logs) and "Jordan" not in repr(logs)


# --- feedback submission and stage changes ---------------------------------------------------------


async def test_submitted_feedback_is_listed_with_score_objects(rig: Rig) -> None:
    schedule = rig.seeded.panel(start=T0)
    submitted = await rig.client.submit_application_feedback(
        form_definition_id=rig.seeded.form_id,
        application_id=rig.seeded.application_id,
        user_id=rig.seeded.interviewer_ids[2],  # the shadow may submit too
        interview_event_id=schedule.event_ids[0],
        field_submissions=answers(rig),
    )
    listed = [f async for f in rig.client.list_application_feedback(application_id=rig.seeded.application_id)]
    assert [f.id for f in listed] == [submitted.id]
    assert listed[0].submitted_values["overall_recommendation"] == {"score": 3}
    assert listed[0].submitted_values["years_experience"] == 7
    events = [e async for e in rig.client.list_interview_events(schedule.id)]
    assert events[0].has_submitted_feedback


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ({"overall_recommendation": {"score": 5}}, "overall_recommendation"),
        ({"overall_recommendation": "3"}, "overall_recommendation"),
        ({"years_experience": 3.5}, "years_experience"),
        ({"available_from": "03/02/2026"}, "available_from"),
        ({"notes": "plain string"}, "notes"),
        ({"level": "principal"}, "level"),
        ({"strengths": ["coding", "charm"]}, "strengths"),
        ({"would_work_with": "yes"}, "would_work_with"),
        (
            {"expected_compensation": {"type": "compensation-range", "minValue": 1, "maxValue": 2}},
            "expected_compensation",
        ),
        ({"no_such_field": "x"}, "no_such_field"),
    ],
)
async def test_submit_rejects_values_of_the_wrong_type(rig: Rig, replace: dict[str, Any], message: str) -> None:
    schedule = rig.seeded.panel(start=T0)
    with pytest.raises(AshbyApiError) as caught:
        await rig.client.submit_application_feedback(
            form_definition_id=rig.seeded.form_id,
            application_id=rig.seeded.application_id,
            user_id=rig.seeded.interviewer_ids[0],
            interview_event_id=schedule.event_ids[0],
            field_submissions=answers(rig, **replace),
        )
    assert caught.value.code == "invalid_input" and message in str(caught.value)
    assert rig.seeded.org.feedback == {}


async def test_submit_requires_required_fields_and_an_interviewer_of_the_event(rig: Rig) -> None:
    schedule = rig.seeded.panel(start=T0, interviewers=2, shadows=0)
    base: dict[str, Any] = {
        "form_definition_id": rig.seeded.form_id,
        "application_id": rig.seeded.application_id,
        "interview_event_id": schedule.event_ids[0],
    }
    without_notes = [a for a in answers(rig) if a.path != "notes"]
    with pytest.raises(AshbyApiError, match="notes: required"):
        await rig.client.submit_application_feedback(
            **base, user_id=rig.seeded.interviewer_ids[0], field_submissions=without_notes
        )
    outsider = rig.seeded.interviewer_ids[4]
    with pytest.raises(AshbyApiError, match="must be an interviewer"):
        await rig.client.submit_application_feedback(**base, user_id=outsider, field_submissions=answers(rig))
    with pytest.raises(ValueError, match="user_id is required"):
        await rig.client.submit_application_feedback(**base, field_submissions=answers(rig))
    assert rig.seeded.org.feedback == {}


async def test_change_stage_advances_and_archives_by_the_rules(rig: Rig) -> None:
    seeded = rig.seeded
    moved = await rig.client.change_application_stage(seeded.application_id, seeded.stage_ids["Offer"])
    assert moved.current_interview_stage is not None and moved.current_interview_stage.title == "Offer"
    assert moved.status == "Active"

    with pytest.raises(AshbyApiError, match="archiveReasonId is required"):
        await rig.client.change_application_stage(seeded.application_id, seeded.archived_stage_id)
    with pytest.raises(AshbyApiError, match="only allowed for Archived"):
        await rig.client.change_application_stage(
            seeded.application_id, seeded.stage_ids["Hired"], archive_reason_id=seeded.archive_reason_ids["Withdrew"]
        )
    with pytest.raises(AshbyApiError) as caught:
        await rig.client.change_application_stage(
            seeded.application_id, seeded.archived_stage_id, archive_reason_id=seeded.stage_ids["Offer"]
        )
    assert caught.value.code == "archive_reason_not_found"
    with pytest.raises(ValueError, match="interview_stage_id is required"):
        await rig.client.change_application_stage(seeded.application_id, "")
    assert seeded.org.applications[seeded.application_id].stage_id == seeded.stage_ids["Offer"]

    archived = await rig.client.archive_application(moved, seeded.archive_reason_ids["Not a fit"])
    assert archived.status == "Archived" and archived.archive_reason is not None
    assert archived.archive_reason.text == "Not a fit"
    last = rig.sim.calls_to("application.changeStage")[-1].body
    assert last == {
        "applicationId": seeded.application_id,
        "interviewStageId": seeded.archived_stage_id,
        "archiveReasonId": seeded.archive_reason_ids["Not a fit"],
    }


async def test_reads_of_metadata(rig: Rig) -> None:
    seeded = rig.seeded
    reasons = await rig.client.list_archive_reasons()
    assert {r.text for r in reasons} == {"Not a fit", "Withdrew", "Position filled"}
    assert len(await rig.client.list_archive_reasons(include_archived=True)) == 4
    users = [u async for u in rig.client.list_users()]
    assert seeded.users["deactivated"] not in {u.id for u in users}
    assert [u.id for u in await rig.client.search_users("Riley@example.com")] == [seeded.users["recruiter"]]
    forms = [f async for f in rig.client.list_feedback_form_definitions()]
    full = await rig.client.feedback_form_definition_info(seeded.form_id)
    assert seeded.form_id in {f.id for f in forms}
    assert {fld.field.type for s in full.form_definition.sections for fld in s.fields} >= {"Score", "UUID"}
    plan = await rig.client.job_interview_plan_info(seeded.job_id)
    assert plan.stages[-1].type == "Archived"
    job = await rig.client.job_info(seeded.job_id)
    assert job.default_interview_plan_id == plan.interview_plan_id


async def test_a_hung_answer_times_out_and_the_read_is_retried(rig: Rig) -> None:
    """On a real socket, since httpx's timeouts do not apply to in-process ASGI calls."""
    app = create_app(rig.seeded.org, api_key=KEY, faults=FaultPlan().hang("application.info", seconds=30))
    sim = sim_of(app)
    async with running(app, lifespan="off") as url, httpx.AsyncClient(timeout=0.2) as http:
        try:
            application = await rig.make_client(http=http, base_url=url).application_info(rig.seeded.application_id)
        finally:
            sim.release_hangs()
    assert application.id == rig.seeded.application_id
    assert [c.fault for c in sim.calls] == [None, "hang"]  # recorded when answered: the retry came back first
    assert len(rig.time.sleeps) == 1


async def test_a_retry_after_beyond_the_budget_goes_straight_back_to_the_queue(rig: Rig) -> None:
    rig.sim.faults.rate_limit("application.info", retry_after=120)
    with pytest.raises(AshbyTransientError) as caught:
        await rig.client.application_info(rig.seeded.application_id)
    assert caught.value.status == 429 and caught.value.retry_after == 120.0
    assert rig.time.sleeps == [] and len(rig.sim.calls) == 1
