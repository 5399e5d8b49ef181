"""The App Home tab and the `/feedback` answer (pure Block Kit): the feedback a person owes, oldest first, each
with the reminders' "Open feedback form" button; the decisions awaiting their approval with the decision
messages' Approve / Reject / Hold buttons; the candidates waiting on feedback and who is missing; their
upcoming interviews.

Invariant: within Slack's limits whatever the input: each list shows at most its cap (sized so that every
list full stays under 100 blocks for the Home tab, 50 for a message), the rest is counted in a last line, and
every text is cut to fit. Names and titles only, never contact details.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from shared.advancement.messages import APPROVE, HOLD, REJECT
from shared.blocks import FALLBACK_TEXT_MAX, MESSAGE_MAX_BLOCKS, OPEN_FEEDBACK_FORM, mrkdwn, time_range_text, zone
from shared.db.home import Home, Listed, OwedFeedback, PendingDecision, UpcomingInterview, WaitingCandidate
from shared.modal_cache import modal_key
from shared.payloads.slack_events import is_user_id

HOME_MAX_BLOCKS = 100
MISSING_TEXT_MAX = 1000
UNMATCHED = (
    "Your Slack account is not matched to a user in Ashby (by e-mail), so there is nothing to show here yet. "
    "If you interview or hire through Ashby, ask the team that runs this app to map you."
)


@dataclass(frozen=True)
class Caps:
    """How many items of each list a surface shows."""

    owed: int
    decisions: int
    waiting: int
    upcoming: int


# Full: 4 headers + 3 dividers + 1 last line + 30 + 2 x 10 + 20 + 10 = 88 blocks of the Home tab's 100.
HOME_CAPS = Caps(owed=30, decisions=10, waiting=20, upcoming=10)
# Full: 4 + 3 + 1 + 12 + 2 x 4 + 8 + 5 = 41 blocks of a message's 50.
MESSAGE_CAPS = Caps(owed=12, decisions=4, waiting=8, upcoming=5)
# How many rows of each list to read: the most any surface shows.
FETCH_LIMIT = max(HOME_CAPS.owed, HOME_CAPS.decisions, HOME_CAPS.waiting, HOME_CAPS.upcoming)


def home_view(home: Home, *, now: datetime) -> dict[str, Any]:
    """The view for `views.publish`."""
    return {"type": "home", "blocks": _surface(home, HOME_CAPS, now=now, max_blocks=HOME_MAX_BLOCKS)}


def feedback_message(home: Home, *, now: datetime) -> tuple[str, list[dict[str, Any]]]:
    """The ephemeral answer to `/feedback`: the same lists, shorter; returns (fallback text, blocks)."""
    owed = home.owed.total
    text = f"You owe feedback for {owed} interview(s)." if owed else "You owe no interview feedback."
    return text[:FALLBACK_TEXT_MAX], _surface(home, MESSAGE_CAPS, now=now, max_blocks=MESSAGE_MAX_BLOCKS)


def _surface(home: Home, caps: Caps, *, now: datetime, max_blocks: int) -> list[dict[str, Any]]:
    tz = home.tz
    if not home.known and not home.oversees:  # an admin decides approvals whether or not they are in Ashby
        return [SectionBlock(text=MarkdownTextObject(text=UNMATCHED)).to_dict()]
    lists: list[tuple[str, str, Listed, int, Callable[[Any], list[Block]]]] = [
        ("Feedback you owe", "You owe no feedback. ✅", home.owed, caps.owed, lambda i: _owed(i, tz)),
    ]
    if home.oversees:
        lists += [
            ("Decisions awaiting your approval", "Nothing awaits your approval.", home.decisions, caps.decisions,
             _decision),
            ("Candidates waiting on feedback", "No candidate is waiting on feedback.", home.waiting, caps.waiting,
             lambda i: _waiting(i, tz)),
        ]  # fmt: skip
    lists.append(
        ("Your upcoming interviews", "No interviews in the next two weeks.", home.upcoming, caps.upcoming,
         lambda i: _upcoming(i, tz))
    )  # fmt: skip
    blocks: list[Block] = []
    not_shown: list[str] = []
    for title, empty, listed, cap, render in lists:
        if blocks:
            blocks.append(DividerBlock())
        blocks.append(HeaderBlock(text=f"{title} ({listed.total})" if listed.total else title))
        shown = listed.items[:cap]
        for item in shown:
            blocks += render(item)
        if not shown:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=empty)]))
        hidden = listed.total - len(shown)
        if hidden > 0:
            not_shown.append(f"{hidden} more under “{title}”")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_last_line(now, tz, not_shown))]))
    if len(blocks) > max_blocks:  # a bug in the caps above, not an input problem
        raise ValueError(f"{len(blocks)} blocks exceed Slack's {max_blocks}")
    return [b.to_dict() for b in blocks]


def _owed(item: OwedFeedback, tz: str | None) -> list[Block]:
    lines = [_who_and_what(item.candidate_name, item.interview_title)]
    if item.job_title:
        lines.append(f"*Role:* {mrkdwn(item.job_title, 200)}")
    lines.append(f"*Ended:* {_date(item.end, tz)}")
    button = ButtonElement(
        text="Open form",
        action_id=OPEN_FEEDBACK_FORM,
        value=modal_key(item.event_id, item.interviewer_id),
        style="primary",
    )
    return [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)), accessory=button)]


def _decision(item: PendingDecision) -> list[Block]:
    candidate = item.candidate_name or "The candidate"
    title = {
        "advance": f"Advance {candidate} to {item.to_stage or 'the next stage'}?",
        "reject": f"Reject {candidate}?",
    }.get(item.outcome, f"{candidate} needs a decision")
    where = " · ".join(mrkdwn(part, 150) for part in (item.job_title, item.from_stage) if part)
    lines = [f"*{mrkdwn(title, 250)}*", *([where] if where else []), f"*Why:* {mrkdwn(item.reason, 300)}"]
    value = str(item.id)
    buttons = [
        ButtonElement(text="Approve", action_id=APPROVE, value=value, style="primary"),
        ButtonElement(text="Reject", action_id=REJECT, value=value, style="danger"),
        ButtonElement(text="Hold", action_id=HOLD, value=value),
    ]
    return [SectionBlock(text=MarkdownTextObject(text="\n".join(lines))), ActionsBlock(elements=buttons)]


def _waiting(item: WaitingCandidate, tz: str | None) -> list[Block]:
    head = [f"*{mrkdwn(item.candidate_name or 'A candidate', 200)}*"]
    head += [mrkdwn(part, 150) for part in (item.job_title, item.stage_title) if part]
    lines = [" · ".join(head), f"*Missing:* {_missing(item)}", f"*Waiting since:* {_date(item.since, tz)}"]
    return [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]


def _missing(item: WaitingCandidate) -> str:
    """Who is missing and for which interview, within MISSING_TEXT_MAX; a mention is never cut in half."""
    out = ""
    for index, person in enumerate(item.missing):
        who = f"<@{person.slack_user_id}>" if is_user_id(person.slack_user_id) else mrkdwn(person.name, 100)
        piece = f"{who} ({mrkdwn(person.interview_title or 'an interview', 100)})"
        piece = f", {piece}" if out else piece
        if len(out) + len(piece) > MISSING_TEXT_MAX - 20:  # room for " and N more"
            return f"{out} and {len(item.missing) - index} more"
        out += piece
    return out


def _upcoming(item: UpcomingInterview, tz: str | None) -> list[Block]:
    lines = [_who_and_what(item.candidate_name, item.interview_title)]
    if item.job_title:
        lines.append(f"*Role:* {mrkdwn(item.job_title, 200)}")
    lines.append(f"*When:* {time_range_text(item.start, item.end, tz)}")
    return [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]


def _who_and_what(candidate: str | None, interview: str | None) -> str:
    return f"*{mrkdwn(candidate or 'A candidate', 200)}* · {mrkdwn(interview or 'Interview', 200)}"


def _date(at: datetime, tz: str | None) -> str:
    """A Slack date token (each reader sees their own time zone), with a fallback in `tz`."""
    local = at.astimezone(zone(tz))
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{local:%a %d %b %Y %H:%M} {local.tzname()}>"


def _last_line(now: datetime, tz: str | None, not_shown: Sequence[str]) -> str:
    line = f"Updated {_date(now, tz)}."
    if not_shown:
        line += " Not shown: " + "; ".join(not_shown) + "."
    return line
