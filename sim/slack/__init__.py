"""A stateful Slack simulator: Web API, Block Kit limits, trigger expiry, rate limits, signed interactions."""

from __future__ import annotations

from sim.slack.actor import SlackActor
from sim.slack.app import create_app
from sim.slack.state import Message, SimCommand, SimUser, SimView, SlackState

__all__ = ["Message", "SimCommand", "SimUser", "SimView", "SlackActor", "SlackState", "create_app"]
