"""Evaluating an application against the rules, without I/O: every verified failure of the predecessor
(reference/predecessor-ashby-auto-advance.md §7) is a case here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.advancement.evaluate import Decision, Evidence, Feedback, NoRule, Seat, Wait, evaluate
from shared.advancement.model import (
    Advance,
    Aggregate,
    Condition,
    CountOf,
    Each,
    FieldRef,
    Hold,
    PlanStage,
    Reject,
    Rule,
    Veto,
)
from shared.advancement.precedence import matching_rule

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ENDED = NOW - timedelta(hours=3)
SCORE = FieldRef(path="overall", type="Score", title="Overall")
LEVEL = FieldRef(path="level", type="ValueSelect", title="Level")
STAGES = (
    PlanStage(id="screen", title="Phone Screen", type="Active", order=0),
    PlanStage(id="onsite", title="Onsite", type="Active", order=1),
    PlanStage(id="offer", title="Offer", type="Offer", order=2),
    PlanStage(id="hired", title="Hired", type="Hired", order=3),
    PlanStage(id="archived", title="Archived", type="Archived", order=4),
)
RULE = Rule(
    name="screen",
    version=3,
    plan_id="plan",
    stage_id="screen",
    mode="auto",
    requirements=(Each(condition=Condition(field=SCORE, op=">=", value=3)),),
    on_fail=Reject(archive_reason_id="not-a-fit"),
)


def seat(
    who: str, score: object | None = None, *, shadow: bool = False, at: datetime | None = None, **values: object
) -> Seat:
    given = {"overall": score, **values} if score is not None else None
    return Seat(
        event_id="event-1",
        interview_id="interview-1",
        interviewer_id=who,
        name=who.title(),
        feedback_required=not shadow,
        event_end=ENDED,
        feedback=Feedback(given, at or NOW - timedelta(hours=2)) if given is not None else None,
    )


def evidence(*seats: Seat, stage: str = "screen", status: str = "Active") -> Evidence:
    return Evidence("app-1", "job-1", "plan", stage, status, tuple(seats))


def decide(ev: Evidence, rule: Rule = RULE, now: datetime = NOW) -> Decision:
    result = evaluate(ev, [rule], STAGES, now=now)
    assert isinstance(result, Decision), result
    return result


def test_passing_scores_advance_to_the_next_stage() -> None:
    decision = decide(evidence(seat("alex", {"score": 4}), seat("blake", {"score": 3})))
    assert (decision.outcome, decision.to_stage_id, decision.passed) == ("advance", "onsite", True)
    assert decision.evidence["rule_version"] == 3
    assert [i["values"] for i in decision.evidence["interviewers"]] == [{"Overall": 4}, {"Overall": 3}]


def test_score_values_compare_as_numbers_in_every_shape_ashby_uses() -> None:
    # The predecessor called float({"score": n}): every Score requirement failed.
    for shape in ({"score": 3}, 3, "3", 3.0):
        assert decide(evidence(seat("alex", shape))).outcome == "advance"
    assert decide(evidence(seat("alex", {"score": 2}))).outcome == "reject"


def test_failing_scores_reject_to_the_plans_archived_stage_with_the_reason() -> None:
    decision = decide(evidence(seat("alex", {"score": 4}), seat("blake", {"score": 1})))
    assert (decision.outcome, decision.to_stage_id, decision.archive_reason_id) == ("reject", "archived", "not-a-fit")
    assert decision.results[0].detail == "not: Blake"


def test_partial_feedback_waits_until_the_timeout_and_is_never_a_rejection() -> None:
    result = evaluate(evidence(seat("alex", {"score": 1}), seat("blake")), [RULE], STAGES, now=NOW)
    assert isinstance(result, Wait) and result.until == ENDED + timedelta(days=7)


def test_a_shadow_is_not_waited_for_and_does_not_count() -> None:
    decision = decide(evidence(seat("alex", {"score": 4}), seat("sam", shadow=True)))
    assert decision.outcome == "advance"
    assert [i["name"] for i in decision.evidence["interviewers"]] == ["Alex"]


def test_the_quiet_period_after_the_last_feedback_is_waited_out_then_evaluated() -> None:
    recent = NOW - timedelta(minutes=10)
    ev = evidence(seat("alex", {"score": 4}, at=recent))
    result = evaluate(ev, [RULE], STAGES, now=NOW)
    assert isinstance(result, Wait) and result.until == recent + timedelta(minutes=30)
    assert decide(ev, now=recent + timedelta(minutes=30)).outcome == "advance"


def test_a_timeout_holds_naming_who_is_missing() -> None:
    late = ENDED + timedelta(days=7)
    decision = decide(evidence(seat("alex", {"score": 4}), seat("blake"), seat("casey")), now=late)
    assert (decision.outcome, decision.passed) == ("hold", False)
    assert decision.reason == "timeout: missing Blake, Casey"


def test_advance_never_enters_offer_or_hired_unless_the_rule_names_it() -> None:
    onsite = Rule(**{**_fields(RULE), "stage_id": "onsite"})
    decision = decide(evidence(seat("alex", {"score": 4}), stage="onsite"), onsite)
    assert decision.outcome == "hold" and "Offer" in decision.reason and decision.to_stage_id is None
    named = Rule(**{**_fields(onsite), "on_pass": Advance(to_stage_id="offer")})
    assert decide(evidence(seat("alex", {"score": 4}), stage="onsite"), named).to_stage_id == "offer"


def test_nothing_moves_a_candidate_out_of_archived() -> None:
    archived = Rule(**{**_fields(RULE), "stage_id": "archived"})
    assert isinstance(evaluate(evidence(seat("a", 4), stage="archived"), [archived], STAGES, now=NOW), NoRule)
    assert isinstance(evaluate(evidence(seat("a", 4), status="Archived"), [RULE], STAGES, now=NOW), NoRule)


def test_a_veto_a_count_and_an_aggregate() -> None:
    rule = Rule(
        **{
            **_fields(RULE),
            "requirements": (
                Veto(condition=Condition(field=SCORE, op="==", value=1)),
                CountOf(condition=Condition(field=LEVEL, op="==", value="senior"), op=">=", value=2),
                Aggregate(field=SCORE, function="average", op=">=", value=3),
            ),
        }
    )
    good = evidence(seat("a", 4, level="senior"), seat("b", 3, level="senior"), seat("c", 2, level="mid"))
    assert decide(good, rule).outcome == "advance"
    vetoed = evidence(seat("a", 4, level="senior"), seat("b", 4, level="senior"), seat("c", 1, level="senior"))
    decision = decide(vetoed, rule)
    assert decision.outcome == "reject" and decision.results[0].detail == "vetoed by C"
    too_few = evidence(seat("a", 4, level="senior"), seat("b", 4, level="mid"))
    assert decide(too_few, rule).results[1].detail == "1 of 2"


def test_a_required_interview_not_scheduled_yet_waits() -> None:
    rule = Rule(**{**_fields(RULE), "interview_ids": ("interview-1", "interview-2")})
    assert isinstance(evaluate(evidence(seat("alex", 4)), [rule], STAGES, now=NOW), Wait)


def test_no_rule_for_the_stage_decides_nothing() -> None:
    assert isinstance(evaluate(evidence(seat("alex", 4), stage="onsite"), [RULE], STAGES, now=NOW), NoRule)


def test_hold_outcome_and_a_plan_without_archived_stage_hold() -> None:
    hold = Rule(**{**_fields(RULE), "on_fail": Hold()})
    assert decide(evidence(seat("a", 1)), hold).outcome == "hold"
    no_archive = [s for s in STAGES if s.type != "Archived"]
    result = evaluate(evidence(seat("a", 1)), [RULE], no_archive, now=NOW)
    assert isinstance(result, Decision) and result.outcome == "hold" and "no Archived stage" in result.reason


@pytest.mark.parametrize(
    ("job", "expected"),
    [("job-1", "specific-high"), ("job-2", "everyone")],
)
def test_the_most_specific_rule_then_the_highest_priority_wins(job: str, expected: str) -> None:
    rules = [
        Rule(**{**_fields(RULE), "name": "everyone", "job_id": None, "priority": 9}),
        Rule(**{**_fields(RULE), "name": "specific-low", "job_id": "job-1", "priority": 0}),
        Rule(**{**_fields(RULE), "name": "specific-high", "job_id": "job-1", "priority": 1}),
    ]
    chosen = matching_rule(rules, job_id=job, plan_id="plan", stage_id="screen")
    assert chosen is not None and chosen.name == expected


def _fields(rule: Rule) -> dict[str, object]:
    return {name: getattr(rule, name) for name in rule.__struct_fields__}


def test_feedback_whose_answers_are_not_here_waits_then_holds_and_is_never_a_rejection() -> None:
    # Submitted in Ashby but its answers not synced yet, or cleared by retention (docs/privacy.md): judged as
    # empty answers they would fail every requirement.
    unread = Seat(
        event_id="event-1",
        interview_id="interview-1",
        interviewer_id="blake",
        name="Blake",
        feedback_required=True,
        event_end=ENDED,
        feedback=Feedback(None, NOW - timedelta(hours=2)),
    )
    waiting = evaluate(evidence(seat("alex", {"score": 4}), unread), [RULE], STAGES, now=NOW)
    assert isinstance(waiting, Wait) and waiting.until == ENDED + timedelta(days=7)
    held = decide(evidence(seat("alex", {"score": 4}), unread), now=ENDED + timedelta(days=7))
    assert (held.outcome, held.reason) == ("hold", "answers unavailable: Blake")
