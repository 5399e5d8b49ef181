"""The error taxonomy: every failure the fleet handles is one of three kinds, decided where it is raised.

`Transient` is retried (with its `retry_after` when the upstream named one); `Permanent` is recorded and
not retried; `Stale` means the world moved on and the job succeeds having done nothing. Clients map
transport and status errors into these in one place. Infrastructure failures that surface as library
exceptions (a dropped PostgreSQL connection, a Redis restart) are classified by `is_transient`, which
reads the exception and its cause chain: a lost connection often surfaces as another exception on
rollback. `except Exception` lives only at the worker and ASGI boundaries.
"""

from __future__ import annotations

import asyncpg
from redis import exceptions as redis_errors


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


# SQLSTATE classes a retry can cure: 08 connection exception, 53 insufficient resources (too many
# connections), 57P operator intervention (admin/crash shutdown, cannot connect now), 40 transaction
# rollback (serialization failure, deadlock). 57014 (query cancelled: a statement timeout) is not here.
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P", "40")
_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    Transient,
    redis_errors.ConnectionError,  # includes BusyLoadingError (a restarted Redis loading its data)
    redis_errors.TimeoutError,
    redis_errors.ReadOnlyError,  # a replica promoted during a failover
    redis_errors.TryAgainError,
    ConnectionError,
    TimeoutError,
    OSError,
)
_CHAIN_LIMIT = 16


def is_transient(exc: BaseException) -> bool:
    """True when `exc`, or anything in its cause/context chain, is an infrastructure blip worth retrying."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < _CHAIN_LIMIT:
        seen.add(id(current))
        if _transient_itself(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _transient_itself(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT_TYPES):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return str(getattr(exc, "sqlstate", "") or "").startswith(_TRANSIENT_SQLSTATE_PREFIXES)
    if isinstance(exc, asyncpg.InterfaceError):
        # What a connection terminated mid-transaction raises on the rollback ("the underlying connection is
        # closed"), or on its next use ("released back to the pool"). Other interface errors are our bugs.
        message = str(exc)
        return "closed" in message or "released back to the pool" in message
    # asyncpg's protocol caught mid-way by a server that hung up ("cannot switch to state 12; another
    # operation (2) is in progress"): only ever seen on a dying connection; a fresh one cures it.
    return isinstance(exc, asyncpg.InternalClientError)


def error_label(exc: BaseException) -> str:
    """A name for the failure that is safe to log and store: the type, plus the SQLSTATE or upstream code.
    Never the message: database and upstream messages can quote the values (names, answers) that failed."""
    code = getattr(exc, "sqlstate", None) or getattr(exc, "code", None)
    return f"{type(exc).__name__} ({code})" if isinstance(code, str) and code else type(exc).__name__
