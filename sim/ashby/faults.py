"""Fault injection for the Ashby simulator: queued faults per endpoint, consumed in order, plus latency.

`FaultPlan().rate_limit("application.info", retry_after=2).server_error("*", times=3)` answers the next
`application.info` call with 429 + `Retry-After: 2`, then the next three calls to any endpoint with 503.
A `hang` answers only after `seconds` (or when the simulator closes): the request has already been
processed, as when a response is lost to a client timeout. `random_server_errors(0.2, rng=...)` answers a
seeded fifth of the calls that no queued fault claims with a 5xx, some of them after the request took effect
(a lost answer: a client must check before it repeats a write).
"""

from __future__ import annotations

import random
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
    processed: bool = False  # a server_error answered after the request took effect


@dataclass(frozen=True)
class RandomServerErrors:
    share: float
    rng: random.Random
    statuses: tuple[int, ...]
    processed_share: float

    def draw(self) -> Fault | None:
        if self.rng.random() >= self.share:
            return None
        status = self.rng.choice(self.statuses)
        return Fault("server_error", status=status, processed=self.rng.random() < self.processed_share)


class FaultPlan:
    def __init__(self) -> None:
        self._queues: dict[str, deque[Fault]] = {}
        self._latency: dict[str, float] = {}
        self._random: RandomServerErrors | None = None

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

    def random_server_errors(
        self,
        share: float,
        *,
        rng: random.Random,
        statuses: tuple[int, ...] = (500, 502, 503, 504),
        processed_share: float = 0.0,
    ) -> FaultPlan:
        """Answer a `share` of the calls no queued fault claims with one of `statuses`; of those, a
        `processed_share` only after the request took effect. Seeded by `rng`, so a run can be repeated."""
        if not 0.0 <= share <= 1.0 or not 0.0 <= processed_share <= 1.0:
            raise ValueError("share and processed_share must be between 0 and 1")
        self._random = RandomServerErrors(share, rng, statuses, processed_share)
        return self

    def latency(self, endpoint: str, seconds: float) -> FaultPlan:
        """Delay every answer of `endpoint` (or `*`) by `seconds`, through the simulator's sleep."""
        self._latency[endpoint] = seconds
        return self

    def take(self, endpoint: str) -> Fault | None:
        for key in (endpoint, ANY):
            queue = self._queues.get(key)
            if queue:
                return queue.popleft()
        return self._random.draw() if self._random is not None else None

    def delay(self, endpoint: str) -> float:
        return self._latency.get(endpoint, self._latency.get(ANY, 0.0))

    def pending(self) -> int:
        return sum(len(queue) for queue in self._queues.values())
