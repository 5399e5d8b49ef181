"""Ashby's field types, one object each: the Slack inputs it renders and how their answers read back.

Adding a type is one class (or one configured instance) and one line in `TYPES`. `render` builds the
inputs empty (a draft is filled in afterwards by `prefill`, per element); `read` returns the value in the
format `applicationFeedback.submit` documents for the type, `MISSING`, or `INVALID` once it has recorded
an inline error. Reads go through the bounded parsers of `values`, so no state can make them raise.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    DatePickerElement,
    EmailInputElement,
    InputBlock,
    InputInteractiveElement,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    UrlInputElement,
)

from shared.blocks import truncate
from shared.feedback_form.answers import INVALID, MISSING, Answers
from shared.feedback_form.limits import HINT_MAX, LABEL_MAX, RADIO_MAX_OPTIONS, SELECT_MAX_OPTIONS, TEXT_MAX
from shared.feedback_form.model import COMMENT, CURRENCY, INTERVAL, MAX, FieldEntry, Unrenderable
from shared.feedback_form.options import (
    BOOLEAN_OPTIONS,
    CURRENCIES,
    CURRENCY_OPTIONS,
    DEFAULT_CURRENCY,
    DEFAULT_INTERVAL,
    DEFAULT_SCORE_LABELS,
    INTERVAL_OPTIONS,
    INTERVALS,
    score_options,
    select_options,
)
from shared.feedback_form.values import (
    SAFE_INTEGER,
    amount,
    canonical_uuid,
    email_address,
    iso_date,
    web_address,
    whole_number,
)
from shared.payloads.ashby import FormField

TOO_LONG = f"Keep this under {TEXT_MAX} characters."


class Field:
    """A form field being rendered: its block ids, label and hint, and the `FieldEntry` it becomes."""

    def __init__(self, form_field: FormField, block_id: str) -> None:
        definition = form_field.field
        self.definition = definition
        self.required = form_field.is_required
        self.block_id = block_id
        names = (definition.title, definition.human_readable_path, definition.path)
        self.label = next((name.strip() for name in names if name and name.strip()), "Question")
        self.hint = (form_field.description_plain or "").strip() or None
        self.parts: dict[str, str] = {}
        self.options: dict[str, str] = {}

    def part(self, role: str) -> str:
        self.parts[role] = f"{self.block_id}-{role}"
        return self.parts[role]

    def input(
        self,
        block_id: str,
        label: str,
        element: InputInteractiveElement,
        *,
        hint: str | None = None,
        required: bool | None = None,
    ) -> InputBlock:
        element.action_id = block_id
        return InputBlock(
            block_id=block_id,
            label=truncate(label, LABEL_MAX),
            element=element,
            optional=not (self.required if required is None else required),
            hint=truncate(hint, HINT_MAX) if hint else None,
        )

    def entry(self) -> FieldEntry:
        return FieldEntry(
            path=self.definition.path,
            type=self.definition.type,
            label=self.label,
            required=self.required,
            block_id=self.block_id,
            parts=self.parts,
            options=self.options,
        )


class FieldType:
    """One Ashby field type: the Slack inputs that answer it, and how their answers read back."""

    def render(self, field: Field, *, compact: bool) -> list[InputBlock]:
        """The field's input blocks, main block first; none for an optional field with nothing to answer.
        `compact` asks for the fewest blocks (the form is too long for Slack otherwise)."""
        raise NotImplementedError

    def read(self, answers: Answers, entry: FieldEntry) -> Any:
        """The value `applicationFeedback.submit` takes for this type, `MISSING` when unanswered, or
        `INVALID` after recording an error on the block at fault. Never raises."""
        raise NotImplementedError


# --- free text ------------------------------------------------------------------------------------


def _rich_text(text: str) -> dict[str, str]:
    return {"type": "PlainText", "value": text}  # the only rich text Ashby accepts


class Text(FieldType):
    """A text box; the stripped text becomes the Ashby value through `convert`, and None from it is
    answered with `message`."""

    def __init__(
        self,
        element: Callable[[], InputInteractiveElement],
        *,
        convert: Callable[[str], Any] = str,
        message: str = "",
    ) -> None:
        self.element, self.convert, self.message = element, convert, message

    def render(self, field: Field, *, compact: bool) -> list[InputBlock]:
        return [field.input(field.block_id, field.label, self.element(), hint=field.hint)]

    def read(self, answers: Answers, entry: FieldEntry) -> Any:
        text = answers.text(entry.block_id)
        if not text:
            return MISSING
        if len(text) > TEXT_MAX:
            return answers.fail(entry.block_id, TOO_LONG)
        value = self.convert(text)
        return value if value is not None else answers.fail(entry.block_id, self.message)


def _text_box(
    *, multiline: bool = False, max_length: int = TEXT_MAX, placeholder: str | None = None
) -> Callable[[], InputInteractiveElement]:
    # `multiline=None` rather than False keeps the key out of a single-line element's JSON.
    return partial(PlainTextInputElement, multiline=multiline or None, max_length=max_length, placeholder=placeholder)


# --- numbers, dates, yes/no, scores ---------------------------------------------------------------


class Number(FieldType):
    def render(self, field: Field, *, compact: bool) -> list[InputBlock]:
        element = NumberInputElement(is_decimal_allowed=False, min_value=-SAFE_INTEGER, max_value=SAFE_INTEGER)
        return [field.input(field.block_id, field.label, element, hint=field.hint)]

    def read(self, answers: Answers, entry: FieldEntry) -> Any:
        text = answers.text(entry.block_id)
        if not text:
            return MISSING
        number = whole_number(text)
        return number if number is not None else answers.fail(entry.block_id, "Enter a whole number.")


class Date(FieldType):
    def render(self, field: Field, *, compact: bool) -> list[InputBlock]:
        element = DatePickerElement(placeholder="Pick a date")
        return [field.input(field.block_id, field.label, element, hint=field.hint)]

    def read(self, answers: Answers, entry: FieldEntry) -> Any:
        selected = answers.raw(entry.block_id, "selected_date")
        if not selected:
            return MISSING
        value = iso_date(selected) if isinstance(selected, str) else None
        return value if value is not None else answers.fail(entry.block_id, "Pick a date.")


class Boolean(FieldType):
    """Two radio buttons, not one checkbox: a required checkbox could only ever be answered "yes"."""

    def render(self, field: Field, *, compact: bool) -> list[InputBlock]:
        element = RadioButtonsElement(options=BOOLEAN_OPTIONS)
        return [field.input(field.block_id, field.label, element, hint=field.hint)]

    def read(self, answers: Answers, entry: FieldEntry) -> Any:
        choice = answers.selected(entry.block_id)
        if choice is None:
            return MISSING
        if choice not in ("true", "false"):
            return answers.fail(entry.block_id, "Choose Yes or No.")
        return choice == "true"


class Score(FieldType):
    """1-4 as radio buttons, with a comment box that is the first thing dropped when the form is long."""

    def render(self, field: Field, *, compact: bool) -> list[InputBlock]:
        element = RadioButtonsElement(options=score_options(field.definition.selectable_values))
        blocks = [field.input(field.block_id, field.label, element, hint=field.hint)]
        if not compact:
            note = _text_box(multiline=True)()
            blocks.append(field.input(field.part(COMMENT), f"{field.label}: comments", note, required=False))
        return blocks

    def read(self, answers: Answers, entry: FieldEntry) -> Any:
        choice = answers.selected(entry.block_id)
        comment = answers.text(entry.parts[COMMENT]) if COMMENT in entry.parts else ""
        too_long = len(comment) > TEXT_MAX
        if too_long:
            answers.fail(entry.parts[COMMENT], TOO_LONG)
        if choice is None:
            # Ashby stores the comment on the score; alone it would be silently lost.
            return answers.fail(entry.block_id, "Choose a score to go with your comment.") if comment else MISSING
        score = whole_number(choice)
        if score not in DEFAULT_SCORE_LABELS:
            return answers.fail(entry.block_id, "Choose a score from 1 to 4.")
        if too_long:
            return INVALID
        value: dict[str, Any] = {"score": score}
        if comment:
            value["comments"] = _rich_text(comment)
        return value


# --- selects --------------------------------------------------------------------------------------


def _choices(field: Field) -> list[Option]:
    values = field.definition.selectable_values or []
    if len(values) > SELECT_MAX_OPTIONS:
        raise Unrenderable(
            "too_many_options",
            f"“{field.label}” has {len(values)} options; Slack can show at most {SELECT_MAX_OPTIONS}.",
        )
    options, field.options = select_options(values)
    if not options and field.required:
        raise Unrenderable("no_options", f"“{field.label}” has no options to choose from.")
    return options


class ValueSelect(FieldType):
    def render(self, field: Field, *, compact: bool) -> list[InputBlock]:
        options = _choices(field)
        if not options:  # optional and nothing to choose from: nothing to answer
            return []
        element: InputInteractiveElement
        if len(options) <= RADIO_MAX_OPTIONS:
            element = RadioButtonsElement(options=options)
        else:
            element = StaticSelectElement(options=options, placeholder="Choose one")
        return [field.input(field.block_id, field.label, element, hint=field.hint)]

    def read(self, answers: Answers, entry: FieldEntry) -> Any:
        choice = answers.selected(entry.block_id)
        if choice is None:
            return MISSING
        if choice not in entry.options:
            return answers.fail(entry.block_id, "That option is no longer available; choose another.")
        return entry.options[choice]


class MultiValueSelect(FieldType):
    def render(self, field: Field, *, compact: bool) -> list[InputBlock]:
        options = _choices(field)
        if not options:
            return []
        element: InputInteractiveElement
        if len(options) <= RADIO_MAX_OPTIONS:
            element = CheckboxesElement(options=options)
        else:
            element = StaticMultiSelectElement(options=options, placeholder="Choose any")
        return [field.input(field.block_id, field.label, element, hint=field.hint)]

    def read(self, answers: Answers, entry: FieldEntry) -> Any:
        chosen = answers.selected_many(entry.block_id)
        if not chosen.issubset(entry.options):
            return answers.fail(entry.block_id, "An option is no longer available; choose again.")
        # Form order, not click order: the same answers always submit the same value.
        return [ashby for key, ashby in entry.options.items() if key in chosen] or MISSING


# --- money and ranges -----------------------------------------------------------------------------


def _amount_input(field: Field, block_id: str, label: str, *, hint: str | None = None) -> InputBlock:
    element = NumberInputElement(is_decimal_allowed=True, min_value=0, max_value=SAFE_INTEGER)
    return field.input(block_id, label, element, hint=hint)


def _range_inputs(field: Field) -> list[InputBlock]:
    return [
        _amount_input(field, field.block_id, f"{field.label}: minimum", hint=field.hint),
        _amount_input(field, field.part(MAX), f"{field.label}: maximum"),
    ]


def _code_input(field: Field, role: str, options: list[Option], default: str) -> InputBlock:
    """A select that starts on `default`, labelled by its role ("currency", "interval")."""
    initial = next(option for option in options if option.value == default)
    element = StaticSelectElement(options=options, initial_option=initial, placeholder="Choose one")
    return field.input(field.part(role), f"{field.label}: {role}", element)


def _read_amount(answers: Answers, block_id: str) -> Any:
    text = answers.text(block_id)
    if not text:
        return MISSING
    value = amount(text)
    if value is None:
        return answers.fail(block_id, "Enter a number.")
    if value < 0:
        return answers.fail(block_id, "Enter a number of zero or more.")
    return value


def _read_code(answers: Answers, block_id: str, allowed: Collection[str], default: str) -> Any:
    value = answers.selected(block_id)
    if value is None:
        return default  # the select starts on the default; nothing selected means it was cleared
    return value if value in allowed else answers.fail(block_id, "Choose one of the listed options.")


def _read_range(answers: Answers, entry: FieldEntry) -> tuple[Any, Any]:
    low, high = _read_amount(answers, entry.block_id), _read_amount(answers, entry.parts[MAX])
    if INVALID in (low, high):
        return INVALID, INVALID
    if low is MISSING and high is MISSING:
        return MISSING, MISSING
    if low is MISSING or high is MISSING:
        empty = entry.block_id if low is MISSING else entry.parts[MAX]
        return answers.fail(empty, "Enter both a minimum and a maximum."), INVALID
    if low > high:
        return answers.fail(entry.parts[MAX], "The maximum must not be lower than the minimum."), INVALID
    return low, high


class Currency(FieldType):
    def render(self, field: Field, *, compact: bool) -> list[InputBlock]:
        return [
            _amount_input(field, field.block_id, field.label, hint=field.hint),
            _code_input(field, CURRENCY, CURRENCY_OPTIONS, DEFAULT_CURRENCY),
        ]

    def read(self, answers: Answers, entry: FieldEntry) -> Any:
        value = _read_amount(answers, entry.block_id)
        currency = _read_code(answers, entry.parts[CURRENCY], CURRENCIES, DEFAULT_CURRENCY)
        if INVALID in (value, currency):
            return INVALID
        return MISSING if value is MISSING else {"value": value, "currencyCode": currency}


class NumberRange(FieldType):
    def render(self, field: Field, *, compact: bool) -> list[InputBlock]:
        return _range_inputs(field)

    def read(self, answers: Answers, entry: FieldEntry) -> Any:
        low, high = _read_range(answers, entry)
        if low is MISSING or low is INVALID:
            return low
        return {"type": "number-range", "minValue": low, "maxValue": high}


class CompensationRange(FieldType):
    def render(self, field: Field, *, compact: bool) -> list[InputBlock]:
        return [
            *_range_inputs(field),
            _code_input(field, CURRENCY, CURRENCY_OPTIONS, DEFAULT_CURRENCY),
            _code_input(field, INTERVAL, INTERVAL_OPTIONS, DEFAULT_INTERVAL),
        ]

    def read(self, answers: Answers, entry: FieldEntry) -> Any:
        low, high = _read_range(answers, entry)
        currency = _read_code(answers, entry.parts[CURRENCY], CURRENCIES, DEFAULT_CURRENCY)
        interval = _read_code(answers, entry.parts[INTERVAL], INTERVALS, DEFAULT_INTERVAL)
        if INVALID in (low, currency, interval):
            return INVALID
        if low is MISSING:
            return MISSING
        return {
            "type": "compensation-range",
            "minValue": low,
            "maxValue": high,
            "currencyCode": currency,
            "interval": interval,
        }


# Every type in `shared.payloads.ashby.FIELD_TYPES`; a type missing here is answered in Ashby instead.
TYPES: dict[str, FieldType] = {
    "String": Text(_text_box()),
    "Phone": Text(_text_box()),
    "LongText": Text(_text_box(multiline=True)),
    "RichText": Text(_text_box(multiline=True), convert=_rich_text),
    "Email": Text(EmailInputElement, convert=email_address, message="Enter an e-mail address like name@example.com."),
    "Url": Text(UrlInputElement, convert=web_address, message="Enter a web address starting with https://."),
    "UUID": Text(
        _text_box(max_length=36, placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"),
        convert=canonical_uuid,
        message="Enter a UUID like 123e4567-e89b-12d3-a456-426614174000.",
    ),
    "Number": Number(),
    "Date": Date(),
    "Boolean": Boolean(),
    "Score": Score(),
    "ValueSelect": ValueSelect(),
    "MultiValueSelect": MultiValueSelect(),
    "Currency": Currency(),
    "NumberRange": NumberRange(),
    "CompensationRange": CompensationRange(),
}
