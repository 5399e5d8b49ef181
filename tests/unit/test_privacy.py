"""Personal data, without I/O: a decision's audit skeleton after redaction, the retention cutoffs, and the
strict decoding of Ashby's candidateDelete / candidateMerge webhooks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from shared.advancement.evaluate import Decision, Evidence, Feedback, Seat, evaluate
from shared.advancement.messages import Names, debrief_message, decision_message
from shared.advancement.model import Condition, Each, FieldRef, PlanStage, Rule, Veto
from shared.db.advancement import DecisionRow
from shared.payloads.ashby import CandidateDeleteWebhook, CandidateMergeWebhook, decode_candidate_webhook
from shared.privacy import REDACTED, Retention, redact_decision
from workers.main import cron_jobs_for, functions_for

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SCORE = FieldRef(path="overall", type="Score", title="Overall")
STAGES = (
    PlanStage(id="onsite", title="Onsite", type="Active", order=0),
    PlanStage(id="offer", title="Offer", type="Offer", order=1),
    PlanStage(id="archived", title="Archived", type="Archived", order=2),
)
RULE = Rule(
    name="onsite",
    version=2,
    plan_id="plan",
    stage_id="onsite",
    mode="approve",
    requirements=(
        Each(condition=Condition(field=SCORE, op=">=", value=3)),
        Veto(condition=Condition(field=SCORE, op="==", value=1)),
    ),
    timeout_days=7,
)
NAMES = ("Ana Lee", "Ana", "Bo Okafor")


def seat(interviewer: str, name: str, score: int | None) -> Seat:
    feedback = Feedback({"overall": {"score": score}}, NOW - timedelta(days=1)) if score is not None else None
    return Seat("event-1", "interview-1", interviewer, name, True, NOW - timedelta(days=8), feedback)


def decided(*seats: Seat) -> Decision:
    result = evaluate(Evidence("app-1", "job-1", "plan", "onsite", "Active", seats), [RULE], STAGES, now=NOW)
    assert isinstance(result, Decision)
    return result


@pytest.mark.parametrize(
    "decision",
    [
        # Failing requirements quote names ("not: Ana Lee", "vetoed by Bo Okafor") and scores.
        decided(seat("u-ana-lee", "Ana Lee", 2), seat("u-ana", "Ana", 4), seat("u-bo", "Bo Okafor", 1)),
        # A timeout names who is missing in the reason itself.
        decided(seat("u-ana-lee", "Ana Lee", 4), seat("u-ana", "Ana", None), seat("u-bo", "Bo Okafor", None)),
    ],
)
def test_a_redacted_decision_keeps_its_skeleton_and_no_name_or_answer(decision: Decision) -> None:
    assert any(name in json.dumps(decision.evidence) + decision.reason for name in NAMES)  # there was something
    reason, evidence = redact_decision(decision.reason, decision.evidence)

    text = json.dumps(evidence) + reason
    assert not [name for name in NAMES if name in text]
    assert '"score"' not in text and 'Overall": ' not in text
    assert (evidence["rule"], evidence["rule_version"], evidence["passed"]) == ("onsite", 2, decision.passed)
    assert [i["interviewer_id"] for i in evidence["interviewers"]] == ["u-ana-lee", "u-ana", "u-bo"]
    assert [(i["name"], i["values"]) for i in evidence["interviewers"]] == [(REDACTED, {})] * 3
    assert [(r["requirement"], r["passed"]) for r in evidence["requirements"]] == [
        (r.requirement, r.passed) for r in decision.results
    ]
    assert redact_decision(reason, evidence) == (reason, evidence)  # a replay changes nothing more


def test_a_redacted_decision_still_renders_where_decisions_are_shown() -> None:
    decision = decided(seat("u-ana-lee", "Ana Lee", 2), seat("u-bo", "Bo Okafor", 1))
    reason, evidence = redact_decision(decision.reason, decision.evidence)
    row = DecisionRow(
        id=1,
        application_id="app-1",
        job_id="job-1",
        from_stage_id="onsite",
        rule_name="onsite",
        rule_version=2,
        mode="approve",
        outcome=decision.outcome,
        to_stage_id=None,
        archive_reason_id=None,
        communication_template_id=None,
        send_after_hours=None,
        reason=reason,
        evidence=evidence,
        channel=None,
        state="superseded",
        decided_by=None,
        decided_at=None,
        attempts=0,
        called_at=None,
        ashby_result={"reason": "the candidate was deleted in Ashby"},
        created_at=NOW,
    )
    shown = str(decision_message(row, Names("the candidate", None, None, {}))) + str(
        debrief_message(row, Names("the candidate", None, None, {}))
    )
    assert REDACTED in shown and "deleted in Ashby" in shown
    assert not [name for name in NAMES if name in shown]


def test_a_timeout_reason_still_says_it_was_a_timeout() -> None:
    decision = decided(seat("u-ana", "Ana Lee", None), seat("u-bo", "Bo Okafor", 3))
    assert decision.reason == "timeout: missing Ana Lee"
    assert redact_decision(decision.reason, decision.evidence)[0] == f"timeout: missing {REDACTED}"


def test_retention_cutoffs_count_back_from_now() -> None:
    cutoffs = Retention(answers_grace_days=30, draft_days=14, dead_letter_days=7, schedule_days=365).cutoffs(NOW)
    assert cutoffs.answers == NOW - timedelta(days=30)
    assert cutoffs.drafts == NOW - timedelta(days=14)
    assert cutoffs.dead_letters == NOW - timedelta(days=7)
    assert cutoffs.schedules == NOW - timedelta(days=365)


def test_candidate_webhooks_decode_as_ashby_publishes_them() -> None:
    deleted = decode_candidate_webhook(b'{"action": "candidateDelete", "data": {"candidate": {"id": "c-1"}}}')
    assert isinstance(deleted, CandidateDeleteWebhook) and deleted.candidate_id == "c-1"
    merged = decode_candidate_webhook(
        b'{"action": "candidateMerge", "data": {"deletedCandidate": {"id": "c-1"}, "mergedCandidate": {"id": "c-2"}},'
        b' "extra": true}'
    )
    assert isinstance(merged, CandidateMergeWebhook)
    assert (merged.candidate_id, merged.data.merged_candidate.id) == ("c-1", "c-2")


@pytest.mark.parametrize(
    "body",
    [
        b'{"action": "candidateDelete", "data": {}}',
        b'{"action": "candidateDelete", "data": {"candidate": {"id": ""}}}',
        b'{"action": "candidateDelete", "data": {"candidate": {"id": 7}}}',
        b'{"action": "candidateMerge", "data": {"deletedCandidate": {"id": "c-1"}}}',
        b'{"action": "candidateMerge", "data": {"mergedCandidate": {"id": "c-2"}, "deletedCandidate": null}}',
        b'{"action": "candidateStageChange", "data": {"candidate": {"id": "c-1"}}}',
        b'{"action": "candidateDelete", "data": {"candidate": {"id": "c-1"}',
    ],
)
def test_candidate_webhooks_without_their_ids_are_refused(body: bytes) -> None:
    with pytest.raises((msgspec.ValidationError, msgspec.DecodeError)):
        decode_candidate_webhook(body)


def test_the_purge_runs_daily_once_across_replicas_on_the_default_queue() -> None:
    [purge] = [c for c in cron_jobs_for("default") if c.name == "cron:purge_expired"]
    assert purge.unique and not purge.run_at_startup
    assert (purge.hour, purge.minute, purge.second) == (3, 17, 0)  # one tick a day
    assert "purge_expired" in {f.name for f in functions_for("default")}
    assert not [c for c in cron_jobs_for("interactive") if c.name == "cron:purge_expired"]
