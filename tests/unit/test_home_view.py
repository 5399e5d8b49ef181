"""The Home tab and the /feedback answer: Slack's limits whatever the input, the lists in the order given with
the rest counted, and buttons that carry what the ingress acts on (a form's key, a decision's id)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.advancement.messages import APPROVE, HOLD, REJECT
from shared.blocks import OPEN_FEEDBACK_FORM
from shared.db.home import (
    Home,
    Listed,
    MissingFeedback,
    OwedFeedback,
    PendingDecision,
    UpcomingInterview,
    WaitingCandidate,
)
from shared.home_view import HOME_CAPS, MESSAGE_CAPS, UNMATCHED, feedback_message, home_view
from shared.modal_cache import modal_key, parse_modal_key
from sim.slack.blockkit import message_problems, view_problems
from tests.snapshots import assert_snapshot

SNAPSHOTS = Path(__file__).parent / "snapshots"
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
HUGE = "Ω<&>" * 2000  # 8,000 characters that escaping makes longer still


def owed(n: int, name: str = "Ada Lovelace") -> OwedFeedback:
    end = NOW - timedelta(days=30) + timedelta(hours=n)
    return OwedFeedback(
        f"event-{n}", "ashby-alex", name, "System design", "Staff Engineer", end - timedelta(hours=1), end
    )


def upcoming(n: int, name: str = "Grace Hopper") -> UpcomingInterview:
    start = NOW + timedelta(days=1, hours=n)
    return UpcomingInterview(f"event-up-{n}", name, "Phone screen", "Staff Engineer", start, start + timedelta(hours=1))


def decision(n: int, name: str = "Casey Jones") -> PendingDecision:
    return PendingDecision(n, "advance", name, "Senior Backend Engineer", "Phone Screen", "Onsite", "all passed", NOW)


def waiting(n: int, missing: int = 2, name: str = "Casey Jones") -> WaitingCandidate:
    people = tuple(
        MissingFeedback(
            f"Person {i}", f"U{i:04d}SIM" if i % 2 == 0 else None, f"Interview {i}", NOW - timedelta(days=2)
        )
        for i in range(missing)
    )
    return WaitingCandidate(f"application-{n}", name, "Senior Backend Engineer", "Onsite", people)


def full_home(count: int, *, name: str = "Ada Lovelace", missing: int = 2) -> Home:
    """`count` of everything, each list telling three times as many in all."""

    def listed(items: list[Any]) -> Listed:
        return Listed(tuple(items), 3 * len(items))

    return Home(
        "U0001SIM",
        known=True,
        tz="America/New_York",
        owed=listed([owed(i, name) for i in range(count)]),
        upcoming=listed([upcoming(i, name) for i in range(count)]),
        oversees=True,
        decisions=listed([decision(i, name) for i in range(count)]),
        waiting=listed([waiting(i, missing, name) for i in range(count)]),
    )


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    found = []
    for block in blocks:
        for element in [block.get("accessory"), *(block.get("elements") or [])]:
            if isinstance(element, dict) and element.get("type") == "button":
                found.append((element["action_id"], element["value"]))
    return found


def texts(blocks: list[dict[str, Any]]) -> str:
    parts = []
    for block in blocks:
        parts.append(str((block.get("text") or {}).get("text", "")))
        parts += [str(e.get("text", "")) for e in block.get("elements") or [] if e.get("type") == "mrkdwn"]
    return "\n".join(parts)


def test_an_interviewer_sees_what_they_owe_oldest_first_each_with_the_forms_button() -> None:
    home = Home(
        "U0001SIM",
        known=True,
        tz="Europe/Paris",
        owed=Listed((owed(1, "Ada"), owed(2, "Grace")), 2),
        upcoming=Listed((upcoming(1),), 1),
    )
    view = home_view(home, now=NOW)
    assert view["type"] == "home" and view_problems(view) == []
    assert buttons(view["blocks"]) == [
        (OPEN_FEEDBACK_FORM, modal_key("event-1", "ashby-alex")),
        (OPEN_FEEDBACK_FORM, modal_key("event-2", "ashby-alex")),
    ]
    assert all(parse_modal_key(value) for _, value in buttons(view["blocks"]))
    text = texts(view["blocks"])
    assert text.index("Ada") < text.index("Grace") < text.index("Phone screen")
    headers = [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]
    assert headers == ["Feedback you owe (2)", "Your upcoming interviews (1)"]  # no hiring sections
    assert "Not shown" not in text
    assert_snapshot(view, SNAPSHOTS / "home_interviewer.json")


def test_someone_who_runs_hiring_sees_approvals_with_their_buttons_and_who_is_missing() -> None:
    home = Home(
        "U0001SIM",
        known=True,
        tz=None,
        oversees=True,
        decisions=Listed((decision(41),), 1),
        waiting=Listed((waiting(1, missing=3),), 1),
    )
    view = home_view(home, now=NOW)
    assert view_problems(view) == []
    assert buttons(view["blocks"]) == [(APPROVE, "41"), (REJECT, "41"), (HOLD, "41")]
    text = texts(view["blocks"])
    assert "Advance Casey Jones to Onsite?" in text
    assert "*Missing:* <@U0000SIM> (Interview 0), Person 1 (Interview 1), <@U0002SIM> (Interview 2)" in text
    assert "You owe no feedback." in text and "No interviews in the next two weeks." in text


def test_the_home_tab_stays_within_slacks_limits_and_counts_what_it_cannot_show() -> None:
    home = full_home(200, name=HUGE, missing=300)
    view = home_view(home, now=NOW)
    assert view_problems(view) == []
    assert len(view["blocks"]) <= 100
    assert len(json.dumps(view)) < 250_000  # views.publish refuses larger views (`view_too_large`)
    owed_buttons = [value for action, value in buttons(view["blocks"]) if action == OPEN_FEEDBACK_FORM]
    assert owed_buttons == [modal_key(f"event-{i}", "ashby-alex") for i in range(HOME_CAPS.owed)]  # oldest first
    last = view["blocks"][-1]["elements"][0]["text"]
    assert f"{600 - HOME_CAPS.owed} more under “Feedback you owe”" in last
    assert f"{600 - HOME_CAPS.upcoming} more under “Your upcoming interviews”" in last
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in view["blocks"])
    missing_line = next(line for line in texts(view["blocks"]).splitlines() if line.startswith("*Missing:*"))
    assert missing_line.endswith("and 264 more")
    assert len(re.findall(r"<@U\d{4}SIM> \(", missing_line)) == missing_line.count("<@")  # no mention cut


def test_the_feedback_command_answer_fits_a_message() -> None:
    text, blocks = feedback_message(full_home(200, name=HUGE, missing=300), now=NOW)
    assert message_problems(text, blocks) == []
    assert len(blocks) <= 50
    assert text == "You owe feedback for 600 interview(s)."
    owed_buttons = [v for a, v in buttons(blocks) if a == OPEN_FEEDBACK_FORM]
    assert len(owed_buttons) == MESSAGE_CAPS.owed
    text, blocks = feedback_message(Home("U0001SIM", known=True, tz=None), now=NOW)
    assert text == "You owe no interview feedback." and buttons(blocks) == []


def test_someone_not_matched_to_ashby_is_told_why_the_tab_is_empty_unless_an_admin() -> None:
    view = home_view(Home("U0001SIM", known=False, tz=None), now=NOW)
    assert [b["text"]["text"] for b in view["blocks"]] == [UNMATCHED]
    admin = Home("U0001SIM", known=False, tz=None, oversees=True, decisions=Listed((decision(7),), 1))
    assert buttons(home_view(admin, now=NOW)["blocks"]) == [(APPROVE, "7"), (REJECT, "7"), (HOLD, "7")]
