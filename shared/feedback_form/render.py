"""An Ashby feedback form as a Slack modal, pre-filled from a draft, or a link-only view when Slack can't hold it.

Invariant: the view is within Slack's Block Kit limits whatever the form and the draft hold: a long form
first drops its niceties (score comments, section notes), then degrades to a view linking to Ashby; a
draft value the form can no longer take is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from shared.blocks import OPEN_FEEDBACK_LINK, escape, mrkdwn, safe_url, truncate
from shared.feedback_form.fields import TYPES, Field
from shared.feedback_form.limits import MODAL_MAX_BLOCKS, MRKDWN_MAX, PRIVATE_METADATA_MAX
from shared.feedback_form.model import (
    CALLBACK_ID,
    LINK_ONLY_CALLBACK_ID,
    MODAL_TITLE,
    FieldEntry,
    FieldMap,
    LinkOnly,
    Modal,
    ModalContext,
    RenderedModal,
    Unrenderable,
    block_id_for,
)
from shared.feedback_form.prefill import prefill
from shared.payloads.ashby import FeedbackFormDefinition


def render_modal(
    form: FeedbackFormDefinition, *, context: ModalContext, draft: Mapping[str, Any] | None = None
) -> RenderedModal:
    """The Slack modal for `form`, pre-filled from `draft` (block id → Slack state value, from
    `extract_draft`); draft values that no longer match the form are ignored. If the form cannot be
    shown within Slack's limits, a `LinkOnly` view says why and links to Ashby."""
    if len(context.submission_key) > PRIVATE_METADATA_MAX:
        raise ValueError("submission_key does not fit in private_metadata")
    try:
        blocks, field_map = _blocks(form, context, draft, compact=False)
        if len(blocks) > MODAL_MAX_BLOCKS:
            blocks, field_map = _blocks(form, context, draft, compact=True)
        if len(blocks) > MODAL_MAX_BLOCKS:
            raise Unrenderable("too_many_blocks", "This form has more questions than a Slack form can hold.")
        if not field_map.fields:
            raise Unrenderable("no_fields", "This form has no questions that can be answered in Slack.")
    except Unrenderable as problem:
        return LinkOnly(view=_link_only_view(context, problem.reason), reason=problem.reason, code=problem.code)
    view = View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=MODAL_TITLE,
        submit="Submit",
        close="Cancel",
        blocks=blocks,
        private_metadata=context.submission_key,
        notify_on_close=True,
    )
    return Modal(view=view.to_dict(), field_map=field_map)


def _blocks(
    form: FeedbackFormDefinition, context: ModalContext, draft: Mapping[str, Any] | None, *, compact: bool
) -> tuple[list[Block], FieldMap]:
    blocks = _header(context)
    if context.feedback_link and not compact:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_ashby_link(context, "Open this form in Ashby"))]))
    entries: list[FieldEntry] = []
    taken: set[str] = set()
    restored = False
    for section in form.form_definition.sections:
        section_blocks: list[Block] = []
        if section.title and section.title.strip():
            section_blocks.append(
                SectionBlock(text=MarkdownTextObject(text=f"*{mrkdwn(section.title.strip(), 2900)}*"))
            )
        if section.description_plain and section.description_plain.strip() and not compact:
            text = mrkdwn(section.description_plain.strip(), MRKDWN_MAX)
            section_blocks.append(ContextBlock(elements=[MarkdownTextObject(text=text)]))
        answerable = 0
        for form_field in section.fields:
            definition = form_field.field
            block_id = block_id_for(definition.path, definition.type)
            suffix = 2
            while block_id in taken:  # the same path twice in one form: keep ids unique anyway
                block_id, suffix = f"{block_id_for(definition.path, definition.type)}-{suffix}", suffix + 1
            taken.add(block_id)
            field = Field(form_field, block_id)
            field_type = TYPES.get(definition.type)
            if field_type is None:
                if field.required:
                    raise Unrenderable(
                        "unsupported_field",
                        f"“{field.label}” is a {definition.type or 'unknown'} question Slack can't show.",
                    )
                link = _ashby_link(context, "open the form")
                note = f"“{mrkdwn(field.label, 500)}” can only be answered in Ashby: {link}."
                section_blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
                answerable += 1
                continue
            inputs = field_type.render(field, compact=compact)
            if not inputs:  # an optional select without options: nothing to answer
                continue
            restored = prefill(inputs, draft) or restored
            section_blocks.extend(inputs)
            answerable += 1
            entries.append(field.entry())
        if answerable:  # a section whose fields were all skipped keeps no orphan title
            blocks.extend(section_blocks)
    if restored and not compact:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="💾 Your draft answers were restored.")]))
    return blocks, FieldMap(fields=entries)


def _header(context: ModalContext) -> list[Block]:
    line = f"*{mrkdwn(context.candidate_name, 300)}* · {mrkdwn(context.interview_title, 500)}"
    if context.job_title:
        line += f"\n{mrkdwn(context.job_title, 500)}"
    return [SectionBlock(text=MarkdownTextObject(text=line))]


def _ashby_link(context: ModalContext, text: str) -> str:
    link = safe_url(context.feedback_link, 2000)
    return f"<{link}|{text}>" if link else text


def _link_only_view(context: ModalContext, reason: str) -> dict[str, Any]:
    blocks = _header(context)
    text = f"{escape(reason)}\nPlease fill in this feedback form in Ashby instead."
    blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(text, MRKDWN_MAX))))
    link = safe_url(context.feedback_link)
    if link:
        button = ButtonElement(text="Open the form in Ashby", url=link, action_id=OPEN_FEEDBACK_LINK, style="primary")
        blocks.append(ActionsBlock(elements=[button]))
    view = View(
        type="modal",
        callback_id=LINK_ONLY_CALLBACK_ID,
        title=MODAL_TITLE,
        close="Close",
        blocks=blocks,
        private_metadata=context.submission_key,
    )
    return view.to_dict()
