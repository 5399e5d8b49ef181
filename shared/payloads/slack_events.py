"""msgspec models of the Events API callbacks and slash commands the ingress reads (only the fields we use).

Events arrive as JSON (`type` is `url_verification`, `event_callback`, or one we acknowledge and ignore);
slash commands as a form-encoded body, decoded by the caller into `SlashCommand`.
"""

from __future__ import annotations

import re

import msgspec

URL_VERIFICATION = "url_verification"
EVENT_CALLBACK = "event_callback"
APP_HOME_OPENED = "app_home_opened"
HOME_TAB = "home"
# Slack user ids: U… or W… (Enterprise Grid), upper-case letters and digits. Anything else is no user of ours.
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")


class EnvelopeType(msgspec.Struct, frozen=True):
    type: str


class UrlVerification(msgspec.Struct, frozen=True):
    challenge: str


class InnerEvent(msgspec.Struct, frozen=True):
    type: str
    user: str | None = None
    tab: str | None = None


class EventCallback(msgspec.Struct, frozen=True):
    event: InnerEvent
    event_id: str | None = None
    event_time: int | None = None  # Unix seconds: when it happened (the same on every retry of it)


class SlashCommand(msgspec.Struct, frozen=True):
    command: str
    user_id: str
    response_url: str
    text: str = ""
    trigger_id: str | None = None


envelope_decoder = msgspec.json.Decoder(EnvelopeType)
url_verification_decoder = msgspec.json.Decoder(UrlVerification)
event_callback_decoder = msgspec.json.Decoder(EventCallback)


def is_user_id(value: str | None) -> bool:
    return value is not None and SLACK_USER_ID.fullmatch(value) is not None
