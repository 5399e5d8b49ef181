"""Text made storable: NUL removed from JSON strings without touching an escaped backslash."""

from __future__ import annotations

import json

from shared.storable import bounded_state_values, storable_json, storable_text


def test_nul_escapes_are_removed_from_json_strings() -> None:
    raw = json.dumps({"location": "Room\x00 4", "notes": ["a\x00b"]}).encode()
    assert b"\\u0000" in raw
    assert json.loads(storable_json(raw)) == {"location": "Room 4", "notes": ["ab"]}


def test_an_escaped_backslash_before_u0000_is_text_and_stays() -> None:
    literal = json.dumps({"text": "\\u0000"}).encode()  # the six characters \u0000, not a NUL
    assert json.loads(storable_json(literal)) == {"text": "\\u0000"}
    mixed = json.dumps({"text": "\\\x00"}).encode()  # a backslash, then a NUL
    assert json.loads(storable_json(mixed)) == {"text": "\\"}


def test_documents_without_nul_are_returned_as_they_are() -> None:
    raw = b'{"a": "b"}'
    assert storable_json(raw) is raw
    assert storable_text("plain") == "plain"


def test_raw_state_values_kept_as_a_draft_are_bounded_and_storable() -> None:
    values = {
        "block": {"action": {"type": "plain_text_input", "value": "x\x00" * 20_000}},
        "not-a-block": "garbage",
        "deep": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}},
    }
    kept = bounded_state_values(values)
    assert set(kept) == {"block", "deep"}
    assert kept["block"] == {"type": "plain_text_input", "value": "x" * 10_000}  # the draft's shape
    assert bounded_state_values("not a dict") == {}
