"""The simulated Slack Web API: `/api/<method>` answered the way slack_sdk's AsyncWebClient expects.

Arguments are read from the query string, a form body or a JSON body (slack_sdk uses all three); the
bearer token is checked; injected hangs, failures, random 429s and rate limits come before the method
itself. Every call is recorded in `state.requests`, including refused ones.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from sim.slack.blockkit import message_problems, view_problems
from sim.slack.state import TEAM_ID, TRIGGER_TTL_S, Message, RecordedRequest, SimView, SlackState


class _Refused(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


Handler = Callable[[dict[str, Any], float], dict[str, Any]]


class SlackApi:
    def __init__(self, state: SlackState, *, token: str, clock: Callable[[], float]) -> None:
        self.state = state
        self._token = token
        self._clock = clock
        self._methods: dict[str, Handler] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "conversations.open": self.conversations_open,
            "users.lookupByEmail": self.users_lookup_by_email,
            "users.info": self.users_info,
            "users.list": self.users_list,
            "views.open": self.views_open,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
        }

    async def endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        args = await _arguments(request)
        token = args.pop("token", None)
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        now = self._clock()
        record = RecordedRequest(method=method, args=args, at=now)
        self.state.requests.append(record)
        if self.state.take_hang(method):
            self.state.hung.append(record)
            await self.state.hangs_released.wait()
            record.status, record.error = 503, "hung"
            return JSONResponse({"ok": False, "error": "service_unavailable"}, status_code=503)
        status, body, headers = self._answer(method, args, token, now)
        record.status, record.error = status, body.get("error")
        return JSONResponse(body, status_code=status, headers=headers)

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None, now: float
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token != self._token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        failure = self.state.take_failure(method)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return failure.status, {"ok": False, "error": failure.error}, headers
        chaos = self.state.random_rate_limits
        if chaos is not None and chaos.refuse():
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(chaos.retry_after_s)}
        retry_after = self._rate_limited(method, args, now)
        if retry_after is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(max(1, math.ceil(retry_after)))}
        handler = self._methods.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        try:
            # Like Slack, every answer to a valid token names the token's scopes (`auth.test` is how apps read them).
            return 200, {"ok": True, **handler(args, now)}, {"x-oauth-scopes": ",".join(self.state.token_scopes)}
        except _Refused as refused:
            return 200, {"ok": False, "error": refused.error, **refused.extra}, {}

    def _rate_limited(self, method: str, args: dict[str, Any], now: float) -> float | None:
        limits = self.state.rate_limits
        if not limits.enabled:
            return None
        if method == "chat.postMessage":
            key = f"channel:{args.get('channel')}"
            return limits.check(key, now=now, rate_per_s=limits.per_channel_per_s, burst=limits.per_channel_burst)
        tier = limits.method_tiers.get(method)
        if tier is None:
            return None
        return limits.check(
            f"method:{method}", now=now, rate_per_s=limits.tier_per_min[tier] / 60.0, burst=limits.tier_burst[tier]
        )

    # -- methods ----------------------------------------------------------------------------------------
    def auth_test(self, args: dict[str, Any], now: float) -> dict[str, Any]:
        return {"team_id": TEAM_ID, "team": "Simulated", "user_id": "U0SIMBOT", "bot_id": "B0SIMBOT"}

    def chat_post_message(self, args: dict[str, Any], now: float) -> dict[str, Any]:
        channel = self._channel_for_post(str(args.get("channel") or ""))
        text, blocks = _text_and_blocks(args)
        message = Message(channel=channel, ts=self.state.next_ts(channel, now), text=text, blocks=blocks, posted_at=now)
        self.state.messages.append(message)
        return {"channel": channel, "ts": message.ts, "message": message.to_json()}

    def chat_update(self, args: dict[str, Any], now: float) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if channel not in self.state.channels:
            raise _Refused("channel_not_found")
        message = self.state.find_message(channel, str(args.get("ts") or ""))
        if message is None:
            raise _Refused("message_not_found")
        text, blocks = _text_and_blocks(args)
        message.versions.append({"text": message.text, "blocks": message.blocks})
        message.text, message.blocks = text, blocks
        return {"channel": channel, "ts": message.ts, "text": text, "message": message.to_json()}

    def conversations_open(self, args: dict[str, Any], now: float) -> dict[str, Any]:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise _Refused("not_implemented_in_simulator" if users else "users_list_not_supplied")
        channel, existed = self.state.open_dm(self._dm_user(users[0]))
        extra = {"no_op": True, "already_open": True} if existed else {}
        return {"channel": {"id": channel.id}, **extra}

    def users_lookup_by_email(self, args: dict[str, Any], now: float) -> dict[str, Any]:
        wanted = str(args.get("email") or "")
        if not wanted:
            raise _Refused("invalid_arguments")
        for user in self.state.users.values():
            if user.email is None:
                continue
            if self.state.email_lookup_case_sensitive:
                same = user.email == wanted
            else:
                same = user.email.lower() == wanted.lower()
            if same:
                return {"user": user.to_json()}
        raise _Refused("users_not_found")

    def users_info(self, args: dict[str, Any], now: float) -> dict[str, Any]:
        user = self.state.users.get(str(args.get("user") or ""))
        if user is None:
            raise _Refused("user_not_found")
        return {"user": user.to_json()}

    def users_list(self, args: dict[str, Any], now: float) -> dict[str, Any]:
        limit = int(args.get("limit") or 0) or 1000
        if limit > 1000:
            raise _Refused("invalid_limit")
        start = 0
        if args.get("cursor"):
            try:
                start = int(base64.urlsafe_b64decode(str(args["cursor"])).decode().removeprefix("user:"))
            except ValueError:
                raise _Refused("invalid_cursor") from None
        users = list(self.state.users.values())
        page = users[start : start + limit]
        more = start + limit < len(users)
        cursor = base64.urlsafe_b64encode(f"user:{start + limit}".encode()).decode() if more else ""
        return {"members": [u.to_json() for u in page], "response_metadata": {"next_cursor": cursor}}

    def views_open(self, args: dict[str, Any], now: float) -> dict[str, Any]:
        trigger = self.state.triggers.get(str(args.get("trigger_id") or args.get("interactivity_pointer") or ""))
        if trigger is None:
            raise _Refused("invalid_trigger_id")
        if trigger.used:
            raise _Refused("exchanged_trigger_id")
        if now - trigger.created_at > TRIGGER_TTL_S:
            raise _Refused("expired_trigger_id")
        view = _view_arg(args)
        trigger.used = True
        sim_view = SimView(
            id=self.state.next_id("V"),
            user_id=trigger.user_id,
            view=view,
            hash=self._hash(now),
            external_id=view.get("external_id"),
        )
        self.state.views[sim_view.id] = sim_view
        return {"view": sim_view.to_json()}

    def views_update(self, args: dict[str, Any], now: float) -> dict[str, Any]:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if view_id:
            target = self.state.views.get(str(view_id))
        elif external_id:
            target = next((v for v in self.state.views.values() if v.external_id == external_id), None)
        else:
            raise _Refused("invalid_arguments")
        if target is None:
            raise _Refused("not_found")
        if args.get("hash") and args["hash"] != target.hash:
            raise _Refused("hash_conflict")
        view = _view_arg(args)
        target.versions.append(target.view)
        target.view, target.hash = view, self._hash(now)
        return {"view": target.to_json()}

    def views_publish(self, args: dict[str, Any], now: float) -> dict[str, Any]:
        user_id = str(args.get("user_id") or "")
        if user_id not in self.state.users:
            raise _Refused("user_not_found")
        view = _view_arg(args)
        existing = self.state.home_views.get(user_id)
        if existing is not None and args.get("hash") and args["hash"] != existing.hash:
            raise _Refused("hash_conflict")
        home = existing or SimView(id=self.state.next_id("V"), user_id=user_id, view=view, hash="")
        if existing is not None:
            home.versions.append(existing.view)
        home.view, home.hash = view, self._hash(now)
        self.state.home_views[user_id] = home
        self.state.views[home.id] = home
        return {"view": home.to_json()}

    # -- helpers ----------------------------------------------------------------------------------------
    def _channel_for_post(self, channel: str) -> str:
        if channel in self.state.channels:
            return channel
        if channel in self.state.users:  # like Slack: a user id posts into the app's DM with that user
            return self.state.open_dm(self._dm_user(channel))[0].id
        raise _Refused("channel_not_found")

    def _dm_user(self, user_id: str) -> str:
        user = self.state.users.get(user_id)
        if user is None:
            raise _Refused("user_not_found")
        if user.deleted:
            raise _Refused("user_disabled")
        if user.is_bot:
            raise _Refused("cannot_dm_bot")
        return user_id

    def _hash(self, now: float) -> str:
        return f"{int(now)}.{self.state.next_id('h')}"


async def _arguments(request: Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    if not body:
        return args
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            decoded = json.loads(body)
        except ValueError:
            return args
        if isinstance(decoded, dict):
            args.update(decoded)
    else:
        args.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return args


def _json_arg(value: Any) -> Any:
    """Form-encoded callers send blocks and views as JSON strings, JSON callers as objects."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _Refused("invalid_arguments") from None
    return value


def _text_and_blocks(args: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    text = str(args.get("text") or "")
    blocks = _json_arg(args["blocks"]) if args.get("blocks") is not None else None
    if blocks is not None and not isinstance(blocks, list):
        raise _Refused("invalid_blocks_format")
    if not text and not blocks:
        raise _Refused("no_text")
    if len(text) > 40_000:
        raise _Refused("msg_too_long")
    problems = message_problems(text, blocks)
    if problems:
        raise _Refused("invalid_blocks", errors=problems, response_metadata={"messages": problems})
    return text, blocks or []


def _view_arg(args: dict[str, Any]) -> dict[str, Any]:
    view = _json_arg(args.get("view"))
    problems = view_problems(view)
    if problems:
        # Real Slack says `invalid_arguments` here; the simulator names the cause like chat.postMessage does.
        raise _Refused("invalid_blocks", errors=problems, response_metadata={"messages": problems})
    assert isinstance(view, dict)
    return view
