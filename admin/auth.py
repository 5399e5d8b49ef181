"""Who may use the admin service: the admin token, the session cookie it buys, and CSRF tokens.

Invariants: the token is compared in constant time and never stored in a cookie; a session cookie is
`v1.<issued>.<nonce>.<hmac>` keyed by the token, so rotating ADMIN_TOKEN signs every session out, and a
cookie older than SESSION_MAX_AGE_S is refused; every state-changing request made with a session carries
that session's CSRF token (bearer requests carry the token itself, which a cross-site form cannot). Pure:
the clock and the nonce are passed in.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

SESSION_COOKIE = "fleet_admin_session"
SESSION_MAX_AGE_S = 8 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_VERSION = "v1"


def token_matches(given: str, expected: str) -> bool:
    """The admin token, compared in constant time; never true for an empty expected token."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@dataclass(frozen=True)
class Session:
    nonce: str
    issued_at: int  # epoch seconds


class Sessions:
    """Signs and verifies session cookies and derives their CSRF tokens, all keyed by the admin token."""

    def __init__(self, admin_token: str, *, max_age_s: int = SESSION_MAX_AGE_S) -> None:
        if not admin_token:
            raise ValueError("an admin token is required")
        # A key of its own, so that a cookie's MAC is never a value that could be replayed as the token.
        self._key = hmac.new(admin_token.encode(), b"fleet admin session key", hashlib.sha256).digest()
        self.max_age_s = max_age_s

    def issue(self, *, now: float, nonce: str) -> str:
        if not nonce.isalnum():
            raise ValueError("the nonce must be alphanumeric")
        body = f"{_VERSION}.{int(now)}.{nonce}"
        return f"{body}.{self._mac('session', body)}"

    def verify(self, cookie: str | None, *, now: float) -> Session | None:
        """The session a cookie proves, or None: malformed, signed with another token, or expired."""
        parts = (cookie or "").split(".")
        if len(parts) != 4 or parts[0] != _VERSION or not parts[1].isdigit():
            return None
        body = ".".join(parts[:3])
        if not hmac.compare_digest(parts[3], self._mac("session", body)):
            return None
        issued = int(parts[1])
        if not 0 <= now - issued < self.max_age_s:
            return None
        return Session(nonce=parts[2], issued_at=issued)

    def csrf_token(self, session: Session) -> str:
        return self._mac("csrf", session.nonce)

    def csrf_matches(self, session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), self.csrf_token(session).encode())

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
