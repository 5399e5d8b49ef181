"""Reminder planning: which reminders an interviewer gets for one interview event, and when.

Invariants: the plan is a pure function of the event, the interviewer, the policy and `now` (the clock
is a parameter); follow-ups fall on the interviewer's business days outside their quiet hours, computed
in their own time zone with zoneinfo (so DST is handled); reconciling a plan with the stored reminders
only ever moves or skips *pending* rows, never ones being sent or already sent, and an unchanged plan
changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

import msgspec

from shared.blocks import zone

ReminderKind = Literal["brief", "due", "overdue", "escalation"]
ReminderState = Literal["pending", "sending", "sent", "skipped"]
KIND_ORDER: dict[str, int] = {"brief": 0, "due": 1, "overdue": 2, "escalation": 3}


class ReminderEvent(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    start: datetime
    end: datetime
    cancelled: bool = False  # the schedule was cancelled
    removed: bool = False  # the event disappeared from its schedule


class ReminderInterviewer(msgspec.Struct, frozen=True, kw_only=True):
    ashby_user_id: str
    feedback_required: bool = True  # False for shadows: they get the brief only
    tz: str | None = None  # the Slack profile's IANA zone; UTC when unknown


class ReminderPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Per organisation. Quiet hours wrap midnight when `quiet_start > quiet_end`; equal means none.
    `business_days` uses Python's weekday numbers (Monday = 0)."""

    brief_before: timedelta = timedelta(minutes=10)
    due_after: timedelta = timedelta(minutes=15)
    overdue_every: timedelta = timedelta(hours=24)
    overdue_max: int = 3
    quiet_start: time = time(20, 0)
    quiet_end: time = time(8, 0)
    business_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    escalate: bool = True

    def __post_init__(self) -> None:
        if self.brief_before < timedelta(0) or self.due_after < timedelta(0):
            raise ValueError("brief_before and due_after must not be negative")
        if self.overdue_every <= timedelta(0):
            raise ValueError("overdue_every must be positive")
        if self.overdue_max < 0:
            raise ValueError("overdue_max must not be negative")
        if not self.business_days or not self.business_days <= set(range(7)):
            raise ValueError("business_days must be a non-empty set of weekdays 0-6")
        if self.quiet_start.tzinfo is not None or self.quiet_end.tzinfo is not None:
            raise ValueError("quiet hours are local wall-clock times without a zone")


class PlannedReminder(msgspec.Struct, frozen=True):
    kind: ReminderKind
    sequence: int  # 1 for brief, due and escalation; 1..overdue_max for overdue
    due_at: datetime  # aware, UTC


class ExistingReminder(msgspec.Struct, frozen=True):
    kind: ReminderKind
    sequence: int
    state: ReminderState
    due_at: datetime


class Reschedule(NamedTuple):
    kind: ReminderKind
    sequence: int
    due_at: datetime


class Skip(NamedTuple):
    kind: ReminderKind
    sequence: int
    reason: str


class ReminderChanges(msgspec.Struct, frozen=True):
    insert: list[PlannedReminder]
    reschedule: list[Reschedule]
    skip: list[Skip]

    def __bool__(self) -> bool:
        return bool(self.insert or self.reschedule or self.skip)


# --- local time -----------------------------------------------------------------------------------


def _utc(at: datetime, name: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return at.astimezone(UTC)


def _quiet(local: time, policy: ReminderPolicy) -> bool:
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _wall(day: date, at: time, where: ZoneInfo) -> datetime:
    """The instant a local wall-clock reads `at` on `day`. In a spring-forward gap zoneinfo's fold=0 reads
    the time with the offset before the change, which lands just after the gap (02:30 → 03:30)."""
    return datetime.combine(day, at, tzinfo=where).astimezone(UTC).astimezone(where)


def next_allowed(at: datetime, where: ZoneInfo, policy: ReminderPolicy) -> datetime:
    """`at`, or the first later instant that is on a business day and outside quiet hours, in `where`."""
    local = at.astimezone(where)
    for _ in range(3 * 8):  # at most a week of days, each with at most two moves
        if local.weekday() not in policy.business_days:
            following = local.date() + timedelta(days=1)
            local = _wall(following, time(0), where)
        elif _quiet(local.time(), policy):
            day = local.date()
            if policy.quiet_start > policy.quiet_end and local.time() >= policy.quiet_start:
                day += timedelta(days=1)  # evening: quiet until tomorrow morning
            local = _wall(day, policy.quiet_end, where)
        else:
            return local.astimezone(UTC)
    raise AssertionError("no allowed time within a week; the policy validation should prevent this")


def _later(at: datetime, step: timedelta, where: ZoneInfo) -> datetime:
    """`step` after `at` on the local wall clock, so "every 24 h" stays at the same local time across a
    DST change (a person expects tomorrow 08:00, not 07:00)."""
    local = at.astimezone(where)
    naive = local.replace(tzinfo=None) + step
    moved = naive.replace(tzinfo=where).astimezone(UTC)
    # Wall-clock steps that straddle a DST change may shrink by an hour; never go backwards or stall.
    return moved if moved > at else at + step


# --- planning -------------------------------------------------------------------------------------


def plan_reminders(
    event: ReminderEvent, interviewer: ReminderInterviewer, policy: ReminderPolicy, *, now: datetime
) -> list[PlannedReminder]:
    """Every reminder this interviewer should get for `event`, in time order (UTC).

    - `brief` at start - brief_before, unless the event is already under way at `now`;
    - `due` at end + due_after (not shifted: it belongs to the end of the interview);
    - `overdue` 1..overdue_max, each overdue_every after the previous one, moved to the next business-day
      time outside quiet hours in the interviewer's zone;
    - one `escalation` at the slot after the last overdue, if the policy escalates.

    Shadows (feedback not required) get the brief only; a cancelled or removed event gets nothing.
    Reminders may lie before `now` (an event learned of late): that is for the dispatcher to handle.
    """
    start, end, now = _utc(event.start, "event.start"), _utc(event.end, "event.end"), _utc(now, "now")
    if event.cancelled or event.removed:
        return []
    plan: list[PlannedReminder] = []
    if now < start:
        plan.append(PlannedReminder("brief", 1, start - policy.brief_before))
    if not interviewer.feedback_required:
        return plan
    where = zone(interviewer.tz)
    due = max(end, start) + policy.due_after
    plan.append(PlannedReminder("due", 1, due))
    slot = due
    for sequence in range(1, policy.overdue_max + 1):
        slot = next_allowed(_later(slot, policy.overdue_every, where), where, policy)
        plan.append(PlannedReminder("overdue", sequence, slot))
    if policy.escalate:
        plan.append(
            PlannedReminder("escalation", 1, next_allowed(_later(slot, policy.overdue_every, where), where, policy))
        )
    return plan


def long_past(planned: Sequence[PlannedReminder], policy: ReminderPolicy, *, now: datetime) -> bool:
    """Whether the whole sequence ended more than one follow-up interval before `now`: an interview from the
    past (a first full sync brings years of them) or one learned of far too late. Nobody is reminded about
    it; a fleet that was down for less than an interval still catches up with one nudge."""
    now = _utc(now, "now")
    return bool(planned) and all(_utc(p.due_at, "due_at") < now - policy.overdue_every for p in planned)


def drop_missed(planned: Sequence[PlannedReminder], *, now: datetime) -> list[PlannedReminder]:
    """Of the due/overdue nudges already in the past (an event learned of late, or a worker fleet that was
    down), keep only the latest: the interviewer gets one nudge now instead of a burst."""
    now = _utc(now, "now")
    missed = [p for p in planned if p.kind in ("due", "overdue") and _utc(p.due_at, "due_at") <= now]
    if len(missed) <= 1:
        return list(planned)
    latest = max(missed, key=lambda p: p.due_at)
    return [p for p in planned if p not in missed or p is latest]


# --- reconciling ----------------------------------------------------------------------------------


def reconcile(
    existing: Sequence[ExistingReminder], planned: Sequence[PlannedReminder], *, skip_reason: str = "not_planned"
) -> ReminderChanges:
    """The changes that turn the stored reminders into `planned`, keyed by (kind, sequence).

    Pending rows move to their new time or are skipped with `skip_reason` when no longer planned (pass
    e.g. "event_cancelled" or "feedback_submitted" with an empty plan). Rows that are sending, sent or
    skipped are final: never moved, re-inserted or re-sent. Running it on its own result changes nothing.
    """
    stored = {(row.kind, row.sequence): row for row in existing}
    wanted = {(row.kind, row.sequence): row for row in planned}
    insert: list[PlannedReminder] = []
    reschedule: list[Reschedule] = []
    for key, plan in sorted(wanted.items(), key=lambda item: _order(item[1].kind, item[1].sequence)):
        row = stored.get(key)
        if row is None:
            insert.append(plan)
        elif row.state == "pending" and _utc(row.due_at, "due_at") != _utc(plan.due_at, "due_at"):
            reschedule.append(Reschedule(plan.kind, plan.sequence, _utc(plan.due_at, "due_at")))
    skip = [
        Skip(row.kind, row.sequence, skip_reason)
        for key, row in sorted(stored.items(), key=lambda item: _order(*item[0]))
        if row.state == "pending" and key not in wanted
    ]
    return ReminderChanges(insert=insert, reschedule=reschedule, skip=skip)


def _order(kind: str, sequence: int) -> tuple[int, int]:
    return KIND_ORDER.get(kind, len(KIND_ORDER)), sequence


# --- dispatching ----------------------------------------------------------------------------------


class Claimable(NamedTuple):
    """A reminder row the dispatcher may claim: pending, or sending under a lease."""

    id: int
    kind: str
    state: str  # pending | sending
    due_at: datetime
    lease_until: datetime | None = None


class Pace(msgspec.Struct, frozen=True, kw_only=True):
    """How the dispatcher spends the workspace's Slack budget (shared by every worker).

    `per_s` is the rate the plan counts on, a share of the budget (the rest is for what cannot move: due
    reminders, decisions, edits). `early` is the operator's tolerance (REMINDER_BRIEF_EARLY_MINUTES): how far
    ahead of its due time a brief may be claimed; nothing else is ever claimed before its time. `horizon` is
    how long a row left unclaimed now may wait for a later dispatch: the tick interval and a margin.
    `max_in_flight` bounds the claims not yet sent: each claimed send must start within its lease."""

    per_s: float
    early: timedelta = timedelta(0)
    horizon: timedelta = timedelta(seconds=30)
    max_in_flight: int = 400

    def __post_init__(self) -> None:
        if self.per_s <= 0:
            raise ValueError("per_s must be positive")
        if self.early < timedelta(0) or self.horizon < timedelta(0):
            raise ValueError("early and horizon must not be negative")


def latest_slots(briefs: Sequence[datetime], fixed: Sequence[datetime], per_s: float) -> list[datetime]:
    """The latest instant each brief can leave so that no brief is late, with messages leaving one after another
    at `per_s`: `briefs` are the due times of messages that may go early (ascending), `fixed` those of
    messages that leave at their due time, not before (ascending). Walking back from the last brief, each
    takes its own due time or one interval before the next brief's slot, whichever comes first, and steps
    back past the intervals the fixed messages hold."""
    gap = timedelta(seconds=1 / per_s)
    held: list[datetime] = []  # when each fixed message leaves: its due time, or behind the one before it
    for due in fixed:
        held.append(due if not held else max(due, held[-1] + gap))
    slots: list[datetime] = []
    upcoming = len(held) - 1
    for due in reversed(briefs):
        slot = due if not slots else min(due, slots[-1] - gap)
        while upcoming >= 0 and held[upcoming] > slot - gap:
            if held[upcoming] < slot + gap:  # the two would overlap: leave before the fixed one
                slot = held[upcoming] - gap
            upcoming -= 1
        slots.append(slot)
    return slots[::-1]


def choose_claims(rows: Sequence[Claimable], pace: Pace, *, now: datetime, limit: int) -> list[int]:
    """The ids to claim now, in the order their sends should go: rows that are due, claims whose lease ran out
    (their worker died), then the briefs that must leave early for every brief to leave in time.

    `rows`: the pending and sending reminders due up to `now + pace.early`. Within that window the briefs are
    laid out backwards from their due times at `pace.per_s`, around the other reminders, which leave at their
    time (`latest_slots`). A brief is claimed once its slot is so near that it could not wait for the next
    dispatch and still leave in time behind the claims already ahead of it. Alone, that is the last tick
    before its due time (never late, at most `horizon` early); in a crowd, as early as the budget needs, and
    never more than `pace.early`. At most `limit` ids, and never more than `pace.max_in_flight` claims unsent.
    """
    now = _utc(now, "now")
    in_flight = sum(1 for r in rows if r.state == "sending" and r.lease_until is not None and r.lease_until >= now)
    ready = sorted((r for r in rows if _ready(r, now)), key=lambda r: (r.due_at, r.id))
    window = sorted(
        (r for r in rows if r.state == "pending" and now < r.due_at <= now + pace.early), key=lambda r: (r.due_at, r.id)
    )
    briefs = [r for r in window if r.kind == "brief"]
    fixed = [r.due_at for r in window if r.kind != "brief"]
    frontier = now + pace.horizon + timedelta(seconds=(in_flight + len(ready)) / pace.per_s)
    slots = latest_slots([r.due_at for r in briefs], fixed, pace.per_s)
    early = [r.id for r, slot in zip(briefs, slots, strict=True) if slot <= frontier]
    room = max(0, min(limit, pace.max_in_flight - in_flight))
    return ([r.id for r in ready] + early)[:room]


def _ready(row: Claimable, now: datetime) -> bool:
    if row.state == "pending":
        return row.due_at <= now
    return row.state == "sending" and row.lease_until is not None and row.lease_until < now
