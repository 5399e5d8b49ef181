"""A modal's `view.state.values` → Ashby's `fieldSubmissions`, inline errors, or a draft worth keeping.

Total over its input: whatever Slack, or a forged payload that passed the signature, sends,
`validate_submission` answers with errors keyed by block id, `parse_submission` raises only
`InvalidSubmission`, and `extract_draft` keeps only answers that read back without an error, so a stored
draft is always bounded and renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.feedback_form.answers import INVALID, MISSING, Answers, element_state, option_value
from shared.feedback_form.fields import TYPES
from shared.feedback_form.limits import OPTION_VALUE_MAX, SELECT_MAX_OPTIONS, TEXT_MAX
from shared.feedback_form.model import FieldMap, InvalidSubmission

ELEMENT_TYPE_MAX = 40  # "multi_static_select" and the like; only kept so a draft reads like Slack's state


def _read(state_values: Mapping[str, Any], field_map: FieldMap) -> tuple[list[dict[str, Any]], Answers]:
    answers = Answers(state_values)
    submissions: list[dict[str, Any]] = []
    for entry in field_map.fields:
        field_type = TYPES.get(entry.type)
        value = field_type.read(answers, entry) if field_type else MISSING  # render never maps a type it can't read
        if value is MISSING:
            if entry.required:
                answers.fail(entry.block_id, "This question is required.")
        elif value is not INVALID:
            submissions.append({"path": entry.path, "value": value})
    return submissions, answers


def validate_submission(state_values: Mapping[str, Any], field_map: FieldMap) -> dict[str, str]:
    """Block id → message for Slack's `response_action: errors` (empty when valid). No I/O: it runs
    inside the 3-second ack of `view_submission`."""
    return _read(state_values, field_map)[1].errors


def parse_submission(state_values: Mapping[str, Any], field_map: FieldMap) -> list[dict[str, Any]]:
    """`feedbackForm.fieldSubmissions` for Ashby: `[{"path", "value"}]` in form order, unanswered optional
    fields omitted. Raises `InvalidSubmission` (with the same errors as `validate_submission`)."""
    submissions, answers = _read(state_values, field_map)
    if answers.errors:
        raise InvalidSubmission(answers.errors)
    return submissions


def extract_draft(state_values: Mapping[str, Any], field_map: FieldMap) -> dict[str, Any]:
    """Slack `view.state.values` → draft: block id → element state, for this form's blocks that hold an
    answer its field type reads without an error (a range's inverted maximum, an unknown option, a
    5,000-digit number are left out). Pass it back to `render_modal(draft=...)`."""
    errors = _read(state_values, field_map)[1].errors
    draft: dict[str, Any] = {}
    for block_id in field_map.block_ids():
        state = element_state(state_values, block_id)
        kept = _answer(state) if state is not None and block_id not in errors else None
        if kept:
            draft[block_id] = kept
    return draft


def _answer(state: dict[str, Any]) -> dict[str, Any]:
    """The parts of an element's state a draft needs, each bounded (an option kept as its value only)."""
    kept: dict[str, Any] = {}
    value, date = state.get("value"), state.get("selected_date")
    if isinstance(value, str) and value.strip() and len(value) <= TEXT_MAX:
        kept["value"] = value
    if isinstance(date, str) and len(date) == 10:
        kept["selected_date"] = date
    chosen = option_value(state.get("selected_option"))
    if chosen is not None and len(chosen) <= OPTION_VALUE_MAX:
        kept["selected_option"] = {"value": chosen}
    many = state.get("selected_options")
    if isinstance(many, list):
        values = list(dict.fromkeys(value for value in map(option_value, many) if value is not None))
        if values and len(values) <= SELECT_MAX_OPTIONS and all(len(value) <= OPTION_VALUE_MAX for value in values):
            kept["selected_options"] = [{"value": value} for value in values]
    kind = state.get("type")
    if kept and isinstance(kind, str) and len(kind) <= ELEMENT_TYPE_MAX:
        kept = {"type": kind, **kept}
    return kept
