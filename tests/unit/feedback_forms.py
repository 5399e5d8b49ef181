"""Builders and checks shared by the feedback form tests: small forms, Slack's state, and Slack's limits."""

from __future__ import annotations

from typing import Any

import msgspec
from slack_sdk.models.views import View

from shared.feedback_form import FieldMap, Modal, ModalContext, RenderedModal, render_modal
from shared.payloads.ashby import (
    FeedbackFormDefinition,
    FieldDefinition,
    FormDefinition,
    FormField,
    FormSection,
    SelectableValue,
)

CONTEXT = ModalContext(
    submission_key="sub_8f2a",
    candidate_name="Ada Lovelace",
    interview_title="System design",
    job_title="Staff Engineer",
    feedback_link="https://app.ashbyhq.com/interview-briefings/abc/feedback",
)


def choices(*pairs: tuple[str, str]) -> list[SelectableValue]:
    return [SelectableValue(label=label, value=value) for label, value in pairs]


def field(
    field_type: str,
    path: str | None = None,
    *,
    title: str | None = None,
    required: bool = True,
    values: list[SelectableValue] | None = None,
    description: str | None = None,
) -> FormField:
    path = path or f"{field_type.lower()}_path"
    definition = FieldDefinition(
        id=f"id-{path}", type=field_type, path=path, title=title if title is not None else field_type,
        human_readable_path=path, selectable_values=values,
    )  # fmt: skip
    return FormField(field=definition, is_required=required, description_plain=description)


def form(*fields: FormField, title: str | None = None, description: str | None = None) -> FeedbackFormDefinition:
    section = FormSection(fields=list(fields), title=title, description_plain=description)
    return FeedbackFormDefinition(id="form-1", title="Scorecard", form_definition=FormDefinition(sections=[section]))


def render(definition: FeedbackFormDefinition, draft: dict[str, Any] | None = None) -> RenderedModal:
    rendered = render_modal(definition, context=CONTEXT, draft=draft)
    assert_valid_view(rendered.view)
    return rendered


def modal(definition: FeedbackFormDefinition, draft: dict[str, Any] | None = None) -> Modal:
    rendered = render(definition, draft)
    assert isinstance(rendered, Modal), getattr(rendered, "reason", rendered)
    # What the server caches beside the view must survive both encodings unchanged.
    for codec in (msgspec.json, msgspec.msgpack):
        assert codec.decode(codec.encode(rendered.field_map), type=FieldMap) == rendered.field_map
    return rendered


def blocks_by_id(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {block["block_id"]: block for block in view["blocks"] if "block_id" in block}


def input_blocks(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [block for block in view["blocks"] if block["type"] == "input"]


def assert_valid_view(view: dict[str, Any]) -> None:
    """slack_sdk's own validation, plus the limits it does not check on dict input."""
    assert View(**view).to_dict() == view
    assert 1 <= len(view["blocks"]) <= 100
    assert len(view["title"]["text"]) <= 24
    assert len(view.get("private_metadata", "")) <= 3000
    ids = [block["block_id"] for block in view["blocks"] if "block_id" in block]
    assert len(ids) == len(set(ids))
    for block in view["blocks"]:
        assert len(block.get("block_id", "")) <= 255
        if block["type"] == "input":
            element = block["element"]
            assert 1 <= len(block["label"]["text"]) <= 2000
            assert len(block.get("hint", {}).get("text", "")) <= 2000
            assert len(element.get("placeholder", {}).get("text", "")) <= 150
            assert len(element["action_id"]) <= 255
            options = element.get("options", [])
            limit = 10 if element["type"] in ("radio_buttons", "checkboxes") else 100
            assert len(options) <= limit
            for option in options:
                assert 1 <= len(option["text"]["text"]) <= 75
                assert len(option["value"]) <= 150
            values = [option["value"] for option in options]
            assert len(values) == len(set(values))
            # Initial options must be exactly options of the element (the predecessor emitted null).
            if "initial_option" in element:
                assert element["initial_option"] in options
            for initial in element.get("initial_options", []):
                assert initial in options
        if block["type"] in ("section", "context"):
            texts = [block["text"]] if "text" in block else block["elements"]
            assert all(len(text["text"]) <= 3000 for text in texts)


def slack_state(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """`view.state.values` as Slack sends it after a person answers: every input block appears, unanswered
    ones empty; options are copied from the view, so only offered options can be chosen."""
    state: dict[str, Any] = {}
    for block in input_blocks(view):
        element = block["element"]
        kind, action = element["type"], element["action_id"]
        answer = answers.get(block["block_id"])
        options = {option["value"]: option for option in element.get("options", [])}
        value: dict[str, Any] = {"type": kind}
        if kind in ("radio_buttons", "static_select"):
            value["selected_option"] = options[answer] if answer is not None else None
        elif kind in ("checkboxes", "multi_static_select"):
            value["selected_options"] = [options[choice] for choice in answer or []]
        elif kind == "datepicker":
            value["selected_date"] = answer
        else:
            value["value"] = answer
        state[block["block_id"]] = {action: value}
    return state


def option_value(view: dict[str, Any], block_id: str, text: str) -> str:
    element = blocks_by_id(view)[block_id]["element"]
    return str(next(option["value"] for option in element["options"] if option["text"]["text"] == text))


SELECT_VALUES = choices(("Python", "lang-py"), ("Go", "lang-go"), ("Rust", "lang-rs"))
