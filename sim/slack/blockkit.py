"""Block Kit limits as Slack enforces them, as pure checks returning Slack-style problem messages.

The numbers are Slack's documented limits (the same ones slack_sdk.models validates); an empty list means
the surface would be accepted. Not every rule of Block Kit is here, only the limits senders run into.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_ID = 255  # block_id, action_id, callback_id, external_id
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = {"static_select": 100, "multi_static_select": 100, "radio_buttons": 10, "checkboxes": 10, "overflow": 5}
BLOCK_TYPES = {"section", "divider", "image", "actions", "context", "input", "header", "file", "rich_text", "video"}
_TEXT_LIMITS = {"section": 3000, "header": 150}


def message_problems(text: str | None, blocks: list[Any] | None) -> list[str]:
    problems: list[str] = []
    if text and len(text) > MAX_MESSAGE_TEXT:
        problems.append(f"text must be at most {MAX_MESSAGE_TEXT} characters")
    if blocks is not None:
        problems += _blocks_problems(blocks, MAX_MESSAGE_BLOCKS, "/blocks")
    return problems


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be an object [json-pointer:/view]"]
    problems: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.append("view type must be modal or home [json-pointer:/view/type]")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return [*problems, "blocks is required [json-pointer:/view/blocks]"]
    problems += _blocks_problems(blocks, MAX_VIEW_BLOCKS, "/view/blocks")
    if kind == "modal":
        for name in ("title", "submit", "close"):
            label = view.get(name)
            if label is None:
                if name == "title":
                    problems.append("title is required [json-pointer:/view/title]")
                continue
            if _text(label) is None or len(_text(label) or "") > MAX_VIEW_TITLE:
                problems.append(f"must be at most {MAX_VIEW_TITLE} characters [json-pointer:/view/{name}/text]")
        if view.get("submit") is None and any(b.get("type") == "input" for b in blocks if isinstance(b, dict)):
            problems.append("submit is required when a view has input blocks [json-pointer:/view/submit]")
    if len(str(view.get("private_metadata") or "")) > MAX_PRIVATE_METADATA:
        problems.append(f"must be at most {MAX_PRIVATE_METADATA} characters [json-pointer:/view/private_metadata]")
    for name in ("callback_id", "external_id"):
        if len(str(view.get(name) or "")) > MAX_ID:
            problems.append(f"must be at most {MAX_ID} characters [json-pointer:/view/{name}]")
    return problems


def _blocks_problems(blocks: list[Any], limit: int, where: str) -> list[str]:
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"must provide at most {limit} items [json-pointer:{where}]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        at = f"{where}/{i}"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            problems.append(f"unknown or missing block type [json-pointer:{at}/type]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > MAX_ID:
                problems.append(f"must be at most {MAX_ID} characters [json-pointer:{at}/block_id]")
            if block_id in seen:
                problems.append(f"duplicate block_id {block_id!r} [json-pointer:{at}/block_id]")
            seen.add(block_id)
        text_limit = _TEXT_LIMITS.get(block["type"])
        if text_limit and len(_text(block.get("text")) or "") > text_limit:
            problems.append(f"must be at most {text_limit} characters [json-pointer:{at}/text/text]")
        if block["type"] == "input" and not isinstance(block.get("element"), dict):
            problems.append(f"input blocks need an element [json-pointer:{at}/element]")
        problems += _elements_problems(block, at)
    return problems


def _elements_problems(block: dict[str, Any], at: str) -> list[str]:
    located: list[tuple[str, Any]] = [(f"{at}/elements/{i}", e) for i, e in enumerate(block.get("elements") or [])]
    if block["type"] == "context":
        located = []  # context elements are texts and images, never interactive
    for name in ("accessory", "element"):
        if block.get(name) is not None:
            located.append((f"{at}/{name}", block[name]))
    problems: list[str] = []
    action_ids: set[str] = set()
    for where, element in located:
        if not isinstance(element, dict):
            problems.append(f"element must be an object [json-pointer:{where}]")
            continue
        action_id = element.get("action_id")
        if action_id is not None:
            if len(str(action_id)) > MAX_ID:
                problems.append(f"must be at most {MAX_ID} characters [json-pointer:{where}/action_id]")
            if action_id in action_ids:
                problems.append(f"duplicate action_id {action_id!r} [json-pointer:{where}/action_id]")
            action_ids.add(action_id)
        problems += _options_problems(element, where)
    return problems


def _options_problems(element: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or [] if isinstance(group, dict) else []
    limit = MAX_OPTIONS.get(str(element.get("type")))
    if limit is not None and len(options) > limit:
        problems.append(f"must provide at most {limit} items [json-pointer:{where}/options]")
    for i, option in enumerate(options):
        if not isinstance(option, dict):
            problems.append(f"option must be an object [json-pointer:{where}/options/{i}]")
            continue
        if len(_text(option.get("text")) or "") > MAX_OPTION_TEXT:
            problems.append(f"must be at most {MAX_OPTION_TEXT} characters [json-pointer:{where}/options/{i}/text]")
        if len(str(option.get("value") or "")) > MAX_OPTION_VALUE:
            problems.append(f"must be at most {MAX_OPTION_VALUE} characters [json-pointer:{where}/options/{i}/value]")
    return problems


def _text(obj: Any) -> str | None:
    if isinstance(obj, dict):
        text = obj.get("text")
        return text if isinstance(text, str) else None
    return obj if isinstance(obj, str) else None
