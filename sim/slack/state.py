"""The Slack simulator's world: users, channels, messages, views, trigger ids, limits and a log of every call.

Plain mutable objects, read directly by tests (`state.messages`, `state.views`, `state.requests`). Nothing
here does I/O or reads a clock: the app passes `now` in.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0SIMTEAM"
APP_ID = "A0SIMAPP"
BOT_ID = "B0SIMBOT"
BOT_USER_ID = "U0SIMBOT"
TRIGGER_TTL_S = 3.0
# The bot token's scopes: what the fleet's calls need (slack-manifest.yaml). Tests narrow `token_scopes`.
BOT_SCOPES = ("chat:write", "commands", "im:write", "users:read", "users:read.email")
# A slash command's response_url takes this many answers within this many seconds, then says so.
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_S = 30 * 60


@dataclass
class SimUser:
    id: str
    email: str | None
    tz: str | None = "America/New_York"
    deleted: bool = False
    is_bot: bool = False
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        name = self.name or self.id.lower()
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "tz": self.tz,
            "profile": {"email": self.email, "real_name": name, "display_name": name},
        }


@dataclass
class Channel:
    id: str
    name: str
    user_id: str | None = None  # set for a DM (`D…`) with that user

    @property
    def is_im(self) -> bool:
        return self.user_id is not None


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    posted_at: float
    versions: list[dict[str, Any]] = field(default_factory=list)  # earlier text/blocks, oldest first

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "message",
            "subtype": "bot_message",
            "text": self.text,
            "ts": self.ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "blocks": self.blocks,
        }


@dataclass
class SimView:
    id: str
    user_id: str
    view: dict[str, Any]
    hash: str
    external_id: str | None = None
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    is_open: bool = True
    versions: list[dict[str, Any]] = field(default_factory=list)  # earlier view bodies, oldest first
    errors: dict[str, str] | None = None  # the last `response_action: errors` shown to the user

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        return str(self.view.get("private_metadata") or "")

    def to_json(self) -> dict[str, Any]:
        v = self.view
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "type": v.get("type", "modal"),
            "blocks": v.get("blocks", []),
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": {"values": self.values},
            "hash": self.hash,
            "title": v.get("title"),
            "close": v.get("close"),
            "submit": v.get("submit"),
            "clear_on_close": bool(v.get("clear_on_close")),
            "notify_on_close": bool(v.get("notify_on_close")),
            "previous_view_id": None,
            "root_view_id": self.id,
            "app_id": APP_ID,
            "external_id": self.external_id or "",
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }


@dataclass
class Trigger:
    id: str
    user_id: str
    created_at: float
    used: bool = False


@dataclass
class RecordedRequest:
    method: str
    args: dict[str, Any]
    at: float
    status: int = 200
    error: str | None = None


@dataclass
class Interaction:
    type: str
    payload: dict[str, Any]
    status: int
    body: bytes
    elapsed_s: float


@dataclass
class SimCommand:
    """A slash command someone typed, and the ephemeral messages it shows them (only they see these)."""

    token: str  # the last part of its response_url
    user_id: str
    channel_id: str
    command: str
    text: str
    created_at: float
    ack_status: int | None = None  # the ingress's HTTP status for the command itself
    uses: int = 0
    shown: list[dict[str, Any]] = field(default_factory=list)  # as the person sees them now, oldest first

    def answer(self, body: dict[str, Any], *, now: float) -> str | None:
        """Show an answer posted to the response_url; Slack's error if the URL may post no more."""
        if now - self.created_at > RESPONSE_URL_TTL_S:
            return "expired_url"
        if self.uses >= RESPONSE_URL_USES:
            return "used_url"
        self.uses += 1
        if body.get("replace_original") and self.shown:
            self.shown[-1] = body
        else:
            self.shown.append(body)
        return None


@dataclass
class Failure:
    method: str
    status: int
    error: str
    retry_after: int | None
    times: int
    after: int = 0


@dataclass
class RateLimits:
    """Slack's published shape: ~1 message/s per channel with a small burst, and per-method tiers per minute."""

    enabled: bool = True
    per_channel_per_s: float = 1.0
    per_channel_burst: int = 2
    tier_per_min: dict[int, float] = field(default_factory=lambda: {2: 20.0, 3: 50.0, 4: 100.0})
    tier_burst: dict[int, int] = field(default_factory=lambda: {2: 3, 3: 5, 4: 10})
    method_tiers: dict[str, int] = field(
        default_factory=lambda: {
            "users.list": 2,
            "users.lookupByEmail": 3,
            "conversations.open": 3,
            "chat.update": 3,
            "views.open": 4,
            "views.update": 4,
            "views.publish": 4,
            "users.info": 4,
        }
    )
    _tats: dict[str, float] = field(default_factory=dict)

    def check(self, key: str, *, now: float, rate_per_s: float, burst: int) -> float | None:
        """Count a call (GCRA); None if allowed, else seconds until it would be. Refusals are not counted."""
        interval = 1.0 / rate_per_s
        tat = max(self._tats.get(key, now), now)
        wait = tat - interval * (burst - 1) - now
        if wait > 1e-6:  # epoch-sized floats carry crumbs of ~1e-7 s; those are no wait at all
            return wait
        self._tats[key] = tat + interval
        return None

    def reset(self) -> None:
        self._tats.clear()


@dataclass
class RandomRateLimits:
    """Refuse a seeded `share` of Web API calls with 429 + `Retry-After`, whatever the limits above say: Slack's
    limits are shared with every other app in the workspace, so a client must survive a 429 on any call."""

    share: float
    rng: random.Random
    retry_after_s: int = 1
    refused: int = 0

    def refuse(self) -> bool:
        if self.rng.random() >= self.share:
            return False
        self.refused += 1
        return True


class SlackState:
    def __init__(self) -> None:
        self.users: dict[str, SimUser] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: list[Message] = []
        self.views: dict[str, SimView] = {}
        self.home_views: dict[str, SimView] = {}
        self.triggers: dict[str, Trigger] = {}
        self.requests: list[RecordedRequest] = []
        self.interactions: list[Interaction] = []
        self.commands: dict[str, SimCommand] = {}  # by response_url token
        self.rate_limits = RateLimits()
        self.random_rate_limits: RandomRateLimits | None = None  # chaos: 429s that no limit explains
        # Slack matches the whole address and ignores case; switch this on to model a stricter server.
        self.email_lookup_case_sensitive = False
        self.token_scopes: list[str] = list(BOT_SCOPES)
        self.failures: list[Failure] = []
        self.hangs: dict[str, int] = {}  # method -> how many more calls to hold
        self.hung: list[RecordedRequest] = []  # calls held (or once held) without an answer
        self.hangs_released = asyncio.Event()
        self._ids = itertools.count(1)

    # -- seeding and scripting ---------------------------------------------------------------------------
    def add_user(
        self,
        id: str,
        email: str | None,
        *,
        tz: str | None = "America/New_York",
        deleted: bool = False,
        is_bot: bool = False,
        name: str = "",
    ) -> SimUser:
        user = SimUser(id=id, email=email, tz=tz, deleted=deleted, is_bot=is_bot, name=name)
        self.users[id] = user
        return user

    def add_channel(self, id: str, name: str) -> Channel:
        channel = Channel(id=id, name=name)
        self.channels[id] = channel
        return channel

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        error: str = "internal_error",
        retry_after: int | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer the next `times` calls of `method` with this status and error (e.g. 503, or 429 with retry_after),
        once `after` calls of it have been answered normally."""
        self.failures.append(Failure(method, status, error, retry_after, times, after))

    def hang_next(self, method: str, *, times: int = 1) -> None:
        """Hold the next `times` calls of `method` without answering until `release_hangs()`: the caller is
        stuck mid-request (e.g. a worker to be killed mid-send). A held call has no effect, even once
        released (it is then answered 503): Slack never received it."""
        self.hangs[method] = self.hangs.get(method, 0) + times

    def release_hangs(self) -> None:
        self.hangs.clear()
        self.hangs_released.set()

    # -- queries for tests -------------------------------------------------------------------------------
    def messages_in(self, channel: str) -> list[Message]:
        return [m for m in self.messages if m.channel == channel]

    def messages_to(self, user_id: str) -> list[Message]:
        channel = self.dm_channel(user_id)
        return self.messages_in(channel) if channel else []

    def dm_channel(self, user_id: str) -> str | None:
        return next((c.id for c in self.channels.values() if c.user_id == user_id), None)

    def calls(self, method: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method]

    # -- used by the app ---------------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def open_dm(self, user_id: str) -> tuple[Channel, bool]:
        """The DM channel with this user and whether it already existed."""
        existing = self.dm_channel(user_id)
        if existing:
            return self.channels[existing], True
        channel = Channel(id=self.next_id("D"), name=user_id, user_id=user_id)
        self.channels[channel.id] = channel
        return channel, False

    def next_ts(self, channel: str, now: float) -> str:
        """A message ts: the time in microseconds, nudged forward so it is unique within the channel."""
        micros = round(now * 1_000_000)
        taken = {m.ts for m in self.messages_in(channel)}
        while f"{micros // 1_000_000}.{micros % 1_000_000:06d}" in taken:
            micros += 1
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def find_message(self, channel: str, ts: str) -> Message | None:
        return next((m for m in self.messages if m.channel == channel and m.ts == ts), None)

    def mint_trigger(self, user_id: str, now: float) -> str:
        trigger = Trigger(id=f"{next(self._ids)}.{int(now)}.{self.next_id('')}", user_id=user_id, created_at=now)
        self.triggers[trigger.id] = trigger
        return trigger.id

    def take_hang(self, method: str) -> bool:
        if self.hangs.get(method, 0) <= 0:
            return False
        self.hangs[method] -= 1
        return True

    def take_failure(self, method: str) -> Failure | None:
        for failure in self.failures:
            if failure.method == method and failure.times > 0:
                if failure.after > 0:
                    failure.after -= 1
                    return None
                failure.times -= 1
                return failure
        return None
