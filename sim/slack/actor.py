"""A simulated person in Slack: clicks buttons and submits or closes modals, by sending the ingress the
signed interaction payloads Slack itself would send.

Payloads are `application/x-www-form-urlencoded` with one `payload` field holding JSON, signed with v0:
`X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:{ts}:{raw body}"))`. Each interaction mints a
`trigger_id` stamped with the simulator clock, so `views.open` can refuse it once 3 s have passed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from sim.slack.state import APP_ID, TEAM_ID, Interaction, Message, SimView, SlackState

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
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self._secret = signing_secret.encode()
        self._url = interactions_url
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
        if self._url is None:
            raise RuntimeError("the simulator has no interactions_url to send interactions to")
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10.0)
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": self.sign(timestamp, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        started = time.perf_counter()  # real time: Slack's 3 s ack limit is wall-clock
        response = await self._http.post(self._url, content=body, headers=headers)
        elapsed = time.perf_counter() - started
        self.state.interactions.append(
            Interaction(payload["type"], payload, response.status_code, response.content, elapsed)
        )
        return response

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


def _find_element(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    for block in blocks:
        candidates = [*(block.get("elements") or []), block.get("accessory")] if block.get("type") != "context" else []
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(block.get("block_id") or ""), element
    raise ValueError(f"no element with action_id {action_id!r} in the message")


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
