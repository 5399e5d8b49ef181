"""Ashby feedback form definition ⇄ Slack modal: render, keep drafts, validate and parse submissions.

Invariants: a rendered view is always within Slack's Block Kit limits, or the form degrades to a
link-only view pointing at Ashby; every block id comes from a hash of the field's path and type and is
looked up in the `FieldMap` (never parsed back into a path: the predecessor's `replace("field_", "")`
corrupted paths); every select value comes back through the map, so Slack never sees an Ashby value it
would have to truncate; values go out in the formats `applicationFeedback.submit` documents per type.

This module is long because it is the one place that knows both Ashby's field types and Slack's input
elements; splitting render from parse would split each type's two halves apart.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import msgspec
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    EmailInputElement,
    InputBlock,
    InputInteractiveElement,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from shared.blocks import OPEN_FEEDBACK_LINK, escape, mrkdwn, safe_url, truncate
from shared.payloads.ashby import FeedbackFormDefinition, FormField, SelectableValue

CALLBACK_ID = "feedback_submit"
LINK_ONLY_CALLBACK_ID = "feedback_link_only"
MODAL_TITLE = "Interview feedback"

# Slack's limits (reference/apis.md B7/B8).
MODAL_MAX_BLOCKS = 100
SELECT_MAX_OPTIONS = 100
RADIO_MAX_OPTIONS = 10
OPTION_TEXT_MAX = 75
LABEL_MAX = 2000
HINT_MAX = 2000
TEXT_MAX = 3000  # plain_text_input's own ceiling for max_length
PRIVATE_METADATA_MAX = 3000
MRKDWN_MAX = 3000

EMAIL_MAX = 254  # RFC 5321 path limit
URL_MAX = 2048
# Ashby's API is JSON read by JavaScript: integers beyond 2**53 would silently lose precision.
SAFE_INTEGER = 2**53 - 1

DEFAULT_SCORE_LABELS = {1: "Strong No Hire", 2: "No Hire", 3: "Hire", 4: "Strong Hire"}
DEFAULT_CURRENCY = "USD"
# The common ISO 4217 codes; a static select keeps the code valid, which a free-text box would not.
CURRENCIES = (
    "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON", "ILS",
    "AED", "SAR", "INR", "SGD", "HKD", "JPY", "KRW", "CNY", "TWD", "PHP", "IDR", "MYR", "THB", "VND", "BRL",
    "MXN", "ARS", "CLP", "COP", "PEN", "ZAR", "NGN", "KES", "EGP", "TRY", "UAH",
)  # fmt: skip
DEFAULT_INTERVAL = "1 YEAR"
# Ashby's compensation intervals (the enum in its OpenAPI document), with the words a person reads.
INTERVALS = {
    "1 YEAR": "per year",
    "6 MONTH": "per 6 months",
    "3 MONTH": "per quarter",
    "2 MONTH": "per 2 months",
    "1 MONTH": "per month",
    "0.5 MONTH": "twice a month",
    "2 WEEK": "per 2 weeks",
    "1 WEEK": "per week",
    "1 DAY": "per day",
    "1 HOUR": "per hour",
    "1 TIME": "one time",
    "NONE": "no interval",
}

# Roles of the extra inputs a field may own besides its main block.
MAX, CURRENCY, INTERVAL, COMMENT = "max", "currency", "interval", "comment"


# --- types ----------------------------------------------------------------------------------------


class ModalContext(msgspec.Struct, frozen=True, kw_only=True):
    """What the modal shows around the form. `submission_key` goes to `private_metadata` so the
    submission can be matched to its (event, interviewer) row; the server re-checks who may submit."""

    submission_key: str
    candidate_name: str
    interview_title: str
    job_title: str | None = None
    feedback_link: str | None = None


class FieldEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One Ashby field: its main input block, the blocks of its other inputs by role, and for selects the
    Slack option value → Ashby value mapping."""

    path: str
    type: str
    label: str
    required: bool
    block_id: str
    parts: dict[str, str] = {}
    options: dict[str, str] = {}


class FieldMap(msgspec.Struct, frozen=True, kw_only=True):
    """Cached beside the rendered view; `parse_submission` reads the view's state through it."""

    fields: list[FieldEntry] = []

    def block_ids(self) -> list[str]:
        return [block_id for entry in self.fields for block_id in (entry.block_id, *entry.parts.values())]


class Modal(msgspec.Struct, frozen=True, tag=True):
    view: dict[str, Any]
    field_map: FieldMap


class LinkOnly(msgspec.Struct, frozen=True, tag=True):
    """A view without inputs that explains `reason` and links to the form in Ashby; `code` is stable
    (`too_many_options`, `too_many_blocks`, `unsupported_field`, `no_options`, `no_fields`)."""

    view: dict[str, Any]
    reason: str
    code: str = ""


RenderedModal = Modal | LinkOnly


class InvalidSubmission(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


class _Unrenderable(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


# --- ids and options ------------------------------------------------------------------------------


def _digest(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def block_id_for(path: str, field_type: str) -> str:
    """Stable across renders and form reorderings, so drafts and `views.update` keep their values; the type
    is part of it so a draft typed for another field type is never applied."""
    return "f" + _digest(f"{field_type}\x1f{path}", 6)


def _option(text: str, value: str) -> Option:
    return Option(text=truncate(text.strip() or "(blank)", OPTION_TEXT_MAX), value=value)


def _select_options(values: list[SelectableValue]) -> tuple[list[Option], dict[str, str]]:
    """Slack options with short values derived from the Ashby values (Ashby values may exceed Slack's 150
    characters); the mapping goes into the field map. Duplicate Ashby values would submit the same thing,
    so only the first is kept."""
    options: list[Option] = []
    mapping: dict[str, str] = {}
    seen: set[str] = set()
    for index, selectable in enumerate(values):
        if selectable.value in seen:
            continue
        seen.add(selectable.value)
        key = "v" + _digest(selectable.value, 5)
        if key in mapping:  # a hash collision: still unique, only less stable for drafts
            key = f"{key}-{index}"
        mapping[key] = selectable.value
        options.append(_option(selectable.label.strip() or selectable.value, key))
    return options, mapping


def _score_options(values: list[SelectableValue] | None) -> list[Option]:
    """Ashby's own labels when the field carries them (keyed by score), else the usual four."""
    labels = dict(DEFAULT_SCORE_LABELS)
    by_score: dict[int, str] = {}
    for selectable in values or []:
        score = _int_or_none(selectable.value)
        if score in labels and selectable.label.strip():
            by_score[score] = selectable.label.strip()
    if len(by_score) < len(labels) and values and len(values) == len(labels):
        # Labels without numeric values: Ashby lists them lowest score first.
        by_score = {score: s.label.strip() for score, s in zip(labels, values, strict=True) if s.label.strip()}
    labels.update(by_score)
    return [_option(text if text.startswith(str(n)) else f"{n} - {text}", str(n)) for n, text in labels.items()]


BOOLEAN_OPTIONS = [Option(text="Yes", value="true"), Option(text="No", value="false")]
CURRENCY_OPTIONS = [Option(text=code, value=code) for code in CURRENCIES]
INTERVAL_OPTIONS = [Option(text=text, value=value) for value, text in INTERVALS.items()]


# --- drafts ---------------------------------------------------------------------------------------


def extract_draft(state_values: Mapping[str, Any], field_map: FieldMap) -> dict[str, Any]:
    """Slack `view.state.values` → draft: block id → the element's state value as received, for the
    blocks this form owns and that hold something. Pass it back to `render_modal(draft=...)`."""
    draft: dict[str, Any] = {}
    for block_id in field_map.block_ids():
        value = _state(state_values, block_id)
        if value and any(value.get(key) for key in ("value", "selected_option", "selected_options", "selected_date")):
            draft[block_id] = value
    return draft


def _state(state_values: Mapping[str, Any], block_id: str) -> dict[str, Any] | None:
    block = state_values.get(block_id)
    if not isinstance(block, dict) or not block:
        return None
    # Each input block holds one element whose action id is the block id; tolerate any action id.
    value = block.get(block_id)
    if value is None:
        value = next(iter(block.values()))
    return value if isinstance(value, dict) else None


_T = TypeVar("_T")


class _Draft:
    """Reads a stored draft defensively: anything that no longer fits the current form is ignored, so a
    stale value can never produce an invalid view (the predecessor emitted `initial_option: null`)."""

    def __init__(self, values: Mapping[str, Any] | None) -> None:
        self.values = values or {}
        self.used = False

    def _get(self, block_id: str, key: str) -> Any:
        value = self.values.get(block_id)
        return value.get(key) if isinstance(value, dict) else None

    def _hit(self, value: _T) -> _T:
        self.used = self.used or value is not None
        return value

    def text(self, block_id: str, limit: int = TEXT_MAX) -> str | None:
        value = self._get(block_id, "value")
        return self._hit(value if isinstance(value, str) and 0 < len(value) <= limit else None)

    def number(self, block_id: str, *, decimal: bool) -> str | None:
        value = self._get(block_id, "value")
        ok = isinstance(value, str) and (_decimal(value) is not None if decimal else _int_or_none(value) is not None)
        return self._hit(value if ok else None)

    def date(self, block_id: str) -> str | None:
        value = self._get(block_id, "selected_date")
        return self._hit(value if isinstance(value, str) and _date_or_none(value) else None)

    def option(self, block_id: str, options: list[Option]) -> Option | None:
        selected = self._get(block_id, "selected_option")
        value = selected.get("value") if isinstance(selected, dict) else None
        return self._hit(next((option for option in options if option.value == value), None))

    def options(self, block_id: str, options: list[Option]) -> list[Option] | None:
        selected = self._get(block_id, "selected_options")
        chosen = (
            {item.get("value") for item in selected if isinstance(item, dict)} if isinstance(selected, list) else set()
        )
        return self._hit([option for option in options if option.value in chosen] or None)


# --- rendering ------------------------------------------------------------------------------------


class _Field:
    """A field being rendered: its entry ids, label, hint and the draft to pre-fill from."""

    def __init__(self, form_field: FormField, block_id: str, draft: _Draft) -> None:
        definition = form_field.field
        self.definition = definition
        self.required = form_field.is_required
        self.block_id = block_id
        names = (definition.title, definition.human_readable_path, definition.path)
        self.label = next((name.strip() for name in names if name and name.strip()), "Question")
        self.hint = (form_field.description_plain or "").strip() or None
        self.draft = draft
        self.parts: dict[str, str] = {}
        self.options: dict[str, str] = {}

    def part(self, role: str) -> str:
        self.parts[role] = f"{self.block_id}-{role}"
        return self.parts[role]

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


def _input(
    block_id: str, label: str, element: InputInteractiveElement, *, required: bool, hint: str | None = None
) -> InputBlock:
    element.action_id = block_id
    return InputBlock(
        block_id=block_id,
        label=truncate(label, LABEL_MAX),
        element=element,
        optional=not required,
        hint=truncate(hint, HINT_MAX) if hint else None,
    )


def _text_field(*, multiline: bool = False) -> Callable[[_Field, bool], list[InputBlock]]:
    def render(f: _Field, compact: bool) -> list[InputBlock]:
        element = PlainTextInputElement(
            initial_value=f.draft.text(f.block_id), multiline=multiline or None, max_length=TEXT_MAX
        )
        return [_input(f.block_id, f.label, element, required=f.required, hint=f.hint)]

    return render


def _email(f: _Field, compact: bool) -> list[InputBlock]:
    element = EmailInputElement(initial_value=f.draft.text(f.block_id, EMAIL_MAX))
    return [_input(f.block_id, f.label, element, required=f.required, hint=f.hint)]


def _url(f: _Field, compact: bool) -> list[InputBlock]:
    element = UrlInputElement(initial_value=f.draft.text(f.block_id, URL_MAX))
    return [_input(f.block_id, f.label, element, required=f.required, hint=f.hint)]


def _uuid(f: _Field, compact: bool) -> list[InputBlock]:
    element = PlainTextInputElement(
        initial_value=f.draft.text(f.block_id, 36), placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", max_length=36
    )
    return [_input(f.block_id, f.label, element, required=f.required, hint=f.hint)]


def _number(f: _Field, compact: bool) -> list[InputBlock]:
    element = NumberInputElement(is_decimal_allowed=False, initial_value=f.draft.number(f.block_id, decimal=False))
    return [_input(f.block_id, f.label, element, required=f.required, hint=f.hint)]


def _date(f: _Field, compact: bool) -> list[InputBlock]:
    element = DatePickerElement(initial_date=f.draft.date(f.block_id), placeholder="Pick a date")
    return [_input(f.block_id, f.label, element, required=f.required, hint=f.hint)]


def _radio_or_select(options: list[Option], initial: Option | None) -> InputInteractiveElement:
    if len(options) <= RADIO_MAX_OPTIONS:
        return RadioButtonsElement(options=options, initial_option=initial)
    return StaticSelectElement(options=options, initial_option=initial, placeholder="Choose one")


def _boolean(f: _Field, compact: bool) -> list[InputBlock]:
    # Two radio buttons, not one checkbox: a required checkbox could only ever be answered "yes".
    element = RadioButtonsElement(options=BOOLEAN_OPTIONS, initial_option=f.draft.option(f.block_id, BOOLEAN_OPTIONS))
    return [_input(f.block_id, f.label, element, required=f.required, hint=f.hint)]


def _score(f: _Field, compact: bool) -> list[InputBlock]:
    options = _score_options(f.definition.selectable_values)
    element = RadioButtonsElement(options=options, initial_option=f.draft.option(f.block_id, options))
    blocks = [_input(f.block_id, f.label, element, required=f.required, hint=f.hint)]
    if not compact:  # a nicety that is the first thing dropped when the form is too long for Slack
        comment = f.part(COMMENT)
        note = PlainTextInputElement(initial_value=f.draft.text(comment), multiline=True, max_length=TEXT_MAX)
        blocks.append(_input(comment, f"{f.label}: comments", note, required=False))
    return blocks


def _choices(f: _Field) -> list[Option]:
    values = f.definition.selectable_values or []
    if len(values) > SELECT_MAX_OPTIONS:
        raise _Unrenderable(
            "too_many_options", f"“{f.label}” has {len(values)} options; Slack can show at most {SELECT_MAX_OPTIONS}."
        )
    options, f.options = _select_options(values)
    if not options:
        if f.required:
            raise _Unrenderable("no_options", f"“{f.label}” has no options to choose from.")
        return []
    return options


def _value_select(f: _Field, compact: bool) -> list[InputBlock]:
    options = _choices(f)
    if not options:
        return []
    element = _radio_or_select(options, f.draft.option(f.block_id, options))
    return [_input(f.block_id, f.label, element, required=f.required, hint=f.hint)]


def _multi_select(f: _Field, compact: bool) -> list[InputBlock]:
    options = _choices(f)
    if not options:
        return []
    initial = f.draft.options(f.block_id, options)
    element: InputInteractiveElement
    if len(options) <= RADIO_MAX_OPTIONS:
        element = CheckboxesElement(options=options, initial_options=initial)
    else:
        element = StaticMultiSelectElement(options=options, initial_options=initial, placeholder="Choose any")
    return [_input(f.block_id, f.label, element, required=f.required, hint=f.hint)]


def _amount(f: _Field, block_id: str, label: str, *, hint: str | None = None) -> InputBlock:
    element = NumberInputElement(
        is_decimal_allowed=True, min_value=0, initial_value=f.draft.number(block_id, decimal=True)
    )
    return _input(block_id, label, element, required=f.required, hint=hint)


def _fixed_select(f: _Field, block_id: str, label: str, options: list[Option], default: str) -> InputBlock:
    initial = f.draft.option(block_id, options) or next(option for option in options if option.value == default)
    element = StaticSelectElement(options=options, initial_option=initial, placeholder="Choose one")
    return _input(block_id, label, element, required=f.required)


def _currency(f: _Field, compact: bool) -> list[InputBlock]:
    return [
        _amount(f, f.block_id, f.label, hint=f.hint),
        _fixed_select(f, f.part(CURRENCY), f"{f.label}: currency", CURRENCY_OPTIONS, DEFAULT_CURRENCY),
    ]


def _number_range(f: _Field, compact: bool) -> list[InputBlock]:
    return [
        _amount(f, f.block_id, f"{f.label}: minimum", hint=f.hint),
        _amount(f, f.part(MAX), f"{f.label}: maximum"),
    ]


def _compensation_range(f: _Field, compact: bool) -> list[InputBlock]:
    return [
        _amount(f, f.block_id, f"{f.label}: minimum", hint=f.hint),
        _amount(f, f.part(MAX), f"{f.label}: maximum"),
        _fixed_select(f, f.part(CURRENCY), f"{f.label}: currency", CURRENCY_OPTIONS, DEFAULT_CURRENCY),
        _fixed_select(f, f.part(INTERVAL), f"{f.label}: interval", INTERVAL_OPTIONS, DEFAULT_INTERVAL),
    ]


_RENDERERS: dict[str, Callable[[_Field, bool], list[InputBlock]]] = {
    "String": _text_field(),
    "Phone": _text_field(),
    "LongText": _text_field(multiline=True),
    "RichText": _text_field(multiline=True),
    "Email": _email,
    "Url": _url,
    "UUID": _uuid,
    "Number": _number,
    "Date": _date,
    "Boolean": _boolean,
    "Score": _score,
    "ValueSelect": _value_select,
    "MultiValueSelect": _multi_select,
    "Currency": _currency,
    "NumberRange": _number_range,
    "CompensationRange": _compensation_range,
}


def _header(context: ModalContext) -> list[Block]:
    line = f"*{mrkdwn(context.candidate_name, 300)}* · {mrkdwn(context.interview_title, 500)}"
    if context.job_title:
        line += f"\n{mrkdwn(context.job_title, 500)}"
    return [SectionBlock(text=MarkdownTextObject(text=line))]


def _ashby_link(context: ModalContext, text: str) -> str:
    link = safe_url(context.feedback_link, 2000)
    return f"<{link}|{text}>" if link else text


def _blocks(
    form: FeedbackFormDefinition, context: ModalContext, draft: _Draft, *, compact: bool
) -> tuple[list[Block], FieldMap]:
    blocks = _header(context)
    if context.feedback_link and not compact:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_ashby_link(context, "Open this form in Ashby"))]))
    entries: list[FieldEntry] = []
    taken: set[str] = set()
    for section in form.form_definition.sections:
        section_blocks: list[Block] = []
        if section.title and section.title.strip():
            section_blocks.append(
                SectionBlock(text=MarkdownTextObject(text=f"*{mrkdwn(section.title.strip(), 2900)}*"))
            )
        if section.description_plain and section.description_plain.strip() and not compact:
            text = mrkdwn(section.description_plain.strip(), MRKDWN_MAX)
            section_blocks.append(ContextBlock(elements=[MarkdownTextObject(text=text)]))
        answerable = 0
        for form_field in section.fields:
            definition = form_field.field
            block_id = block_id_for(definition.path, definition.type)
            suffix = 2
            while block_id in taken:  # the same path twice in one form: keep ids unique anyway
                block_id, suffix = f"{block_id_for(definition.path, definition.type)}-{suffix}", suffix + 1
            taken.add(block_id)
            f = _Field(form_field, block_id, draft)
            render = _RENDERERS.get(definition.type)
            if render is None:
                if f.required:
                    raise _Unrenderable(
                        "unsupported_field",
                        f"“{f.label}” is a {definition.type or 'unknown'} question Slack can't show.",
                    )
                note = (
                    f"“{mrkdwn(f.label, 500)}” can only be answered in Ashby: {_ashby_link(context, 'open the form')}."
                )
                section_blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
                answerable += 1
                continue
            rendered = render(f, compact)
            if not rendered:  # an optional select without options: nothing to answer
                continue
            section_blocks.extend(rendered)
            answerable += 1
            entries.append(f.entry())
        if answerable:  # a section whose fields were all skipped keeps no orphan title
            blocks.extend(section_blocks)
    if draft.used and not compact:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="💾 Your draft answers were restored.")]))
    return blocks, FieldMap(fields=entries)


def render_modal(
    form: FeedbackFormDefinition, *, context: ModalContext, draft: Mapping[str, Any] | None = None
) -> RenderedModal:
    """The Slack modal for `form`, pre-filled from `draft` (block id → Slack state value, from
    `extract_draft`); draft values that no longer match the form are ignored. If the form cannot be
    shown within Slack's limits, a `LinkOnly` view says why and links to Ashby."""
    if len(context.submission_key) > PRIVATE_METADATA_MAX:
        raise ValueError("submission_key does not fit in private_metadata")
    try:
        blocks, field_map = _blocks(form, context, _Draft(draft), compact=False)
        if len(blocks) > MODAL_MAX_BLOCKS:
            # Drop the niceties (score comments, section descriptions) before giving up on Slack.
            blocks, field_map = _blocks(form, context, _Draft(draft), compact=True)
        if len(blocks) > MODAL_MAX_BLOCKS:
            raise _Unrenderable("too_many_blocks", "This form has more questions than a Slack form can hold.")
        if not field_map.fields:
            raise _Unrenderable("no_fields", "This form has no questions that can be answered in Slack.")
    except _Unrenderable as problem:
        return LinkOnly(view=_link_only_view(context, problem.reason), reason=problem.reason, code=problem.code)
    view = View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=MODAL_TITLE,
        submit="Submit",
        close="Cancel",
        blocks=blocks,
        private_metadata=context.submission_key,
        notify_on_close=True,
    )
    return Modal(view=view.to_dict(), field_map=field_map)


def _link_only_view(context: ModalContext, reason: str) -> dict[str, Any]:
    blocks = _header(context)
    text = f"{escape(reason)}\nPlease fill in this feedback form in Ashby instead."
    blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(text, MRKDWN_MAX))))
    link = safe_url(context.feedback_link)
    if link:
        button = ButtonElement(text="Open the form in Ashby", url=link, action_id=OPEN_FEEDBACK_LINK, style="primary")
        blocks.append(ActionsBlock(elements=[button]))
    view = View(
        type="modal",
        callback_id=LINK_ONLY_CALLBACK_ID,
        title=MODAL_TITLE,
        close="Close",
        blocks=blocks,
        private_metadata=context.submission_key,
    )
    return view.to_dict()


# --- reading a submission -------------------------------------------------------------------------

_MISSING: Any = object()
_INVALID: Any = object()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_INTEGER = re.compile(r"^[+-]?\d+$")


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    if not _INTEGER.match(text):
        return None
    value = int(text)
    return value if abs(value) <= SAFE_INTEGER else None


def _decimal(text: str) -> int | float | None:
    """A finite JSON number: int when integral, float otherwise."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) > SAFE_INTEGER:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _date_or_none(text: str) -> date | None:
    if len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _url_ok(text: str) -> bool:
    return len(text) <= URL_MAX and bool(re.match(r"^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$", text, re.I))


class _Reader:
    """Reads one field's inputs from `view.state.values`, collecting errors keyed by block id. Each read
    returns a value, `_MISSING` (unanswered) or `_INVALID` (an error was recorded)."""

    def __init__(self, state_values: Mapping[str, Any]) -> None:
        self.state_values = state_values
        self.errors: dict[str, str] = {}

    def fail(self, block_id: str, message: str) -> Any:
        self.errors.setdefault(block_id, message)
        return _INVALID

    def text(self, block_id: str) -> str:
        value = (_state(self.state_values, block_id) or {}).get("value")
        return value.strip() if isinstance(value, str) else ""

    def selected(self, block_id: str) -> str | None:
        option = (_state(self.state_values, block_id) or {}).get("selected_option")
        value = option.get("value") if isinstance(option, dict) else None
        return value if isinstance(value, str) else None

    def selected_many(self, block_id: str) -> list[str]:
        options = (_state(self.state_values, block_id) or {}).get("selected_options")
        if not isinstance(options, list):
            return []
        return [item["value"] for item in options if isinstance(item, dict) and isinstance(item.get("value"), str)]

    def amount(self, block_id: str) -> Any:
        text = self.text(block_id)
        if not text:
            return _MISSING
        value = _decimal(text)
        if value is None:
            return self.fail(block_id, "Enter a number.")
        if value < 0:
            return self.fail(block_id, "Enter a number of zero or more.")
        return value

    def code(self, block_id: str, allowed: Collection[str], default: str) -> Any:
        value = self.selected(block_id)
        if value is None:
            return default  # the select starts on the default; nothing selected means it was cleared
        return value if value in allowed else self.fail(block_id, "Choose one of the listed options.")

    def range(self, entry: FieldEntry) -> tuple[Any, Any]:
        low, high = self.amount(entry.block_id), self.amount(entry.parts[MAX])
        if _INVALID in (low, high):
            return _INVALID, _INVALID
        if low is _MISSING and high is _MISSING:
            return _MISSING, _MISSING
        if low is _MISSING or high is _MISSING:
            empty = entry.block_id if low is _MISSING else entry.parts[MAX]
            return self.fail(empty, "Enter both a minimum and a maximum."), _INVALID
        if low > high:
            return self.fail(entry.parts[MAX], "The maximum must not be lower than the minimum."), _INVALID
        return low, high


def _text_value(reader: _Reader, entry: FieldEntry) -> Any:
    text = reader.text(entry.block_id)
    if not text:
        return _MISSING
    if len(text) > TEXT_MAX:
        return reader.fail(entry.block_id, f"Keep this under {TEXT_MAX} characters.")
    if entry.type == "Email" and (len(text) > EMAIL_MAX or not _EMAIL.match(text)):
        return reader.fail(entry.block_id, "Enter an e-mail address like name@example.com.")
    if entry.type == "Url" and not _url_ok(text):
        return reader.fail(entry.block_id, "Enter a web address starting with https://.")
    if entry.type == "UUID":
        try:
            return str(uuid.UUID(text))
        except ValueError:
            return reader.fail(entry.block_id, "Enter a UUID like 123e4567-e89b-12d3-a456-426614174000.")
    if entry.type == "RichText":
        # Ashby accepts rich text only as plain text wrapped like this.
        return {"type": "PlainText", "value": text}
    return text


def _number_value(reader: _Reader, entry: FieldEntry) -> Any:
    text = reader.text(entry.block_id)
    if not text:
        return _MISSING
    number = _int_or_none(text)
    return number if number is not None else reader.fail(entry.block_id, "Enter a whole number.")


def _date_value(reader: _Reader, entry: FieldEntry) -> Any:
    selected = (_state(reader.state_values, entry.block_id) or {}).get("selected_date")
    if not selected:
        return _MISSING
    valid = isinstance(selected, str) and _date_or_none(selected) is not None
    return selected if valid else reader.fail(entry.block_id, "Pick a date.")


def _boolean_value(reader: _Reader, entry: FieldEntry) -> Any:
    choice = reader.selected(entry.block_id)
    if choice is None:
        return _MISSING
    if choice not in ("true", "false"):
        return reader.fail(entry.block_id, "Choose Yes or No.")
    return choice == "true"


def _score_value(reader: _Reader, entry: FieldEntry) -> Any:
    choice = reader.selected(entry.block_id)
    comment = reader.text(entry.parts[COMMENT]) if COMMENT in entry.parts else ""
    if choice is None:
        # Ashby stores the comment on the score; alone it would be silently lost.
        return reader.fail(entry.block_id, "Choose a score to go with your comment.") if comment else _MISSING
    score = _int_or_none(choice)
    if score not in DEFAULT_SCORE_LABELS:
        return reader.fail(entry.block_id, "Choose a score from 1 to 4.")
    value: dict[str, Any] = {"score": score}
    if len(comment) > TEXT_MAX:
        return reader.fail(entry.parts[COMMENT], f"Keep this under {TEXT_MAX} characters.")
    if comment:
        value["comments"] = {"type": "PlainText", "value": comment}
    return value


def _value_select_value(reader: _Reader, entry: FieldEntry) -> Any:
    choice = reader.selected(entry.block_id)
    if choice is None:
        return _MISSING
    if choice not in entry.options:
        return reader.fail(entry.block_id, "That option is no longer available; choose another.")
    return entry.options[choice]


def _multi_select_value(reader: _Reader, entry: FieldEntry) -> Any:
    chosen = reader.selected_many(entry.block_id)
    if any(choice not in entry.options for choice in chosen):
        return reader.fail(entry.block_id, "An option is no longer available; choose again.")
    # Form order, not click order: the same answers always submit the same value.
    return [ashby for key, ashby in entry.options.items() if key in chosen] or _MISSING


def _currency_value(reader: _Reader, entry: FieldEntry) -> Any:
    amount = reader.amount(entry.block_id)
    currency = reader.code(entry.parts[CURRENCY], CURRENCIES, DEFAULT_CURRENCY)
    if _INVALID in (amount, currency):
        return _INVALID
    return _MISSING if amount is _MISSING else {"value": amount, "currencyCode": currency}


def _number_range_value(reader: _Reader, entry: FieldEntry) -> Any:
    low, high = reader.range(entry)
    if low is _MISSING or low is _INVALID:
        return low
    return {"type": "number-range", "minValue": low, "maxValue": high}


def _compensation_range_value(reader: _Reader, entry: FieldEntry) -> Any:
    low, high = reader.range(entry)
    currency = reader.code(entry.parts[CURRENCY], CURRENCIES, DEFAULT_CURRENCY)
    interval = reader.code(entry.parts[INTERVAL], INTERVALS, DEFAULT_INTERVAL)
    if _INVALID in (low, currency, interval):
        return _INVALID
    if low is _MISSING:
        return _MISSING
    return {
        "type": "compensation-range",
        "minValue": low,
        "maxValue": high,
        "currencyCode": currency,
        "interval": interval,
    }


_READERS: dict[str, Callable[[_Reader, FieldEntry], Any]] = {
    "String": _text_value,
    "Phone": _text_value,
    "LongText": _text_value,
    "RichText": _text_value,
    "Email": _text_value,
    "Url": _text_value,
    "UUID": _text_value,
    "Number": _number_value,
    "Date": _date_value,
    "Boolean": _boolean_value,
    "Score": _score_value,
    "ValueSelect": _value_select_value,
    "MultiValueSelect": _multi_select_value,
    "Currency": _currency_value,
    "NumberRange": _number_range_value,
    "CompensationRange": _compensation_range_value,
}


def _read_all(state_values: Mapping[str, Any], field_map: FieldMap) -> tuple[list[dict[str, Any]], dict[str, str]]:
    reader = _Reader(state_values)
    submissions: list[dict[str, Any]] = []
    for entry in field_map.fields:
        read = _READERS.get(entry.type)
        value = read(reader, entry) if read else _MISSING  # render never maps a type it cannot read
        if value is _MISSING:
            if entry.required:
                reader.fail(entry.block_id, "This question is required.")
        elif value is not _INVALID:
            submissions.append({"path": entry.path, "value": value})
    return submissions, reader.errors


def validate_submission(state_values: Mapping[str, Any], field_map: FieldMap) -> dict[str, str]:
    """Block id → message for Slack's `response_action: errors` (empty when valid). No I/O: it runs
    inside the 3-second ack of `view_submission`."""
    return _read_all(state_values, field_map)[1]


def parse_submission(state_values: Mapping[str, Any], field_map: FieldMap) -> list[dict[str, Any]]:
    """`feedbackForm.fieldSubmissions` for Ashby: `[{"path", "value"}]` in form order, unanswered optional
    fields omitted. Raises `InvalidSubmission` (with the same errors as `validate_submission`)."""
    submissions, errors = _read_all(state_values, field_map)
    if errors:
        raise InvalidSubmission(errors)
    return submissions
