"""Request signatures, verified on the raw body before anything is parsed (pure: the clock is passed in)."""

from __future__ import annotations

import hashlib
import hmac

ASHBY_SIGNATURE_PREFIX = "sha256="
SLACK_VERSION = "v0"
SLACK_MAX_AGE_S = 300
# Slack sends whole Unix seconds; more digits than this is no timestamp (and too big for float arithmetic).
_SLACK_TIMESTAMP_MAX_DIGITS = 12


def ashby_signature(secret: str, body: bytes) -> str:
    return ASHBY_SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_ashby(secret: str, body: bytes, header: str | None) -> bool:
    """`Ashby-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`, compared in constant time."""
    if not header or not header.startswith(ASHBY_SIGNATURE_PREFIX):
        return False
    return hmac.compare_digest(ashby_signature(secret, body).encode(), header.strip().lower().encode())


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = f"{SLACK_VERSION}:{timestamp}:".encode() + body
    return f"{SLACK_VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(secret: str, body: bytes, timestamp: str | None, signature: str | None, *, now: float) -> bool:
    """Slack v0 signature over `v0:{timestamp}:{raw body}`, rejected outside a 5-minute window."""
    if not timestamp or not signature:
        return False
    # Plain ASCII digits only: int() would also take "+1", "1_0", " 1" and 400-digit numbers (OverflowError).
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _SLACK_TIMESTAMP_MAX_DIGITS):
        return False
    if abs(now - int(timestamp)) > SLACK_MAX_AGE_S:
        return False
    return hmac.compare_digest(slack_signature(secret, timestamp, body).encode(), signature.encode())
