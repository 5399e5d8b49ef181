"""The Slack messages of advancement (pure Block Kit): a decision awaiting approval (with Approve, Reject and
Hold buttons), a hold or a dry run (no buttons), the same message once decided, and the debrief summary.

They show each interviewer's headline values (the fields the rule reads), each requirement's result, and a
link to the candidate in Ashby; never contact details.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from shared.blocks import FALLBACK_TEXT_MAX, HEADER_TEXT_MAX, mrkdwn, safe_url, truncate
from shared.db.advancement import DecisionRow

APPROVE = "advancement_approve"
REJECT = "advancement_reject"
HOLD = "advancement_hold"
VERDICTS = {APPROVE: "approved", REJECT: "refused", HOLD: "held"}
LINE_MAX = 300


@dataclass(frozen=True)
class Names:
    """What the message names besides the decision's ids."""

    candidate: str
    candidate_url: str | None
    job: str | None
    stages: Mapping[str, str]  # stage id -> title


def decision_message(decision: DecisionRow, names: Names) -> tuple[str, list[dict[str, Any]]]:
    """The message for a decision in its current state; buttons only while it awaits an approval."""
    target = names.stages.get(decision.to_stage_id or "", "the next stage")
    title = {
        "advance": f"Advance {names.candidate} to {target}?",
        "reject": f"Reject {names.candidate}?",
        "hold": f"{names.candidate} needs a decision",
    }[decision.outcome]
    if decision.mode == "dry_run":
        title = "Dry run: " + {"advance": f"would advance {names.candidate} to {target}",
                               "reject": f"would reject {names.candidate}",
                               "hold": f"would hold {names.candidate}"}[decision.outcome]  # fmt: skip
    where = names.stages.get(decision.from_stage_id, "their stage")
    lines = [f"*{mrkdwn(names.job or 'Job', 120)}* · {mrkdwn(where, 80)} · rule `{mrkdwn(decision.rule_name, 80)}` "
             f"v{decision.rule_version} · {decision.mode.replace('_', ' ')}",
             f"*Why:* {mrkdwn(decision.reason, LINE_MAX)}"]  # fmt: skip
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=truncate(title, HEADER_TEXT_MAX))),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        *_evidence(decision.evidence),
    ]
    url = safe_url(names.candidate_url)
    if url:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"<{url}|{mrkdwn(names.candidate, 80)} in Ashby>")])
        )
    if decision.state == "awaiting_approval":
        value = str(decision.id)
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(text="Approve", action_id=APPROVE, value=value, style="primary"),
                    ButtonElement(text="Reject", action_id=REJECT, value=value, style="danger"),
                    ButtonElement(text="Hold", action_id=HOLD, value=value),
                ]
            )
        )
    status = _status(decision, names)
    if status:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=status)]))
    return truncate(title, FALLBACK_TEXT_MAX), [b.to_dict() for b in blocks]


def _status(decision: DecisionRow, names: Names) -> str | None:
    who = f"<@{decision.decided_by}>" if decision.decided_by and decision.decided_by != "rule" else "the rule"
    when = f" at {decision.decided_at:%Y-%m-%d %H:%M} UTC" if decision.decided_at else ""
    result = decision.ashby_result or {}
    return {
        "awaiting_approval": None,
        "dry_run": "Dry run: recorded, nothing changed in Ashby.",
        "held": "Held: decide in Ashby.",
        "approved": f"Approved by {who}{when}; moving…",
        "executing": f"Approved by {who}{when}; moving…",
        "refused": f"Rejected by {who}{when}: nothing changed in Ashby.",
        "done": f"Approved by {who}{when}. Done: now in "
        f"{names.stages.get(str(result.get('stage_id')), 'the target stage')}.",
        "superseded": f"Not carried out: {result.get('reason', 'the candidate moved meanwhile')}.",
        "failed": f"Ashby refused the move ({result.get('code', 'error')}): decide in Ashby.",
    }.get(decision.state)


def _evidence(evidence: Mapping[str, Any]) -> list[Block]:
    interviewers = evidence.get("interviewers") or []
    requirements = evidence.get("requirements") or []
    lines = []
    for person in interviewers[:20]:
        values = ", ".join(f"{k}: {_shown(v)}" for k, v in (person.get("values") or {}).items())
        lines.append(f"• {mrkdwn(str(person.get('name', '?')), 80)}: {mrkdwn(values or 'no values', 200)}")
    for requirement in requirements[:10]:
        mark = "✅" if requirement.get("passed") else "❌"
        lines.append(
            f"{mark} {mrkdwn(str(requirement.get('requirement')), 150)}: {mrkdwn(str(requirement.get('detail')), 150)}"
        )
    if not lines:
        return []
    return [SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), 2900)))]


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value is None else str(value)


def debrief_message(decision: DecisionRow, names: Names) -> tuple[str, list[dict[str, Any]]]:
    """The hiring channel's summary once all required feedback for a stage is in: each interviewer's headline
    values, the rule's verdict and what it leads to, a link to the candidate."""
    where = names.stages.get(decision.from_stage_id, "the stage")
    title = f"Debrief: {names.candidate}, {where}"
    verdict = "passed" if decision.evidence.get("passed") else "did not pass"
    outcome = {"advance": f"advance to {names.stages.get(decision.to_stage_id or '', 'the next stage')}",
               "reject": "reject", "hold": "hold for a human"}[decision.outcome]  # fmt: skip
    mode = {"auto": "automatically", "approve": "once approved", "dry_run": "(dry run: nothing changes)"}
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=truncate(title, HEADER_TEXT_MAX))),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"Rule `{mrkdwn(decision.rule_name, 80)}` {verdict}: {outcome} {mode[decision.mode]}."
            )
        ),
        *_evidence(decision.evidence),
    ]
    url = safe_url(names.candidate_url)
    if url:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"<{url}|Open {mrkdwn(names.candidate, 80)} in Ashby>")])
        )
    return truncate(title, FALLBACK_TEXT_MAX), [b.to_dict() for b in blocks]
