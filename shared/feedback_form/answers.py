"""Slack `view.state.values` (a submission, or a stored draft) read defensively, whatever its shape.

A block's state is `{block_id: {action_id: {"type": ..., "value" | "selected_option" | ...}}}` when Slack
sent it, but it arrives as JSON a forged payload or an old draft may have bent into any shape: every
accessor answers with a string, a list of strings or nothing, and never raises. Errors are collected
per block id, the way Slack's `response_action: errors` wants them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# What a read returns besides a value: the field was left empty, or an error was recorded for it.
MISSING: Any = object()
INVALID: Any = object()


def element_state(state_values: object, block_id: str) -> dict[str, Any] | None:
    """The state of the one element in `block_id` (its action id is the block id, but any is tolerated)."""
    block = state_values.get(block_id) if isinstance(state_values, Mapping) else None
    if not isinstance(block, Mapping) or not block:
        return None
    value = block.get(block_id)
    if value is None:
        value = next(iter(block.values()))
    return value if isinstance(value, dict) else None


def option_value(option: object) -> str | None:
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) else None


class Answers:
    """One view's answers: text comes back stripped, an option as its value, and anything of the wrong
    JSON type as unanswered; what an answer means is the field type's business."""

    def __init__(self, state_values: object) -> None:
        self.state_values = state_values
        self.errors: dict[str, str] = {}

    def fail(self, block_id: str, message: str) -> Any:
        self.errors.setdefault(block_id, message)
        return INVALID

    def raw(self, block_id: str, key: str) -> Any:
        """The element's `key` as received: any JSON value, or None."""
        return (element_state(self.state_values, block_id) or {}).get(key)

    def text(self, block_id: str) -> str:
        value = self.raw(block_id, "value")
        return value.strip() if isinstance(value, str) else ""

    def selected(self, block_id: str) -> str | None:
        return option_value(self.raw(block_id, "selected_option"))

    def selected_many(self, block_id: str) -> set[str]:
        options = self.raw(block_id, "selected_options")
        if not isinstance(options, list):
            return set()
        return {value for value in map(option_value, options) if value is not None}
