"""The retry doctrine, one place for every caller: which delay before the next try, and what an upstream's
`Retry-After` asks for.

Retries happen only on named transient errors, bounded in count and time; the delay is exponential with
full jitter (replicas refused together do not come back together), capped; an upstream's own hint wins.
Pure functions: the caller passes the randomness and the clock.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime


def full_jitter(retry: int, *, base_s: float, cap_s: float, rand: float) -> float:
    """A delay uniform in [0, min(cap, base * 2**retry)); `retry` is 0 before the first retry, `rand` in [0, 1)."""
    return rand * min(cap_s, base_s * 2.0 ** max(retry, 0))


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """`Retry-After` as seconds from `now` (epoch seconds): delta-seconds or an HTTP date; None if absent or
    unreadable. Never negative."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(0.0, seconds) if seconds == seconds and seconds != float("inf") else None
