"""Every typed value is bounded before it is parsed: huge numbers, exponents and strings, and any stored draft,
give inline errors or are dropped; validation never raises and rendering from a draft always works."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.feedback_form import (
    InvalidSubmission,
    Modal,
    block_id_for,
    extract_draft,
    parse_submission,
    render_modal,
    validate_submission,
)
from shared.payloads.ashby import FIELD_TYPES
from tests.unit.feedback_forms import (
    CONTEXT,
    SELECT_VALUES,
    assert_valid_view,
    blocks_by_id,
    choices,
    field,
    form,
    input_blocks,
    modal,
    slack_state,
)

DIGITS_5000 = "9" * 5000  # Python's int() refuses strings over 4,300 digits
HUGE = "x" * 200_000

# (field type, the block suffix typed into, the message for a number that cannot be used)
NUMBER_INPUTS = [
    ("Number", "", "Enter a whole number."),
    ("Currency", "", "Enter a number."),
    ("NumberRange", "", "Enter a number."),
    ("NumberRange", "-max", "Enter a number."),
    ("CompensationRange", "", "Enter a number."),
    ("CompensationRange", "-max", "Enter a number."),
]
NUMBER_IDS = [f"{kind}{suffix}" for kind, suffix, _ in NUMBER_INPUTS]
UNUSABLE_NUMBERS = {
    "5000-digits": DIGITS_5000,
    "minus-5000-digits": "-" + DIGITS_5000,
    "huge-exponent": "1e999999999",
    "minus-huge-exponent": "-1E+999999999",
    "tiny-exponent": "1e-999999999",  # not 0: it would reach Ashby as 0.0
    "41-digits": "9" * 41,
}


def one_field(field_type: str) -> Modal:
    return modal(form(field(field_type, "f", required=False, values=SELECT_VALUES)))


def typed(rendered: Modal, field_type: str, suffix: str, raw: Any) -> dict[str, Any]:
    """The state after typing `raw` into one input; a range's other end gets a plain 1."""
    block_id = block_id_for("f", field_type)
    answers = {block_id + suffix: raw}
    if field_type.endswith("Range"):
        answers.setdefault(block_id, "1")
        answers.setdefault(block_id + "-max", "1")
    return slack_state(rendered.view, answers)


# --- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", UNUSABLE_NUMBERS.values(), ids=UNUSABLE_NUMBERS.keys())
@pytest.mark.parametrize(("field_type", "suffix", "message"), NUMBER_INPUTS, ids=NUMBER_IDS)
def test_an_unusable_number_is_an_inline_error(field_type: str, suffix: str, message: str, raw: str) -> None:
    rendered = one_field(field_type)
    state = typed(rendered, field_type, suffix, raw)
    block_id = block_id_for("f", field_type) + suffix
    assert validate_submission(state, rendered.field_map) == {block_id: message}
    with pytest.raises(InvalidSubmission) as raised:
        parse_submission(state, rendered.field_map)
    assert raised.value.errors == {block_id: message}


@pytest.mark.parametrize("raw", UNUSABLE_NUMBERS.values(), ids=UNUSABLE_NUMBERS.keys())
@pytest.mark.parametrize(("field_type", "suffix", "message"), NUMBER_INPUTS, ids=NUMBER_IDS)
def test_an_unusable_number_is_left_out_of_the_draft(field_type: str, suffix: str, message: str, raw: str) -> None:
    rendered = one_field(field_type)
    draft = extract_draft(typed(rendered, field_type, suffix, raw), rendered.field_map)
    assert block_id_for("f", field_type) + suffix not in draft
    again = render_modal(form(field(field_type, "f", required=False)), context=CONTEXT, draft=draft)
    assert_valid_view(again.view)


@pytest.mark.parametrize("raw", UNUSABLE_NUMBERS.values(), ids=UNUSABLE_NUMBERS.keys())
@pytest.mark.parametrize(("field_type", "suffix", "message"), NUMBER_INPUTS, ids=NUMBER_IDS)
def test_a_stored_draft_with_an_unusable_number_still_renders(
    field_type: str, suffix: str, message: str, raw: str
) -> None:
    # Drafts saved before they were validated hold whatever was typed.
    block_id = block_id_for("f", field_type) + suffix
    draft = {block_id: {"type": "number_input", "value": raw}}
    rendered = modal(form(field(field_type, "f", required=False)), draft=draft)
    assert "initial_value" not in blocks_by_id(rendered.view)[block_id]["element"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("9007199254740991", 9007199254740991), ("1e3", 1000), ("0e-999999999", 0), ("-0", 0), ("12.5", 12.5)],
)
def test_amounts_at_the_edges_that_still_count(raw: str, expected: float) -> None:
    rendered = one_field("Currency")
    state = typed(rendered, "Currency", "", raw)
    assert parse_submission(state, rendered.field_map) == [
        {"path": "f", "value": {"value": expected, "currencyCode": "USD"}}
    ]


def test_number_inputs_carry_slacks_bounds() -> None:
    rendered = modal(form(field("Number", "n"), field("Currency", "c"), field("NumberRange", "r")))
    bounds = {
        block_id: (block["element"]["min_value"], block["element"]["max_value"])
        for block_id, block in blocks_by_id(rendered.view).items()
        if block["type"] == "input" and block["element"]["type"] == "number_input"
    }
    safe = str(2**53 - 1)
    range_id = block_id_for("r", "NumberRange")
    assert bounds == {
        block_id_for("n", "Number"): ("-" + safe, safe),
        block_id_for("c", "Currency"): ("0", safe),
        range_id: ("0", safe),
        range_id + "-max": ("0", safe),
    }


def test_plain_text_inputs_carry_a_max_length() -> None:
    rendered = modal(form(*(field(field_type, values=SELECT_VALUES, required=False) for field_type in FIELD_TYPES)))
    for block in input_blocks(rendered.view):
        if block["element"]["type"] == "plain_text_input":
            assert 1 <= block["element"]["max_length"] <= 3000


# --- text -----------------------------------------------------------------------------------------

TEXT_INPUTS = [
    ("String", "", "Keep this under 3000 characters."),
    ("Phone", "", "Keep this under 3000 characters."),
    ("LongText", "", "Keep this under 3000 characters."),
    ("RichText", "", "Keep this under 3000 characters."),
    ("Email", "", "Keep this under 3000 characters."),
    ("Url", "", "Keep this under 3000 characters."),
    ("UUID", "", "Keep this under 3000 characters."),
    ("Score", "-comment", "Keep this under 3000 characters."),
    ("Number", "", "Enter a whole number."),
    ("Currency", "", "Enter a number."),
]


@pytest.mark.parametrize(("field_type", "suffix", "message"), TEXT_INPUTS, ids=[t for t, _, _ in TEXT_INPUTS])
def test_a_huge_string_is_an_inline_error_and_stays_out_of_drafts(field_type: str, suffix: str, message: str) -> None:
    rendered = one_field(field_type)
    block_id = block_id_for("f", field_type)
    answers: dict[str, Any] = {block_id + suffix: HUGE}
    if field_type == "Score":
        answers[block_id] = "3"
    state = slack_state(rendered.view, answers)
    assert validate_submission(state, rendered.field_map) == {block_id + suffix: message}
    draft = extract_draft(state, rendered.field_map)
    assert block_id + suffix not in draft
    assert len(str(draft)) < 1000
    assert_valid_view(render_modal(form(field(field_type, "f", required=False)), context=CONTEXT, draft=draft).view)


@pytest.mark.parametrize("key", ["selected_option", "selected_options", "selected_date"])
def test_huge_forged_selections_are_errors_or_ignored_never_exceptions(key: str) -> None:
    definition = form(*(field(field_type, values=SELECT_VALUES, required=False) for field_type in FIELD_TYPES))
    rendered = modal(definition)
    forged: Any = (
        {"value": HUGE} if key == "selected_option" else [{"value": HUGE}] if key == "selected_options" else HUGE
    )
    state = {block_id: {block_id: {"type": "x", key: forged}} for block_id in rendered.field_map.block_ids()}
    errors = validate_submission(state, rendered.field_map)
    assert errors and set(errors) <= set(rendered.field_map.block_ids())
    with pytest.raises(InvalidSubmission):
        parse_submission(state, rendered.field_map)
    draft = extract_draft(state, rendered.field_map)
    assert len(str(draft)) < 1000
    assert_valid_view(render_modal(definition, context=CONTEXT, draft=draft).view)
    assert_valid_view(render_modal(definition, context=CONTEXT, draft=state).view)


def test_a_forged_score_of_5000_digits_is_an_inline_error() -> None:
    rendered = one_field("Score")
    block_id = block_id_for("f", "Score")
    state = slack_state(rendered.view, {})
    state[block_id][block_id]["selected_option"] = {"value": DIGITS_5000}
    assert validate_submission(state, rendered.field_map) == {block_id: "Choose a score from 1 to 4."}


def test_a_score_label_of_5000_digits_in_the_form_still_renders() -> None:
    rendered = modal(form(field("Score", "s", values=choices(("Huge", DIGITS_5000)))))
    assert len(blocks_by_id(rendered.view)[block_id_for("s", "Score")]["element"]["options"]) == 4


def test_validating_pathological_addresses_is_fast() -> None:
    # A host of 2,000 dots made the address pattern backtrack for ~0.1 s per field.
    definition = form(*(field("Url", f"u{index}", required=False) for index in range(10)))
    rendered = modal(definition)
    state = slack_state(
        rendered.view, {entry.block_id: "https://" + "." * 2030 + "/ x" for entry in rendered.field_map.fields}
    )
    started = time.perf_counter()
    errors = validate_submission(state, rendered.field_map)
    assert time.perf_counter() - started < 0.1
    assert len(errors) == 10


@pytest.mark.parametrize("raw", ["https://.example.com", "https://$x.example.com", "https://example.", "https://a"])
def test_a_web_address_needs_a_host_like_a_host(raw: str) -> None:
    # The simulator's rule for Ashby's Url type refuses a host that starts with a dot.
    rendered = one_field("Url")
    block_id = block_id_for("f", "Url")
    state = slack_state(rendered.view, {block_id: raw})
    assert validate_submission(state, rendered.field_map) == {block_id: "Enter a web address starting with https://."}


# --- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "2025-W10-5",
        "20250307",
        "\uff12\uff10\uff12\uff15-\uff10\uff13-\uff10\uff17",
        "2025-02-30",
        "2025-3-7",
        "2025-03-07T00",
    ],
)
def test_only_calendar_dates_in_yyyy_mm_dd_are_taken(raw: str) -> None:
    rendered = one_field("Date")
    block_id = block_id_for("f", "Date")
    state = slack_state(rendered.view, {block_id: raw})
    assert validate_submission(state, rendered.field_map) == {block_id: "Pick a date."}
    assert block_id not in extract_draft(state, rendered.field_map)


# --- drafts of any shape --------------------------------------------------------------------------

GARBAGE: list[Any] = [
    None,
    "not a dict",
    42,
    [],
    {"value": 7},
    {"value": " \n "},
    {"value": HUGE},
    {"value": DIGITS_5000},
    {"value": ["a list"]},
    {"selected_option": "not a dict"},
    {"selected_option": {"value": ["unhashable"]}},
    {"selected_option": {"value": "not-an-option"}},
    {"selected_options": [{"value": ["unhashable"]}, {"value": {"a": 1}}, "x", None]},
    {"selected_options": {"value": "not a list"}},
    {"selected_date": "2025-W10-5"},
    {"selected_date": 20250307},
    {"selected_date": HUGE},
]


@pytest.mark.parametrize("garbage", GARBAGE, ids=[f"garbage{index}" for index in range(len(GARBAGE))])
def test_any_stored_draft_renders_and_its_garbage_is_dropped(garbage: Any) -> None:
    definition = form(*(field(field_type, values=SELECT_VALUES, required=False) for field_type in FIELD_TYPES))
    ids = modal(definition).field_map.block_ids()
    rendered = modal(definition, draft=dict.fromkeys(ids, garbage))
    for block in input_blocks(rendered.view):
        element = block["element"]
        filled = {"initial_option", "initial_options", "initial_date", "initial_value"} & set(element)
        # The fixed selects (currency, interval) keep only their defaults.
        assert filled <= ({"initial_option"} if block["block_id"].endswith(("-currency", "-interval")) else set())


@pytest.mark.parametrize("draft", [[], "x", 42, {42: "x"}], ids=["list", "str", "int", "int-key"])
def test_a_draft_that_is_not_a_mapping_of_blocks_is_ignored(draft: Any) -> None:
    rendered = render_modal(form(field("String")), context=CONTEXT, draft=draft)
    assert isinstance(rendered, Modal)


SHAPES: dict[str, Any] = {"list": [], "str": "x", "int": 42, "null": None, "empty": {}}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("level", ["state", "block", "element"])
def test_state_values_of_any_shape_read_as_unanswered(level: str, shape: Any) -> None:
    rendered = modal(form(field("String", "a"), field("Number", "n", required=False)))
    state: Any = shape
    if level != "state":
        state = {
            block_id: shape if level == "block" else {block_id: shape} for block_id in rendered.field_map.block_ids()
        }
    assert validate_submission(state, rendered.field_map) == {block_id_for("a", "String"): "This question is required."}
    assert extract_draft(state, rendered.field_map) == {}


def test_a_draft_keeps_valid_answers_and_drops_invalid_ones_field_by_field() -> None:
    definition = form(
        field("Number", "good"),
        field("Number", "bad"),
        field("Email", "mail"),
        field("Currency", "pay"),
        field("Date", "d"),
    )
    rendered = modal(definition)
    ids = {entry.path: entry.block_id for entry in rendered.field_map.fields}
    state = slack_state(
        rendered.view,
        {
            ids["good"]: "42",
            ids["bad"]: DIGITS_5000,
            ids["mail"]: "not-mail",
            ids["pay"]: "1e999999999",
            ids["d"]: "2025-03-07",
        },
    )
    draft = extract_draft(state, rendered.field_map)
    assert set(draft) == {ids["good"], ids["d"]}
    again = blocks_by_id(modal(definition, draft=draft).view)
    assert again[ids["good"]]["element"]["initial_value"] == "42"
    assert again[ids["d"]]["element"]["initial_date"] == "2025-03-07"
    assert "initial_value" not in again[ids["bad"]]["element"]
    assert "initial_value" not in again[ids["mail"]]["element"]
    assert "initial_value" not in again[ids["pay"]]["element"]
