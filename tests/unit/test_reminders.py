"""Reminder planning: briefs, follow-ups in the interviewer's business hours and zone (DST included), and
reconciling plans with stored reminders without ever re-sending."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest

from shared.reminders import (
    ExistingReminder,
    PlannedReminder,
    ReminderChanges,
    ReminderEvent,
    ReminderInterviewer,
    ReminderPolicy,
    Reschedule,
    Skip,
    next_allowed,
    plan_reminders,
    reconcile,
)

POLICY = ReminderPolicy()
TOKYO, LOS_ANGELES, BERLIN = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/Los_Angeles"), ZoneInfo("Europe/Berlin")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(where: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=where)


def event(start: datetime, minutes: int = 60, **flags: bool) -> ReminderEvent:
    return ReminderEvent(id="ev1", start=start, end=start + timedelta(minutes=minutes), **flags)


def person(tz: str | None = None, *, required: bool = True) -> ReminderInterviewer:
    return ReminderInterviewer(ashby_user_id="u1", feedback_required=required, tz=tz)


def kinds(plan: list[PlannedReminder]) -> list[tuple[str, int]]:
    return [(reminder.kind, reminder.sequence) for reminder in plan]


def times(plan: list[PlannedReminder], where: ZoneInfo) -> list[str]:
    """Local wall-clock times, the way the interviewer would read them."""
    return [f"{reminder.due_at.astimezone(where):%a %Y-%m-%d %H:%M %Z}" for reminder in plan]


FULL = [("brief", 1), ("due", 1), ("overdue", 1), ("overdue", 2), ("overdue", 3), ("escalation", 1)]


# --- plan_reminders -------------------------------------------------------------------------------


def test_a_midweek_interview_in_utc() -> None:
    plan = plan_reminders(event(utc(2025, 3, 4, 10)), person("UTC"), POLICY, now=utc(2025, 3, 3, 9))
    assert kinds(plan) == FULL
    assert [reminder.due_at for reminder in plan] == [
        utc(2025, 3, 4, 9, 50),  # brief: 10 min before the start
        utc(2025, 3, 4, 11, 15),  # due: 15 min after the end
        utc(2025, 3, 5, 11, 15),
        utc(2025, 3, 6, 11, 15),
        utc(2025, 3, 7, 11, 15),  # Friday
        utc(2025, 3, 10, 8, 0),  # Saturday 11:15 moves to Monday 08:00
    ]
    assert all(reminder.due_at.tzinfo is UTC for reminder in plan)


def test_a_panel_with_a_shadow() -> None:
    interview = event(utc(2025, 3, 4, 10))
    now = utc(2025, 3, 3, 9)
    lead = plan_reminders(interview, person("Europe/Berlin"), POLICY, now=now)
    shadow = plan_reminders(interview, person("Europe/Berlin", required=False), POLICY, now=now)
    assert kinds(lead) == FULL
    assert shadow == [PlannedReminder("brief", 1, utc(2025, 3, 4, 9, 50))]


def test_the_brief_is_skipped_once_the_interview_is_under_way() -> None:
    interview = event(utc(2025, 3, 4, 10))
    at_start = plan_reminders(interview, person(), POLICY, now=utc(2025, 3, 4, 10))
    during = plan_reminders(interview, person(), POLICY, now=utc(2025, 3, 4, 10, 30))
    assert kinds(at_start) == kinds(during) == FULL[1:]
    assert plan_reminders(interview, person(required=False), POLICY, now=utc(2025, 3, 4, 10)) == []


def test_a_brief_planned_late_is_still_sent_before_the_start() -> None:
    # Scheduled 5 minutes before it starts: the brief's time has passed, but it is still useful.
    plan = plan_reminders(event(utc(2025, 3, 4, 10)), person(), POLICY, now=utc(2025, 3, 4, 9, 55))
    assert plan[0] == PlannedReminder("brief", 1, utc(2025, 3, 4, 9, 50))


@pytest.mark.parametrize("flag", ["cancelled", "removed"])
def test_cancelled_or_removed_events_get_nothing(flag: str) -> None:
    interview = event(utc(2025, 3, 4, 10), **{flag: True})
    assert plan_reminders(interview, person(), POLICY, now=utc(2025, 3, 3)) == []


def test_tokyo_friday_afternoon_follow_ups_wait_for_monday_morning() -> None:
    interview = event(local(TOKYO, 2025, 3, 7, 16))  # Friday
    plan = plan_reminders(interview, person("Asia/Tokyo"), POLICY, now=utc(2025, 3, 1))
    assert times(plan, TOKYO) == [
        "Fri 2025-03-07 15:50 JST",
        "Fri 2025-03-07 17:15 JST",
        "Mon 2025-03-10 08:00 JST",
        "Tue 2025-03-11 08:00 JST",
        "Wed 2025-03-12 08:00 JST",
        "Thu 2025-03-13 08:00 JST",
    ]
    # Monday 08:00 in Tokyo is still Sunday in UTC: the zone, not UTC, decides.
    assert plan[2].due_at == utc(2025, 3, 9, 23)


def test_los_angeles_evening_follow_ups_move_out_of_quiet_hours() -> None:
    interview = event(local(LOS_ANGELES, 2025, 6, 10, 18, 45))  # Tuesday, ends 19:45
    plan = plan_reminders(interview, person("America/Los_Angeles"), POLICY, now=utc(2025, 6, 1))
    assert times(plan, LOS_ANGELES) == [
        "Tue 2025-06-10 18:35 PDT",
        "Tue 2025-06-10 20:00 PDT",  # "due" belongs to the end of the interview: not shifted
        "Thu 2025-06-12 08:00 PDT",  # Wednesday 20:00 is quiet
        "Fri 2025-06-13 08:00 PDT",
        "Mon 2025-06-16 08:00 PDT",  # Saturday skipped
        "Tue 2025-06-17 08:00 PDT",
    ]


def test_berlin_early_follow_ups_wait_for_the_end_of_quiet_hours() -> None:
    interview = event(local(BERLIN, 2025, 6, 10, 6), minutes=45)  # Tuesday 06:00-06:45
    plan = plan_reminders(interview, person("Europe/Berlin"), POLICY, now=utc(2025, 6, 1))
    assert times(plan, BERLIN)[1:4] == [
        "Tue 2025-06-10 07:00 CEST",
        "Wed 2025-06-11 08:00 CEST",
        "Thu 2025-06-12 08:00 CEST",
    ]


def test_the_same_interview_lands_differently_per_interviewer_zone() -> None:
    interview = event(utc(2025, 6, 13, 14))  # Friday 14:00 UTC
    now = utc(2025, 6, 1)
    by_zone = {
        name: plan_reminders(interview, person(name), POLICY, now=now)[2].due_at
        for name in ("Asia/Tokyo", "Europe/Berlin", "America/Los_Angeles")
    }
    assert by_zone == {
        "Asia/Tokyo": utc(2025, 6, 15, 23),  # Mon 08:00 JST
        "Europe/Berlin": utc(2025, 6, 16, 6),  # Mon 08:00 CEST
        "America/Los_Angeles": utc(2025, 6, 16, 15),  # Mon 08:00 PDT
    }


@pytest.mark.parametrize("tz", [None, "", "Not/AZone", "../../etc/passwd"])
def test_an_unknown_zone_means_utc(tz: str | None) -> None:
    plan = plan_reminders(event(utc(2025, 3, 7, 16)), person(tz), POLICY, now=utc(2025, 3, 1))
    assert plan[2].due_at == utc(2025, 3, 10, 8)


# --- DST ------------------------------------------------------------------------------------------


def test_monday_morning_after_the_spring_forward_is_pdt() -> None:
    # Clocks in Los Angeles go forward on Sunday 2025-03-09.
    interview = event(local(LOS_ANGELES, 2025, 3, 7, 16))  # Friday, PST
    plan = plan_reminders(interview, person("America/Los_Angeles"), POLICY, now=utc(2025, 3, 1))
    assert plan[1].due_at == utc(2025, 3, 8, 1, 15)  # Friday 17:15 PST
    assert plan[2].due_at == utc(2025, 3, 10, 15)  # Monday 08:00 PDT (16:00 UTC would be 09:00)
    assert times(plan, LOS_ANGELES)[2:] == [
        "Mon 2025-03-10 08:00 PDT",
        "Tue 2025-03-11 08:00 PDT",
        "Wed 2025-03-12 08:00 PDT",
        "Thu 2025-03-13 08:00 PDT",
    ]


def test_every_24_hours_keeps_the_local_time_across_a_dst_change() -> None:
    every_day = ReminderPolicy(business_days=frozenset(range(7)))
    interview = event(local(BERLIN, 2025, 3, 28, 9), minutes=45)  # Friday; Berlin springs forward on Sunday
    plan = plan_reminders(interview, person("Europe/Berlin"), every_day, now=utc(2025, 3, 1))
    assert times(plan, BERLIN)[1:] == [
        "Fri 2025-03-28 10:00 CET",
        "Sat 2025-03-29 10:00 CET",
        "Sun 2025-03-30 10:00 CEST",  # 23 hours later in UTC, the same time on the wall
        "Mon 2025-03-31 10:00 CEST",
        "Tue 2025-04-01 10:00 CEST",
    ]


def test_every_24_hours_across_the_autumn_change() -> None:
    every_day = ReminderPolicy(business_days=frozenset(range(7)))
    interview = event(local(LOS_ANGELES, 2025, 11, 1, 9), minutes=45)  # clocks go back on Sunday 2025-11-02
    plan = plan_reminders(interview, person("America/Los_Angeles"), every_day, now=utc(2025, 10, 1))
    assert times(plan, LOS_ANGELES)[1:3] == ["Sat 2025-11-01 10:00 PDT", "Sun 2025-11-02 10:00 PST"]
    assert plan[2].due_at - plan[1].due_at == timedelta(hours=25)


def test_quiet_hours_ending_inside_the_spring_forward_gap() -> None:
    policy = ReminderPolicy(quiet_start=time(22), quiet_end=time(2, 30), business_days=frozenset(range(7)))
    # Saturday 23:00 in Berlin is quiet until 02:30 on Sunday 2025-03-30, a time that does not exist.
    moved = next_allowed(local(BERLIN, 2025, 3, 29, 23), BERLIN, policy)
    assert moved == local(BERLIN, 2025, 3, 30, 3, 30)
    assert f"{moved.astimezone(BERLIN):%H:%M %Z}" == "03:30 CEST"


def test_quiet_hours_ending_at_an_ambiguous_time_take_the_first() -> None:
    policy = ReminderPolicy(quiet_start=time(22), quiet_end=time(1, 30), business_days=frozenset(range(7)))
    moved = next_allowed(local(LOS_ANGELES, 2025, 11, 1, 23), LOS_ANGELES, policy)
    assert moved == utc(2025, 11, 2, 8, 30)  # 01:30 PDT, the first of the two 01:30s


# --- policies -------------------------------------------------------------------------------------


def test_no_escalation_when_the_policy_says_so() -> None:
    policy = ReminderPolicy(escalate=False)
    plan = plan_reminders(event(utc(2025, 3, 4, 10)), person(), policy, now=utc(2025, 3, 1))
    assert kinds(plan) == FULL[:-1]


def test_no_overdue_reminders_escalates_one_slot_after_due() -> None:
    policy = ReminderPolicy(overdue_max=0)
    plan = plan_reminders(event(utc(2025, 3, 4, 10)), person(), policy, now=utc(2025, 3, 1))
    assert kinds(plan) == [("brief", 1), ("due", 1), ("escalation", 1)]
    assert plan[-1].due_at == utc(2025, 3, 5, 11, 15)


def test_a_custom_policy() -> None:
    policy = ReminderPolicy(
        brief_before=timedelta(minutes=30),
        due_after=timedelta(0),
        overdue_every=timedelta(hours=4),
        overdue_max=5,
        quiet_start=time(18),
        quiet_end=time(9),
        business_days=frozenset({6, 0, 1, 2, 3}),  # Sunday to Thursday
    )
    interview = event(utc(2025, 6, 12, 12))  # Thursday 12:00-13:00 UTC
    plan = plan_reminders(interview, person("UTC"), policy, now=utc(2025, 6, 1))
    assert times(plan, ZoneInfo("UTC")) == [
        "Thu 2025-06-12 11:30 UTC",
        "Thu 2025-06-12 13:00 UTC",
        "Thu 2025-06-12 17:00 UTC",
        "Sun 2025-06-15 09:00 UTC",  # Thursday 21:00 is quiet, Friday and Saturday are not work days
        "Sun 2025-06-15 13:00 UTC",
        "Sun 2025-06-15 17:00 UTC",
        "Mon 2025-06-16 09:00 UTC",
        "Mon 2025-06-16 13:00 UTC",
    ]


def test_no_quiet_hours_when_start_equals_end() -> None:
    policy = ReminderPolicy(quiet_start=time(0), quiet_end=time(0), business_days=frozenset(range(7)))
    assert next_allowed(utc(2025, 3, 1, 3), ZoneInfo("UTC"), policy) == utc(2025, 3, 1, 3)


def test_daytime_quiet_hours_that_do_not_wrap_midnight() -> None:
    lunch = ReminderPolicy(quiet_start=time(12), quiet_end=time(13), business_days=frozenset(range(7)))
    assert next_allowed(utc(2025, 3, 1, 12, 30), ZoneInfo("UTC"), lunch) == utc(2025, 3, 1, 13)
    assert next_allowed(utc(2025, 3, 1, 13), ZoneInfo("UTC"), lunch) == utc(2025, 3, 1, 13)


@pytest.mark.parametrize(
    "overrides",
    [
        {"overdue_every": timedelta(0)},
        {"overdue_max": -1},
        {"brief_before": timedelta(minutes=-1)},
        {"business_days": frozenset()},
        {"business_days": frozenset({7})},
        {"quiet_start": time(20, tzinfo=UTC)},
    ],
)
def test_invalid_policies_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ReminderPolicy(**overrides)  # type: ignore[arg-type]


def test_the_policy_round_trips_through_msgspec() -> None:
    policy = ReminderPolicy(business_days=frozenset({0, 2}), quiet_start=time(21, 30))
    assert msgspec.json.decode(msgspec.json.encode(policy), type=ReminderPolicy) == policy


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        plan_reminders(event(datetime(2025, 3, 4, 10)), person(), POLICY, now=utc(2025, 3, 1))
    with pytest.raises(ValueError, match="aware"):
        plan_reminders(event(utc(2025, 3, 4, 10)), person(), POLICY, now=datetime(2025, 3, 1))


def test_planning_is_deterministic_and_follow_ups_always_respect_the_policy() -> None:
    rng = random.Random(20250307)
    zones = ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"]
    policies = [
        POLICY,
        ReminderPolicy(overdue_every=timedelta(hours=5), overdue_max=6),
        ReminderPolicy(quiet_start=time(9), quiet_end=time(17), business_days=frozenset({5, 6})),
    ]
    for _ in range(400):
        start = utc(2025, 1, 1) + timedelta(minutes=rng.randrange(0, 365 * 24 * 60, 5))
        tz, policy = rng.choice(zones), rng.choice(policies)
        interview = event(start, minutes=rng.choice([30, 45, 60, 240]))
        plan = plan_reminders(interview, person(tz), policy, now=start - timedelta(days=1))
        assert plan == plan_reminders(interview, person(tz), policy, now=start - timedelta(days=1))
        assert kinds(plan)[:2] == [("brief", 1), ("due", 1)]
        instants = [reminder.due_at for reminder in plan]
        assert instants == sorted(instants) and len(set(instants)) == len(instants)
        where = ZoneInfo(tz)
        for reminder in plan[2:]:
            wall = reminder.due_at.astimezone(where)
            assert wall.weekday() in policy.business_days, (tz, reminder)
            start_q, end_q = policy.quiet_start, policy.quiet_end
            quiet = (
                (wall.time() >= start_q or wall.time() < end_q) if start_q > end_q else start_q <= wall.time() < end_q
            )
            assert not quiet, (tz, reminder)


# --- reconcile ------------------------------------------------------------------------------------


def stored(plan: list[PlannedReminder], **states: str) -> list[ExistingReminder]:
    """The rows the plan would have become, with some states overridden ("due_1": "sent")."""
    return [
        ExistingReminder(r.kind, r.sequence, states.get(f"{r.kind}_{r.sequence}", "pending"), r.due_at)  # type: ignore[arg-type]
        for r in plan
    ]


def apply(existing: list[ExistingReminder], changes: ReminderChanges) -> list[ExistingReminder]:
    """What the shell's SQL would do with the changes."""
    rows = {(row.kind, row.sequence): row for row in existing}
    for move in changes.reschedule:
        rows[(move.kind, move.sequence)] = msgspec.structs.replace(rows[(move.kind, move.sequence)], due_at=move.due_at)
    for skip in changes.skip:
        rows[(skip.kind, skip.sequence)] = msgspec.structs.replace(rows[(skip.kind, skip.sequence)], state="skipped")
    for new in changes.insert:
        rows[(new.kind, new.sequence)] = ExistingReminder(new.kind, new.sequence, "pending", new.due_at)
    return list(rows.values())


INTERVIEW = event(utc(2025, 3, 4, 10))
BEFORE = utc(2025, 3, 3, 9)


def test_a_fresh_plan_is_inserted_whole() -> None:
    plan = plan_reminders(INTERVIEW, person(), POLICY, now=BEFORE)
    changes = reconcile([], plan)
    assert changes == ReminderChanges(insert=plan, reschedule=[], skip=[])
    assert changes


def test_an_identical_plan_changes_nothing() -> None:
    plan = plan_reminders(INTERVIEW, person(), POLICY, now=BEFORE)
    changes = reconcile(stored(plan, brief_1="sent", due_1="sending"), plan)
    assert changes == ReminderChanges(insert=[], reschedule=[], skip=[])
    assert not changes


def test_the_same_instant_in_another_zone_is_not_a_change() -> None:
    plan = plan_reminders(INTERVIEW, person(), POLICY, now=BEFORE)
    in_berlin = [msgspec.structs.replace(row, due_at=row.due_at.astimezone(BERLIN)) for row in stored(plan)]
    assert not reconcile(in_berlin, plan)


def test_a_reschedule_moves_pending_reminders_and_leaves_sent_ones() -> None:
    first = plan_reminders(INTERVIEW, person(), POLICY, now=BEFORE)
    existing = stored(first, brief_1="sent")
    moved = event(utc(2025, 3, 4, 14))
    second = plan_reminders(moved, person(), POLICY, now=utc(2025, 3, 4, 9, 55))
    changes = reconcile(existing, second)
    assert changes.insert == []
    assert changes.skip == []
    assert changes.reschedule == [
        Reschedule("due", 1, utc(2025, 3, 4, 15, 15)),
        Reschedule("overdue", 1, utc(2025, 3, 5, 15, 15)),
        Reschedule("overdue", 2, utc(2025, 3, 6, 15, 15)),
        Reschedule("overdue", 3, utc(2025, 3, 7, 15, 15)),
        # escalation: still Monday 08:00, unchanged
    ]
    assert not reconcile(apply(existing, changes), second)  # idempotent once applied


def test_rows_being_sent_or_sent_are_never_moved_or_reinserted() -> None:
    first = plan_reminders(INTERVIEW, person(), POLICY, now=BEFORE)
    existing = stored(first, brief_1="sent", due_1="sending", overdue_1="skipped")
    later = plan_reminders(event(utc(2025, 3, 4, 16)), person(), POLICY, now=BEFORE)
    changes = reconcile(existing, later)
    touched = {(row.kind, row.sequence) for row in changes.reschedule} | {(r.kind, r.sequence) for r in changes.insert}
    assert not touched & {("brief", 1), ("due", 1), ("overdue", 1)}


def test_a_cancellation_skips_pending_reminders_only() -> None:
    plan = plan_reminders(INTERVIEW, person(), POLICY, now=BEFORE)
    existing = stored(plan, brief_1="sent", due_1="sending")
    cancelled = plan_reminders(event(utc(2025, 3, 4, 10), cancelled=True), person(), POLICY, now=BEFORE)
    changes = reconcile(existing, cancelled, skip_reason="event_cancelled")
    assert changes == ReminderChanges(
        insert=[],
        reschedule=[],
        skip=[
            Skip("overdue", 1, "event_cancelled"),
            Skip("overdue", 2, "event_cancelled"),
            Skip("overdue", 3, "event_cancelled"),
            Skip("escalation", 1, "event_cancelled"),
        ],
    )
    after = apply(existing, changes)
    assert not reconcile(after, cancelled, skip_reason="event_cancelled")
    assert {row.state for row in after} == {"sent", "sending", "skipped"}


def test_feedback_submitted_stops_everything_still_pending() -> None:
    plan = plan_reminders(INTERVIEW, person(), POLICY, now=BEFORE)
    changes = reconcile(stored(plan, brief_1="sent", due_1="sent"), [], skip_reason="feedback_submitted")
    assert [skip.reason for skip in changes.skip] == ["feedback_submitted"] * 4


def test_a_brief_not_sent_by_the_start_is_skipped() -> None:
    plan = plan_reminders(INTERVIEW, person(), POLICY, now=BEFORE)
    replanned = plan_reminders(INTERVIEW, person(), POLICY, now=utc(2025, 3, 4, 10, 1))
    assert reconcile(stored(plan), replanned) == ReminderChanges(
        insert=[], reschedule=[], skip=[Skip("brief", 1, "not_planned")]
    )


def test_becoming_a_shadow_skips_the_follow_ups() -> None:
    plan = plan_reminders(INTERVIEW, person(), POLICY, now=BEFORE)
    as_shadow = plan_reminders(INTERVIEW, person(required=False), POLICY, now=BEFORE)
    changes = reconcile(stored(plan, brief_1="sent"), as_shadow)
    assert [(skip.kind, skip.sequence) for skip in changes.skip] == FULL[1:]
    assert changes.insert == []
    assert changes.reschedule == []


def test_a_longer_policy_inserts_only_the_new_reminders() -> None:
    plan = plan_reminders(INTERVIEW, person(), POLICY, now=BEFORE)
    longer = plan_reminders(INTERVIEW, person(), ReminderPolicy(overdue_max=4), now=BEFORE)
    changes = reconcile(stored(plan, brief_1="sent", due_1="sent"), longer)
    assert [(row.kind, row.sequence) for row in changes.insert] == [("overdue", 4)]
    assert changes.reschedule == [Reschedule("escalation", 1, utc(2025, 3, 11, 8))]
    assert changes.skip == []


def test_skipped_reminders_are_not_revived() -> None:
    plan = plan_reminders(INTERVIEW, person(), POLICY, now=BEFORE)
    existing = [msgspec.structs.replace(row, state="skipped") for row in stored(plan)]
    assert not reconcile(existing, plan)


def test_drop_missed_keeps_one_nudge_for_an_event_learned_of_late() -> None:
    from datetime import UTC, datetime, timedelta

    from shared.reminders import ReminderEvent, ReminderInterviewer, ReminderPolicy, drop_missed, plan_reminders

    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
    event = ReminderEvent(id="e", start=start, end=start + timedelta(hours=1))
    now = start + timedelta(days=2, hours=3)  # due and overdue #1 and #2 have passed
    plan = plan_reminders(event, ReminderInterviewer(ashby_user_id="u"), ReminderPolicy(), now=now)
    kept = drop_missed(plan, now=now)
    past = [p for p in kept if p.due_at <= now]
    assert [(p.kind, p.sequence) for p in past] == [("overdue", 2)]
    assert [(p.kind, p.sequence) for p in kept if p.due_at > now] == [("overdue", 3), ("escalation", 1)]
    assert drop_missed(plan, now=start) == plan  # nothing past: unchanged


def test_an_interview_whose_whole_sequence_ended_long_ago_is_long_past() -> None:
    from shared.reminders import long_past

    start = utc(2026, 3, 2, 10)  # a Monday
    plan = plan_reminders(event(start), person(), POLICY, now=start - timedelta(days=1))
    escalation = plan[-1].due_at
    assert kinds(plan) == FULL
    assert not long_past(plan, POLICY, now=start)
    # The fleet was down over the escalation: within one follow-up interval it still catches up...
    assert not long_past(plan, POLICY, now=escalation + POLICY.overdue_every - timedelta(minutes=1))
    # ...but an interview from last year (a first full sync brings years of them) reminds nobody.
    assert long_past(plan, POLICY, now=escalation + POLICY.overdue_every + timedelta(minutes=1))
    assert long_past(plan, POLICY, now=start + timedelta(days=365))
    assert not long_past([], POLICY, now=start + timedelta(days=365))
