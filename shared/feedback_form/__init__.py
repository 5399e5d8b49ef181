"""Ashby feedback form definition ⇄ Slack modal: render, keep drafts, validate and parse submissions.

Invariants: a rendered view is always within Slack's Block Kit limits, or the form degrades to a
link-only view pointing at Ashby; every block id comes from a hash of the field's path and type and is
looked up in the `FieldMap` (never parsed back into a path: the predecessor's `replace("field_", "")`
corrupted paths); every select value comes back through the map, so Slack never sees an Ashby value it
would have to truncate; values go out in the formats `applicationFeedback.submit` documents per type;
every typed value is bounded before it is parsed, so no submission or draft makes this package raise.

Layout: `fields` holds one object per Ashby field type (its inputs and how they read back), `render`
the modal around them, `prefill` drafts into inputs, `submission` state → Ashby values, errors or drafts.
"""

from shared.feedback_form.model import (
    CALLBACK_ID,
    LINK_ONLY_CALLBACK_ID,
    MODAL_TITLE,
    FieldEntry,
    FieldMap,
    InvalidSubmission,
    LinkOnly,
    Modal,
    ModalContext,
    RenderedModal,
    block_id_for,
)
from shared.feedback_form.render import render_modal
from shared.feedback_form.submission import extract_draft, parse_submission, validate_submission

__all__ = [
    "CALLBACK_ID",
    "LINK_ONLY_CALLBACK_ID",
    "MODAL_TITLE",
    "FieldEntry",
    "FieldMap",
    "InvalidSubmission",
    "LinkOnly",
    "Modal",
    "ModalContext",
    "RenderedModal",
    "block_id_for",
    "extract_draft",
    "parse_submission",
    "render_modal",
    "validate_submission",
]
