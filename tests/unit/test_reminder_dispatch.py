"""Which reminders a dispatch claims: due ones, lost claims, and briefs that must leave early for the budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.reminders import Claimable, Pace, choose_claims, latest_slots
from workers.dispatch_clock import next_tick

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
# 10 messages/s, 10 minutes of tolerance, as the product's defaults give (8/s: 80 % of the 10/s budget).
PACE = Pace(per_s=8.0, early=timedelta(minutes=10), max_in_flight=1000)


def pending(n: int, kind: str, due_in: timedelta, *, first_id: int = 1) -> list[Claimable]:
    return [Claimable(first_id + i, kind, "pending", NOW + due_in) for i in range(n)]


def claims(rows: list[Claimable], pace: Pace = PACE, *, limit: int = 10_000) -> list[int]:
    return choose_claims(rows, pace, now=NOW, limit=limit)


def test_a_brief_due_in_8_minutes_goes_now_when_its_crowd_needs_more_than_8_minutes_of_budget() -> None:
    # 4,000 briefs due at one instant 8 minutes ahead need 500 s at 8/s: 480 s are left, so the first ones
    # must leave now, and the brief with the earliest slot is among them.
    crowd = pending(4000, "brief", timedelta(minutes=8))
    chosen = claims(crowd, limit=500)
    assert chosen[0] == 1
    # The 30 s horizon (the next tick, and a margin) covers the slots of the first 50 s of the 500 s the crowd
    # needs: 400 briefs. The rest wait for later ticks.
    assert chosen == list(range(1, 401))


def test_the_same_brief_alone_waits_for_its_time() -> None:
    assert claims(pending(1, "brief", timedelta(minutes=8))) == []
    assert claims(pending(1000, "brief", timedelta(minutes=8))) == []  # 125 s of budget: nothing needs to go yet


def test_a_lone_brief_goes_at_the_last_tick_before_it_would_be_late() -> None:
    assert claims(pending(1, "brief", timedelta(seconds=31))) == []
    assert claims(pending(1, "brief", timedelta(seconds=29))) == [1]


def test_reminders_other_than_briefs_never_go_early() -> None:
    for kind in ("due", "overdue", "escalation"):
        crowd = pending(5000, kind, timedelta(minutes=1))
        assert claims(crowd) == []
        assert claims(pending(5000, kind, timedelta(0))) == list(range(1, 1001))  # at their time, up to the bound


def test_other_reminders_in_the_window_take_their_share_of_the_budget_and_briefs_move_around_them() -> None:
    # 200 briefs due 40 s ahead need 25 s: alone, those whose slot falls within the 30 s horizon go now.
    briefs = pending(200, "brief", timedelta(seconds=40))
    assert claims(briefs) == list(range(1, 121))
    # 200 "due" reminders at 20 s hold the budget from 20 s to 45 s (they cannot move): every brief must
    # leave before them, so all go now.
    dues = pending(200, "due", timedelta(seconds=20), first_id=1001)
    assert claims(briefs + dues) == [r.id for r in briefs]
    # Due at the same instant as the briefs, they leave after it: the briefs fill the 25 s before.
    same = pending(200, "due", timedelta(seconds=40), first_id=1001)
    assert claims(briefs + same) == list(range(1, 122))


def test_no_brief_goes_earlier_than_the_tolerance() -> None:
    beyond = pending(100_000, "brief", timedelta(minutes=10, seconds=1))
    assert claims(beyond) == []
    assert claims(pending(5000, "brief", timedelta(minutes=5)), Pace(per_s=8.0, early=timedelta(0))) == []


def test_sends_already_ahead_push_briefs_earlier() -> None:
    # 300 claims unsent (37.5 s of budget) are ahead of a brief due in 60 s: with the 30 s horizon it must go
    # now to leave in time behind them.
    in_flight = [Claimable(i, "due", "sending", NOW, NOW + timedelta(minutes=2)) for i in range(1, 301)]
    brief = pending(1, "brief", timedelta(seconds=60), first_id=1000)
    assert claims(in_flight + brief) == [1000]
    assert claims(brief) == []


def test_due_rows_and_lost_claims_come_first_and_the_claims_in_flight_are_bounded() -> None:
    lost = Claimable(7, "due", "sending", NOW - timedelta(minutes=5), NOW - timedelta(seconds=1))
    live = [Claimable(100 + i, "due", "sending", NOW, NOW + timedelta(minutes=1)) for i in range(390)]
    due = pending(20, "overdue", -timedelta(seconds=5), first_id=1000)
    early = pending(5000, "brief", timedelta(minutes=5), first_id=5000)
    chosen = claims([*early, *due, lost, *live], Pace(per_s=8.0, early=timedelta(minutes=10), max_in_flight=400))
    assert chosen == [7, *range(1000, 1009)]  # 400 in flight at most: 390 live, the lost claim and 9 due rows


def test_latest_slots_lay_a_crowd_out_backwards_from_its_due_time_around_fixed_messages() -> None:
    def at(*seconds: float) -> list[datetime]:
        return [NOW + timedelta(seconds=s) for s in seconds]

    assert latest_slots(at(0, 10, 10, 10), [], 2.0) == at(0, 9, 9.5, 10)
    # A fixed message at 9.5 s: the briefs step back past it.
    assert latest_slots(at(0, 10, 10, 10), at(9.5), 2.0) == at(0, 8.5, 9, 10)
    # Two fixed at 9 s leave at 9 and 9.5 s.
    assert latest_slots(at(10, 10), at(9, 9), 2.0) == at(8.5, 10)
    assert latest_slots(at(10), at(20), 1.0) == at(10)  # later fixed messages change nothing
    assert latest_slots([], at(1), 1.0) == []


def test_pace_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        Pace(per_s=0)
    with pytest.raises(ValueError):
        Pace(per_s=1, early=-timedelta(seconds=1))


def test_ticks_fall_on_the_same_instants_in_every_worker() -> None:
    assert next_tick(NOW) == NOW + timedelta(seconds=15)
    assert next_tick(NOW + timedelta(seconds=14, microseconds=999_999)) == NOW + timedelta(seconds=15)
    assert next_tick(NOW + timedelta(seconds=15)) == NOW + timedelta(seconds=30)
