"""msgspec models of the Slack interaction payloads the ingress reads (only the fields we use).

Slack posts `payload=<json>` form-encoded; `type` selects the model. Unknown types are acknowledged and
ignored by the caller before these are decoded.
"""

from __future__ import annotations

from typing import Any

import msgspec

INTERACTION_TYPES = frozenset({"block_actions", "view_submission", "view_closed"})


class InteractionType(msgspec.Struct, frozen=True):
    type: str


class UserRef(msgspec.Struct, frozen=True):
    id: str


class Action(msgspec.Struct, frozen=True):
    action_id: str
    block_id: str | None = None
    value: str | None = None


class ViewState(msgspec.Struct, frozen=True):
    values: dict[str, dict[str, dict[str, Any]]] = {}


class ViewPayload(msgspec.Struct, frozen=True):
    id: str
    callback_id: str = ""
    private_metadata: str = ""
    state: ViewState = ViewState()
    hash: str | None = None


class BlockActions(msgspec.Struct, frozen=True, tag="block_actions", tag_field="type"):
    user: UserRef
    trigger_id: str
    actions: list[Action]
    view: ViewPayload | None = None


class ViewSubmission(msgspec.Struct, frozen=True, tag="view_submission", tag_field="type"):
    user: UserRef
    view: ViewPayload
    trigger_id: str | None = None


class ViewClosed(msgspec.Struct, frozen=True, tag="view_closed", tag_field="type"):
    user: UserRef
    view: ViewPayload


Interaction = BlockActions | ViewSubmission | ViewClosed

type_decoder = msgspec.json.Decoder(InteractionType)
interaction_decoder = msgspec.json.Decoder(Interaction)
