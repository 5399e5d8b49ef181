"""The options a feedback modal offers: Ashby's selectable values, scores, yes/no, currencies, intervals.

Slack option values are short keys derived from Ashby's values (which may exceed Slack's 150 characters);
the key → Ashby value mapping goes into the field map, so Slack never has to carry an Ashby value.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Option

from shared.blocks import truncate
from shared.feedback_form.limits import OPTION_TEXT_MAX
from shared.feedback_form.model import digest
from shared.feedback_form.values import whole_number
from shared.payloads.ashby import SelectableValue

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


def option(text: str, value: str) -> Option:
    return Option(text=truncate(text.strip() or "(blank)", OPTION_TEXT_MAX), value=value)


BOOLEAN_OPTIONS = [option("Yes", "true"), option("No", "false")]
CURRENCY_OPTIONS = [option(code, code) for code in CURRENCIES]
INTERVAL_OPTIONS = [option(text, value) for value, text in INTERVALS.items()]


def select_options(values: list[SelectableValue]) -> tuple[list[Option], dict[str, str]]:
    """Slack options and their key → Ashby value mapping. Duplicate Ashby values would submit the same
    thing, so only the first is kept."""
    options: list[Option] = []
    mapping: dict[str, str] = {}
    seen: set[str] = set()
    for index, selectable in enumerate(values):
        if selectable.value in seen:
            continue
        seen.add(selectable.value)
        key = "v" + digest(selectable.value, 5)
        if key in mapping:  # a hash collision: still unique, only less stable for drafts
            key = f"{key}-{index}"
        mapping[key] = selectable.value
        options.append(option(selectable.label.strip() or selectable.value, key))
    return options, mapping


def score_options(values: list[SelectableValue] | None) -> list[Option]:
    """Ashby's own labels when the field carries them (keyed by score), else the usual four."""
    labels = dict(DEFAULT_SCORE_LABELS)
    by_score: dict[int, str] = {}
    for selectable in values or []:
        score = whole_number(selectable.value)
        if score in labels and selectable.label.strip():
            by_score[score] = selectable.label.strip()
    if len(by_score) < len(labels) and values and len(values) == len(labels):
        # Labels without numeric values: Ashby lists them lowest score first.
        by_score = {score: s.label.strip() for score, s in zip(labels, values, strict=True) if s.label.strip()}
    labels.update(by_score)
    return [option(text if text.startswith(str(n)) else f"{n} - {text}", str(n)) for n, text in labels.items()]
