"""Block Kit for reminder DMs, plus the text helpers every Slack surface uses.

Invariant: every message stays within Slack's limits (≤50 blocks, per-field lengths) whatever the input
lengths, because the blocks are built with slack_sdk.models, whose `to_dict()` validates them, from text
that was truncated first. Messages carry no candidate e-mail or phone: `ReminderInfo` has no such fields.
Button values are opaque keys; URLs that expire (resumes) are resolved on click, never stored here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

MESSAGE_MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
BUTTON_URL_MAX = 3000
INSTRUCTIONS_MAX = 600
# Inline links share a section's 3000 characters with the rest of the text; longer URLs are shown unlinked.
LINK_URL_MAX = 1000
# chat.postMessage keeps 40,000 characters of `text`; notifications show far less, so stay short.
FALLBACK_TEXT_MAX = 300

OPEN_RESUME = "open_resume"
OPEN_FEEDBACK_FORM = "open_feedback_form"
REOPEN_FEEDBACK_FORM = "reopen_feedback_form"
# Link buttons still send a block_actions payload; the ingress only has to ack these.
OPEN_FEEDBACK_LINK = "open_feedback_link"
VIEW_CANDIDATE = "view_candidate"

ELLIPSIS = "…"


# --- text helpers ---------------------------------------------------------------------------------


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in "…" when something was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS if limit > 0 else ""


def truncate_words(text: str, limit: int) -> str:
    """Like `truncate`, but cuts at the last word boundary when one is reasonably close."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def escape(text: str) -> str:
    """Slack's three control characters; everything else in mrkdwn is shown as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str, limit: int, *, words: bool = False) -> str:
    """Escaped mrkdwn of `text` within `limit` characters *after* escaping; an entity is never cut."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    used, kept = 0, 0
    for char in text:
        size = len(escape(char))
        if used + size > limit - 1:
            break
        used, kept = used + size, kept + 1
    raw = text[:kept]
    if words:
        space = max(raw.rfind(" "), raw.rfind("\n"))
        if space >= kept // 2:
            raw = raw[:space]
    return escape(raw.rstrip()) + ELLIPSIS


_UNSAFE_URL = re.compile(r"[\s<>|]")


def safe_url(url: str | None, limit: int = BUTTON_URL_MAX) -> str | None:
    """`url` if it can be put in a link or button as is (http(s), no characters that break `<url|text>`)."""
    if not url or len(url) > limit or _UNSAFE_URL.search(url):
        return None
    if not url.lower().startswith(("https://", "http://")):
        return None
    return url


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone `name`, or UTC when it is unknown or missing (Slack profiles may lack a zone)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def _button(
    text: str, *, action_id: str, value: str | None = None, url: str | None = None, style: str | None = None
) -> ButtonElement:
    if value is not None and len(value) > BUTTON_VALUE_MAX:
        raise ValueError(f"button value for {action_id} is longer than {BUTTON_VALUE_MAX} characters")
    return ButtonElement(text=truncate(text, BUTTON_TEXT_MAX), action_id=action_id, value=value, url=url, style=style)


def _dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    if len(blocks) > MESSAGE_MAX_BLOCKS:  # a bug in this module, not an input problem
        raise ValueError(f"{len(blocks)} blocks exceed Slack's {MESSAGE_MAX_BLOCKS} per message")
    return [block.to_dict() for block in blocks]


# --- time -----------------------------------------------------------------------------------------


def duration_text(start: datetime, end: datetime) -> str:
    minutes = max(int((end - start) / timedelta(minutes=1)), 0)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def time_range_text(start: datetime, end: datetime, tz: str | None) -> str:
    """Start to end in the reader's zone as Slack date tokens (Slack localises them for each viewer),
    with a fallback rendered in `tz` for clients that cannot, then the duration."""
    where = zone(tz)
    local_start, local_end = start.astimezone(where), end.astimezone(where)
    same_day = local_start.date() == local_end.date()
    fallback_start = f"{local_start:%a %d %b %Y %H:%M}"
    fallback_end = f"{local_end:%H:%M}" if same_day else f"{local_end:%a %d %b %Y %H:%M}"
    zone_name = local_start.tzname() or "UTC"
    start_token = f"<!date^{int(start.timestamp())}^{{date_short_pretty}} {{time}}|{fallback_start} {zone_name}>"
    end_format = "{time}" if same_day else "{date_short_pretty} {time}"
    end_token = f"<!date^{int(end.timestamp())}^{end_format}|{fallback_end} {local_end.tzname() or 'UTC'}>"
    return f"{start_token} \N{EN DASH} {end_token} ({duration_text(start, end)})"


# --- reminder messages ----------------------------------------------------------------------------


class ReminderInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What a reminder shows about one interview; deliberately without candidate e-mail or phone."""

    candidate_name: str
    interview_title: str
    start: datetime
    end: datetime
    job_title: str | None = None
    candidate_position: str | None = None  # current role
    candidate_company: str | None = None
    meeting_link: str | None = None
    location: str | None = None
    instructions: str | None = None
    candidate_url: str | None = None  # Ashby profile page
    feedback_link: str | None = None  # Ashby feedback page for this event
    resume_key: str | None = None  # opaque; the worker resolves the resume URL on click


def _current_role(info: ReminderInfo) -> str | None:
    if info.candidate_position and info.candidate_company:
        return f"{info.candidate_position} at {info.candidate_company}"
    return info.candidate_position or info.candidate_company


def _head(info: ReminderInfo, *, tz: str, title: str) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=truncate(f"{title}: {info.candidate_name}", HEADER_TEXT_MAX))]
    lines = [f"*{mrkdwn(info.candidate_name, 200)}*"]
    role = _current_role(info)
    if role:
        lines[0] += f" · {mrkdwn(role, 300)}"
    if info.job_title:
        lines.append(f"*Role:* {mrkdwn(info.job_title, 300)}")
    lines.append(f"*Interview:* {mrkdwn(info.interview_title, 300)}")
    lines.append(f"*When:* {time_range_text(info.start, info.end, tz)}")
    meeting = safe_url(info.meeting_link, LINK_URL_MAX)
    if meeting:
        lines.append(f"*Where:* <{meeting}|Join meeting>")
        if info.location:
            lines[-1] += f" · {mrkdwn(info.location, 300)}"
    elif info.meeting_link or info.location:
        # An unlinkable meeting "link" (or a room) is still worth showing as text.
        lines.append(f"*Where:* {mrkdwn(info.location or info.meeting_link or '', 500)}")
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))
    instructions = (info.instructions or "").strip()
    if instructions:
        text = escape(truncate_words(instructions, INSTRUCTIONS_MAX))
        if len(text) > SECTION_TEXT_MAX - 20:  # only text made of "&<>" escapes this much
            text = mrkdwn(instructions, SECTION_TEXT_MAX - 20, words=True)
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Instructions*\n" + text)))
    return blocks


def _candidate_buttons(info: ReminderInfo) -> list[ButtonElement]:
    buttons = []
    profile = safe_url(info.candidate_url)
    if profile:
        buttons.append(_button("View candidate in Ashby", action_id=VIEW_CANDIDATE, url=profile))
    if info.resume_key:
        buttons.append(_button("Resume", action_id=OPEN_RESUME, value=info.resume_key))
    return buttons


def brief_message(info: ReminderInfo, *, tz: str) -> tuple[str, list[dict[str, Any]]]:
    """The DM before the interview: who, what, when (in `tz` and Slack-localised), where, instructions,
    and buttons to the candidate's profile and resume."""
    text = truncate(f"Upcoming interview with {info.candidate_name}: {info.interview_title}", FALLBACK_TEXT_MAX)
    blocks = _head(info, tz=tz, title="Upcoming interview")
    buttons = _candidate_buttons(info)
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return text, _dicts(blocks)


def due_message(
    info: ReminderInfo, *, tz: str, kind: Literal["due", "overdue"], sequence: int, reminder_key: str
) -> tuple[str, list[dict[str, Any]]]:
    """The DM asking for feedback; `reminder_key` (opaque) rides on the "Open feedback form" button, and
    the Ashby feedback page is one click away for those who prefer it."""
    if kind == "due":
        title, lead = "Feedback due", "How did it go? Please submit your feedback while it is fresh."
    else:
        title = "Feedback overdue" if sequence <= 1 else f"Feedback overdue (reminder {sequence})"
        lead = "Your feedback is still missing; the hiring team is waiting on it."
    text = truncate(f"{title}: {info.candidate_name}, {info.interview_title}", FALLBACK_TEXT_MAX)
    blocks = _head(info, tz=tz, title=title)
    blocks.append(SectionBlock(text=MarkdownTextObject(text=lead)))
    buttons = [_button("Open feedback form", action_id=OPEN_FEEDBACK_FORM, value=reminder_key, style="primary")]
    link = safe_url(info.feedback_link)
    if link:
        buttons.append(_button("Open in Ashby", action_id=OPEN_FEEDBACK_LINK, url=link))
    blocks.append(ActionsBlock(elements=[*buttons, *_candidate_buttons(info)]))
    return text, _dicts(blocks)


def submitted_message(info: ReminderInfo, *, tz: str) -> tuple[str, list[dict[str, Any]]]:
    """What the last reminder becomes once the feedback exists (from Slack or from Ashby): no buttons."""
    text = truncate(f"Feedback submitted: {info.candidate_name}, {info.interview_title}", FALLBACK_TEXT_MAX)
    blocks = _head(info, tz=tz, title="Interview")
    blocks.append(SectionBlock(text=MarkdownTextObject(text="✅ Feedback submitted")))
    return text, _dicts(blocks)


class MissingInterviewer(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    slack_user_id: str | None = None  # mentioned when known, so the recruiter can nudge in place


class EscalationItem(msgspec.Struct, frozen=True, kw_only=True):
    """One interview event with feedback still missing."""

    candidate_name: str
    interview_title: str
    start: datetime
    end: datetime
    missing: list[MissingInterviewer]
    job_title: str | None = None
    candidate_url: str | None = None


_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def _who(person: MissingInterviewer) -> str:
    if person.slack_user_id and _SLACK_USER_ID.match(person.slack_user_id):
        return f"<@{person.slack_user_id}>"
    return mrkdwn(person.name, 100)


def _who_list(people: Sequence[MissingInterviewer], limit: int) -> str:
    """Comma-separated mentions within `limit` characters; a mention is never cut in half."""
    out = ""
    for index, person in enumerate(people):
        piece = f", {_who(person)}" if out else _who(person)
        if len(out) + len(piece) > limit - 20:  # keeps room for " and N more"
            left = len(people) - index
            return f"{out} and {left} more" if out else f"{left} interviewers"
        out += piece
    return out


def escalation_message(items: Sequence[EscalationItem], *, tz: str) -> tuple[str, list[dict[str, Any]]]:
    """The recruiter's DM: per event, the interviewers whose feedback is missing. Events beyond what one
    message can hold are summarised in a last line rather than dropped silently."""
    events = [item for item in items if item.missing]
    count = sum(len(item.missing) for item in events)
    text = truncate(f"Feedback missing from {count} interviewer(s) on {len(events)} interview(s)", FALLBACK_TEXT_MAX)
    blocks: list[Block] = [
        HeaderBlock(text="Interview feedback overdue"),
        SectionBlock(text=MarkdownTextObject(text=escape(text))),
    ]
    room = MESSAGE_MAX_BLOCKS - len(blocks) - 1  # keep one block for the "and N more" line
    shown = events if len(events) <= room + 1 else events[:room]
    for item in shown:
        name = mrkdwn(item.candidate_name, 200)
        profile = safe_url(item.candidate_url, LINK_URL_MAX)
        lines = [f"<{profile}|{name}>" if profile else f"*{name}*"]
        lines[0] += f" · {mrkdwn(item.interview_title, 300)}"
        if item.job_title:
            lines.append(f"*Role:* {mrkdwn(item.job_title, 300)}")
        lines.append(f"*When:* {time_range_text(item.start, item.end, tz)}")
        lines.append("*Missing:* " + _who_list(item.missing, 1000))
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))
    if len(shown) < len(events):
        more = len(events) - len(shown)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {more} more interview(s).")]))
    return text, _dicts(blocks)


SUBMISSION_REASON_MAX = 500


def submission_failed_message(
    reason: str, *, reopen_value: str, candidate_name: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """DM after Ashby refused or failed a submission. `reason` must be a human sentence, not an exception
    dump (the predecessor leaked raw exception text); the answers are kept as a draft by the caller."""
    about = f" for {candidate_name}" if candidate_name else ""
    text = truncate(f"Your feedback{about} could not be submitted to Ashby", FALLBACK_TEXT_MAX)
    body = (
        f"❌ *Your feedback{mrkdwn(about, 200)} could not be submitted to Ashby.*\n"
        f"{mrkdwn(reason.strip() or 'Ashby did not accept it.', SUBMISSION_REASON_MAX, words=True)}\n"
        "Your answers were kept; reopen the form to fix and resend them."
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=body)),
        ActionsBlock(
            elements=[_button("Reopen form", action_id=REOPEN_FEEDBACK_FORM, value=reopen_value, style="primary")]
        ),
    ]
    return text, _dicts(blocks)
