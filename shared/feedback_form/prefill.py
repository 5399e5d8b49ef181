"""A stored draft put back into the inputs of a freshly rendered form, element by element.

A value is filled in only if the element itself would accept it (an option it offers, a number within its
bounds, text within its `max_length`), so no draft, however stale or bent out of shape, can make the view
invalid; whatever does not fit is left out and the input starts empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    DatePickerElement,
    EmailInputElement,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    UrlInputElement,
)

from shared.feedback_form.answers import option_value
from shared.feedback_form.limits import TEXT_MAX
from shared.feedback_form.values import amount, email_address, iso_date, web_address, whole_number


def prefill(blocks: Iterable[InputBlock], draft: Mapping[str, Any] | None) -> bool:
    """Fill each block's element from `draft` (block id → element state); True if anything was filled."""
    filled = False
    for block in blocks:
        state = draft.get(block.block_id or "") if isinstance(draft, Mapping) else None
        if isinstance(state, dict) and _fill(block.element, state):
            filled = True
    return filled


def _fill(element: Any, state: dict[str, Any]) -> bool:
    if isinstance(element, RadioButtonsElement | StaticSelectElement):
        value = option_value(state.get("selected_option"))
        chosen = next((option for option in _offered(element) if option.value == value), None)
        if chosen is not None:
            element.initial_option = chosen
        return chosen is not None
    if isinstance(element, CheckboxesElement | StaticMultiSelectElement):
        selected = state.get("selected_options")
        values = set(map(option_value, selected)) if isinstance(selected, list) else set()
        options = [option for option in _offered(element) if option.value in values]
        if options:
            element.initial_options = options
        return bool(options)
    if isinstance(element, DatePickerElement):
        selected = state.get("selected_date")
        element.initial_date = iso_date(selected) if isinstance(selected, str) else None
        return element.initial_date is not None
    text = state.get("value")
    if not isinstance(text, str) or not text.strip() or not _accepts(element, text):
        return False
    element.initial_value = text.strip() if isinstance(element, NumberInputElement) else text
    return True


def _offered(element: Any) -> list[Option]:
    return [option for option in element.options or () if isinstance(option, Option)]


def _accepts(element: Any, text: str) -> bool:
    if isinstance(element, NumberInputElement):
        number = amount(text) if element.is_decimal_allowed else whole_number(text)
        low = amount(element.min_value) if element.min_value is not None else None
        high = amount(element.max_value) if element.max_value is not None else None
        return number is not None and (low is None or number >= low) and (high is None or number <= high)
    if isinstance(element, EmailInputElement):
        return email_address(text) is not None
    if isinstance(element, UrlInputElement):
        return web_address(text) is not None
    if isinstance(element, PlainTextInputElement):
        return len(text) <= (element.max_length or TEXT_MAX)
    return False
