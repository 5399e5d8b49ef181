"""The error taxonomy: every failure the fleet handles is one of four kinds, decided where it is raised.

`RejectedInput` is refused at the ingress and never enqueued; `Transient` is retried (with its
`retry_after` when the upstream named one); `Permanent` is recorded and not retried; `Stale` means the
world moved on and the job succeeds having done nothing. Clients map transport and status errors into
these in one place; `except Exception` lives only at the worker and ASGI boundaries.
"""

from __future__ import annotations


class FleetError(Exception):
    """Base class for every error the fleet raises on purpose."""


class Transient(FleetError):
    """Worth retrying later: 5xx, timeouts, 429, connection loss.

    `retry_after` is the upstream's own hint in seconds (e.g. `Retry-After`), or None to use backoff.
    """

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(FleetError):
    """Retrying will not help: the upstream refused the request (`success:false`, `ok:false`, 4xx)."""

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class Stale(FleetError):
    """The world moved on (e.g. the candidate already changed stage): succeed, do nothing."""


class RejectedInput(FleetError):
    """Ingress-only: the request is malformed, unsigned or too large; answered 4xx, never enqueued."""
