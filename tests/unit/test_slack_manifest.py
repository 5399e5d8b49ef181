"""slack-manifest.yaml grants exactly what the code uses: the bot scopes of every Slack method the client calls
(and of the slash command), the one event and the one command the ingress handles, at the ingress's routes;
`fleet doctor` and the Slack simulator expect the same scopes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

import shared.clients.slack
from ingress.app import create_app
from ingress.slack_commands import FEEDBACK_COMMAND
from shared.doctor import SLACK_SCOPES
from shared.payloads.slack_events import APP_HOME_OPENED
from sim.slack.state import BOT_SCOPES
from tests.helpers import make_settings

MANIFEST = Path(__file__).parents[2] / "slack-manifest.yaml"
# Slack's documented bot scopes for each Web API method the client calls.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "conversations.open": {"im:write"},
    "users.info": {"users:read", "users:read.email"},  # .email: the address in the answer (matching a Home opener)
    "users.list": {"users:read"},
    "users.lookupByEmail": {"users:read.email"},
    "views.open": set(),
    "views.publish": set(),
    "views.update": set(),
}
COMMAND_SCOPE = "commands"  # any slash command


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def methods_the_client_calls() -> set[str]:
    source = Path(shared.clients.slack.__file__).read_text(encoding="utf-8")
    return set(re.findall(r'self\._call\(\s*"([a-z]+\.[a-zA-Z]+)"', source))


def test_every_slack_method_the_client_calls_has_its_scopes_listed_here() -> None:
    assert methods_the_client_calls() == set(METHOD_SCOPES)


def test_the_manifest_asks_for_exactly_the_scopes_the_code_needs() -> None:
    needed = set().union(*METHOD_SCOPES.values()) | {COMMAND_SCOPE}
    granted = manifest()["oauth_config"]["scopes"]["bot"]
    assert len(granted) == len(set(granted))
    assert set(granted) == needed
    assert set(SLACK_SCOPES) == needed  # what `fleet doctor` checks the token for
    assert set(BOT_SCOPES) == needed  # what the simulator's token has


def test_the_manifest_points_slack_at_the_ingress_for_what_the_ingress_handles() -> None:
    app = manifest()
    routes = {getattr(route, "path", None) for route in create_app(make_settings()).routes}
    settings, features = app["settings"], app["features"]
    commands = features["slash_commands"]
    urls = [settings["interactivity"]["request_url"], settings["event_subscriptions"]["request_url"]]
    urls += [command["url"] for command in commands]
    assert [urlsplit(url).netloc for url in urls] == ["YOUR-HOST"] * 3
    assert [urlsplit(url).path for url in urls] == ["/slack/interactions", "/slack/events", "/slack/commands"]
    assert {urlsplit(url).path for url in urls} <= routes
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["event_subscriptions"]["bot_events"] == [APP_HOME_OPENED]
    assert [command["command"] for command in commands] == [FEEDBACK_COMMAND]
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
