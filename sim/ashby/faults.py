"""Fault injection for the Ashby simulator: queued faults per endpoint, consumed in order, plus latency.

`FaultPlan().rate_limit("application.info", retry_after=2).server_error("*", times=3)` answers the next
`application.info` call with 429 + `Retry-After: 2`, then the next three calls to any endpoint with 503.
A `hang` answers only after `seconds` (or when the simulator closes): the request has already been
processed, as when a response is lost to a client timeout.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

ANY = "*"
FaultKind = Literal["rate_limit", "server_error", "hang", "failure"]


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 200
    retry_after: float | None = None
    seconds: float = 0.0
    code: str = ""
    message: str = ""


class FaultPlan:
    def __init__(self) -> None:
        self._queues: dict[str, deque[Fault]] = {}
        self._latency: dict[str, float] = {}

    def add(self, endpoint: str, fault: Fault, *, times: int = 1) -> FaultPlan:
        self._queues.setdefault(endpoint, deque()).extend([fault] * times)
        return self

    def rate_limit(self, endpoint: str = ANY, *, retry_after: float | None = 1.0, times: int = 1) -> FaultPlan:
        return self.add(endpoint, Fault("rate_limit", status=429, retry_after=retry_after), times=times)

    def server_error(self, endpoint: str = ANY, *, status: int = 503, times: int = 1) -> FaultPlan:
        return self.add(endpoint, Fault("server_error", status=status), times=times)

    def hang(self, endpoint: str = ANY, *, seconds: float = 30.0, times: int = 1) -> FaultPlan:
        return self.add(endpoint, Fault("hang", seconds=seconds), times=times)

    def failure(self, endpoint: str, code: str, message: str = "", *, times: int = 1) -> FaultPlan:
        """Answer `success:false` with `code` without touching the org (e.g. `sync_token_expired`)."""
        return self.add(endpoint, Fault("failure", code=code, message=message), times=times)

    def latency(self, endpoint: str, seconds: float) -> FaultPlan:
        """Delay every answer of `endpoint` (or `*`) by `seconds`, through the simulator's sleep."""
        self._latency[endpoint] = seconds
        return self

    def take(self, endpoint: str) -> Fault | None:
        for key in (endpoint, ANY):
            queue = self._queues.get(key)
            if queue:
                return queue.popleft()
        return None

    def delay(self, endpoint: str) -> float:
        return self._latency.get(endpoint, self._latency.get(ANY, 0.0))

    def pending(self) -> int:
        return sum(len(queue) for queue in self._queues.values())
