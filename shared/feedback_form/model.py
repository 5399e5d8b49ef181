"""The shapes the feedback form hands out: the modal's context, the rendered view and its field map.

`FieldMap` and `FieldEntry` are cached in Redis beside the view (a worker renders, the ingress validates),
so their encoded shape is a contract between processes of different versions: add fields with defaults only.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

CALLBACK_ID = "feedback_submit"
LINK_ONLY_CALLBACK_ID = "feedback_link_only"
MODAL_TITLE = "Interview feedback"

# Roles of the extra inputs a field may own besides its main block (the keys of `FieldEntry.parts`).
MAX, CURRENCY, INTERVAL, COMMENT = "max", "currency", "interval", "comment"


class ModalContext(msgspec.Struct, frozen=True, kw_only=True):
    """What the modal shows around the form. `submission_key` goes to `private_metadata` so the
    submission can be matched to its (event, interviewer) row; the server re-checks who may submit."""

    submission_key: str
    candidate_name: str
    interview_title: str
    job_title: str | None = None
    feedback_link: str | None = None


class FieldEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One Ashby field: its main input block, the blocks of its other inputs by role, and for selects the
    Slack option value → Ashby value mapping."""

    path: str
    type: str
    label: str
    required: bool
    block_id: str
    parts: dict[str, str] = {}
    options: dict[str, str] = {}

    def block_ids(self) -> list[str]:
        return [self.block_id, *self.parts.values()]


class FieldMap(msgspec.Struct, frozen=True, kw_only=True):
    """Cached beside the rendered view; `parse_submission` reads the view's state through it."""

    fields: list[FieldEntry] = []

    def block_ids(self) -> list[str]:
        return [block_id for entry in self.fields for block_id in entry.block_ids()]


class Modal(msgspec.Struct, frozen=True, tag=True):
    view: dict[str, Any]
    field_map: FieldMap


class LinkOnly(msgspec.Struct, frozen=True, tag=True):
    """A view without inputs that explains `reason` and links to the form in Ashby; `code` is stable
    (`too_many_options`, `too_many_blocks`, `unsupported_field`, `no_options`, `no_fields`)."""

    view: dict[str, Any]
    reason: str
    code: str = ""


RenderedModal = Modal | LinkOnly


class InvalidSubmission(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


class Unrenderable(Exception):
    """The form cannot be shown in Slack; `render_modal` turns this into a `LinkOnly` view."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def digest(text: str, size: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size).hexdigest()


def block_id_for(path: str, field_type: str) -> str:
    """Stable across renders and form reorderings, so drafts and `views.update` keep their values; the type
    is part of it so a draft typed for another field type is never applied."""
    return "f" + digest(f"{field_type}\x1f{path}", 6)
