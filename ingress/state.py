"""What every ingress handler uses, built once (by the app's lifespan, or given by a test) and typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from arq.connections import ArqRedis
from starlette.requests import Request

from shared.clients.slack import SlackClient
from shared.enqueue_batch import ScriptBatcher
from shared.metrics import Metrics
from shared.settings import Settings


@dataclass(frozen=True)
class IngressState:
    settings: Settings
    clock: Callable[[], float]  # epoch seconds: Slack's signature window
    queue: ArqRedis
    batcher: ScriptBatcher  # coalesces the concurrent requests' enqueues into one Redis round trip
    slack: SlackClient  # views.open only: the trigger dies 3 s after the click
    metrics: Metrics


def state_of(request: Request) -> IngressState:
    state: IngressState = request.app.state.ingress
    return state
