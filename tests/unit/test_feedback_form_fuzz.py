"""Property-based: whatever a person types (or a forged payload holds), the form answers and never raises.

For every field type, any state is either accepted, and then parses to the value Ashby's own rules accept
for that type (`sim.ashby.fields.check_value`), or answered with inline errors on the form's own blocks;
and the draft kept from it, or any stored draft at all, renders a view within Slack's limits.
"""

from __future__ import annotations

import functools
import itertools
import json
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.feedback_form import (
    InvalidSubmission,
    Modal,
    extract_draft,
    parse_submission,
    render_modal,
    validate_submission,
)
from shared.payloads.ashby import FIELD_TYPES, FeedbackFormDefinition
from sim.ashby.fields import check_value
from sim.ashby.seed import full_scorecard
from tests.unit.feedback_forms import CONTEXT, SELECT_VALUES, assert_valid_view, choices, field, form, input_blocks

MANY_VALUES = choices(*((f"Option {n}", f"value-{n}") for n in range(12)))  # past radio buttons' 10
DRAFT_JSON_MAX = 100_000  # far above any real draft: a draft is bounded by its form, not by what was typed


def _sim_scorecard() -> FeedbackFormDefinition:
    counter = itertools.count()
    sections = full_scorecard(lambda: f"id-{next(counter)}")
    body = {"id": "sim-form", "title": "Onsite", "formDefinition": {"sections": sections}}
    return msgspec.convert(body, type=FeedbackFormDefinition)


# One small form per field type (fast to fuzz hard), the selects past 10 options, and the simulator's
# scorecard with every type in one form (slower, so fewer examples).
FORMS: dict[str, FeedbackFormDefinition] = {
    **{field_type: form(field(field_type, "f", values=SELECT_VALUES)) for field_type in FIELD_TYPES},
    "ValueSelect-static": form(field("ValueSelect", "f", values=MANY_VALUES)),
    "MultiValueSelect-static": form(field("MultiValueSelect", "f", values=MANY_VALUES)),
    "sim-full-scorecard": _sim_scorecard(),
}
EXAMPLES = {"sim-full-scorecard": 25}


@functools.cache
def rendered(name: str) -> Modal:
    result = render_modal(FORMS[name], context=CONTEXT)
    assert isinstance(result, Modal)
    return result


def ashby_fields(definition: FeedbackFormDefinition) -> dict[str, dict[str, Any]]:
    """Each field by path, as Ashby describes it, for the simulator's value rules."""
    return {
        form_field.field.path: {
            "type": form_field.field.type,
            "selectableValues": [{"value": v.value} for v in form_field.field.selectable_values or []],
        }
        for section in definition.form_definition.sections
        for form_field in section.fields
    }


# --- what can be typed ----------------------------------------------------------------------------

unicode_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)  # NUL and controls included
digits = st.integers(1, 6000).map(lambda n: "9" * n)
numbers = st.one_of(
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(str),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-(10**20), 10**20), st.integers(-(10**12), 10**12)),
    st.sampled_from(
        ["-0", " 42 ", "1_000", "0x10", "1e", ".5", "5.", "\u0664\u0662", "\uff14\uff12", "+7", "1,5", "NaN", "-inf"]
    ),
    digits,
)
dates = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.builds("{:04d}-{:02d}-{:02d}".format, st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99)),
    st.sampled_from(["2025-W10-5", "20250307", "2025-3-7", "2025-02-29", "0000-01-01", "2025-03-07T10:00"]),
)
address_text = st.text("ab.:/@-_?#% \x00", max_size=20)
addresses = st.one_of(
    st.builds("{}@{}.{}".format, address_text, address_text, address_text),
    st.builds(
        "{}://{}/{}".format,
        st.sampled_from(["https", "http", "HTTPS", "ftp", "javascript"]),
        address_text,
        unicode_text,
    ),
    st.sampled_from(["https://" + "." * 2030 + "/ x", "https://.a.b", "https://a.b.", "a@b", "@", "x@y.z."]),
)
huge = st.integers(3000, 200_000).map(lambda n: "x" * n)
typed = st.one_of(unicode_text, numbers, dates, addresses, huge, st.uuids().map(str))

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), unicode_text, digits)
junk = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["value", "selected_option", "selected_options", "selected_date", "type", "x"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)


def option_values(element: dict[str, Any]) -> st.SearchStrategy[str]:
    offered = [option["value"] for option in element.get("options", [])]
    return st.one_of(st.sampled_from(offered), typed) if offered else typed


def option(element: dict[str, Any]) -> st.SearchStrategy[Any]:
    real = st.builds(
        lambda value: {"text": {"type": "plain_text", "text": "x"}, "value": value}, option_values(element)
    )
    return st.one_of(real, junk)


def element_state(element: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A state Slack could send for `element` (or a forged one in its shape), or JSON junk."""
    kind = element["type"]
    if kind in ("radio_buttons", "static_select"):
        answer = st.fixed_dictionaries({"type": st.just(kind), "selected_option": st.none() | option(element)})
    elif kind in ("checkboxes", "multi_static_select"):
        answer = st.fixed_dictionaries(
            {"type": st.just(kind), "selected_options": st.lists(option(element), max_size=6)}
        )
    elif kind == "datepicker":
        answer = st.fixed_dictionaries({"type": st.just(kind), "selected_date": st.none() | dates | typed})
    else:
        answer = st.fixed_dictionaries({"type": st.just(kind), "value": st.none() | typed})
    return st.one_of(answer, answer, answer, junk)


SHAPES = ("slack", "slack", "slack", "missing", "junk block", "another action id")


def state_values(view: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """`view.state.values` for `view`: each input block as Slack sends it (with a drawn element state), left
    out, junk, or under another action id. The element strategies are built once per view: building them
    per example made the fuzzing several times slower."""
    blocks = [
        (block["block_id"], block["element"]["action_id"], element_state(block["element"]))
        for block in input_blocks(view)
    ]

    @st.composite
    def draw_state(draw: st.DrawFn) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for block_id, action_id, element in blocks:
            shape = draw(st.sampled_from(SHAPES))
            if shape == "slack":
                state[block_id] = {action_id: draw(element)}
            elif shape == "junk block":
                state[block_id] = draw(junk)
            elif shape == "another action id":
                state[block_id] = {"another_action": draw(element)}
        return state

    return draw_state()


# --- the properties -------------------------------------------------------------------------------


def assert_within_element_limits(view: dict[str, Any]) -> None:
    """Initial values an element itself accepts (beyond `assert_valid_view`'s structural limits)."""
    for block in input_blocks(view):
        element = block["element"]
        initial = element.get("initial_value")
        if initial is None:
            continue
        assert initial.strip()
        if element["type"] == "plain_text_input":
            assert len(initial) <= element["max_length"]
        if element["type"] == "number_input":
            assert len(initial) <= 40
            number = float(initial)
            assert float(element["min_value"]) <= number <= float(element["max_value"])


def check_any_state(name: str, state: dict[str, Any]) -> None:
    field_map = rendered(name).field_map
    errors = validate_submission(state, field_map)
    assert set(errors) <= set(field_map.block_ids())
    assert all(isinstance(message, str) and message for message in errors.values())
    try:
        submissions = parse_submission(state, field_map)
    except InvalidSubmission as invalid:
        assert errors and invalid.errors == errors
    else:
        assert not errors
        ashby = ashby_fields(FORMS[name])
        for submission in submissions:
            json.dumps(submission, allow_nan=False)
            assert check_value(ashby[submission["path"]], submission["value"]), submission
        answered = {submission["path"] for submission in submissions}
        assert {entry.path for entry in field_map.fields if entry.required} <= answered


def as_received(state: dict[str, Any]) -> dict[str, Any]:
    """The draft stored before drafts were validated: each block's element state as received, junk and all."""
    return {
        block_id: next(iter(block.values()), None) if isinstance(block, dict) and block else block
        for block_id, block in state.items()
    }


def check_renders(name: str, draft: Any) -> None:
    result = render_modal(FORMS[name], context=CONTEXT, draft=draft)
    assert isinstance(result, Modal) and result.field_map == rendered(name).field_map
    assert_valid_view(result.view)
    assert_within_element_limits(result.view)


@pytest.mark.parametrize("name", FORMS)
def test_any_state_is_an_ashby_value_or_inline_errors_and_any_draft_renders(name: str) -> None:
    @settings(
        max_examples=EXAMPLES.get(name, 80),
        deadline=None,
        database=None,  # nothing written into the checkout; a failure prints its example and a replay blob
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(state=state_values(rendered(name).view), unvalidated=st.booleans())
    def check(state: dict[str, Any], unvalidated: bool) -> None:
        check_any_state(name, state)
        draft = extract_draft(state, field_map := rendered(name).field_map)
        assert set(draft) <= set(field_map.block_ids())
        stored = json.dumps(draft, allow_nan=False)
        assert len(stored) <= DRAFT_JSON_MAX
        # Rendering is the slow part: each example renders one of the two drafts.
        check_renders(name, as_received(state) if unvalidated else json.loads(stored))

    check()


def test_the_forms_cover_every_field_type_and_element() -> None:
    types = {entry.type for name in FORMS for entry in rendered(name).field_map.fields}
    elements = {block["element"]["type"] for name in FORMS for block in input_blocks(rendered(name).view)}
    assert types == set(FIELD_TYPES) == {entry.type for entry in rendered("sim-full-scorecard").field_map.fields}
    assert {"static_select", "multi_static_select", "radio_buttons", "checkboxes", "datepicker"} <= elements
