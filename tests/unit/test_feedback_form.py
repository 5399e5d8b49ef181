"""Ashby form ⇄ Slack modal: every field type round-trips; Slack's limits hold or the form degrades to a link."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from shared.feedback_form import (
    CALLBACK_ID,
    LINK_ONLY_CALLBACK_ID,
    InvalidSubmission,
    LinkOnly,
    Modal,
    ModalContext,
    block_id_for,
    extract_draft,
    parse_submission,
    render_modal,
    validate_submission,
)
from shared.payloads.ashby import FIELD_TYPES, FeedbackFormDefinition, FormDefinition, FormSection, SelectableValue
from tests.snapshots import assert_snapshot
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
    option_value,
    render,
    slack_state,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"


# --- every field type round-trips -----------------------------------------------------------------

ROUND_TRIPS: list[tuple[str, list[SelectableValue] | None, dict[str, Any], Any]] = [
    ("String", None, {"": "Solid fundamentals"}, "Solid fundamentals"),
    ("LongText", None, {"": "Line one\nLine two"}, "Line one\nLine two"),
    ("RichText", None, {"": "Strong *systems* thinking"}, {"type": "PlainText", "value": "Strong *systems* thinking"}),
    ("Phone", None, {"": "+1 555 0100"}, "+1 555 0100"),
    ("Email", None, {"": "ref@example.com"}, "ref@example.com"),
    ("Url", None, {"": "https://github.com/ada"}, "https://github.com/ada"),
    ("UUID", None, {"": "123E4567-E89B-12D3-A456-426614174000"}, "123e4567-e89b-12d3-a456-426614174000"),
    ("Number", None, {"": "42"}, 42),
    ("Date", None, {"": "2025-03-07"}, "2025-03-07"),
    ("Boolean", None, {"": "true"}, True),
    ("Score", None, {"": "4"}, {"score": 4}),
    ("ValueSelect", SELECT_VALUES, {"": "Go"}, "lang-go"),
    ("MultiValueSelect", SELECT_VALUES, {"": ["Rust", "Python"]}, ["lang-py", "lang-rs"]),
    ("Currency", None, {"": "120000", "-currency": "EUR"}, {"value": 120000, "currencyCode": "EUR"}),
    ("NumberRange", None, {"": "3", "-max": "7"}, {"type": "number-range", "minValue": 3, "maxValue": 7}),
    (
        "CompensationRange",
        None,
        {"": "150000", "-max": "180000.5", "-currency": "GBP", "-interval": "1 MONTH"},
        {
            "type": "compensation-range",
            "minValue": 150000,
            "maxValue": 180000.5,
            "currencyCode": "GBP",
            "interval": "1 MONTH",
        },
    ),
]  # fmt: skip


def answer(view: dict[str, Any], block_id: str, suffix: str, raw: Any) -> Any:
    """Translate option texts in a test's answers into the option values the view carries."""
    element = blocks_by_id(view)[block_id + suffix]["element"]
    if "options" not in element:
        return raw
    texts = {option["text"]["text"]: option["value"] for option in element["options"]}
    if isinstance(raw, list):
        return [texts.get(text, text) for text in raw]
    return texts.get(raw, raw)


def test_the_round_trip_table_covers_every_field_type_ashby_accepts() -> None:
    assert sorted(field_type for field_type, *_ in ROUND_TRIPS) == sorted(FIELD_TYPES)


@pytest.mark.parametrize(("field_type", "values", "answers", "expected"), ROUND_TRIPS, ids=[r[0] for r in ROUND_TRIPS])
def test_every_field_type_round_trips_to_ashbys_format(
    field_type: str, values: list[SelectableValue] | None, answers: dict[str, Any], expected: Any
) -> None:
    rendered = modal(form(field(field_type, values=values)))
    block_id = block_id_for(f"{field_type.lower()}_path", field_type)
    typed = {block_id + suffix: answer(rendered.view, block_id, suffix, raw) for suffix, raw in answers.items()}
    state = slack_state(rendered.view, typed)
    assert validate_submission(state, rendered.field_map) == {}
    assert parse_submission(state, rendered.field_map) == [{"path": f"{field_type.lower()}_path", "value": expected}]
    # The JSON Ashby receives is exactly that (no Decimal or other non-JSON leftovers).
    assert json.loads(json.dumps(parse_submission(state, rendered.field_map)))[0]["value"] == expected


ELEMENTS = {
    "String": "plain_text_input",
    "Phone": "plain_text_input",
    "UUID": "plain_text_input",
    "LongText": "plain_text_input",
    "RichText": "plain_text_input",
    "Email": "email_text_input",
    "Url": "url_text_input",
    "Number": "number_input",
    "Date": "datepicker",
    "Boolean": "radio_buttons",
    "Score": "radio_buttons",
    "ValueSelect": "radio_buttons",
    "MultiValueSelect": "checkboxes",
    "Currency": "number_input",
    "NumberRange": "number_input",
    "CompensationRange": "number_input",
}


@pytest.mark.parametrize("field_type", sorted(ELEMENTS))
def test_each_type_gets_its_slack_element(field_type: str) -> None:
    rendered = modal(form(field(field_type, values=SELECT_VALUES)))
    element = blocks_by_id(rendered.view)[block_id_for(f"{field_type.lower()}_path", field_type)]["element"]
    assert element["type"] == ELEMENTS[field_type]
    assert element.get("multiline", False) == (field_type in ("LongText", "RichText"))
    if field_type == "Number":
        assert element["is_decimal_allowed"] is False
    if field_type in ("Currency", "NumberRange", "CompensationRange"):
        assert element["is_decimal_allowed"] is True


def test_the_whole_modal_frame() -> None:
    rendered = modal(form(field("String")))
    view = rendered.view
    assert view["type"] == "modal"
    assert view["callback_id"] == CALLBACK_ID
    assert view["private_metadata"] == "sub_8f2a"
    assert view["notify_on_close"] is True
    assert view["submit"]["text"] == "Submit"
    assert view["close"]["text"] == "Cancel"
    header = view["blocks"][0]["text"]["text"]
    assert "Ada Lovelace" in header and "System design" in header and "Staff Engineer" in header
    assert str(CONTEXT.feedback_link) in json.dumps(view)


def test_a_whole_form_round_trips_in_form_order_and_skips_empty_optionals() -> None:
    definition = FeedbackFormDefinition(
        id="form-2",
        form_definition=FormDefinition(
            sections=[
                FormSection(
                    title="Signal", fields=[field("Score", "overall"), field("String", "notes", required=False)]
                ),
                FormSection(
                    title="Details", fields=[field("Boolean", "would_hire"), field("Number", "years", required=False)]
                ),
            ]
        ),
    )
    rendered = modal(definition)
    ids = {entry.path: entry.block_id for entry in rendered.field_map.fields}
    state = slack_state(rendered.view, {ids["overall"]: "3", ids["would_hire"]: "false"})
    assert parse_submission(state, rendered.field_map) == [
        {"path": "overall", "value": {"score": 3}},
        {"path": "would_hire", "value": False},
    ]


def test_section_titles_and_descriptions_are_shown() -> None:
    rendered = modal(form(field("String"), title="Technical <depth>", description="Probe & dig"))
    texts = json.dumps(rendered.view["blocks"])
    assert "*Technical &lt;depth&gt;*" in texts
    assert "Probe &amp; dig" in texts


def test_required_and_optional_and_hint() -> None:
    rendered = modal(form(field("String", "a", description="What stood out?"), field("String", "b", required=False)))
    blocks = blocks_by_id(rendered.view)
    assert blocks[block_id_for("a", "String")]["optional"] is False
    assert blocks[block_id_for("a", "String")]["hint"]["text"] == "What stood out?"
    assert blocks[block_id_for("b", "String")]["optional"] is True


def test_label_falls_back_to_the_human_readable_path() -> None:
    rendered = modal(form(field("String", "deep_path", title="  ")))
    assert blocks_by_id(rendered.view)[block_id_for("deep_path", "String")]["label"]["text"] == "deep_path"


def test_the_form_decodes_from_ashby_json() -> None:
    body = json.dumps(
        {
            "id": "f1",
            "title": "Onsite",
            "organizationId": "org",
            "isArchived": False,
            "formDefinition": {
                "sections": [
                    {
                        "title": "Overall",
                        "fields": [
                            {
                                "isRequired": True,
                                "descriptionPlain": "Your recommendation",
                                "field": {
                                    "id": "x",
                                    "type": "Score",
                                    "path": "overall_recommendation",
                                    "humanReadablePath": "Overall",
                                    "title": "Overall recommendation",
                                    "isNullable": False,
                                },
                            }
                        ],
                    }
                ]
            },
        }
    ).encode()
    rendered = modal(msgspec.json.decode(body, type=FeedbackFormDefinition))
    assert [entry.path for entry in rendered.field_map.fields] == ["overall_recommendation"]


# --- Score ----------------------------------------------------------------------------------------


def test_score_uses_default_labels_and_takes_a_comment() -> None:
    rendered = modal(form(field("Score", "overall")))
    block_id = block_id_for("overall", "Score")
    element = blocks_by_id(rendered.view)[block_id]["element"]
    assert [option["text"]["text"] for option in element["options"]] == [
        "1 - Strong No Hire",
        "2 - No Hire",
        "3 - Hire",
        "4 - Strong Hire",
    ]
    assert [option["value"] for option in element["options"]] == ["1", "2", "3", "4"]
    comment = blocks_by_id(rendered.view)[f"{block_id}-comment"]
    assert comment["optional"] is True and comment["element"]["multiline"] is True
    state = slack_state(rendered.view, {block_id: "2", f"{block_id}-comment": "  Struggled with scaling  "})
    assert parse_submission(state, rendered.field_map) == [
        {"path": "overall", "value": {"score": 2, "comments": {"type": "PlainText", "value": "Struggled with scaling"}}}
    ]


def test_score_uses_ashbys_labels_when_the_field_has_them() -> None:
    labels = choices(("Definitely not", "1"), ("No", "2"), ("Yes", "3"), ("4 - Absolutely", "4"))
    rendered = modal(form(field("Score", "overall", values=labels)))
    element = blocks_by_id(rendered.view)[block_id_for("overall", "Score")]["element"]
    assert [option["text"]["text"] for option in element["options"]] == [
        "1 - Definitely not",
        "2 - No",
        "3 - Yes",
        "4 - Absolutely",
    ]


def test_score_labels_without_numeric_values_are_taken_in_order() -> None:
    labels = choices(("Nope", "a"), ("Meh", "b"), ("Good", "c"), ("Great", "d"))
    rendered = modal(form(field("Score", "overall", values=labels)))
    element = blocks_by_id(rendered.view)[block_id_for("overall", "Score")]["element"]
    assert [option["text"]["text"] for option in element["options"]] == ["1 - Nope", "2 - Meh", "3 - Good", "4 - Great"]
    assert [option["value"] for option in element["options"]] == ["1", "2", "3", "4"]


def test_a_score_comment_without_a_score_is_an_error_not_lost() -> None:
    rendered = modal(form(field("Score", "overall", required=False)))
    block_id = block_id_for("overall", "Score")
    state = slack_state(rendered.view, {f"{block_id}-comment": "Great communicator"})
    assert validate_submission(state, rendered.field_map) == {block_id: "Choose a score to go with your comment."}
    assert parse_submission(slack_state(rendered.view, {}), rendered.field_map) == []


def test_a_forged_score_is_rejected() -> None:
    rendered = modal(form(field("Score", "overall")))
    block_id = block_id_for("overall", "Score")
    state = slack_state(rendered.view, {})
    state[block_id][block_id]["selected_option"] = {"text": {"type": "plain_text", "text": "5"}, "value": "5"}
    assert validate_submission(state, rendered.field_map) == {block_id: "Choose a score from 1 to 4."}


# --- Boolean --------------------------------------------------------------------------------------


def test_a_required_boolean_can_be_answered_no() -> None:
    rendered = modal(form(field("Boolean", "would_hire")))
    block_id = block_id_for("would_hire", "Boolean")
    block = blocks_by_id(rendered.view)[block_id]
    assert block["optional"] is False
    assert [option["text"]["text"] for option in block["element"]["options"]] == ["Yes", "No"]
    state = slack_state(rendered.view, {block_id: "false"})
    assert parse_submission(state, rendered.field_map) == [{"path": "would_hire", "value": False}]


def test_an_unanswered_optional_boolean_is_omitted_not_false() -> None:
    rendered = modal(form(field("Boolean", "would_hire", required=False)))
    assert parse_submission(slack_state(rendered.view, {}), rendered.field_map) == []


# --- selects --------------------------------------------------------------------------------------


def many(count: int, *, label: str = "Option", value: str = "value") -> list[SelectableValue]:
    return choices(*((f"{label} {index}", f"{value}-{index}") for index in range(count)))


@pytest.mark.parametrize(
    ("field_type", "count", "element_type"),
    [
        ("ValueSelect", 10, "radio_buttons"),
        ("ValueSelect", 11, "static_select"),
        ("ValueSelect", 100, "static_select"),
        ("MultiValueSelect", 10, "checkboxes"),
        ("MultiValueSelect", 11, "multi_static_select"),
        ("MultiValueSelect", 100, "multi_static_select"),
    ],
)
def test_select_elements_follow_the_option_count(field_type: str, count: int, element_type: str) -> None:
    rendered = modal(form(field(field_type, "pick", values=many(count))))
    block_id = block_id_for("pick", field_type)
    element = blocks_by_id(rendered.view)[block_id]["element"]
    assert element["type"] == element_type
    assert len(element["options"]) == count
    last = element["options"][-1]["value"]
    chosen: Any = [last] if field_type == "MultiValueSelect" else last
    state = slack_state(rendered.view, {block_id: chosen})
    expected: Any = [f"value-{count - 1}"] if field_type == "MultiValueSelect" else f"value-{count - 1}"
    assert parse_submission(state, rendered.field_map) == [{"path": "pick", "value": expected}]


@pytest.mark.parametrize("field_type", ["ValueSelect", "MultiValueSelect"])
@pytest.mark.parametrize("required", [True, False])
def test_more_than_100_options_degrade_to_a_link(field_type: str, required: bool) -> None:
    rendered = render(
        form(field("String"), field(field_type, "pick", title="Team", values=many(101), required=required))
    )
    assert isinstance(rendered, LinkOnly)
    assert rendered.code == "too_many_options"
    assert "Team" in rendered.reason and "101" in rendered.reason
    view = rendered.view
    assert view["callback_id"] == LINK_ONLY_CALLBACK_ID
    assert "submit" not in view
    assert input_blocks(view) == []
    buttons = [element for block in view["blocks"] if block["type"] == "actions" for element in block["elements"]]
    assert [button["url"] for button in buttons] == [CONTEXT.feedback_link]
    assert "Team" in json.dumps(view)


def test_long_option_texts_are_truncated_and_long_values_mapped() -> None:
    long_label, long_value = "L" * 200, "V" * 400
    rendered = modal(form(field("ValueSelect", "pick", values=choices((long_label, long_value), ("Short", "short")))))
    block_id = block_id_for("pick", "ValueSelect")
    option = blocks_by_id(rendered.view)[block_id]["element"]["options"][0]
    assert option["text"]["text"] == "L" * 74 + "…"
    assert len(option["value"]) <= 150
    state = slack_state(rendered.view, {block_id: option["value"]})
    assert parse_submission(state, rendered.field_map) == [{"path": "pick", "value": long_value}]


def test_option_values_are_stable_across_renders_and_reorderings() -> None:
    first = modal(form(field("ValueSelect", "pick", values=SELECT_VALUES)))
    reordered = modal(form(field("ValueSelect", "pick", values=list(reversed(SELECT_VALUES)))))
    assert first.field_map.fields[0].options == reordered.field_map.fields[0].options


def test_duplicate_ashby_values_become_one_option() -> None:
    rendered = modal(form(field("ValueSelect", "pick", values=choices(("A", "same"), ("A again", "same"), ("B", "b")))))
    assert len(blocks_by_id(rendered.view)[block_id_for("pick", "ValueSelect")]["element"]["options"]) == 2


def test_blank_option_labels_fall_back_to_the_value() -> None:
    rendered = modal(form(field("ValueSelect", "pick", values=choices(("  ", "fallback")))))
    option = blocks_by_id(rendered.view)[block_id_for("pick", "ValueSelect")]["element"]["options"][0]
    assert option["text"]["text"] == "fallback"


def test_multi_select_submits_in_form_order_and_empty_optional_is_omitted() -> None:
    rendered = modal(form(field("MultiValueSelect", "langs", values=SELECT_VALUES, required=False)))
    block_id = block_id_for("langs", "MultiValueSelect")
    view = rendered.view
    picks = [option_value(view, block_id, "Rust"), option_value(view, block_id, "Python")]
    state = slack_state(view, {block_id: picks})
    assert parse_submission(state, rendered.field_map) == [{"path": "langs", "value": ["lang-py", "lang-rs"]}]
    assert parse_submission(slack_state(view, {block_id: []}), rendered.field_map) == []


def test_an_option_not_in_the_map_is_rejected() -> None:
    rendered = modal(
        form(field("ValueSelect", "pick", values=SELECT_VALUES), field("MultiValueSelect", "m", values=SELECT_VALUES))
    )
    single, multi = block_id_for("pick", "ValueSelect"), block_id_for("m", "MultiValueSelect")
    forged = {"text": {"type": "plain_text", "text": "x"}, "value": "forged"}
    state = slack_state(rendered.view, {})
    state[single][single]["selected_option"] = forged
    state[multi][multi]["selected_options"] = [forged]
    errors = validate_submission(state, rendered.field_map)
    assert set(errors) == {single, multi}


def test_a_select_without_options_is_skipped_when_optional_and_a_link_when_required() -> None:
    rendered = modal(form(field("String"), field("ValueSelect", "empty", values=[], required=False)))
    assert [entry.path for entry in rendered.field_map.fields] == ["string_path"]
    required = render(form(field("String"), field("ValueSelect", "empty", values=None)))
    assert isinstance(required, LinkOnly) and required.code == "no_options"


# --- Currency and ranges --------------------------------------------------------------------------


def test_currency_defaults_to_usd_and_decimal_amounts_pass() -> None:
    rendered = modal(form(field("Currency", "budget")))
    block_id = block_id_for("budget", "Currency")
    currency = blocks_by_id(rendered.view)[f"{block_id}-currency"]["element"]
    assert currency["initial_option"]["value"] == "USD"
    state = slack_state(rendered.view, {block_id: "99.5", f"{block_id}-currency": "USD"})
    assert parse_submission(state, rendered.field_map) == [
        {"path": "budget", "value": {"value": 99.5, "currencyCode": "USD"}}
    ]
    cleared = slack_state(rendered.view, {block_id: "10"})  # the select cleared: fall back to the default
    assert parse_submission(cleared, rendered.field_map)[0]["value"]["currencyCode"] == "USD"


def test_compensation_range_offers_ashbys_intervals_with_a_yearly_default() -> None:
    rendered = modal(form(field("CompensationRange", "comp")))
    block_id = block_id_for("comp", "CompensationRange")
    element = blocks_by_id(rendered.view)[f"{block_id}-interval"]["element"]
    assert {option["value"] for option in element["options"]} == {
        "NONE", "1 TIME", "1 HOUR", "1 DAY", "1 WEEK", "2 WEEK",
        "1 MONTH", "2 MONTH", "1 YEAR", "6 MONTH", "0.5 MONTH", "3 MONTH",
    }  # fmt: skip
    assert element["initial_option"]["value"] == "1 YEAR"
    state = slack_state(rendered.view, {block_id: "100", f"{block_id}-max": "200"})
    assert parse_submission(state, rendered.field_map)[0]["value"] == {
        "type": "compensation-range",
        "minValue": 100,
        "maxValue": 200,
        "currencyCode": "USD",
        "interval": "1 YEAR",
    }


@pytest.mark.parametrize("field_type", ["NumberRange", "CompensationRange"])
def test_range_errors(field_type: str) -> None:
    rendered = modal(form(field(field_type, "r", required=False)))
    low, high = block_id_for("r", field_type), block_id_for("r", field_type) + "-max"
    inverted = slack_state(rendered.view, {low: "9", high: "3"})
    assert validate_submission(inverted, rendered.field_map) == {
        high: "The maximum must not be lower than the minimum."
    }
    with pytest.raises(InvalidSubmission) as raised:
        parse_submission(inverted, rendered.field_map)
    assert raised.value.errors == validate_submission(inverted, rendered.field_map)
    only_min = slack_state(rendered.view, {low: "3"})
    assert validate_submission(only_min, rendered.field_map) == {high: "Enter both a minimum and a maximum."}
    only_max = slack_state(rendered.view, {high: "3"})
    assert validate_submission(only_max, rendered.field_map) == {low: "Enter both a minimum and a maximum."}
    assert parse_submission(slack_state(rendered.view, {}), rendered.field_map) == []
    equal = slack_state(rendered.view, {low: "5", high: "5"})
    assert parse_submission(equal, rendered.field_map)[0]["value"]["minValue"] == 5


def test_negative_or_non_numeric_amounts_are_rejected() -> None:
    rendered = modal(form(field("Currency", "budget")))
    block_id = block_id_for("budget", "Currency")
    assert validate_submission(slack_state(rendered.view, {block_id: "-1"}), rendered.field_map) == {
        block_id: "Enter a number of zero or more."
    }
    assert validate_submission(slack_state(rendered.view, {block_id: "NaN"}), rendered.field_map) == {
        block_id: "Enter a number."
    }


# --- validation -----------------------------------------------------------------------------------


def test_required_fields_missing_are_reported_per_block() -> None:
    definition = form(*(field(field_type, values=SELECT_VALUES) for field_type in FIELD_TYPES))
    rendered = modal(definition)
    errors = validate_submission(slack_state(rendered.view, {}), rendered.field_map)
    assert errors == {entry.block_id: "This question is required." for entry in rendered.field_map.fields}
    # Every key is an input block of the view, as `response_action: errors` requires.
    assert set(errors) <= {block["block_id"] for block in input_blocks(rendered.view)}


def test_missing_state_blocks_count_as_unanswered() -> None:
    rendered = modal(form(field("String", "a"), field("Score", "s", required=False)))
    assert validate_submission({}, rendered.field_map) == {block_id_for("a", "String"): "This question is required."}


@pytest.mark.parametrize(
    ("field_type", "raw", "message"),
    [
        ("Number", "4.5", "Enter a whole number."),
        ("Number", "twelve", "Enter a whole number."),
        ("Number", str(2**60), "Enter a whole number."),
        ("Email", "not-an-email", "Enter an e-mail address like name@example.com."),
        ("Email", "a@b", "Enter an e-mail address like name@example.com."),
        ("Url", "github.com/ada", "Enter a web address starting with https://."),
        ("Url", "javascript:alert(1)", "Enter a web address starting with https://."),
        ("UUID", "not-a-uuid", "Enter a UUID like 123e4567-e89b-12d3-a456-426614174000."),
        ("String", "x" * 3001, "Keep this under 3000 characters."),
        ("LongText", "x" * 3001, "Keep this under 3000 characters."),
    ],
)
def test_shape_and_length_errors_are_keyed_by_block_id(field_type: str, raw: str, message: str) -> None:
    rendered = modal(form(field(field_type, "f", required=False), field("String", "other", required=False)))
    block_id = block_id_for("f", field_type)
    assert validate_submission(slack_state(rendered.view, {block_id: raw}), rendered.field_map) == {block_id: message}


def test_an_invalid_date_is_rejected() -> None:
    rendered = modal(form(field("Date", "d")))
    block_id = block_id_for("d", "Date")
    assert validate_submission(slack_state(rendered.view, {block_id: "2025-02-30"}), rendered.field_map) == {
        block_id: "Pick a date."
    }


def test_whitespace_only_text_counts_as_empty() -> None:
    rendered = modal(form(field("String", "a")))
    block_id = block_id_for("a", "String")
    assert validate_submission(slack_state(rendered.view, {block_id: "   \n "}), rendered.field_map) == {
        block_id: "This question is required."
    }


def test_validation_is_fast_enough_for_slacks_ack() -> None:
    import time

    definition = form(*(field("String", f"s{index}", required=False) for index in range(40)), field("Score", "overall"))
    rendered = modal(definition)
    state = slack_state(rendered.view, {block_id_for("overall", "Score"): "3"})
    started = time.perf_counter()
    for _ in range(100):
        validate_submission(state, rendered.field_map)
    assert (time.perf_counter() - started) / 100 < 0.01


# --- ids ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["field_notes", "field_field_x", "notes_field_", "a.b[0].field_c", "ünïcødé path"])
def test_paths_survive_as_they_are(path: str) -> None:
    rendered = modal(form(field("String", path)))
    block_id = block_id_for(path, "String")
    assert len(block_id) <= 255 and "field_" not in block_id
    state = slack_state(rendered.view, {block_id: "ok"})
    assert parse_submission(state, rendered.field_map) == [{"path": path, "value": "ok"}]


def test_a_very_long_path_still_gives_a_short_block_id() -> None:
    path = "p" * 5000
    rendered = modal(form(field("String", path)))
    assert rendered.field_map.fields[0].path == path
    assert len(rendered.field_map.fields[0].block_id) < 32


def test_the_same_path_twice_still_gets_unique_block_ids() -> None:
    rendered = modal(form(field("String", "dup"), field("String", "dup")))
    ids = [entry.block_id for entry in rendered.field_map.fields]
    assert len(set(ids)) == 2


def test_block_ids_are_stable_across_form_reorderings() -> None:
    first = modal(form(field("String", "a"), field("Number", "b")))
    second = modal(form(field("Number", "b"), field("String", "a")))
    assert {e.path: e.block_id for e in first.field_map.fields} == {e.path: e.block_id for e in second.field_map.fields}


# --- unknown types and size limits ----------------------------------------------------------------


def test_an_unknown_required_type_degrades_to_a_link() -> None:
    rendered = render(form(field("String"), field("Signature", "sig", title="Sign here")))
    assert isinstance(rendered, LinkOnly)
    assert rendered.code == "unsupported_field"
    assert "Sign here" in rendered.reason and "Signature" in rendered.reason


def test_an_unknown_optional_type_is_skipped_with_a_note() -> None:
    rendered = modal(form(field("String"), field("Signature", "sig", title="Sign here", required=False)))
    assert [entry.path for entry in rendered.field_map.fields] == ["string_path"]
    notes = [block for block in rendered.view["blocks"] if block["type"] == "context"]
    assert any("Sign here" in note["elements"][0]["text"] and "Ashby" in note["elements"][0]["text"] for note in notes)


def test_more_than_100_blocks_degrade_to_a_link() -> None:
    rendered = render(form(*(field("String", f"q{index}") for index in range(101))))
    assert isinstance(rendered, LinkOnly)
    assert rendered.code == "too_many_blocks"


def test_a_long_form_first_drops_score_comments_and_section_notes() -> None:
    definition = form(*(field("Score", f"s{index}") for index in range(60)), title="Scores", description="About")
    rendered = modal(definition)
    assert len(rendered.view["blocks"]) <= 100
    assert len(input_blocks(rendered.view)) == 60
    assert all(not entry.parts for entry in rendered.field_map.fields)
    state = slack_state(rendered.view, {entry.block_id: "3" for entry in rendered.field_map.fields})
    assert len(parse_submission(state, rendered.field_map)) == 60


def test_exactly_100_blocks_is_still_a_modal() -> None:
    # header + Ashby link + 98 inputs = 100 blocks
    rendered = modal(form(*(field("String", f"q{index}") for index in range(98))))
    assert len(rendered.view["blocks"]) == 100


def test_an_empty_form_is_link_only() -> None:
    rendered = render(form())
    assert isinstance(rendered, LinkOnly) and rendered.code == "no_fields"


def test_link_only_without_a_feedback_link_has_no_button() -> None:
    context = msgspec.structs.replace(CONTEXT, feedback_link=None)
    rendered = render_modal(form(field("Signature", "sig")), context=context)
    assert isinstance(rendered, LinkOnly)
    assert_valid_view(rendered.view)
    assert all(block["type"] != "actions" for block in rendered.view["blocks"])


def test_huge_texts_are_truncated_to_slacks_limits() -> None:
    context = ModalContext(
        submission_key="k",
        candidate_name="N" * 5000,
        interview_title="<&>" * 3000,
        job_title="J" * 5000,
        feedback_link="https://x.example/" + "a" * 4000,
    )
    definition = form(
        field("String", "s", title="T" * 5000, description="D" * 5000),
        field("ValueSelect", "v", title="V" * 3000, values=choices(("o" * 500, "w" * 500))),
        title="S" * 5000,
        description="&" * 5000,
    )
    rendered = render_modal(definition, context=context)
    assert isinstance(rendered, Modal)
    assert_valid_view(rendered.view)
    assert len(blocks_by_id(rendered.view)[block_id_for("s", "String")]["label"]["text"]) == 2000


def test_an_oversized_submission_key_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="private_metadata"):
        render_modal(form(field("String")), context=msgspec.structs.replace(CONTEXT, submission_key="k" * 3001))


# --- drafts ---------------------------------------------------------------------------------------


def full_form() -> FeedbackFormDefinition:
    return form(*(field(field_type, values=SELECT_VALUES, required=False) for field_type in FIELD_TYPES))


def full_answers(view: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for field_type, _values, raw_answers, _ in ROUND_TRIPS:
        block_id = block_id_for(f"{field_type.lower()}_path", field_type)
        for suffix, raw in raw_answers.items():
            answers[block_id + suffix] = answer(view, block_id, suffix, raw)
    return answers


def test_a_draft_round_trips_into_every_element() -> None:
    first = modal(full_form())
    state = slack_state(first.view, full_answers(first.view))
    draft = extract_draft(state, first.field_map)
    assert json.loads(json.dumps(draft)) == draft  # stored as JSON
    second = modal(full_form(), draft=draft)
    # Re-submitting the pre-filled view unchanged gives the same Ashby values.
    blocks = blocks_by_id(second.view)
    prefilled: dict[str, Any] = {}
    for block_id, block in blocks.items():
        if block["type"] != "input":
            continue
        element = block["element"]
        if "initial_option" in element:
            prefilled[block_id] = element["initial_option"]["value"]
        elif "initial_options" in element:
            prefilled[block_id] = [option["value"] for option in element["initial_options"]]
        elif "initial_date" in element:
            prefilled[block_id] = element["initial_date"]
        elif "initial_value" in element:
            prefilled[block_id] = element["initial_value"]
    assert parse_submission(slack_state(second.view, prefilled), second.field_map) == parse_submission(
        state, first.field_map
    )
    assert any("draft" in json.dumps(block).lower() for block in second.view["blocks"] if block["type"] == "context")


def test_extract_draft_keeps_only_this_forms_blocks_with_content() -> None:
    rendered = modal(form(field("String", "a"), field("String", "b")))
    state = slack_state(rendered.view, {block_id_for("a", "String"): "kept"})
    state["someone_elses_block"] = {"x": {"type": "plain_text_input", "value": "ignored"}}
    assert extract_draft(state, rendered.field_map) == {
        block_id_for("a", "String"): {"type": "plain_text_input", "value": "kept"}
    }


def test_stale_draft_values_are_ignored() -> None:
    definition = form(
        field("ValueSelect", "pick", values=SELECT_VALUES),
        field("MultiValueSelect", "many", values=SELECT_VALUES),
        field("Number", "n"),
        field("Date", "d"),
        field("Score", "s"),
        field("Boolean", "b"),
    )
    gone = {"text": {"type": "plain_text", "text": "Cobol"}, "value": "v-gone"}
    draft = {
        block_id_for("pick", "ValueSelect"): {"type": "radio_buttons", "selected_option": gone},
        block_id_for("many", "MultiValueSelect"): {"type": "checkboxes", "selected_options": [gone]},
        block_id_for("n", "Number"): {"type": "number_input", "value": "1.5"},
        block_id_for("d", "Date"): {"type": "datepicker", "selected_date": "someday"},
        block_id_for("s", "Score"): {"type": "radio_buttons", "selected_option": {"value": "9"}},
        block_id_for("b", "Boolean"): "not even a dict",
    }
    rendered = modal(definition, draft=draft)
    for block in input_blocks(rendered.view):
        assert not {"initial_option", "initial_options", "initial_date", "initial_value"} & set(block["element"])
    assert not any("draft" in json.dumps(block).lower() for block in rendered.view["blocks"])


def test_a_draft_keeps_the_options_that_still_exist() -> None:
    first = modal(form(field("MultiValueSelect", "many", values=SELECT_VALUES)))
    block_id = block_id_for("many", "MultiValueSelect")
    picks = [option_value(first.view, block_id, "Go"), option_value(first.view, block_id, "Rust")]
    draft = extract_draft(slack_state(first.view, {block_id: picks}), first.field_map)
    fewer = choices(("Python", "lang-py"), ("Rust", "lang-rs"))  # Go was removed from the form
    second = modal(form(field("MultiValueSelect", "many", values=fewer)), draft=draft)
    initial = blocks_by_id(second.view)[block_id]["element"]["initial_options"]
    assert [option["text"]["text"] for option in initial] == ["Rust"]


def test_a_draft_for_a_field_whose_type_changed_is_not_applied() -> None:
    first = modal(form(field("String", "years")))
    draft = extract_draft(slack_state(first.view, {block_id_for("years", "String"): "five"}), first.field_map)
    second = modal(form(field("Number", "years")), draft=draft)
    assert "initial_value" not in blocks_by_id(second.view)[block_id_for("years", "Number")]["element"]


# --- snapshot -------------------------------------------------------------------------------------


def test_snapshot_of_a_typical_scorecard() -> None:
    definition = FeedbackFormDefinition(
        id="form-typical",
        title="Onsite scorecard",
        form_definition=FormDefinition(
            sections=[
                FormSection(
                    title="Overall",
                    fields=[field("Score", "overall_recommendation", title="Overall recommendation")],
                ),
                FormSection(
                    title="Details",
                    description_plain="Be specific; quote the candidate where you can.",
                    fields=[
                        field("RichText", "strengths", title="Strengths"),
                        field("LongText", "concerns", title="Concerns", required=False),
                        field(
                            "ValueSelect",
                            "level",
                            title="Level",
                            values=choices(("L4", "l4"), ("L5", "l5"), ("L6", "l6")),
                        ),
                        field("Boolean", "bar_raiser", title="Would you like to work with them?"),
                    ],
                ),
            ]
        ),
    )
    assert_snapshot(modal(definition).view, SNAPSHOTS / "feedback_modal_typical.json")
