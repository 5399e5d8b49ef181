"""`fleet rules audit` and `fleet rules simulate` (wired in `fleet/rules_cli.py`): the decisions taken and their
evidence, and what a rules file would have decided on the stored feedback, changing nothing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TextIO

import asyncpg

from shared.advancement.evaluate import Decision, Evaluation, NoRule, Wait, evaluate
from shared.advancement.model import Rule
from shared.db import advancement as advancement_db
from shared.db import catalog as catalog_db
from shared.db.advancement import DecisionRow

_SINCE = re.compile(r"^(\d+)([dhm])$")


def parse_since(value: str | None, *, now: datetime) -> datetime | None:
    """`30d`, `12h`, `90m`, or an ISO date; None for no bound."""
    if not value:
        return None
    match = _SINCE.match(value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now - {"d": timedelta(days=amount), "h": timedelta(hours=amount), "m": timedelta(minutes=amount)}[unit]
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def audit(pool: asyncpg.Pool, *, application_id: str | None, since: str | None, out: TextIO) -> int:
    rows = await advancement_db.decisions(
        pool, application_id=application_id, since=parse_since(since, now=datetime.now(UTC))
    )
    if not rows:
        print("No decisions.", file=out)
    titles = await catalog_db.stage_titles(pool)
    for row in rows:
        print(describe(row, titles), file=out)
    return 0


def describe(row: DecisionRow, stage_titles: dict[str, str] | None = None) -> str:
    """One decision as the audit prints it: when, what, by which rule, who decided, what Ashby said, and why."""
    titles = stage_titles or {}

    def stage(stage_id: str) -> str:
        return f"{titles[stage_id]} ({stage_id})" if stage_id in titles else stage_id

    decided = f"{row.decided_by or '-'}" + (f" at {row.decided_at:%Y-%m-%d %H:%M}Z" if row.decided_at else "")
    lines = [
        f"#{row.id} {row.created_at:%Y-%m-%d %H:%M}Z application {row.application_id} at {stage(row.from_stage_id)}: "
        f"{row.outcome}{' -> ' + stage(row.to_stage_id) if row.to_stage_id else ''} [{row.state}]",
        f"    rule {row.rule_name} v{row.rule_version} ({row.mode}); decided by {decided}; "
        f"ashby: {row.ashby_result or '-'}",
        f"    why: {row.reason}",
    ]
    for person in row.evidence.get("interviewers", []):
        lines.append(f"    - {person.get('name')}: {person.get('values')}")
    for requirement in row.evidence.get("requirements", []):
        mark = "pass" if requirement.get("passed") else "FAIL"
        lines.append(f"    [{mark}] {requirement.get('requirement')}: {requirement.get('detail')}")
    return "\n".join(lines)


async def simulate(
    pool: asyncpg.Pool, rules: Sequence[Rule], *, since: datetime, now: datetime, out: TextIO
) -> dict[str, int]:
    """Replay the stored feedback of every application that had interviews since `since` against `rules`,
    printing what each would have decided (changing nothing); the count of each outcome."""
    evidence = await advancement_db.stage_evidence_since(pool, since)
    stages = await catalog_db.stages_of_plans(pool, {e.plan_id for e in evidence if e.plan_id})
    counts: dict[str, int] = {}
    for ev in evidence:
        result = evaluate(ev, rules, stages.get(ev.plan_id or "", ()), now=now)
        key = _kind(result)
        counts[key] = counts.get(key, 0) + 1
        print(f"{ev.application_id} (stage {ev.stage_id}): {_summary(result)}", file=out)
    summary = "; ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    print(summary or "No application had interviews in the window.", file=out)
    return counts


def _kind(result: Evaluation) -> str:
    if isinstance(result, Decision):
        return result.outcome
    return "waiting" if isinstance(result, Wait) else "no rule"


def _summary(result: Evaluation) -> str:
    if isinstance(result, Decision):
        failed = [r.requirement for r in result.results if not r.passed]
        return (
            f"{result.outcome}{' to ' + result.to_stage_id if result.to_stage_id else ''} by rule "
            f"{result.rule.name} ({result.reason}{'; failed: ' + ', '.join(failed) if failed else ''})"
        )
    if isinstance(result, NoRule):
        return f"no decision ({result.reason})"
    return f"waiting ({result.reason})"
