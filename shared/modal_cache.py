"""The feedback modal a worker pre-renders into Redis, so the ingress can open it inside Slack's 3 s.

One entry per (event, interviewer), keyed by the value of the reminder's "Open feedback form" button.
It carries who may open it, the rendered view (with any draft filled in), and the field map the ingress
validates a submission against. Redis only caches it: a miss falls back to a worker rendering it.
"""

from __future__ import annotations

from typing import Any

import msgspec
from redis.asyncio import Redis

from shared.feedback_form import FieldMap

PREFIX = "fleet:modal:"
TTL_S = 21 * 24 * 3600  # longer than the whole reminder cycle; refreshed whenever a reminder is sent
SEPARATOR = "|"


class CachedModal(msgspec.Struct, frozen=True, kw_only=True):
    event_id: str
    interviewer_id: str
    slack_user_id: str
    view: dict[str, Any]
    field_map: FieldMap | None = None  # None: the form cannot be filled in Slack (a link to Ashby instead)
    submitted: bool = False

    def as_submitted(self) -> CachedModal:
        return msgspec.structs.replace(self, submitted=True)


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(CachedModal)


def modal_key(event_id: str, interviewer_id: str) -> str:
    return f"{event_id}{SEPARATOR}{interviewer_id}"


def parse_modal_key(value: str | None) -> tuple[str, str] | None:
    if not value or value.count(SEPARATOR) != 1 or len(value) > 500:
        return None
    event_id, interviewer_id = value.split(SEPARATOR)
    return (event_id, interviewer_id) if event_id and interviewer_id else None


async def store_modal(redis: Redis, modal: CachedModal) -> None:
    await redis.set(PREFIX + modal_key(modal.event_id, modal.interviewer_id), _encoder.encode(modal), ex=TTL_S)


async def load_modal(redis: Redis, key: str) -> CachedModal | None:
    raw = await redis.get(PREFIX + key)
    return None if raw is None else _decoder.decode(raw)
