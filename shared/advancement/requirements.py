"""A rule's requirements as written (`{field: ..., each: ">= 3"}`) resolved against the feedback forms of the
stage's interviews into the model's `Each | Aggregate | CountOf | Veto`.

A requirement names one field (by path, title or human-readable path) and says one thing about it: `each`,
`min`, `max`, `average`, `count` or `veto`. A condition is `"<operator> <value>"` or a bare value (meaning
`==`). Values are typed by the field: a Score is a number 1-4 or one of its option labels ("Strong No Hire",
also written "1 - Strong No Hire"); a select value is an option's value or label; a Boolean is true or false.
Numbers are kept as floats, so a stored rule decodes equal to the one resolved again from the same text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from shared.advancement.catalog import Unknown, listed
from shared.advancement.located import Entry, Located, Map, Refused, Scalar, as_int, shown, unknown_keys
from shared.advancement.model import OPS, Aggregate, Condition, CountOf, Each, FieldRef, Op, Requirement, Veto
from shared.payloads.ashby import FieldDefinition, SelectableValue

KINDS = ("each", "min", "max", "average", "count", "veto")
COUNTS: dict[str, Op] = {"at_least": ">=", "at_most": "<=", "exactly": "=="}
ORDERED = ("Score", "Number")  # compared with every operator; the other types with == and != only
COMPARABLE = (*ORDERED, "Boolean", "ValueSelect", "MultiValueSelect")
SCORES = (1, 4)
_CONDITION = re.compile(r"^\s*([<>=!]+)\s*(.*?)\s*$", re.DOTALL)
_LABEL_NUMBER = re.compile(r"^\s*\d+\s*[-\u2013.:)]\s*")  # the "1 - " of "1 - Strong No Hire"
_BOOLEANS = {"true": True, "yes": True, "false": False, "no": False}


@dataclass(frozen=True)
class Field:
    """One field a requirement may name: its definition and the options of every form that has it."""

    definition: FieldDefinition
    options: tuple[SelectableValue, ...]

    @property
    def ref(self) -> FieldRef:
        return FieldRef(path=self.definition.path, type=self.definition.type, title=self.definition.title)


@dataclass(frozen=True)
class StageFields:
    """The fields of the feedback forms of the interviews a rule waits for (`where` names them in messages)."""

    fields: tuple[FieldDefinition, ...]
    where: str

    def find(self, key: str) -> Field:
        found = _by_name(key, self.fields)
        if not found:
            known = listed(f.title or f.path for f in self.fields if f.type in COMPARABLE) or "none"
            raise Unknown(f"field '{key}' is not on the feedback forms of {self.where} (fields: {known})")
        kinds = {(f.path, f.type) for f in found}
        if len(kinds) > 1:
            paths = listed(f"{path} ({kind})" for path, kind in sorted(kinds))
            raise Unknown(f"field '{key}' names different fields on the forms of {self.where} ({paths}): use its path")
        options = {o.value: o for f in found for o in f.selectable_values or ()}
        return Field(found[0], tuple(options.values()))


def _by_name(key: str, fields: Iterable[FieldDefinition]) -> list[FieldDefinition]:
    """By path, title or human-readable path: exactly as written first, then ignoring case and spaces."""
    fields = list(fields)
    exact = [f for f in fields if key in (f.path, f.title, f.human_readable_path)]
    if exact:
        return exact
    wanted = _fold(key)
    return [f for f in fields if wanted in (_fold(f.path), _fold(f.title), _fold(f.human_readable_path))]


def _fold(text: str) -> str:
    return text.strip().casefold()


def requirement(node: Located, fields: StageFields) -> Requirement:
    """One requirement; raises Refused at the line of the offending key."""
    if not isinstance(node, Map):
        raise Refused(
            node.line, f"a requirement must be a mapping like {{field: ..., each: '>= 3'}}, not {shown(node)}"
        )
    problems = unknown_keys(node, ("field", *KINDS), "a requirement")
    if problems:
        raise problems[0]
    kinds = [key for key in KINDS if key in node.entries]
    if "field" not in node.entries or len(kinds) != 1:
        raise Refused(node.line, f"a requirement names a field and exactly one of {', '.join(KINDS)}")
    kind, entry = kinds[0], node.entries[kinds[0]]
    field_entry = node.entries["field"]
    try:
        field = fields.find(_text(field_entry, "field"))
    except Unknown as exc:
        raise Refused(field_entry.key_line, str(exc)) from None
    if field.definition.type not in COMPARABLE:
        raise Refused(
            field_entry.key_line,
            f"field '{field.definition.title or field.definition.path}' is a {field.definition.type} field: "
            f"requirements compare {', '.join(COMPARABLE)} fields",
        )
    if kind == "count":
        return _count(entry, field)
    if kind in ("min", "max", "average"):
        if field.definition.type not in ORDERED:
            raise Refused(
                entry.key_line, f"{kind} needs a Score or Number field; '{_title(field)}' is a {_type(field)}"
            )
        op, value = condition(entry, kind, field)
        function: Literal["min", "max", "average"] = "min" if kind == "min" else "max" if kind == "max" else "average"
        assert isinstance(value, float)
        return Aggregate(field=field.ref, function=function, op=op, value=value)
    op, value = condition(entry, kind, field)
    cond = Condition(field=field.ref, op=op, value=value)
    return Each(condition=cond) if kind == "each" else Veto(condition=cond)


def _count(entry: Entry, field: Field) -> CountOf:
    node = entry.value
    if not isinstance(node, Map):
        raise Refused(entry.key_line, "count must be a mapping like {value: Senior, at_least: 2}")
    problems = unknown_keys(node, ("value", *COUNTS), "count")
    if problems:
        raise problems[0]
    bounds = [key for key in COUNTS if key in node.entries]
    if "value" not in node.entries or len(bounds) != 1:
        raise Refused(entry.key_line, f"count names a value and exactly one of {', '.join(COUNTS)}")
    op, value = condition(node.entries["value"], "value", field)
    bound = as_int(node.entries[bounds[0]], bounds[0], minimum=0)
    return CountOf(condition=Condition(field=field.ref, op=op, value=value), op=COUNTS[bounds[0]], value=bound)


def condition(entry: Entry, key: str, field: Field) -> tuple[Op, float | str | bool]:
    """`"<op> <value>"` or a bare value (`==`), the value typed by the field."""
    node = entry.value
    if not isinstance(node, Scalar) or node.value is None or not isinstance(node.value, str | int | float | bool):
        raise Refused(entry.key_line, f"{key} must be a value or a comparison like '>= 3', not {shown(node)}")
    op: str = "=="
    raw: Any = node.value
    if isinstance(raw, str) and (match := _CONDITION.match(raw)):
        op, raw = match[1], match[2]
        if op not in OPS:
            raise Refused(entry.key_line, f"unknown operator '{op}' (operators: {', '.join(OPS)})")
        if not raw:
            raise Refused(entry.key_line, f"{key}: '{node.value}' compares with nothing")
    kind = field.definition.type
    if kind not in ORDERED and op not in ("==", "!="):
        raise Refused(entry.key_line, f"{key}: '{_title(field)}' is a {kind} field: only == and != apply, not {op}")
    try:
        return _op(op), _typed(raw, field)
    except ValueError as exc:
        raise Refused(entry.key_line, f"{key}: {exc}") from None


def _typed(raw: Any, field: Field) -> float | str | bool:
    kind = field.definition.type
    if kind == "Score":
        return _score(raw, field)
    if kind == "Number":
        number = _number(raw)
        if number is None:
            raise ValueError(f"'{_title(field)}' is a Number field, and {raw!r} is not a number")
        return number
    if kind == "Boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().casefold() in _BOOLEANS:
            return _BOOLEANS[raw.strip().casefold()]
        raise ValueError(f"'{_title(field)}' is a Boolean field: compare it with true or false, not {raw!r}")
    return _option(raw, field)


def _score(raw: Any, field: Field) -> float:
    number = _number(raw)
    if number is None and isinstance(raw, str):
        option = _label(raw, field.options)
        number = _number(option.value) if option else None
        if number is None:
            labels = listed(o.label for o in field.options) or "none on the form"
            raise ValueError(f"'{raw}' is neither a score 1-4 nor a label of '{_title(field)}' (labels: {labels})")
    if number is None or not SCORES[0] <= number <= SCORES[1]:
        raise ValueError(f"'{_title(field)}' is a Score: values are 1 to 4, not {raw!r}")
    return number


def _option(raw: Any, field: Field) -> str:
    text = str(raw).strip() if isinstance(raw, str | int | float) and not isinstance(raw, bool) else None
    if text is not None:
        found = (
            next((o for o in field.options if o.value == text), None)
            or _label(text, field.options)
            or next((o for o in field.options if _fold(o.value) == _fold(text)), None)
        )
        if found:
            return found.value
    labels = listed(o.label for o in field.options) or "none on the form"
    raise ValueError(f"{raw!r} is not an option of '{_title(field)}' (options: {labels})")


def _label(text: str, options: Iterable[SelectableValue]) -> SelectableValue | None:
    """The option labelled `text`; "Strong No Hire" also finds "1 - Strong No Hire"."""
    options = list(options)
    wanted = _fold(text)
    return next((o for o in options if _fold(o.label) == wanted), None) or next(
        (o for o in options if _fold(_LABEL_NUMBER.sub("", o.label)) == wanted), None
    )


def _number(raw: Any) -> float | None:
    """A finite number, from a YAML number or a numeric text; booleans are not numbers."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        number = float(raw.strip() if isinstance(raw, str) else raw)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _op(op: str) -> Op:
    for known in OPS:
        if known == op:
            return known
    raise AssertionError(op)


def _text(entry: Entry, key: str) -> str:
    value = entry.value
    if isinstance(value, Scalar) and isinstance(value.value, str | int) and not isinstance(value.value, bool):
        return str(value.value).strip()
    raise Refused(entry.key_line, f"{key} must name a field, not {shown(value)}")


def _title(field: Field) -> str:
    return field.definition.title or field.definition.path


def _type(field: Field) -> str:
    return field.definition.type
