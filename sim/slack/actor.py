"""A simulated person in Slack: clicks buttons (in messages and in the Home tab), submits or closes modals,
opens the app's Home tab and types slash commands, by sending the ingress the signed requests Slack itself
would send.

Every request is signed with v0: `X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:{ts}:{raw body}"))`.
Interactions are `application/x-www-form-urlencoded` with one `payload` field holding JSON; Events API
callbacks are `application/json`; slash commands are form fields. Each interaction and command mints a
`trigger_id` stamped with the simulator clock, so `views.open` can refuse it once 3 s have passed. A slash
command's `response_url` points back at the simulator (`public_url`), which shows what is posted to it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from sim.slack.state import APP_ID, TEAM_ID, Interaction, Message, SimCommand, SimView, SlackState

COMMAND_CHANNEL = "C0SIMGENERAL"  # where a slash command is typed unless a test says otherwise

_INPUT_TYPES = {
    "plain_text_input": "value",
    "number_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "static_select": "selected_option",
    "radio_buttons": "selected_option",
    "multi_static_select": "selected_options",
    "checkboxes": "selected_options",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
}


class SlackActor:
    def __init__(
        self,
        state: SlackState,
        *,
        signing_secret: str,
        interactions_url: str | None,
        events_url: str | None = None,
        commands_url: str | None = None,
        public_url: str | None = None,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self._secret = signing_secret.encode()
        self._url = interactions_url
        self.events_url = events_url
        self.commands_url = commands_url
        self.public_url = public_url  # the simulator's own address, for response_urls (set once it listens)
        self._http = http
        self._owns_http = http is None
        self._clock = clock

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()

    async def click_button(self, message: Message, action_id: str, *, user_id: str) -> httpx.Response:
        block_id, button = _find_element(message.blocks, action_id)
        now = self._clock()
        action = {
            "type": button.get("type", "button"),
            "action_id": action_id,
            "block_id": block_id,
            "text": button.get("text"),
            "value": button.get("value"),
            "action_ts": f"{now:.6f}",
        }
        channel = self.state.channels.get(message.channel)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            },
            "trigger_id": self.state.mint_trigger(user_id, now),
            "team": {"id": TEAM_ID, "domain": "simulated"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {
                "id": message.channel,
                "name": "directmessage" if channel is None or channel.is_im else channel.name,
            },
            "message": message.to_json(),
            "state": {"values": {}},
            "response_url": f"https://hooks.slack.invalid/actions/{TEAM_ID}/{message.ts}",
            "actions": [{k: v for k, v in action.items() if v is not None}],
        }
        return await self._send(payload)

    async def click_in_view(
        self, view_id: str, action_id: str, *, user_id: str, value: str | None = None
    ) -> httpx.Response:
        """Click a button in a view (the Home tab, or an open modal); `value` picks one of several buttons
        that share an action id (one per row)."""
        sim_view = self.state.views.get(view_id)
        if sim_view is None or sim_view.user_id != user_id:
            raise ValueError(f"view {view_id} is not shown to {user_id}")
        block_id, button = _find_element(sim_view.view.get("blocks") or [], action_id, value=value)
        now = self._clock()
        action = {
            "type": button.get("type", "button"),
            "action_id": action_id,
            "block_id": block_id,
            "text": button.get("text"),
            "value": button.get("value"),
            "action_ts": f"{now:.6f}",
        }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": self.state.mint_trigger(user_id, now),
            "team": {"id": TEAM_ID, "domain": "simulated"},
            "enterprise": None,
            "is_enterprise_install": False,
            "view": sim_view.to_json(),
            "actions": [{k: v for k, v in action.items() if v is not None}],
        }
        return await self._send(payload)

    async def open_home(self, user_id: str, *, tab: str = "home") -> httpx.Response:
        """Open the app's Home tab (or its Messages tab): Slack sends `app_home_opened` each time."""
        now = self._clock()
        home = self.state.home_views.get(user_id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.state.open_dm(user_id)[0].id,
            "tab": tab,
            "event_ts": f"{now:.6f}",
        }
        if home is not None and tab == "home":
            event["view"] = home.to_json()
        return await self.send_event(event)

    async def send_event(self, event: dict[str, Any], *, retry_num: int | None = None) -> httpx.Response:
        """An Events API callback wrapping `event`, as Slack delivers it (`retry_num`: a redelivery)."""
        now = self._clock()
        envelope = {
            "token": "deprecated-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + self.state.next_id(""),
            "event_time": int(now),
            "authorizations": [{"team_id": TEAM_ID, "user_id": "U0SIMBOT", "is_bot": True}],
        }
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        return await self._post(
            self._required(self.events_url, "events_url"), _json(envelope), "application/json", headers
        )

    async def verify_events_url(self, challenge: str | None = None) -> httpx.Response:
        """What Slack sends when an app's Event Subscriptions URL is saved: the answer must echo `challenge`."""
        body = {"token": "deprecated-verification-token", "challenge": challenge or secrets.token_urlsafe(24),
                "type": "url_verification"}  # fmt: skip
        return await self._post(self._required(self.events_url, "events_url"), _json(body), "application/json")

    async def run_command(
        self, user_id: str, command: str = "/feedback", text: str = "", *, channel_id: str = COMMAND_CHANNEL
    ) -> SimCommand:
        """Type a slash command: the ingress's answer is shown to the person (ephemerally) as Slack shows it,
        and whatever is posted to the command's response_url afterwards too (`SimCommand.shown`)."""
        public_url = self._required(self.public_url, "public_url")
        now = self._clock()
        sim_command = SimCommand(secrets.token_hex(12), user_id, channel_id, command, text, now)
        self.state.commands[sim_command.token] = sim_command
        user = self.state.users.get(user_id)
        form = {
            "token": "deprecated-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "simulated",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": (user.name if user else "") or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"{public_url}/_sim/respond/{sim_command.token}",
            "trigger_id": self.state.mint_trigger(user_id, now),
        }
        body = urlencode(form).encode()
        url = self._required(self.commands_url, "commands_url")
        response = await self._post(url, body, "application/x-www-form-urlencoded")
        sim_command.ack_status = response.status_code
        answer = _json_or_none(response)
        if response.status_code == 200 and isinstance(answer, dict):
            sim_command.shown.append(answer)
        return sim_command

    async def submit_view(self, view_id: str, values: dict[str, dict[str, Any]], *, user_id: str) -> httpx.Response:
        """Submit a modal. `values` is `{block_id: {action_id: v}}` where v is a string (text, number, date
        or an option's value) or a list of option values; a dict with a `type` key is sent as given.
        Input blocks left out are sent empty, as Slack does. The ingress's answer is applied: `errors` stay
        on the open view (`SimView.errors`), `update` replaces it, anything else closes it."""
        view = self._open_view(view_id, user_id)
        view.values = _state_values(view.view, values)
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "simulated"},
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "trigger_id": self.state.mint_trigger(user_id, self._clock()),
            "view": view.to_json(),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        response = await self._send(payload)
        answer = _json_or_none(response)
        action = answer.get("response_action") if isinstance(answer, dict) else None
        if response.status_code == 200 and action == "errors":
            view.errors = dict(answer.get("errors") or {})
        elif response.status_code == 200 and action == "update" and isinstance(answer, dict):
            view.versions.append(view.view)
            view.view, view.errors = dict(answer.get("view") or {}), None
        elif response.status_code == 200:
            view.is_open, view.errors = False, None
        return response

    async def close_view(
        self, view_id: str, *, user_id: str, values: dict[str, dict[str, Any]] | None = None
    ) -> httpx.Response | None:
        """Close a modal, after typing `values` into it (same shape as for `submit_view`) if given; Slack
        tells the app (`view_closed`, with the view's state) only if it asked with `notify_on_close`."""
        view = self._open_view(view_id, user_id)
        if values is not None:
            view.values = _state_values(view.view, values)
        view.is_open = False
        if not view.view.get("notify_on_close"):
            return None
        payload: dict[str, Any] = {
            "type": "view_closed",
            "team": {"id": TEAM_ID, "domain": "simulated"},
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "view": view.to_json(),
            "is_cleared": False,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return await self._send(payload)

    def sign(self, timestamp: str, body: bytes) -> str:
        digest = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return f"v0={digest}"

    async def _send(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
        url = self._required(self._url, "interactions_url")
        return await self._post(url, body, "application/x-www-form-urlencoded", record=payload)

    async def _post(
        self,
        url: str,
        body: bytes,
        content_type: str,
        extra_headers: dict[str, str] | None = None,
        *,
        record: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """POST `body` signed as Slack signs it; an interaction (`record`) is kept in `state.interactions`."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10.0)
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": self.sign(timestamp, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **(extra_headers or {}),
        }
        started = time.perf_counter()  # real time: Slack's 3 s ack limit is wall-clock
        response = await self._http.post(url, content=body, headers=headers)
        elapsed = time.perf_counter() - started
        if record is not None:
            self.state.interactions.append(
                Interaction(record["type"], record, response.status_code, response.content, elapsed)
            )
        return response

    @staticmethod
    def _required(value: str | None, name: str) -> str:
        if value is None:
            raise RuntimeError(f"the simulator has no {name} to send this to")
        return value

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.state.users.get(user_id)
        name = (user.name if user else "") or user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": TEAM_ID}

    def _open_view(self, view_id: str, user_id: str) -> SimView:
        view = self.state.views.get(view_id)
        if view is None or not view.is_open:
            raise ValueError(f"view {view_id} is not open")
        if view.user_id != user_id:
            raise ValueError(f"view {view_id} belongs to {view.user_id}, not {user_id}")
        return view


def _find_element(
    blocks: list[dict[str, Any]], action_id: str, *, value: str | None = None
) -> tuple[str, dict[str, Any]]:
    for block in blocks:
        candidates = [*(block.get("elements") or []), block.get("accessory")] if block.get("type") != "context" else []
        for element in candidates:
            if not isinstance(element, dict) or element.get("action_id") != action_id:
                continue
            if value is None or element.get("value") == value:
                return str(block.get("block_id") or ""), element
    raise ValueError(f"no element with action_id {action_id!r} (value {value!r}) in the blocks")


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _state_values(view: dict[str, Any], values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    inputs = {str(b.get("block_id")): b["element"] for b in view.get("blocks") or [] if b.get("type") == "input"}
    unknown = set(values) - set(inputs)
    if unknown:
        raise ValueError(f"no input blocks {sorted(unknown)} in the view")
    state: dict[str, dict[str, Any]] = {}
    for block_id, element in inputs.items():
        action_id = str(element.get("action_id"))
        given = values.get(block_id, {})
        if set(given) - {action_id}:
            raise ValueError(f"block {block_id} has only action {action_id!r}")
        state[block_id] = {action_id: _state_value(element, given.get(action_id))}
    return state


def _state_value(element: dict[str, Any], raw: Any) -> dict[str, Any]:
    kind = str(element.get("type"))
    if isinstance(raw, dict) and "type" in raw:
        return dict(raw)
    field = _INPUT_TYPES.get(kind, "value")
    if field == "selected_option":
        return {"type": kind, field: None if raw is None else _option(element, str(raw))}
    if field == "selected_options":
        return {"type": kind, field: [_option(element, str(v)) for v in raw or []]}
    return {"type": kind, field: None if raw is None else str(raw)}


def _option(element: dict[str, Any], value: str) -> dict[str, Any]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    for option in options:
        if option.get("value") == value:
            return dict(option)
    raise ValueError(f"no option with value {value!r} in {element.get('action_id')!r}")


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
