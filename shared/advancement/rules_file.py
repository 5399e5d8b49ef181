"""A rules file (YAML or JSON: `rules: [...]`, documented in docs/rules.md) resolved against the Ashby catalog
into the model's `Rule`s, or refused with every problem found, each at the line of the offending key.

Pure: the catalog is passed in. A file is all or nothing: one problem anywhere and no rule of it is returned,
because applying a file replaces the whole active set (a half-applied file would silently drop rules).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from shared.advancement.catalog import Catalog, CatalogJob, CatalogPlan, Unknown, listed
from shared.advancement.describe import plan_title, stage_title
from shared.advancement.located import (
    Entry,
    Map,
    Refused,
    Scalar,
    Seq,
    as_int,
    as_text,
    load,
    shown,
    unknown_keys,
)
from shared.advancement.model import MODES, Advance, Hold, Mode, Outcome, PlanStage, Reject, Requirement, Rule
from shared.advancement.precedence import could_both_match
from shared.advancement.requirements import StageFields, requirement
from shared.payloads.ashby import STAGE_ARCHIVED

RULE_KEYS = (
    "name", "job", "plan", "stage", "priority", "mode", "interviews", "require", "on_pass", "on_fail",
    "quiet_minutes", "timeout_days", "debrief_channel",
)  # fmt: skip
REJECT_KEYS = ("reason", "template", "send_after_hours")
OUTCOMES = ("advance", "reject", "hold")
EVERY_JOB = "*"
DEFAULT_MODE: Mode = "dry_run"  # a rule nobody set a mode for only shows what it would do
GUARDED = ("Offer", "Hired", STAGE_ARCHIVED)  # never entered by an implicit "next stage"
SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
MAX_NAME = 100

T = TypeVar("T")
F = TypeVar("F")


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class RulesInvalid(Exception):
    """The file was refused; `problems` holds every problem found, in line order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(map(str, self.problems)))


@dataclass(frozen=True)
class WrittenRule:
    """A resolved rule with where it was written: its first line and its own text (stored with each version)."""

    rule: Rule
    line: int
    source: str


def resolve(text: str, catalog: Catalog) -> list[WrittenRule]:
    """Every rule of the file, in file order; raises RulesInvalid listing every problem."""
    try:
        items = _rule_nodes(text)
    except Refused as exc:
        raise RulesInvalid([Problem(exc.line, exc.message)]) from None
    problems: list[Refused] = []
    written: list[WrittenRule] = []
    first_line: dict[str, int] = {}
    for node in items:
        if not isinstance(node, Map):
            problems.append(Refused(node.line, f"each rule must be a mapping of keys, not {shown(node)}"))
            continue
        try:
            name = _name(node)
        except Refused as exc:
            problems.append(exc)
            name = None
        if name is not None and name in first_line:
            line = node.entries["name"].key_line
            problems.append(Refused(line, f"rule name '{name}' is used twice (first on line {first_line[name]})"))
        elif name is not None:
            first_line[name] = node.line
        found = _RuleReader(node, catalog, name or "").read()
        if isinstance(found, Rule):
            written.append(WrittenRule(found, node.line, node.source))
        else:
            problems += found
    problems += _conflicts(written, catalog)
    if problems:
        raise RulesInvalid([Problem(p.line, p.message) for p in problems])
    return written


def _rule_nodes(text: str) -> tuple[Map | Seq | Scalar, ...]:
    root = load(text)
    if root is None:
        raise Refused(1, "the file is empty: it holds `rules:` and a list of rules")
    if not isinstance(root, Map):
        raise Refused(root.line, f"the file must be a mapping with a `rules:` list, not {shown(root)}")
    extra = unknown_keys(root, ("rules",), "the file")
    if extra:
        raise extra[0]
    if "rules" not in root.entries:
        raise Refused(root.line, "the file has no `rules:` list")
    rules = root.entries["rules"]
    if isinstance(rules.value, Scalar) and rules.value.value is None:
        return ()
    if not isinstance(rules.value, Seq):
        raise Refused(rules.key_line, f"rules must be a list, not {shown(rules.value)}")
    return rules.value.items


def _name(node: Map) -> str:
    if "name" not in node.entries:
        raise Refused(node.line, "a rule needs a name")
    name = as_text(node.entries["name"], "name")
    if len(name) > MAX_NAME:
        raise Refused(node.entries["name"].key_line, f"name is longer than {MAX_NAME} characters")
    return name


class _RuleReader:
    """Reads one rule's keys, collecting a problem per key; a key that depends on another (the stage on the
    plan, the fields on the stage) is only read once what it depends on resolved."""

    def __init__(self, node: Map, catalog: Catalog, name: str) -> None:
        self.node, self.catalog, self.name = node, catalog, name
        self.problems: list[Refused] = unknown_keys(node, RULE_KEYS, f"rule '{name}'" if name else "a rule")

    def read(self) -> Rule | list[Refused]:
        """The rule, or every problem found in it. A key that fails reads as its fallback, so the others are
        still checked; a rule with a problem is never returned."""
        attempt, entries = self._attempt, self.node.entries
        priority = attempt(lambda: as_int(entries["priority"], "priority") if "priority" in entries else 0, 0)
        mode = attempt(self._mode, DEFAULT_MODE)
        quiet = attempt(lambda: self._int("quiet_minutes", 30, minimum=0), 0)
        timeout = attempt(lambda: self._int("timeout_days", 7, minimum=1), 0)
        channel = attempt(self._channel, None)
        scope = attempt(self._scope, None)
        if scope is None:
            return self.problems
        job, plan, stage = scope
        interview_ids = attempt(lambda: self._interviews(plan, stage), None)
        if interview_ids is None:
            return self.problems
        requirements = self._requirements(self._fields(plan, stage, interview_ids))
        on_pass = attempt(lambda: self._outcome("on_pass", plan, stage, Advance()), Hold())
        on_fail = attempt(lambda: self._outcome("on_fail", plan, stage, Hold()), Hold())
        if self.problems:
            return self.problems
        return Rule(
            name=self.name,
            job_id=job.id if job else None,
            plan_id=plan.id,
            stage_id=stage.id,
            priority=priority,
            mode=mode,
            interview_ids=interview_ids,
            requirements=requirements,
            on_pass=on_pass,
            on_fail=on_fail,
            quiet_minutes=quiet,
            timeout_days=timeout,
            debrief_channel=channel,
        )

    def _attempt(self, read: Callable[[], T], fallback: F) -> T | F:
        try:
            return read()
        except Refused as exc:
            self.problems.append(exc)
            return fallback

    def _entry(self, key: str) -> Entry | None:
        return self.node.entries.get(key)

    def _int(self, key: str, default: int, *, minimum: int) -> int:
        entry = self._entry(key)
        return default if entry is None else as_int(entry, key, minimum=minimum)

    def _mode(self) -> Mode:
        entry = self._entry("mode")
        if entry is None:
            return DEFAULT_MODE
        written = as_text(entry, "mode")
        for mode in MODES:
            if mode == written:
                return mode
        raise Refused(entry.key_line, f"unknown mode '{written}' (modes: {', '.join(MODES)})")

    def _channel(self) -> str | None:
        entry = self._entry("debrief_channel")
        if entry is None:
            return None
        channel = as_text(entry, "debrief_channel")
        if not SLACK_CHANNEL.match(channel):
            raise Refused(entry.key_line, f"debrief_channel must be a Slack channel id like C0123ABCD, not '{channel}'")
        return channel

    # --- where the rule applies ------------------------------------------------------------------

    def _scope(self) -> tuple[CatalogJob | None, CatalogPlan, PlanStage]:
        job = self._job()
        plan = self._plan(job)
        entry = self._entry("stage")
        if entry is None:
            raise Refused(self.node.line, "a rule needs a stage (the stage candidates are in)")
        stage = self._lookup(entry, lambda key: self.catalog.stage(plan, key), "stage")
        if stage.type == STAGE_ARCHIVED:
            message = f"stage '{stage.title}' is the plan's Archived stage: no rule moves a candidate out of it"
            raise Refused(entry.key_line, message)
        return job, plan, stage

    def _job(self) -> CatalogJob | None:
        entry = self._entry("job")
        if entry is None or (isinstance(entry.value, Scalar) and entry.value.value == EVERY_JOB):
            return None
        return self._lookup(entry, self.catalog.job, "job")

    def _plan(self, job: CatalogJob | None) -> CatalogPlan:
        entry = self._entry("plan")
        if entry is None:
            plan_id = job.default_plan_id or (job.plan_ids[0] if len(job.plan_ids) == 1 else None) if job else None
            if plan_id is None or plan_id not in self.catalog.plans:
                what = f"job '{job.title}' has no single interview plan" if job else "the rule is for every job"
                raise Refused(self.node.line, f"name the interview plan (plan: ...): {what}")
            plan = self.catalog.plans[plan_id]
        else:
            plan = self._lookup(entry, self.catalog.plan, "plan")
            if job and job.plan_ids and plan.id not in job.plan_ids:
                plans = listed(plan_title(p, self.catalog) for p in job.plan_ids)
                message = f"plan '{plan.title}' is not a plan of job '{job.title}' (its plans: {plans})"
                raise Refused(entry.key_line, message)
        if not plan.stages:
            raise Refused(self.node.line, f"no stages are known for plan '{plan.title}' (refresh: --refresh)")
        return plan

    def _lookup(self, entry: Entry, find: Callable[[str], T], key: str) -> T:
        value = entry.value
        if not (isinstance(value, Scalar) and isinstance(value.value, str | int) and not isinstance(value.value, bool)):
            raise Refused(entry.key_line, f"{key} must be a name or an id, not {shown(value)}")
        try:
            return find(str(value.value).strip())
        except Unknown as exc:
            raise Refused(entry.key_line, str(exc)) from None

    def _interviews(self, plan: CatalogPlan, stage: PlanStage) -> tuple[str, ...]:
        entry = self._entry("interviews")
        if entry is None:
            return ()
        if not isinstance(entry.value, Seq) or not entry.value.items:
            message = "interviews must be a list of interview titles (omit it to wait for every interview of the stage)"
            raise Refused(entry.key_line, message)
        ids: list[str] = []
        for item in entry.value.items:
            found = self._lookup(
                Entry(item.line, item), lambda key: self.catalog.interview(plan, stage, key), "interview"
            )
            if found.id in ids:
                raise Refused(item.line, f"interview '{found.title}' is listed twice")
            ids.append(found.id)
        return tuple(ids)

    # --- what it requires ------------------------------------------------------------------------

    def _fields(self, plan: CatalogPlan, stage: PlanStage, interview_ids: tuple[str, ...]) -> StageFields:
        ids = interview_ids or plan.stage_interviews.get(stage.id, ())
        interviews = [self.catalog.interviews[i] for i in ids if i in self.catalog.interviews]
        forms = [self.catalog.forms[i.form_id] for i in interviews if i.form_id and i.form_id in self.catalog.forms]
        fields = tuple(e.field for form in forms for section in form.form_definition.sections for e in section.fields)
        where = f"stage '{stage.title}'" + (f" ({listed(i.title for i in interviews)})" if interviews else "")
        return StageFields(fields, where)

    def _requirements(self, fields: StageFields) -> tuple[Requirement, ...]:
        entry = self._entry("require")
        if entry is None:
            return ()
        if not isinstance(entry.value, Seq):
            self.problems.append(Refused(entry.key_line, f"require must be a list, not {shown(entry.value)}"))
            return ()
        found = [self._attempt(partial(requirement, item, fields), None) for item in entry.value.items]
        return tuple(r for r in found if r is not None)

    # --- what it does ----------------------------------------------------------------------------

    def _outcome(self, key: str, plan: CatalogPlan, stage: PlanStage, default: Outcome) -> Outcome:
        entry = self._entry(key)
        line = entry.key_line if entry else self.node.line
        value = entry.value if entry else None
        if value is None or (isinstance(value, Scalar) and value.value == "advance"):
            outcome = default if value is None else Advance()
            if isinstance(outcome, Advance):
                self._check_next(plan, stage, key if entry else f"{key} (advance, by default)", line)
            return outcome
        if isinstance(value, Scalar) and value.value == "hold":
            return Hold()
        if isinstance(value, Scalar) and value.value == "reject":
            raise Refused(line, f"{key}: reject needs a reason: {{reject: {{reason: ...}}}}")
        if not isinstance(value, Map) or len(value.entries) != 1 or next(iter(value.entries)) not in OUTCOMES:
            raise Refused(line, f"{key} must be advance, hold, {{advance: <stage>}} or {{reject: {{reason: ...}}}}")
        kind, inner = next(iter(value.entries.items()))
        if kind == "hold":
            return Hold()
        if kind == "advance":
            target = self._lookup(inner, lambda k: self.catalog.stage(plan, k), "advance")
            return self._advance_to(plan, stage, target, inner.key_line)
        return self._reject(plan, inner)

    def _check_next(self, plan: CatalogPlan, stage: PlanStage, key: str, line: int) -> None:
        following = plan.next_stage(stage.id)
        if following is None:
            raise Refused(line, f"{key}: '{stage.title}' is the last stage of plan '{plan.title}'")
        if following.type in GUARDED:
            how = "reject instead" if following.type == STAGE_ARCHIVED else f"name it ({{advance: {following.title}}})"
            message = (
                f"{key}: the next stage after '{stage.title}' is '{following.title}', a stage of type "
                f"{following.type}, which is never entered implicitly: {how}"
            )
            raise Refused(line, message)

    def _advance_to(self, plan: CatalogPlan, stage: PlanStage, target: PlanStage, line: int) -> Advance:
        if target.type == STAGE_ARCHIVED:
            raise Refused(line, f"advance to '{target.title}' (the Archived stage): use {{reject: {{reason: ...}}}}")
        if target.order <= stage.order:
            raise Refused(line, f"advance to '{target.title}' does not move forward from '{stage.title}'")
        return Advance(to_stage_id=target.id)

    def _reject(self, plan: CatalogPlan, entry: Entry) -> Reject:
        node = entry.value
        if not isinstance(node, Map):
            raise Refused(entry.key_line, "reject must be a mapping like {reason: Not a fit}")
        extra = unknown_keys(node, REJECT_KEYS, "reject")
        if extra:
            raise extra[0]
        if plan.archived_stage() is None:
            raise Refused(entry.key_line, f"plan '{plan.title}' has no Archived stage to reject into")
        if "reason" not in node.entries:
            raise Refused(entry.key_line, "reject needs a reason (an archive reason's text or id)")
        reason = self._lookup(node.entries["reason"], self.catalog.reason, "reason")
        if reason.archived:
            raise Refused(node.entries["reason"].key_line, f"archive reason '{reason.text}' is archived in Ashby")
        template = as_text(node.entries["template"], "template") if "template" in node.entries else None
        delay = node.entries.get("send_after_hours")
        if delay is not None and template is None:
            raise Refused(delay.key_line, "send_after_hours needs a template (the email to send)")
        return Reject(
            archive_reason_id=reason.id,
            communication_template_id=template,
            send_after_hours=as_int(delay, "send_after_hours", minimum=0) if delay else None,
        )


def _conflicts(written: list[WrittenRule], catalog: Catalog) -> list[Refused]:
    """Each later rule that ties with an earlier one (a name used twice is reported as such, not again here)."""
    problems = []
    for n, later in enumerate(written):
        for earlier in written[:n]:
            if earlier.rule.name != later.rule.name and could_both_match(earlier.rule, later.rule):
                problems.append(Refused(later.line, _conflict(earlier, later, catalog)))
    return problems


def _conflict(a: WrittenRule, b: WrittenRule, catalog: Catalog) -> str:
    rule = a.rule
    job = f"job '{catalog.jobs[rule.job_id].title}'" if rule.job_id else "every job"
    return (
        f"rules '{rule.name}' (line {a.line}) and '{b.rule.name}' (line {b.line}) could both match {job}, plan "
        f"'{plan_title(rule.plan_id, catalog)}', stage '{stage_title(rule, rule.stage_id, catalog)}' at the same "
        f"priority ({rule.priority}): give one a higher priority"
    )
