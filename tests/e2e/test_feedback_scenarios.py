"""Issue 4 end to end, the feedback form in Slack: double clicks and double submits, feedback already in
Ashby, every field type, oversized forms, expired triggers, validation inside the ack, other people's
forms, drafts and refused submissions, through the real ingress and workers against both simulators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from shared import jobs
from shared.feedback_form import block_id_for
from shared.modal_cache import PREFIX as MODAL_PREFIX
from shared.modal_cache import modal_key
from shared.modal_views import ALREADY_SUBMITTED, NOT_YOURS
from sim.ashby import FaultPlan
from sim.ashby.seed import form_field
from sim.slack.state import SimView
from tests.e2e.world import T0, World, fill_view, world
from workers.jobs.submissions import SUBMIT_MAX_TRIES

pytestmark = pytest.mark.e2e

START = T0 + timedelta(hours=2)  # Monday 11:00 UTC, one hour long
END = START + timedelta(hours=1)
DUE = END + timedelta(minutes=15)


async def feedback_due(w: World, **panel: Any) -> tuple[str, str, str]:
    """A two-interviewer panel whose "Feedback due" DMs have just gone out; (event, alex, blake)."""
    schedule = await w.schedule_panel(start=START, interviewers=2, shadows=0, **panel)
    w.clock.set(DUE)
    await w.dispatch()
    alex, blake = w.ashby.interviewer_ids[:2]
    assert w.kinds_to(alex) == w.kinds_to(blake) == ["Feedback due"]
    return schedule.event_ids[0], alex, blake


async def open_form(w: World, user: str, action: str = "open_feedback_form") -> SimView:
    """Click and return the feedback form (filled in by a worker when the ingress had to open "loading")."""
    view = await w.click(user, action)
    assert view is not None
    if view.callback_id == "feedback_loading":
        await w.drain()
    assert view.callback_id == "feedback_submit"
    return view


def block(view: SimView, block_id: str) -> dict[str, Any]:
    return next(b for b in view.view["blocks"] if b.get("block_id") == block_id)


def option(view: SimView, block_id: str, label: str) -> str:
    """The Slack value of the option showing `label` (Slack values are opaque keys, not Ashby's)."""
    options = block(view, block_id)["element"]["options"]
    return str(next(o["value"] for o in options if o["text"]["text"].endswith(label)))


def inputs(view: SimView) -> list[dict[str, Any]]:
    return [b for b in view.view.get("blocks") or [] if b.get("type") == "input"]


def submit_calls(w: World) -> int:
    return len(w.ashby_sim.calls_to("applicationFeedback.submit"))


NOTES = block_id_for("notes", "RichText")
LEVEL = block_id_for("level", "ValueSelect")
YEARS = block_id_for("years_experience", "Number")


async def test_double_click_and_double_submit_give_one_scorecard(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        event, alex, _ = await feedback_due(w)
        first, second, third = [await open_form(w, alex) for _ in range(3)]  # impatient clicking: three modals

        for view in (first, second):
            response = await w.actor.submit_view(view.id, fill_view(view.view), user_id=w.slack_ids[alex])
            assert response.json()["response_action"] == "update"  # "Submitting…"
        assert await redis.zcard(jobs.QUEUE_INTERACTIVE) == 1  # the second was a duplicate at enqueue
        await w.drain()
        assert len(w.submissions(alex)) == 1 and submit_calls(w) == 1

        # The third modal, submitted later, is told it is too late, inside the ack...
        response = await w.actor.submit_view(third.id, fill_view(third.view), user_id=w.slack_ids[alex])
        assert response.json()["response_action"] == "update" and ALREADY_SUBMITTED in str(third.view)
        assert await redis.zcard(jobs.QUEUE_INTERACTIVE) == 0
        # ...and were such a submission queued anyway, the worker refuses it (its claim in Postgres, then
        # Ashby's list of this interviewer's feedback).
        again = (modal_key(event, alex), w.slack_ids[alex], first.values)
        assert await jobs.enqueue_interactive(redis, jobs.SUBMIT_FEEDBACK, *again, job_id="again")  # type: ignore[arg-type]
        await w.drain()
        assert len(w.submissions(alex)) == 1 and submit_calls(w) == 1
        assert "Feedback submitted" in str(w.messages_to(alex)[-1].blocks)
        counted = w.metrics.registry.get_sample_value
        assert counted("fleet_submissions_total", {"outcome": "submitted"}) == 1
        assert counted("fleet_submissions_total", {"outcome": "already_submitted"}) == 1


async def test_feedback_already_in_ashby_is_not_submitted_twice(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        event, alex, _ = await feedback_due(w)
        view = await open_form(w, alex)
        # The first submission reached Ashby, but the worker died before recording it (no sync ran since).
        existing = w.submit_in_ashby(alex, event)
        await w.actor.submit_view(view.id, fill_view(view.view), user_id=w.slack_ids[alex])
        await w.drain()

        assert [f.id for f in w.submissions(alex)] == [existing.id] and submit_calls(w) == 0
        row = await w.pool.fetchrow("SELECT state, ashby_submission_id FROM feedback_submissions")
        assert (row["state"], row["ashby_submission_id"]) == ("submitted", existing.id)
        latest = w.messages_to(alex)[-1]
        assert "Feedback submitted" in str(latest.blocks) and "open_feedback_form" not in str(latest.blocks)
        assert {r["state"] for r in await w.reminder_rows(alex) if r["kind"] != "escalation"} == {"sent", "skipped"}
        sent = len(w.messages_to(alex))
        await w.walk(DUE + timedelta(days=10))
        assert len(w.messages_to(alex)) == sent  # reminders stopped


async def test_every_field_type_reaches_ashby_in_its_format(db_url: str, redis_url: str, redis: aioredis.Redis) -> None:
    async with world(db_url, redis_url, redis) as w:
        _, alex, _ = await feedback_due(w)
        view = await open_form(w, alex)
        score = block_id_for("overall_recommendation", "Score")
        strengths = block_id_for("strengths", "MultiValueSelect")
        boolean = block_id_for("would_work_with", "Boolean")
        answers = fill_view(
            view.view,
            **{
                score: option(view, score, "Strong Hire"),
                f"{score}-comment": "Clear thinker",
                NOTES: "Solid on design",
                LEVEL: option(view, LEVEL, "Senior"),
                strengths: [option(view, strengths, "Coding"), option(view, strengths, "Communication")],
                boolean: option(view, boolean, "No"),  # a "no" must reach Ashby, not vanish as falsy
                YEARS: "12",
                block_id_for("available_from", "Date"): "2027-01-04",
            },
        )
        response = await w.actor.submit_view(view.id, answers, user_id=w.slack_ids[alex])
        assert response.status_code == 200 and view.errors is None
        await w.drain()

        [submitted] = w.submissions(alex)
        form = w.ashby.org.forms[w.ashby.form_id]
        paths = {entry["field"]["path"] for section in form.sections for entry in section["fields"]}
        assert set(submitted.values) == paths  # a value for every field of the all-types form
        values = submitted.values
        assert values["overall_recommendation"] == {
            "score": 4,
            "comments": {"type": "PlainText", "value": "Clear thinker"},
        }
        assert values["notes"] == {"type": "PlainText", "value": "Solid on design"}
        assert values["level"] == "senior"
        assert values["strengths"] == ["coding", "communication"]
        assert values["would_work_with"] is False
        assert values["years_experience"] == 12 and type(values["years_experience"]) is int
        assert values["available_from"] == "2027-01-04"
        assert values["current_salary"] == {"value": 3, "currencyCode": "USD"}
        assert values["team_size"] == {"type": "number-range", "minValue": 3, "maxValue": 3}
        assert values["expected_compensation"] == {
            "type": "compensation-range",
            "minValue": 3,
            "maxValue": 3,
            "currencyCode": "USD",
            "interval": "1 YEAR",
        }
        assert values["reference_email"] == "someone@example.com"
        assert values["portfolio"] == "https://example.com/notes"
        assert isinstance(values["referral_id"], str) and len(values["referral_id"]) == 36


@pytest.mark.parametrize("oversized", ["options", "fields"])
async def test_oversized_form_degrades_to_a_link_to_ashby(
    db_url: str, redis_url: str, redis: aioredis.Redis, oversized: str
) -> None:
    async with world(db_url, redis_url, redis) as w:
        org = w.ashby.org
        if oversized == "options":
            teams = [(f"Team {n}", f"team-{n}") for n in range(101)]
            fields = [form_field(org.new_id, "ValueSelect", "team", "Best team", required=True, options=teams)]
        else:
            fields = [form_field(org.new_id, "String", f"q{n}", f"Question {n}") for n in range(101)]
        form = org.add_form("Architecture scorecard", [{"title": "Architecture", "fields": fields}])
        w.ashby.interview_ids["Architecture"] = org.add_interview("Architecture", form.id, job_id=w.ashby.job_id).id
        event, alex, _ = await feedback_due(w, interview="Architecture")

        view = await w.click(alex)
        assert view is not None and view.callback_id == "feedback_link_only"
        assert inputs(view) == [] and "submit" not in view.view
        buttons = [e for b in view.view["blocks"] if b["type"] == "actions" for e in b["elements"]]
        link = await w.pool.fetchval("SELECT feedback_link FROM interview_events WHERE id = $1", event)
        assert link and [b["url"] for b in buttons] == [link]
        assert "fill in this feedback form in Ashby" in str(view.view["blocks"])


async def test_expired_trigger_tells_the_interviewer_to_click_again(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        _, alex, _ = await feedback_due(w)
        w.slack.fail_next("views.open", status=200, error="expired_trigger_id")
        assert await w.click(alex) is None  # Slack refused to open anything
        await w.drain()
        notice = w.messages_to(alex)[-1]
        assert "took too long" in notice.text and "click *Open feedback form* again" in notice.text
        view = await open_form(w, alex, "open_feedback_form")  # and the next click works
        assert inputs(view)


async def test_invalid_submission_is_answered_with_errors_inside_the_ack(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        _, alex, _ = await feedback_due(w)
        view = await open_form(w, alex)
        answers = fill_view(view.view, **{NOTES: None, YEARS: "2.5"})
        response = await w.actor.submit_view(view.id, answers, user_id=w.slack_ids[alex])
        assert response.json()["response_action"] == "errors"
        assert view.errors is not None and set(view.errors) == {NOTES, YEARS}  # keyed by block id
        assert view.is_open
        assert await redis.zcard(jobs.QUEUE_INTERACTIVE) == 0
        await w.drain()
        assert submit_calls(w) == 0

        # Corrected in the same modal, it goes through.
        await w.actor.submit_view(view.id, fill_view(view.view), user_id=w.slack_ids[alex])
        await w.drain()
        assert len(w.submissions(alex)) == 1


async def test_someone_elses_form_is_refused(db_url: str, redis_url: str, redis: aioredis.Redis) -> None:
    async with world(db_url, redis_url, redis) as w:
        event, alex, blake = await feedback_due(w)
        key = modal_key(event, alex)

        # Blake clicks Alex's button (a forwarded message): the ingress opens a notice, not the form.
        notice = await w.click(alex, by=blake)
        assert notice is not None and notice.user_id == w.slack_ids[blake]
        assert inputs(notice) == [] and NOT_YOURS in str(notice.view["blocks"])
        # The same on a cache miss: the loading view is filled with the notice by the worker.
        await redis.delete(MODAL_PREFIX + key)
        loading = await w.click(alex, by=blake)
        assert loading is not None
        await w.drain()
        assert inputs(loading) == [] and NOT_YOURS in str(loading.view["blocks"])

        # Blake submits Alex's form (a forged view_submission): refused inside the ack.
        view = await open_form(w, alex)
        view.user_id = w.slack_ids[blake]
        response = await w.actor.submit_view(view.id, fill_view(view.view), user_id=w.slack_ids[blake])
        assert response.json()["response_action"] == "errors"
        assert view.errors is not None and NOT_YOURS in view.errors.values()
        assert await redis.zcard(jobs.QUEUE_INTERACTIVE) == 0
        # And were such a job queued anyway, the worker checks again.
        forged = (key, w.slack_ids[blake], view.values)  # the state Slack sent
        await jobs.enqueue_interactive(redis, jobs.SUBMIT_FEEDBACK, *forged, job_id="forged")  # type: ignore[arg-type]
        await w.drain()
        assert submit_calls(w) == 0 and w.submissions(alex) == []
        assert await w.pool.fetchval("SELECT count(*) FROM feedback_submissions") == 0


async def test_closing_the_form_keeps_a_draft_that_the_next_open_restores(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        event, alex, _ = await feedback_due(w)
        view = await open_form(w, alex)
        partial = {NOTES: {NOTES: "Strong on trade-offs"}, LEVEL: {LEVEL: option(view, LEVEL, "Staff")}}
        await w.actor.close_view(view.id, user_id=w.slack_ids[alex], values=partial)
        await w.drain()
        assert await w.pool.fetchval("SELECT count(*) FROM feedback_drafts WHERE event_id = $1", event) == 1

        reopened = await open_form(w, alex)
        assert block(reopened, NOTES)["element"]["initial_value"] == "Strong on trade-offs"
        assert block(reopened, LEVEL)["element"]["initial_option"]["value"] == option(view, LEVEL, "Staff")
        assert "initial_value" not in block(reopened, YEARS)["element"]  # unanswered stays empty
        assert "draft answers were restored" in str(reopened.view["blocks"])


async def test_refused_submission_is_explained_and_the_form_reopens_with_the_answers(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        event, alex, _ = await feedback_due(w)
        faults: FaultPlan = w.ashby_sim.faults
        faults.failure("applicationFeedback.submit", "invalid_input", "notes: a RichText field takes an object")
        view = await open_form(w, alex)
        answers = fill_view(view.view, **{NOTES: "Would hire again"})
        await w.actor.submit_view(view.id, answers, user_id=w.slack_ids[alex])
        await w.drain()

        assert w.submissions(alex) == []
        failed = w.messages_to(alex)[-1]
        assert "could not be submitted" in str(failed.blocks) and "invalid input" in str(failed.blocks)
        assert "notes: a RichText" not in str(failed.blocks)  # a sentence for people, not Ashby's raw message
        reopened = await open_form(w, alex, "reopen_feedback_form")
        assert block(reopened, NOTES)["element"]["initial_value"] == "Would hire again"

        # Not submitted, so the reminders carry on.
        await w.walk(DUE + timedelta(days=1, hours=1))
        assert w.kinds_to(alex)[-1] == "Feedback overdue"

        # Ashby takes the corrected answers; exactly one scorecard, reminders stop.
        await w.actor.submit_view(reopened.id, fill_view(reopened.view), user_id=w.slack_ids[alex])
        await w.drain()
        assert len(w.submissions(alex)) == 1
        pending = await w.pool.fetch("SELECT kind FROM reminders WHERE interviewer_id = $1 AND state = 'pending'", alex)
        assert [r["kind"] for r in pending] == ["escalation"]  # the event's, for Blake's missing feedback
        assert await w.pool.fetchval("SELECT count(*) FROM feedback_drafts WHERE event_id = $1", event) == 0


async def test_a_submission_ashby_never_answers_is_explained_on_the_last_try(
    db_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    async with world(db_url, redis_url, redis) as w:
        event, alex, _ = await feedback_due(w)
        w.ashby_sim.faults.server_error("applicationFeedback.submit", status=503, times=10)
        view = await open_form(w, alex)
        await w.actor.submit_view(view.id, fill_view(view.view), user_id=w.slack_ids[alex])
        # arq counts a job's tries in Redis: make this run the last one it permits (earlier ones re-queue).
        await w.redis.set(f"arq:retry:submit:{modal_key(event, alex)}", SUBMIT_MAX_TRIES - 1)
        await w.drain()

        assert w.submissions(alex) == []
        failed = str(w.messages_to(alex)[-1].blocks)
        assert "could not be submitted" in failed and "did not answer" in failed and "reopen_feedback_form" in failed
        state = await w.pool.fetchval("SELECT state FROM feedback_submissions WHERE event_id = $1", event)
        assert state == "failed"
