"""What personal data becomes when it has to go (pure): a decision reduced to its audit skeleton, and the
moments before which each kind of personal data has expired.

Invariants: redacting keeps every id, rule, verdict and requirement the audit reads and nothing an interviewer
wrote or is called; redacting twice gives the same result; cutoffs only ever move back from `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

REDACTED = "[deleted]"
REDACTED_KEY = "redacted"  # set on a decision's evidence once redacted (the purge's index skips those)


def redact_decision(reason: str, evidence: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A decision's reason and evidence without interviewers' names, the values the rule read or the details
    its requirements found (which quote names and scores); ids, the rule, its verdicts and requirements stay."""
    interviewers = [i for i in evidence.get("interviewers") or () if isinstance(i, Mapping)]
    requirements = [r for r in evidence.get("requirements") or () if isinstance(r, Mapping)]
    names = {str(i["name"]) for i in interviewers if i.get("name") and i.get("name") != REDACTED}
    redacted: dict[str, Any] = {key: evidence[key] for key in ("rule", "rule_version", "passed") if key in evidence}
    redacted["reason"] = _without(names, str(evidence.get("reason", "")))
    redacted["interviewers"] = [
        {
            "interviewer_id": i.get("interviewer_id"),
            "interview_id": i.get("interview_id"),
            "name": REDACTED,
            "values": {},  # still a mapping: the Slack message and the CLI render whatever evidence they find
        }
        for i in interviewers
    ]
    redacted["requirements"] = [
        {"requirement": r.get("requirement"), "passed": r.get("passed"), "detail": REDACTED} for r in requirements
    ]
    redacted[REDACTED_KEY] = True
    return _without(names, reason), redacted


def _without(names: Iterable[str], text: str) -> str:
    """`text` with every one of these names replaced (the evaluator quotes names in a timeout's reason);
    longest first, so "Ana Lee" goes before "Ana"."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, REDACTED)
    return text


@dataclass(frozen=True)
class Retention:
    """How long personal data is kept (RETENTION_* settings), in days."""

    answers_grace_days: int
    draft_days: int
    dead_letter_days: int
    schedule_days: int

    def cutoffs(self, now: datetime) -> Cutoffs:
        return Cutoffs(
            answers=now - timedelta(days=self.answers_grace_days),
            drafts=now - timedelta(days=self.draft_days),
            dead_letters=now - timedelta(days=self.dead_letter_days),
            schedules=now - timedelta(days=self.schedule_days),
        )


@dataclass(frozen=True)
class Cutoffs:
    """Personal data older than these has expired."""

    answers: datetime  # answers Ashby has, on which no decision can still be taken
    drafts: datetime  # drafts, and answers of submissions that never reached Ashby
    dead_letters: datetime
    schedules: datetime  # interviewers' names on past interviews, cached applications, decisions' evidence
