"""Small modal views without inputs: loading, and the notices shown instead of a form."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View

from shared.blocks import safe_url

LOADING_CALLBACK = "feedback_loading"
NOTICE_CALLBACK = "feedback_notice"


def loading_view(key: str) -> dict[str, Any]:
    """Opened at once on a cache miss; a worker replaces it with the form by `views.update`."""
    return _view(LOADING_CALLBACK, "Interview feedback", ":hourglass_flowing_sand: Loading the feedback form…", key)


def notice_view(text: str, *, title: str = "Interview feedback") -> dict[str, Any]:
    return _view(NOTICE_CALLBACK, title, text, "")


NOT_YOURS = "This feedback form belongs to another interviewer, so it cannot be opened or submitted by you."
ALREADY_SUBMITTED = ":white_check_mark: Your feedback for this interview is already in Ashby. Thank you!"
EXPIRED = "This form is no longer available here. Click *Open feedback form* on the reminder again."
SUBMITTING = ":outbox_tray: Submitting your feedback to Ashby… The reminder message will show when it is in."
SUBMITTED = ":white_check_mark: Your feedback is in Ashby. Thank you!"
FORM_UNAVAILABLE = (
    "Ashby is not answering right now, so the feedback form could not be loaded. Close this and click "
    "*Open feedback form* again in a minute"
)


def form_unavailable_notice(feedback_link: str | None) -> dict[str, Any]:
    """Shown instead of a form that was never cached while Ashby is down: what happened, and a way on."""
    link = safe_url(feedback_link)
    return notice_view(f"{FORM_UNAVAILABLE}, or <{link}|fill it in Ashby>." if link else f"{FORM_UNAVAILABLE}.")


def _view(callback_id: str, title: str, text: str, private_metadata: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=title,
        close="Close",
        private_metadata=private_metadata,
        blocks=[SectionBlock(text=text)],
    )
    result: dict[str, Any] = view.to_dict()
    return result
