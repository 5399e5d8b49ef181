"""Value rules of `applicationFeedback.submit`, per field type, as its description in Ashby's spec states them.

Pure: `check_submission(sections, submissions)` returns the problems (empty when valid). Messages name
paths and types, never the submitted values (they may hold personal data).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

INTERVALS = (
    "NONE", "1 TIME", "1 HOUR", "1 DAY", "1 WEEK", "2 WEEK", "1 MONTH", "2 MONTH", "1 YEAR", "6 MONTH", "0.5 MONTH",
    "3 MONTH",
)  # fmt: skip
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain_text(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "PlainText" and isinstance(value.get("value"), str)


def _score(value: Any) -> bool:
    if not isinstance(value, dict) or set(value) - {"score", "comments"}:
        return False
    comments_ok = "comments" not in value or _plain_text(value["comments"])
    return _is_int(value.get("score")) and 1 <= value["score"] <= 4 and comments_ok


def _date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _uuid(value: Any) -> bool:
    if isinstance(value, dict) and set(value) == {"value"}:
        value = value["value"]
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _currency(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and _is_number(value.get("value"))
        and isinstance(value.get("currencyCode"), str)
        and bool(_CURRENCY.match(value["currencyCode"]))
    )


def _range(value: Any, kind: str) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == kind
        and _is_number(value.get("minValue"))
        and _is_number(value.get("maxValue"))
        and value["minValue"] <= value["maxValue"]
    )


def _compensation(value: Any) -> bool:
    return (
        _range(value, "compensation-range")
        and isinstance(value.get("currencyCode"), str)
        and bool(_CURRENCY.match(value["currencyCode"]))
        and value.get("interval") in INTERVALS
    )


_RULES: dict[str, Callable[[Any], bool]] = {
    "Boolean": lambda v: isinstance(v, bool),
    "Number": _is_int,
    "Score": _score,
    "RichText": _plain_text,
    "Date": _date,
    "String": lambda v: isinstance(v, str),
    "LongText": lambda v: isinstance(v, str),
    "Phone": lambda v: isinstance(v, str),
    "Email": lambda v: isinstance(v, str) and bool(_EMAIL.match(v)),
    "Url": lambda v: isinstance(v, str) and (v == "" or bool(_URL.match(v))),
    "UUID": _uuid,
    "Currency": _currency,
    "NumberRange": lambda v: _range(v, "number-range"),
    "CompensationRange": _compensation,
}
_EXPECTED = {
    "Boolean": "a boolean",
    "Number": "an integer",
    "Score": 'an object {"score": 1..4}',
    "RichText": 'an object {"type": "PlainText", "value": string}',
    "Date": "a date YYYY-MM-DD",
    "Email": "an email address",
    "Url": "an http(s) URL",
    "UUID": 'a UUID string or {"value": uuid}',
    "Currency": 'an object {"value": number, "currencyCode": "XXX"}',
    "NumberRange": 'an object {"type": "number-range", "minValue", "maxValue"}',
    "CompensationRange": 'an object {"type": "compensation-range", minValue, maxValue, currencyCode, interval}',
    "ValueSelect": "one of the field's selectable values",
    "MultiValueSelect": "an array of the field's selectable values",
}


def check_value(field: Mapping[str, Any], value: Any) -> bool:
    kind = field["type"]
    allowed = {option["value"] for option in field.get("selectableValues") or ()}
    if kind == "ValueSelect":
        return isinstance(value, str) and value in allowed
    if kind == "MultiValueSelect":
        return isinstance(value, list) and all(isinstance(v, str) and v in allowed for v in value)
    rule = _RULES.get(kind)
    return rule is not None and rule(value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def check_submission(sections: Sequence[Mapping[str, Any]], submissions: Sequence[Mapping[str, Any]]) -> list[str]:
    fields = {entry["field"]["path"]: entry for section in sections for entry in section.get("fields", ())}
    problems: list[str] = []
    seen: set[str] = set()
    for item in submissions:
        if not isinstance(item, Mapping) or not isinstance(item.get("path"), str) or "value" not in item:
            problems.append("each fieldSubmissions item needs a string path and a value")
            continue
        path, value = item["path"], item["value"]
        entry = fields.get(path)
        if entry is None:
            problems.append(f"{path}: no such field on this form")
            continue
        if path in seen:
            problems.append(f"{path}: submitted twice")
        seen.add(path)
        field = entry["field"]
        if value is None and field.get("isNullable", True) and not entry.get("isRequired", True):
            continue
        if not check_value(field, value):
            problems.append(f"{path}: a {field['type']} field takes {_EXPECTED.get(field['type'], 'a string')}")
    for path, entry in fields.items():
        if entry.get("isRequired", True) and path not in seen:
            problems.append(f"{path}: required")
        elif entry.get("isRequired", True) and any(
            isinstance(i, Mapping) and i.get("path") == path and _empty(i.get("value")) for i in submissions
        ):
            problems.append(f"{path}: required, may not be empty")
    return problems
