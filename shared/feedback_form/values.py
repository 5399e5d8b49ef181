"""Typed text → the value Ashby takes, one parser per kind of value; each bounds its input before parsing.

They run on whatever reaches the ingress (a person's typing, or a forged payload that passed the signature)
inside Slack's 3-second ack, so each returns None for what it cannot accept and never raises: `int()`
refuses strings over 4,300 digits, and Decimal arithmetic overflows on `1e999999999`.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

# Ashby's API is JSON read by JavaScript: integers beyond 2**53 would silently lose precision.
SAFE_INTEGER = 2**53 - 1
SAFE_INTEGER_DIGITS = len(str(SAFE_INTEGER))
# A safe integer has 16 digits; this leaves room for a sign, leading zeros, decimals and an exponent.
NUMBER_TEXT_MAX = 40
EMAIL_MAX = 254  # RFC 5321 path limit
URL_MAX = 2048
UUID_TEXT_MAX = len("urn:uuid:") + 36  # the longest spelling `uuid.UUID` accepts

_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# Possessive host, so a host of 2,000 dots is one pass rather than a quadratic backtrack.
_URL = re.compile(r"https?://([^\s/?#]++)(?:[/?#]\S*+)?", re.IGNORECASE)


def whole_number(text: str) -> int | None:
    text = text.strip()
    if len(text) > NUMBER_TEXT_MAX or not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if abs(value) <= SAFE_INTEGER else None


def amount(text: str) -> int | float | None:
    """A finite JSON number: int when integral, float otherwise. Its size is judged from the exponent before
    any arithmetic; a non-zero amount too small to survive as a float is refused rather than sent as 0."""
    text = text.strip()
    if len(text) > NUMBER_TEXT_MAX:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value.is_zero():
        return 0
    if value.adjusted() >= SAFE_INTEGER_DIGITS or value.copy_abs() > SAFE_INTEGER:
        return None
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    return number if number != 0 else None


def iso_date(text: str) -> str | None:
    """`YYYY-MM-DD` only: `date.fromisoformat` also takes week dates like `2025-W10-5`, which Ashby does not."""
    if len(text) != 10 or not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def email_address(text: str) -> str | None:
    return text if len(text) <= EMAIL_MAX and _EMAIL.fullmatch(text) else None


def web_address(text: str) -> str | None:
    """An http(s) address whose host starts with a letter or digit and has a dot inside it."""
    if len(text) > URL_MAX:
        return None
    match = _URL.fullmatch(text)
    return text if match and match[1][0].isalnum() and "." in match[1][1:-1] else None


def canonical_uuid(text: str) -> str | None:
    if len(text) > UUID_TEXT_MAX:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
