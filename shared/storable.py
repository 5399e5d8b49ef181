"""Text made storable at the edge: PostgreSQL refuses the NUL character in `text` and `jsonb`, and people paste
anything into Ashby and Slack.

Applied where payloads enter (the Ashby webhook and API bodies, Slack's typed answers) so that no single
record can make a job fail for good (`CharacterNotInRepertoireError`) or stop a sync run.
"""

from __future__ import annotations

import re
from typing import Any

# A JSON `\u0000` escape, unless its backslash is itself escaped (`\\u0000` is the text "\u0000").
_JSON_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")
STATE_TEXT_MAX = 10_000  # per typed value kept raw in a draft (Slack's own inputs stop at 3,000)
STATE_BLOCKS_MAX = 200  # a modal has at most 100 blocks


def storable_json(raw: bytes) -> bytes:
    """A JSON document with every NUL (`\\u0000`) removed from its strings; unchanged when it has none."""
    if b"\\u0000" not in raw:
        return raw
    return _JSON_NUL.sub(rb"\1", raw)


def storable_text(value: str) -> str:
    return value.replace("\x00", "") if "\x00" in value else value


def bounded_state_values(values: Any) -> dict[str, Any]:
    """Slack `view.state.values` made safe to keep as a draft when the form is not at hand to validate them:
    in the draft's shape (block id -> its element's state), strings without NUL and cut to a bound. The form
    ignores whatever no longer fits when it renders the draft."""
    if not isinstance(values, dict):
        return {}
    kept: dict[str, Any] = {}
    for block_id, block in list(values.items())[:STATE_BLOCKS_MAX]:
        if not (isinstance(block_id, str) and isinstance(block, dict) and block):
            continue
        state = block.get(block_id, next(iter(block.values())))  # one element per input block
        if isinstance(state, dict):
            kept[storable_text(block_id)[:255]] = _bounded(state)
    return kept


def _bounded(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return storable_text(value)[:STATE_TEXT_MAX]
    if depth >= 4:
        return None
    if isinstance(value, dict):
        return {storable_text(str(k))[:255]: _bounded(v, depth + 1) for k, v in list(value.items())[:50]}
    if isinstance(value, list):
        return [_bounded(v, depth + 1) for v in value[:100]]
    return value if isinstance(value, int | float | bool) or value is None else None
