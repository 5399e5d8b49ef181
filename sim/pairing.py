"""Helpers that tie the two simulators together: Slack accounts for Ashby's users, and an interviewer
answering a rendered feedback modal. Used by the end-to-end tests, the demo and the benchmarks."""

from __future__ import annotations

from typing import Any

from sim.ashby.org import AshbyOrg
from sim.slack.state import SlackState

A_UUID = "3f2b8c1e-8d5a-4c4e-9b1a-1d2e3f4a5b6c"
_ANSWERS = {
    "datepicker": "2026-11-30",
    "number_input": "3",
    "email_text_input": "someone@example.com",
    "url_text_input": "https://example.com/notes",
    "plain_text_input": A_UUID,  # a valid answer to every text type, UUID fields included
}


def mirror_users(org: AshbyOrg, slack: SlackState, *, tz: str = "America/New_York") -> dict[str, str]:
    """Give every Ashby user with an e-mail a Slack account with the same address; Ashby id -> Slack id."""
    slack_ids: dict[str, str] = {}
    for n, user in enumerate(org.users.values()):
        if user.email:
            slack_ids[user.id] = f"U{n:04d}SIM"
            slack.add_user(slack_ids[user.id], user.email, tz=tz, name=user.first_name)
    return slack_ids


def fill_view(view: dict[str, Any], **overrides: Any) -> dict[str, dict[str, Any]]:
    """Answer every input of a rendered feedback modal the way an interviewer would (first option, ...);
    `overrides` maps a block id to the answer to give instead."""
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind = element["type"]
        options = [o["value"] for o in element.get("options") or []]
        if kind in ("static_select", "radio_buttons"):
            answer: Any = options[0]
        elif kind in ("multi_static_select", "checkboxes"):
            answer = options[:1]
        else:
            answer = _ANSWERS[kind]
        values[block["block_id"]] = {element["action_id"]: overrides.get(block["block_id"], answer)}
    return values
