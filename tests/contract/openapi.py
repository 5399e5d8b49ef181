"""Ashby's published OpenAPI document as JSON Schema validators (Draft 2020-12, `$ref`s across the file).

`Contract.request_errors` / `response_errors` / `webhook_errors` return readable problems (empty when the
body conforms). The README's documented exception (`fieldSubmissions[].value`, typed per field) is
applied by `field_value_errors`, which checks each value against the rules in the operation's own
description instead of the declared `type: string`. Two more places where the schema contradicts its
own description are corrected in memory, narrowly, in `ERRATA` (each with its reason); the file on
disk is never changed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO = Path(__file__).resolve().parents[2]
SPEC_PATH = (REPO / "../shared/contracts/ashby-openapi.json").resolve()
SPEC_URI = "urn:ashby:openapi"
_VALUE = "/paths/~1offer.create/post/requestBody/content/application~1json/schema/properties/offerForm/properties/fieldSubmissions/items/properties/value"  # noqa: E501

_TRAINING_ROLE = "/paths/~1interviewEvent.list/post/responses/200/content/application~1json/schema/oneOf/0/allOf/1/properties/results/items/properties/interviewers/items/allOf/1/properties/trainingRole"  # noqa: E501
_SUBMIT = "/paths/~1applicationFeedback.submit/post/requestBody/content/application~1json/schema"
ERRATA = {
    _TRAINING_ROLE: "trainingRole is typed [string, null] and described as 'null when the interviewer is "
    "qualified', but its enum omits null, so no regular interviewer validates: null is added to the enum",
    _SUBMIT: "the second oneOf branch (with interviewEventId) only adds required properties to the first, "
    "which does not forbid extra ones, so a body with interviewEventId matches both and fails oneOf: the "
    "branches are read as anyOf",
}

INTERVALS = ["NONE", "1 TIME", "1 HOUR", "1 DAY", "1 WEEK", "2 WEEK", "1 MONTH", "2 MONTH", "1 YEAR", "6 MONTH",
             "0.5 MONTH", "3 MONTH"]  # fmt: skip
_UUID = {"type": "string", "format": "uuid"}
_ISO4217 = {"type": "string", "pattern": "^[A-Z]{3}$"}
_PLAIN = {"type": "object", "required": ["type", "value"], "properties": {"type": {"const": "PlainText"},
          "value": {"type": "string"}}}  # fmt: skip
# The value rules from applicationFeedback.submit's description (README "Known imprecisions").
VALUE_SCHEMAS: dict[str, dict[str, Any]] = {
    "Boolean": {"type": "boolean"},
    "Number": {"type": "integer"},
    "Score": {"type": "object", "required": ["score"], "additionalProperties": False,
              "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 4}, "comments": _PLAIN}},
    "RichText": _PLAIN,
    "Date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "format": "date"},
    "String": {"type": "string"},
    "LongText": {"type": "string"},
    "Phone": {"type": "string"},
    "Email": {"type": "string", "format": "email"},
    "Url": {"anyOf": [{"const": ""}, {"type": "string", "pattern": "^https?://"}]},
    "UUID": {"anyOf": [_UUID, {"type": "object", "required": ["value"], "properties": {"value": _UUID}}]},
    "Currency": {"type": "object", "required": ["value", "currencyCode"],
                 "properties": {"value": {"type": "number"}, "currencyCode": _ISO4217}},
    "NumberRange": {"type": "object", "required": ["type", "minValue", "maxValue"],
                    "properties": {"type": {"const": "number-range"}, "minValue": {"type": "number"},
                                   "maxValue": {"type": "number"}}},
    "CompensationRange": {"type": "object", "required": ["type", "minValue", "maxValue", "currencyCode", "interval"],
                          "properties": {"type": {"const": "compensation-range"}, "minValue": {"type": "number"},
                                         "maxValue": {"type": "number"}, "currencyCode": _ISO4217,
                                         "interval": {"enum": INTERVALS}}},
}  # fmt: skip


# jsonschema checks `date-time` and `uri` only with optional packages; these stdlib checks stand in.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)  # type: ignore[untyped-decorator]
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value)
    return "T" in value.upper() and parsed.tzinfo is not None


@FORMATS.checks("uri")  # type: ignore[untyped-decorator]
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


def _pointer(spec: Any, pointer: str) -> Any:
    node = spec
    for part in pointer.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _describe(error: ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    detail = f"{where}: {error.message[:300]}"
    if error.context:  # oneOf/anyOf: say why each branch failed
        branches = sorted({f"[{'/'.join(map(str, e.relative_schema_path))}] {e.message[:160]}" for e in error.context})
        detail += " <- " + "; ".join(branches[:6])
    return detail


class Contract:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = copy.deepcopy(spec)
        # Documented exception: `value` is typed per field, checked by field_value_errors instead.
        _pointer(self.spec, _VALUE).clear()
        _pointer(self.spec, _TRAINING_ROLE)["enum"].append(None)
        submit = _pointer(self.spec, _SUBMIT)
        submit["anyOf"] = submit.pop("oneOf")
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> Contract:
        return cls(msgspec.json.decode(path.read_bytes()))

    @cache  # noqa: B019 - one Contract per session
    def validator(self, pointer: str) -> Draft202012Validator:
        _pointer(self.spec, pointer)  # fail loudly on a wrong pointer rather than validate against nothing
        schema = {"$ref": f"{SPEC_URI}#{pointer}"}
        return Draft202012Validator(schema, registry=self._registry, format_checker=FORMATS)

    def errors(self, pointer: str, instance: Any) -> list[str]:
        return [_describe(e) for e in self.validator(pointer).iter_errors(instance)]

    @staticmethod
    def _operation(endpoint: str) -> str:
        return "/paths/" + ("/" + endpoint).replace("~", "~0").replace("/", "~1") + "/post"

    def request_errors(self, endpoint: str, body: Any) -> list[str]:
        return self.errors(self._operation(endpoint) + "/requestBody/content/application~1json/schema", body)

    def response_errors(self, endpoint: str, body: Any) -> list[str]:
        return self.errors(self._operation(endpoint) + "/responses/200/content/application~1json/schema", body)

    def webhook_errors(self, action: str, body: Any) -> list[str]:
        return self.errors(f"/webhooks/{action}/post/requestBody/content/application~1json/schema", body)

    def has_operation(self, endpoint: str) -> bool:
        return ("/" + endpoint) in self.spec["paths"] and "post" in self.spec["paths"]["/" + endpoint]


def field_value_errors(sections: Sequence[Mapping[str, Any]], submissions: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each `fieldSubmissions[].value` against its field type's documented format."""
    fields = {entry["field"]["path"]: entry["field"] for section in sections for entry in section["fields"]}
    problems = []
    for item in submissions:
        field = fields.get(item["path"])
        if field is None:
            problems.append(f"{item['path']}: not a field of the form")
            continue
        options = [option["value"] for option in field.get("selectableValues") or ()]
        schema = {
            "ValueSelect": {"enum": options},
            "MultiValueSelect": {"type": "array", "items": {"enum": options}},
        }.get(field["type"]) or VALUE_SCHEMAS.get(field["type"])
        if schema is None:
            problems.append(f"{item['path']}: unknown field type {field['type']}")
            continue
        validator = Draft202012Validator(schema, format_checker=FORMATS)
        problems += [
            f"{item['path']} ({field['type']}): {e.message[:200]}" for e in validator.iter_errors(item["value"])
        ]
    return problems
