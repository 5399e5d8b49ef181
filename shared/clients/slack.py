"""The Slack Web API client: slack-sdk's AsyncWebClient behind the shared rate limits and the error taxonomy.

Every call first takes its slots in Redis (per channel for chat.postMessage, per method tier, then the
workspace), so all replicas together stay inside Slack's limits; a 429 that still happens is retried by
slack-sdk's handler after `Retry-After` when that is short, and otherwise handed back to the queue as
`Transient`. `ok:false` becomes `SlackApiFailure(Permanent)` carrying Slack's error code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import msgspec
from slack_sdk.errors import SlackApiError, SlackObjectFormationError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from shared.clients.slack_retry import (
    SERVER_ERROR_STATUSES,
    ConnectionRetry,
    RateLimitRetry,
    ServerErrorRetry,
    Sleep,
    retry_after_of,
)
from shared.errors import FleetError, Permanent, Transient
from shared.metrics import Metrics, failure_kind
from shared.ratelimit import Limit, RedisRateLimiter

TRIGGER_EXPIRED_CODES = frozenset({"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"})
# Slack answers a malformed or oversized message or view with one of these; the caller must re-render.
INVALID_CONTENT_CODES = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "invalid_arguments", "msg_too_long", "msg_blocks_too_long"}
)
# `ok:false` codes that describe Slack's own trouble, not the request's.
_TRANSIENT_CODES = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
_TIERS = {
    "users.list": 2,
    "users.lookupByEmail": 3,
    "conversations.open": 3,
    "chat.update": 3,
    "views.open": 4,
    "views.update": 4,
    "views.publish": 4,
    "users.info": 4,
}


class SlackApiFailure(Permanent):
    """Slack refused the request (`ok:false`); `code` is Slack's error, e.g. `channel_not_found`."""

    def __init__(self, method: str, code: str) -> None:
        super().__init__(f"slack {method}: {code}", code=code)
        self.method = method

    @property
    def invalid_content(self) -> bool:
        return self.code in INVALID_CONTENT_CODES

    def __reduce__(self) -> tuple[type[SlackApiFailure], tuple[str, str]]:
        # Exceptions pickle as cls(*args); ours take (method, code), e.g. when arq stores a job's failure.
        return type(self), (self.method, str(self.code))


class TriggerExpired(SlackApiFailure):
    """The `trigger_id` is older than 3 s or already used: fall back to a DM or a button that asks again."""


class SlackUser(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    email: str | None = None
    tz: str | None = None
    deleted: bool = False
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class SlackAuth:
    """Who the token is (`auth.test`) and the OAuth scopes Slack granted it (`x-oauth-scopes`)."""

    team_id: str
    user_id: str
    bot_id: str | None
    scopes: frozenset[str] | None  # None: Slack sent no scopes header


@dataclass(frozen=True, slots=True)
class SlackLimits:
    """Our share of Slack's limits. Slack's own numbers are per app per workspace; the workspace budget
    is a safety net of ours, not a published Slack figure."""

    per_channel_per_s: float = 1.0
    per_channel_burst: int = 1
    tier_per_min: Mapping[int, float] = field(default_factory=lambda: {2: 20.0, 3: 50.0, 4: 100.0})
    tier_burst: Mapping[int, int] = field(default_factory=lambda: {2: 2, 3: 5, 4: 10})
    workspace_per_s: float = 10.0
    workspace_burst: int = 20
    max_wait_s: float = 10.0
    # A trigger_id dies 3 s after the click: waiting longer than this for a slot would only waste it.
    view_open_max_wait_s: float = 0.5
    rate_limit_retries: int = 2
    max_retry_after_s: float = 10.0
    server_error_retries: int = 2


class SlackClient:
    """One per process (worker `on_startup`, ingress lifespan); `aclose()` at shutdown. Its aiohttp session
    opens on the first call, inside the running event loop."""

    def __init__(
        self,
        *,
        token: str,
        base_url: str = "https://slack.com/api/",
        limiter: RedisRateLimiter | None,
        limits: SlackLimits | None = None,
        timeout_s: float = 10.0,
        sleep: Sleep = asyncio.sleep,
        metrics: Metrics | None = None,
    ) -> None:
        if not base_url.endswith("/"):
            raise ValueError("base_url must end with '/', e.g. https://slack.com/api/")
        self._limiter = limiter
        self._limits = limits or SlackLimits()
        self._timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._metrics = metrics
        # slack-sdk logs request bodies (emails, message text) at DEBUG; never let that reach our logs.
        sdk_logger = self._sdk_logger = logging.getLogger("shared.clients.slack.sdk")
        sdk_logger.setLevel(logging.INFO)
        handlers: list[AsyncRetryHandler] = [
            ConnectionRetry(sleep=sleep, metrics=metrics),
            ServerErrorRetry(max_retry_count=self._limits.server_error_retries, sleep=sleep, metrics=metrics),
        ]
        # views.open gets no 429 retry: sleeping out a Retry-After would outlive the trigger_id.
        self._views_open_web = AsyncWebClient(
            token=token, base_url=base_url, logger=sdk_logger, retry_handlers=list(handlers)
        )
        handlers.append(
            RateLimitRetry(
                max_retry_count=self._limits.rate_limit_retries,
                max_retry_after_s=self._limits.max_retry_after_s,
                sleep=sleep,
                metrics=metrics,
            )
        )
        self._web = AsyncWebClient(token=token, base_url=base_url, logger=sdk_logger, retry_handlers=handlers)
        self._retry_handlers = handlers

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post_message(
        self, channel: str, text: str, blocks: Sequence[Block | dict[str, Any]] | None = None
    ) -> tuple[str, str]:
        """Post to a channel id, a DM id, or a user id (Slack opens the DM). Returns (channel id, ts)."""
        args: dict[str, Any] = {"channel": channel, "text": text}
        if blocks is not None:
            args["blocks"] = _blocks("chat.postMessage", blocks)
        limits = [Limit(f"slack:channel:{channel}", self._limits.per_channel_per_s, self._limits.per_channel_burst)]
        response = await self._call("chat.postMessage", self._web.chat_postMessage, args, extra=limits)
        return str(response["channel"]), str(response["ts"])

    async def update_message(
        self, channel: str, ts: str, text: str, blocks: Sequence[Block | dict[str, Any]] | None = None
    ) -> None:
        args: dict[str, Any] = {"channel": channel, "ts": ts, "text": text}
        if blocks is not None:
            args["blocks"] = _blocks("chat.update", blocks)
        await self._call("chat.update", self._web.chat_update, args)

    async def open_view(self, trigger_id: str, view: View | dict[str, Any]) -> str:
        """Open a modal; returns its view id. Raises `TriggerExpired` when the 3 s window has passed."""
        args = {"trigger_id": trigger_id, "view": _view("views.open", view)}
        response = await self._call(
            "views.open", self._views_open_web.views_open, args, max_wait_s=self._limits.view_open_max_wait_s
        )
        return str(response["view"]["id"])

    async def update_view(
        self,
        view: View | dict[str, Any],
        *,
        view_id: str | None = None,
        external_id: str | None = None,
        hash: str | None = None,
    ) -> str:
        """Replace an open view (by id or external id); `hash` guards against a concurrent update."""
        if (view_id is None) == (external_id is None):
            raise ValueError("pass exactly one of view_id or external_id")
        args: dict[str, Any] = {"view": _view("views.update", view), "view_id": view_id, "external_id": external_id}
        if hash is not None:
            args["hash"] = hash
        response = await self._call("views.update", self._web.views_update, args)
        return str(response["view"]["id"])

    async def update_open_view(self, view_id: str, view: View | dict[str, Any]) -> bool:
        """Replace a modal if the person still has it open; False when they closed it meanwhile."""
        try:
            await self.update_view(view, view_id=view_id)
        except SlackApiFailure as exc:
            if exc.code not in _VIEW_GONE_CODES:
                raise
            return False
        return True

    async def publish_view(self, user_id: str, view: View | dict[str, Any], *, hash: str | None = None) -> None:
        args: dict[str, Any] = {"user_id": user_id, "view": _view("views.publish", view)}
        if hash is not None:
            args["hash"] = hash
        await self._call("views.publish", self._web.views_publish, args)

    async def lookup_user_by_email(self, email: str) -> SlackUser | None:
        """The Slack user with exactly this address, or None (`users_not_found`)."""
        try:
            response = await self._call("users.lookupByEmail", self._web.users_lookupByEmail, {"email": email})
        except SlackApiFailure as error:
            if error.code == "users_not_found":
                return None
            raise
        return _user(response["user"])

    async def list_users(self) -> AsyncIterator[SlackUser]:
        cursor: str | None = None
        while True:
            args: dict[str, Any] = {"limit": 200}
            if cursor:
                args["cursor"] = cursor
            response = await self._call("users.list", self._web.users_list, args)
            for member in response.get("members") or []:
                yield _user(member)
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    async def user_info(self, user_id: str) -> SlackUser | None:
        """The Slack user with this id (its e-mail needs `users:read.email`), or None (`user_not_found`)."""
        try:
            response = await self._call("users.info", self._web.users_info, {"user": user_id})
        except SlackApiFailure as error:
            if error.code == "user_not_found":
                return None
            raise
        return _user(response["user"])

    async def respond(
        self, response_url: str, text: str, blocks: Sequence[Block | dict[str, Any]] | None = None
    ) -> None:
        """Answer a slash command through its `response_url`, ephemerally (only its person sees it), in place of
        the first answer. Slack takes 5 answers per URL within 30 minutes. The URL can post into the conversation,
        so it appears in no error message or log line."""
        body: dict[str, Any] = {"response_type": "ephemeral", "replace_original": True, "text": text}
        if blocks is not None:
            body["blocks"] = _blocks("response_url", blocks)
        if self._limiter is not None:
            workspace = Limit("slack:workspace", self._limits.workspace_per_s, self._limits.workspace_burst)
            await self._limiter.acquire_all([workspace], max_wait_s=self._limits.max_wait_s)
        webhook = AsyncWebhookClient(
            response_url,
            timeout=int(self._timeout_s),
            session=self._open_session(),
            logger=self._sdk_logger,
            retry_handlers=list(self._retry_handlers),
        )
        try:
            response = await webhook.send_dict(body)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise Transient(f"slack response_url: {type(error).__name__}") from None
        status = response.status_code
        if status == 429 or status in SERVER_ERROR_STATUSES:
            raise Transient(f"slack response_url: http_{status}", retry_after=retry_after_of(response.headers))
        if status != 200:
            # Slack answers e.g. 404 `expired_url` or `used_url`: a short code, never data of ours.
            code = response.body.strip()[:40] if response.body and response.body.strip().isidentifier() else ""
            raise SlackApiFailure("response_url", code or f"http_{status}")

    async def open_conversation(self, user_id: str) -> str:
        """The DM channel id with this user (opened if needed)."""
        response = await self._call("conversations.open", self._web.conversations_open, {"users": user_id})
        return str(response["channel"]["id"])

    async def auth_test(self) -> SlackAuth:
        response = await self._call("auth.test", self._web.auth_test, {})
        header = next((v for k, v in (response.headers or {}).items() if k.lower() == "x-oauth-scopes"), None)
        raw = header[0] if isinstance(header, list) else header
        scopes = None if raw is None else frozenset(s.strip() for s in str(raw).split(",") if s.strip())
        return SlackAuth(str(response["team_id"]), str(response["user_id"]), response.get("bot_id"), scopes)

    async def _call(
        self,
        method: str,
        call: Callable[..., Awaitable[AsyncSlackResponse]],
        args: dict[str, Any],
        *,
        extra: Sequence[Limit] = (),
        max_wait_s: float | None = None,
    ) -> AsyncSlackResponse:
        if self._limiter is not None:
            limits = [*extra]
            tier = _TIERS.get(method)
            if tier is not None:
                per_s = self._limits.tier_per_min[tier] / 60.0
                limits.append(Limit(f"slack:method:{method}", per_s, self._limits.tier_burst[tier]))
            limits.append(Limit("slack:workspace", self._limits.workspace_per_s, self._limits.workspace_burst))
            wait = self._limits.max_wait_s if max_wait_s is None else max_wait_s
            await self._limiter.acquire_all(limits, max_wait_s=wait)
        self._open_session()
        try:
            response = await call(**args)
        except SlackApiError as error:
            self._count(method, failure_kind(error.response.status_code))  # ok:false arrives as a 200: refused
            # `from None`: SlackApiError's message embeds the whole response (emails, message text).
            raise _translate(method, error.response) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            self._count(method, "network")
            raise Transient(f"slack {method}: {type(error).__name__}") from None
        self._count(method, "ok")
        return response

    def _count(self, method: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.upstream_calls.labels("slack", method, outcome).inc()

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # One pooled session for every call (slack-sdk would otherwise open one per call).
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout_s))
            self._web.session = self._views_open_web.session = self._session
        return self._session


def _translate(method: str, response: AsyncSlackResponse) -> FleetError:
    status = response.status_code
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or f"http_{status}")
    if status == 429:
        return Transient(f"slack {method}: rate limited", retry_after=retry_after_of(response.headers))
    if status >= 500 or code in _TRANSIENT_CODES:
        return Transient(f"slack {method}: {code}", retry_after=retry_after_of(response.headers))
    if code in TRIGGER_EXPIRED_CODES:
        return TriggerExpired(method, code)
    return SlackApiFailure(method, code)


# What views.update answers for a modal its person closed (or that expired).
_VIEW_GONE_CODES = frozenset({"not_found", "view_not_found"})


def _blocks(method: str, blocks: Sequence[Block | dict[str, Any]]) -> list[dict[str, Any]]:
    try:
        return [block.to_dict() if isinstance(block, Block) else block for block in blocks]
    except SlackObjectFormationError as error:
        raise SlackApiFailure(method, "invalid_blocks") from error


def _view(method: str, view: View | dict[str, Any]) -> dict[str, Any]:
    if isinstance(view, dict):
        return view
    try:
        return view.to_dict()
    except SlackObjectFormationError as error:
        raise SlackApiFailure(method, "invalid_blocks") from error


def _user(member: Mapping[str, Any]) -> SlackUser:
    profile = member.get("profile") or {}
    return SlackUser(
        id=str(member["id"]),
        email=profile.get("email"),
        tz=member.get("tz"),
        deleted=bool(member.get("deleted")),
        is_bot=bool(member.get("is_bot")) or member.get("id") == "USLACKBOT",
    )
