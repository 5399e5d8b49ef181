"""Signed webhooks from the simulator to the system under test; tests await delivery, they never sleep on it.

A body is rendered when its change happens (as Ashby does) and signed
`Ashby-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`, computed here rather than borrowed from the
ingress' verifier, so a mistake in one is caught by the other. `flush()` delivers everything queued and
reports (action, status) per attempt; a failure Ashby would retry (anything but 2xx and
401/403/404/405/410) stays queued for the next flush or background round, up to `max_attempts`.
A target with `copies > 1` gets every webhook that many times at once (duplicate delivery, as retries and
replicas of a sender produce), spread over `url` and its `replicas`; each copy is retried on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

DEFAULT_ACTIONS = frozenset({"interviewScheduleUpdate", "candidateStageChange", "candidateDelete", "candidateMerge"})
NOT_RETRIED = frozenset({401, 403, 404, 405, 410})
NO_ANSWER = 0  # the status reported when the target could not be reached or did not answer in time


@dataclass(frozen=True)
class WebhookTarget:
    """Where to send, the secret to sign with (unsigned when None), and which actions are subscribed."""

    url: str
    secret: str | None = None
    actions: frozenset[str] = DEFAULT_ACTIONS
    copies: int = 1  # each webhook is POSTed this many times concurrently
    replicas: tuple[str, ...] = ()  # further URLs of the same receiver; copies go round `url` and these

    def urls_for(self, webhook: int) -> list[str]:
        """Where the copies of the `webhook`-th webhook go: round the URLs, starting one further each time."""
        urls = [self.url, *self.replicas]
        return [urls[(webhook + copy) % len(urls)] for copy in range(self.copies)]


@dataclass
class Delivery:
    action: str
    body: bytes
    url: str
    webhook: int = 0  # which webhook this is a copy of (copies share it)
    attempts: int = 0
    statuses: list[int] = field(default_factory=list)

    @property
    def data(self) -> Any:
        return msgspec.json.decode(self.body)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(self, target: WebhookTarget, *, http: httpx.AsyncClient | None = None, max_attempts: int = 10):
        self.target = target
        self.max_attempts = max_attempts
        self.deliveries: list[Delivery] = []  # every webhook ever queued, with its attempts
        self._http = http
        self._owns_http = http is None
        self._pending: list[Delivery] = []
        self._webhooks = 0
        self._unreported: list[tuple[str, int]] = []
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()

    def enqueue(self, action: str, data: dict[str, Any]) -> None:
        if action not in self.target.actions and action != "ping":
            return
        body = msgspec.json.encode({"action": action, "data": data})
        webhook = self._webhooks
        self._webhooks += 1
        for url in self.target.urls_for(webhook):
            delivery = Delivery(action, body, url, webhook)
            self.deliveries.append(delivery)
            self._pending.append(delivery)
        self._wake.set()

    def ping(self) -> None:
        """What Ashby sends when a webhook is created or edited; it must get a 2xx."""
        self.enqueue("ping", {"webhookActionType": "ping"})

    @property
    def pending(self) -> int:
        return len(self._pending)

    def take_pending(self) -> list[bytes]:
        """Hand the queued bodies to a test that delivers them itself (with headers of its own)."""
        bodies, self._pending = [d.body for d in self._pending], []
        return bodies

    async def flush(self) -> list[tuple[str, int]]:
        """Deliver what is queued; return (action, status) of every attempt since the last flush."""
        async with self._lock:
            await self._deliver_pending()
            reported, self._unreported = self._unreported, []
        return reported

    async def _deliver_pending(self) -> None:
        batch, self._pending = self._pending, []
        # In order, one webhook at a time; the copies of one webhook at once.
        for _, group in itertools.groupby(batch, key=lambda delivery: delivery.webhook):
            copies = list(group)
            statuses = await asyncio.gather(*(self._post(delivery) for delivery in copies))
            for delivery, status in zip(copies, statuses, strict=True):
                delivery.attempts += 1
                delivery.statuses.append(status)
                self._unreported.append((delivery.action, status))
                retry = not 200 <= status < 300 and status not in NOT_RETRIED
                if retry and delivery.attempts < self.max_attempts:
                    self._pending.append(delivery)

    async def _post(self, delivery: Delivery) -> int:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10.0)
        headers = {"Content-Type": "application/json"}
        if self.target.secret is not None:
            headers["Ashby-Signature"] = sign(self.target.secret, delivery.body)
        try:
            response = await self._http.post(delivery.url, content=delivery.body, headers=headers)
        except httpx.TransportError:
            return NO_ANSWER
        return response.status_code

    async def run(self, *, retry_delay_s: float = 10.0) -> None:
        """Deliver in the background (the served simulator); retries wait (2**n - 1) * retry_delay_s."""
        while True:
            timeout = None
            if self._pending:
                timeout = (2 ** max(d.attempts for d in self._pending) - 1) * retry_delay_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            async with self._lock:
                await self._deliver_pending()

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
