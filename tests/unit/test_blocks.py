"""Reminder DMs: content, Slack limits under very long inputs, buttons carrying the given opaque values."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from slack_sdk.models.blocks import Block

from shared.blocks import (
    EscalationItem,
    MissingInterviewer,
    ReminderInfo,
    brief_message,
    due_message,
    duration_text,
    escalation_message,
    mrkdwn,
    safe_url,
    submission_failed_message,
    submitted_message,
    truncate,
    truncate_words,
)
from tests.snapshots import assert_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"
START = datetime(2025, 3, 4, 14, 0, tzinfo=UTC)
INFO = ReminderInfo(
    candidate_name="Ada Lovelace",
    interview_title="System design",
    start=START,
    end=START + timedelta(minutes=90),
    job_title="Staff Engineer",
    candidate_position="Analyst",
    candidate_company="Babbage & Co",
    meeting_link="https://zoom.us/j/123456",
    location="Room 4",
    instructions="Focus on scaling and trade-offs. Leave 10 minutes for questions.",
    candidate_url="https://app.ashbyhq.com/candidates/c1",
    feedback_link="https://app.ashbyhq.com/interview-briefings/e1/feedback",
    resume_key="res_7d1",
)
HUGE = ReminderInfo(
    candidate_name="N" * 5000,
    interview_title="<&>" * 3000,
    start=START,
    end=START + timedelta(days=3),
    job_title="J&" * 3000,
    candidate_position="P" * 3000,
    candidate_company="C" * 3000,
    meeting_link="https://meet.example/" + "m" * 2900,
    location="L<" * 3000,
    instructions="word " * 5000,
    candidate_url="https://app.ashbyhq.com/" + "c" * 2900,
    feedback_link="https://app.ashbyhq.com/" + "f" * 2900,
    resume_key="r" * 2000,
)


def assert_valid_message(text: str, blocks: list[dict[str, Any]]) -> None:
    """slack_sdk's validation on re-parse, plus the limits it leaves to the caller."""
    assert 1 <= len(text) <= 4000
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None and parsed.to_dict() == block
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "context":
            assert all(len(element["text"]) <= 3000 for element in block["elements"])
        for element in block.get("elements", []):
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= 75
                assert len(element.get("value", "")) <= 2000
                assert len(element.get("url", "")) <= 3000


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = [element for block in blocks if block["type"] == "actions" for element in block["elements"]]
    by_action = {button["action_id"]: button for button in found}
    assert len(by_action) == len(found), "action ids must be unique in a message"
    return by_action


def all_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


# --- brief ----------------------------------------------------------------------------------------


def test_the_brief_shows_who_what_when_and_where() -> None:
    text, blocks = brief_message(INFO, tz="Europe/Berlin")
    assert_valid_message(text, blocks)
    assert text == "Upcoming interview with Ada Lovelace: System design"
    body = all_text(blocks)
    assert "Ada Lovelace" in body
    assert "Analyst at Babbage &amp; Co" in body
    assert "Staff Engineer" in body and "System design" in body
    # Slack localises the date tokens; the fallback is in the interviewer's zone.
    assert f"<!date^{int(START.timestamp())}^" in body
    assert "Tue 04 Mar 2025 15:00 CET" in body and "16:30 CET" in body
    assert "(1 h 30 min)" in body
    assert "<https://zoom.us/j/123456|Join meeting> · Room 4" in body
    assert "Focus on scaling and trade-offs." in body


def test_the_brief_has_the_candidate_and_resume_buttons_only() -> None:
    _, blocks = brief_message(INFO, tz="UTC")
    found = buttons(blocks)
    assert set(found) == {"view_candidate", "open_resume"}
    assert found["view_candidate"]["url"] == INFO.candidate_url
    assert found["view_candidate"]["text"]["text"] == "View candidate in Ashby"
    assert found["open_resume"]["value"] == "res_7d1"
    assert "url" not in found["open_resume"]  # resolved on click: presigned URLs expire


def test_a_bare_brief_has_no_empty_parts() -> None:
    bare = ReminderInfo(candidate_name="Ada", interview_title="Chat", start=START, end=START + timedelta(minutes=30))
    text, blocks = brief_message(bare, tz="Asia/Tokyo")
    assert_valid_message(text, blocks)
    assert [block["type"] for block in blocks] == ["header", "section"]
    assert "Where" not in all_text(blocks) and "Role" not in all_text(blocks)
    assert "Tue 04 Mar 2025 23:00 JST" in all_text(blocks)


def test_the_time_is_shown_in_the_interviewers_zone() -> None:
    _, blocks = brief_message(INFO, tz="America/Los_Angeles")
    assert "Tue 04 Mar 2025 06:00 PST" in all_text(blocks)
    _, blocks = brief_message(INFO, tz="No/Such_Zone")
    assert "Tue 04 Mar 2025 14:00 UTC" in all_text(blocks)


def test_an_interview_across_midnight_shows_the_end_date() -> None:
    late = msgspec.structs.replace(
        INFO, start=datetime(2025, 3, 4, 22, tzinfo=UTC), end=datetime(2025, 3, 5, 1, tzinfo=UTC)
    )
    _, blocks = brief_message(late, tz="UTC")
    assert "Wed 05 Mar 2025 01:00 UTC" in all_text(blocks) and "(3 h)" in all_text(blocks)


def test_long_instructions_are_cut_at_a_word_with_an_ellipsis() -> None:
    long = msgspec.structs.replace(INFO, instructions="alpha " * 300)
    _, blocks = brief_message(long, tz="UTC")
    section = next(block["text"]["text"] for block in blocks if "Instructions" in block.get("text", {}).get("text", ""))
    shown = section.removeprefix("*Instructions*\n")
    assert shown.endswith("alpha…")
    assert len(shown) <= 600


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "https://evil.example/|Click me", "https://a.example/ b", "zoom.us/j/1", "<https://x>"],
)
def test_unsafe_meeting_links_are_shown_as_text_not_links(link: str) -> None:
    odd = msgspec.structs.replace(INFO, meeting_link=link, location=None)
    text, blocks = brief_message(odd, tz="UTC")
    assert_valid_message(text, blocks)
    section = blocks[1]["text"]["text"]
    assert "Join meeting" not in section
    assert "*Where:* " in section and "<https://x>" not in section


def test_names_are_escaped_so_they_cannot_inject_mentions_or_links() -> None:
    sneaky = msgspec.structs.replace(INFO, candidate_name="<!channel> <https://phish.example|Ashby>")
    _, blocks = brief_message(sneaky, tz="UTC")
    section = blocks[1]["text"]["text"]
    assert "<!channel>" not in section and "<https://phish" not in section
    assert "&lt;!channel&gt;" in section


# --- due, overdue, submitted ----------------------------------------------------------------------


def test_the_due_message_carries_the_reminder_key_and_the_ashby_link() -> None:
    text, blocks = due_message(INFO, tz="UTC", kind="due", sequence=1, reminder_key="rk_42")
    assert_valid_message(text, blocks)
    assert text == "Feedback due: Ada Lovelace, System design"
    found = buttons(blocks)
    assert found["open_feedback_form"]["value"] == "rk_42"
    assert found["open_feedback_form"]["style"] == "primary"
    assert found["open_feedback_form"]["text"]["text"] == "Open feedback form"
    assert found["open_feedback_link"]["url"] == INFO.feedback_link
    assert found["open_resume"]["value"] == "res_7d1"
    # The same head as the brief.
    assert blocks[1] == brief_message(INFO, tz="UTC")[1][1]


def test_overdue_titles_count_the_reminders() -> None:
    first, _ = due_message(INFO, tz="UTC", kind="overdue", sequence=1, reminder_key="k")
    third, blocks = due_message(INFO, tz="UTC", kind="overdue", sequence=3, reminder_key="k")
    assert first.startswith("Feedback overdue:")
    assert third.startswith("Feedback overdue (reminder 3):")
    assert "still missing" in all_text(blocks)


def test_without_a_feedback_link_there_is_only_the_form_button() -> None:
    bare = msgspec.structs.replace(INFO, feedback_link=None, candidate_url=None, resume_key=None)
    _, blocks = due_message(bare, tz="UTC", kind="due", sequence=1, reminder_key="k")
    assert set(buttons(blocks)) == {"open_feedback_form"}


def test_submitted_replaces_the_buttons() -> None:
    text, blocks = submitted_message(INFO, tz="UTC")
    assert_valid_message(text, blocks)
    assert "✅ Feedback submitted" in all_text(blocks)
    assert not any(block["type"] == "actions" for block in blocks)
    assert '"button"' not in all_text(blocks)


# --- escalation -----------------------------------------------------------------------------------


def item(index: int, *missing: MissingInterviewer) -> EscalationItem:
    return EscalationItem(
        candidate_name=f"Candidate {index}",
        interview_title="Onsite",
        start=START,
        end=START + timedelta(hours=1),
        missing=list(missing),
        job_title="Engineer",
        candidate_url=f"https://app.ashbyhq.com/candidates/{index}",
    )


def test_escalation_lists_missing_interviewers_per_event() -> None:
    items = [
        item(1, MissingInterviewer(name="Grace", slack_user_id="U0GRACE"), MissingInterviewer(name="Linus <admin>")),
        item(2, MissingInterviewer(name="Ken", slack_user_id="not-an-id")),
        item(3),  # nobody missing: not listed
    ]
    text, blocks = escalation_message(items, tz="Europe/Berlin")
    assert_valid_message(text, blocks)
    assert text == "Feedback missing from 3 interviewer(s) on 2 interview(s)"
    body = all_text(blocks)
    assert "<@U0GRACE>, Linus &lt;admin&gt;" in body
    assert "Ken" in body and "<@not-an-id>" not in body
    assert "<https://app.ashbyhq.com/candidates/1|Candidate 1>" in body
    assert "Candidate 3" not in body
    assert "15:00 CET" in body


def test_escalation_with_many_events_stays_within_50_blocks() -> None:
    items = [item(index, MissingInterviewer(name=f"P{index}")) for index in range(120)]
    text, blocks = escalation_message(items, tz="UTC")
    assert_valid_message(text, blocks)
    assert len(blocks) == 50
    assert "…and 73 more interview(s)." in all_text(blocks[-1:])


def test_escalation_with_exactly_the_room_shows_all() -> None:
    items = [item(index, MissingInterviewer(name=f"P{index}")) for index in range(48)]
    _, blocks = escalation_message(items, tz="UTC")
    assert len(blocks) == 50
    assert "more interview" not in all_text(blocks)


def test_escalation_with_many_interviewers_never_cuts_a_mention() -> None:
    crowd = [MissingInterviewer(name=f"Person {index}", slack_user_id=f"U{index:08d}") for index in range(300)]
    text, blocks = escalation_message([item(1, *crowd)], tz="UTC")
    assert_valid_message(text, blocks)
    missing = blocks[2]["text"]["text"].split("*Missing:* ")[1]
    assert re.fullmatch(r"(<@U\d{8}>, )*<@U\d{8}> and \d+ more", missing)


# --- submission failed ----------------------------------------------------------------------------


def test_submission_failed_explains_and_offers_to_reopen() -> None:
    text, blocks = submission_failed_message(
        "Ashby says the form changed <since> you opened it.", reopen_value="sub_1", candidate_name="Ada"
    )
    assert_valid_message(text, blocks)
    assert text == "Your feedback for Ada could not be submitted to Ashby"
    assert "the form changed &lt;since&gt; you opened it" in all_text(blocks)
    found = buttons(blocks)
    assert set(found) == {"reopen_feedback_form"}
    assert found["reopen_feedback_form"]["value"] == "sub_1"
    assert found["reopen_feedback_form"]["text"]["text"] == "Reopen form"


def test_submission_failed_with_a_huge_or_empty_reason() -> None:
    text, blocks = submission_failed_message("x " * 10_000, reopen_value="v")
    assert_valid_message(text, blocks)
    text, blocks = submission_failed_message("   ", reopen_value="v")
    assert "Ashby did not accept it." in all_text(blocks)


# --- limits and privacy ---------------------------------------------------------------------------


def test_very_long_inputs_stay_within_slacks_limits() -> None:
    messages = [
        brief_message(HUGE, tz="Asia/Tokyo"),
        due_message(HUGE, tz="Asia/Tokyo", kind="due", sequence=1, reminder_key="k" * 2000),
        due_message(HUGE, tz="Asia/Tokyo", kind="overdue", sequence=99, reminder_key="k"),
        submitted_message(HUGE, tz="Asia/Tokyo"),
        submission_failed_message("<&>" * 5000, reopen_value="v" * 2000, candidate_name="N" * 5000),
        escalation_message(
            [
                EscalationItem(
                    candidate_name=HUGE.candidate_name,
                    interview_title=HUGE.interview_title,
                    start=HUGE.start,
                    end=HUGE.end,
                    job_title=HUGE.job_title,
                    candidate_url=HUGE.candidate_url,
                    missing=[MissingInterviewer(name="&" * 3000)] * 50,
                )
            ]
            * 80,
            tz="Asia/Tokyo",
        ),
    ]
    for text, blocks in messages:
        assert_valid_message(text, blocks)


def test_a_button_value_over_slacks_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="open_feedback_form"):
        due_message(INFO, tz="UTC", kind="due", sequence=1, reminder_key="k" * 2001)


def test_reminder_info_cannot_carry_contact_details() -> None:
    fields = set(ReminderInfo.__struct_fields__) | set(EscalationItem.__struct_fields__)
    assert not {name for name in fields if re.search("mail|phone", name)}
    for text, blocks in (
        brief_message(INFO, tz="UTC"),
        due_message(INFO, tz="UTC", kind="due", sequence=1, reminder_key="k"),
    ):
        assert "@" not in text + all_text(blocks)


# --- helpers --------------------------------------------------------------------------------------


def test_truncate_and_escape_helpers() -> None:
    assert truncate("abc", 3) == "abc"
    assert truncate("abcd", 3) == "ab…"
    assert truncate_words("one two three", 9) == "one two…"
    assert truncate_words("x" * 20, 10) == "x" * 9 + "…"
    assert mrkdwn("a&b", 10) == "a&amp;b"
    cut = mrkdwn("&" * 100, 12)
    assert cut == "&amp;&amp;…" and len(cut) <= 12
    assert duration_text(START, START + timedelta(minutes=45)) == "45 min"
    assert duration_text(START, START + timedelta(minutes=120)) == "2 h"
    assert duration_text(START, START + timedelta(minutes=75)) == "1 h 15 min"
    assert safe_url("https://ok.example/a?b=c") == "https://ok.example/a?b=c"
    assert safe_url("ftp://x") is None and safe_url(None) is None


# --- snapshots ------------------------------------------------------------------------------------


def test_snapshot_of_the_brief_and_the_due_message() -> None:
    assert_snapshot(
        {
            "brief": brief_message(INFO, tz="Europe/Berlin"),
            "due": due_message(INFO, tz="Europe/Berlin", kind="due", sequence=1, reminder_key="rk_42"),
            "submitted": submitted_message(INFO, tz="Europe/Berlin"),
        },
        SNAPSHOTS / "reminder_messages.json",
    )
