"""What every admin handler uses, built once (by the app's lifespan, or given by a test) and typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from arq.connections import ArqRedis
from starlette.requests import Request

from admin.auth import Sessions
from shared.settings import Settings


@dataclass(frozen=True)
class AdminState:
    settings: Settings
    pool: asyncpg.Pool
    queue: ArqRedis
    sessions: Sessions
    clock: Callable[[], float]  # epoch seconds: session ages, "now" for the figures
    new_nonce: Callable[[], str]  # a fresh random session id (alphanumeric)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)


def state_of(request: Request) -> AdminState:
    state: AdminState = request.app.state.admin
    return state
