"""Rules files resolved against the catalog: what resolves to what, and every refusal with its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import msgspec
import pytest

from shared.advancement.catalog import Catalog
from shared.advancement.model import (
    Advance,
    Aggregate,
    Condition,
    CountOf,
    Each,
    FieldRef,
    Hold,
    Op,
    Reject,
    Rule,
    Veto,
    rule_decoder,
    rule_encoder,
)
from shared.advancement.rules_file import RulesInvalid, WrittenRule, resolve
from tests.unit.rules_catalog import STAGE_IDS, seeded_catalog

CATALOG = seeded_catalog()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rules.yaml"
OVERALL = FieldRef(path="overall_recommendation", type="Score", title="Overall recommendation")


def overall(op: Op, value: float) -> Condition:
    return Condition(field=OVERALL, op=op, value=value)


def written(text: str, catalog: Catalog = CATALOG) -> list[WrittenRule]:
    return resolve(textwrap.dedent(text), catalog)


def one(body: str) -> Rule:
    """A single rule; `body` holds its keys after `name: r` (indented as under `- `)."""
    [found] = written("rules:\n  - name: r\n" + textwrap.indent(textwrap.dedent(body), "    "))
    return found.rule


def problems(text: str, catalog: Catalog = CATALOG) -> list[str]:
    with pytest.raises(RulesInvalid) as refused:
        resolve(textwrap.dedent(text), catalog)
    return [str(problem) for problem in refused.value.problems]


def refusal(body: str) -> str:
    """The one problem of a single rule (line 1 is `rules:`, line 2 `- name: r`, the body from line 3)."""
    [problem] = problems("rules:\n  - name: r\n" + textwrap.indent(textwrap.dedent(body), "    "))
    return problem


ONSITE = "job: Senior Backend Engineer\nstage: Onsite\non_pass: {advance: Offer}\n"


def requirement(line: str) -> Rule:
    return one(ONSITE + f"require:\n  - {line}\n")


def requirement_refusal(line: str) -> str:
    return refusal(ONSITE + f"require:\n  - {line}\n")


# --- what resolves -------------------------------------------------------------------------------------


def test_the_example_file_resolves_against_the_seeded_org() -> None:
    rules = resolve(EXAMPLE.read_text(), CATALOG)
    assert [w.rule.name for w in rules] == ["backend-phone-screen", "backend-onsite", "engineering-onsite-dry-run"]
    phone, onsite, fallback = (w.rule for w in rules)
    assert (phone.job_id, phone.plan_id, phone.stage_id, phone.mode) == (
        "job-backend", "plan-eng", STAGE_IDS["Phone Screen"], "auto"
    )  # fmt: skip
    assert phone.requirements == (Each(condition=overall(">=", 3.0)),)
    assert (phone.on_pass, phone.on_fail, phone.quiet_minutes) == (Advance(), Hold(), 15)
    assert onsite.interview_ids == ("interview-onsite",)
    assert onsite.on_pass == Advance(to_stage_id=STAGE_IDS["Offer"])
    assert onsite.on_fail == Reject(archive_reason_id="reason-fit")
    assert (onsite.mode, onsite.timeout_days, onsite.debrief_channel) == ("approve", 5, "C0DEBRIEF1")
    assert fallback.job_id is None and fallback.mode == "dry_run" and fallback.specificity == 0


def test_a_rule_keeps_its_first_line_and_its_own_text() -> None:
    first, second = written(
        """\
        rules:
          # the screen
          - name: screen
            job: Senior Backend Engineer
            stage: Phone Screen   # the first interview

          # the panel
          - name: panel
            job: Senior Backend Engineer
            stage: Onsite
            on_pass: {advance: Offer}
        """
    )
    assert (first.line, second.line) == (3, 8)
    assert first.source == "name: screen\njob: Senior Backend Engineer\nstage: Phone Screen"
    assert second.source == "name: panel\njob: Senior Backend Engineer\nstage: Onsite\non_pass: {advance: Offer}"


def test_defaults_and_every_key() -> None:
    rule = one(
        """\
        job: job-backend
        plan: plan-eng
        stage: stage-1
        priority: -2
        mode: auto
        interviews: [interview-phone]
        on_fail: {reject: {reason: reason-withdrew, template: tmpl-1, send_after_hours: 24}}
        quiet_minutes: 0
        timeout_days: 3
        debrief_channel: G0123ABC
        """
    )  # every name may be given as its Ashby id
    assert rule == Rule(
        name="r",
        job_id="job-backend",
        plan_id="plan-eng",
        stage_id=STAGE_IDS["Phone Screen"],
        priority=-2,
        mode="auto",
        interview_ids=("interview-phone",),
        on_fail=Reject(archive_reason_id="reason-withdrew", communication_template_id="tmpl-1", send_after_hours=24),
        quiet_minutes=0,
        timeout_days=3,
        debrief_channel="G0123ABC",
    )
    plain = one("job: Senior Backend Engineer\nstage: Phone Screen\n")
    assert (plain.mode, plain.priority, plain.on_pass, plain.on_fail) == ("dry_run", 0, Advance(), Hold())
    assert (plain.quiet_minutes, plain.timeout_days, plain.interview_ids, plain.requirements) == (30, 7, (), ())


def test_names_match_ignoring_case_and_a_reopened_job_means_the_open_one() -> None:
    rule = one("job: account executive\nstage: screen\non_pass: hold\n")
    assert (rule.job_id, rule.plan_id, rule.stage_id) == ("job-sales", "plan-sales", "sales-screen")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{field: Overall recommendation, each: ">= 3"}', Each(condition=overall(">=", 3.0))),
        ("{field: Overall recommendation, each: 3}", Each(condition=overall("==", 3.0))),
        ("{field: overall_recommendation, veto: Strong No Hire}", Veto(condition=overall("==", 1.0))),
        ('{field: Overall recommendation, veto: "1 - Strong No Hire"}', Veto(condition=overall("==", 1.0))),
        ('{field: Overall recommendation, each: "!= no hire"}', Each(condition=overall("!=", 2.0))),
        ('{field: overall_recommendation, average: ">=2.5"}',
         Aggregate(field=OVERALL, function="average", op=">=", value=2.5)),
        ('{field: Overall recommendation, min: "> Hire"}', Aggregate(field=OVERALL, function="min", op=">", value=3.0)),
        ('{field: Overall recommendation, max: "<= 4"}', Aggregate(field=OVERALL, function="max", op="<=", value=4.0)),
        (
            '{field: Overall recommendation, count: {value: ">= 3", at_least: 2}}',
            CountOf(condition=overall(">=", 3.0), op=">=", value=2),
        ),
    ],
)  # fmt: skip
def test_score_requirements_compare_numbers_and_accept_the_forms_labels(line: str, expected: object) -> None:
    assert requirement(line).requirements == (expected,)


def test_booleans_selects_and_numbers_are_typed_by_the_field() -> None:
    would = FieldRef(path="would_work_with", type="Boolean", title="Would you want to work with them?")
    level = FieldRef(path="level", type="ValueSelect", title="Level")
    strengths = FieldRef(path="strengths", type="MultiValueSelect", title="Strengths")
    years = FieldRef(path="years_experience", type="Number", title="Years of experience")
    rule = one(
        ONSITE
        + textwrap.dedent(
            """\
        require:
          - {field: "Would you want to work with them?", each: true}
          - {field: would_work_with, veto: "== no"}
          - {field: Level, count: {value: senior, at_most: 3}}
          - {field: level, each: "!= Junior"}
          - {field: Strengths, each: System design}
          - {field: Years of experience, min: ">= 2"}
          - {field: years_experience, each: "< 40.5"}
        """
        )
    )
    assert rule.requirements == (
        Each(condition=Condition(field=would, op="==", value=True)),
        Veto(condition=Condition(field=would, op="==", value=False)),
        CountOf(condition=Condition(field=level, op="==", value="senior"), op="<=", value=3),
        Each(condition=Condition(field=level, op="!=", value="junior")),
        Each(condition=Condition(field=strengths, op="==", value="design")),  # "includes"
        Aggregate(field=years, function="min", op=">=", value=2.0),
        Each(condition=Condition(field=years, op="<", value=40.5)),
    )


def test_a_stored_rule_decodes_equal_to_the_resolved_one() -> None:
    for found in resolve(EXAMPLE.read_text(), CATALOG):
        assert rule_decoder.decode(rule_encoder.encode(found.rule)) == found.rule
        assert msgspec.convert(msgspec.to_builtins(found.rule), Rule) == found.rule


def test_json_is_accepted_tabs_and_all() -> None:
    text = '{\n\t"rules": [\n\t\t{"name": "j", "job": "Senior Backend Engineer",\n\t\t "stage": "Onsight"}\n\t]\n}'
    assert problems(text)[0].startswith("line 4: stage 'Onsight' is not in plan 'Engineering plan'")
    [rule] = resolve(text.replace("Onsight", "Phone Screen"), CATALOG)
    assert rule.rule.stage_id == STAGE_IDS["Phone Screen"] and rule.line == 3


def test_an_empty_rules_list_is_valid() -> None:
    assert written("rules: []\n") == [] and written("rules:\n") == []


# --- what is refused, and where ------------------------------------------------------------------------


def test_an_unknown_stage_is_refused_naming_the_plans_stages() -> None:
    assert refusal("job: Senior Backend Engineer\nstage: Onsight\n") == (
        "line 4: stage 'Onsight' is not in plan 'Engineering plan' (stages: Application Review, Phone Screen, "
        "Onsite, Offer, Hired, Archived)"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("job: Backend Engineer\nstage: Onsite\n", "line 3: unknown job 'Backend Engineer' (known: Senior Backend "
         "Engineer, Frontend Engineer, Account Executive, Staff Engineer)"),
        ("job: '*'\nplan: Engineering\nstage: Onsite\n", "line 4: unknown interview plan 'Engineering' (known: "
         "Engineering plan, Sales plan)"),
        ("job: '*'\nstage: Onsite\n", "line 2: name the interview plan (plan: ...): the rule is for every job"),
        ("job: Staff Engineer\nstage: Onsite\n", "line 2: name the interview plan (plan: ...): job 'Staff Engineer' "
         "has no single interview plan"),
        ("job: Frontend Engineer\nplan: Sales plan\nstage: Screen\n", "line 4: plan 'Sales plan' is not a plan of "
         "job 'Frontend Engineer' (its plans: Engineering plan)"),
        ("job: Senior Backend Engineer\n", "line 2: a rule needs a stage (the stage candidates are in)"),
        ("job: Senior Backend Engineer\nstage: [Onsite]\n", "line 4: stage must be a name or an id, not a list"),
        ("job: Senior Backend Engineer\nstage: Phone Screen\ninterviews: [Onsite Panel]\n", "line 5: interview "
         "'Onsite Panel' is not an interview of stage 'Phone Screen' (interviews: Phone Screen)"),
        ("job: Senior Backend Engineer\nstage: Phone Screen\ninterviews: []\n", "line 5: interviews must be a list "
         "of interview titles (omit it to wait for every interview of the stage)"),
        ("job: Senior Backend Engineer\nstage: Phone Screen\ninterviews: [Phone Screen, interview-phone]\n",
         "line 5: interview 'Phone Screen' is listed twice"),
    ],
)  # fmt: skip
def test_unknown_jobs_plans_stages_and_interviews_are_refused(body: str, expected: str) -> None:
    assert refusal(body) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{field: Overal recommendation, each: ">= 3"}', "field 'Overal recommendation' is not on the feedback "
         "forms of stage 'Onsite' (Onsite Panel, Debrief) (fields: Overall recommendation, Level, Strengths, "
         "Would you want to work with them?, Years of experience)"),
        ('{field: Overall recommendation, each: "=> 3"}', "unknown operator '=>' (operators: >=, >, <=, <, ==, !=)"),
        ('{field: Overall recommendation, each: "= 3"}', "unknown operator '=' (operators: >=, >, <=, <, ==, !=)"),
        ('{field: Overall recommendation, each: ">="}', "each: '>=' compares with nothing"),
        ("{field: Overall recommendation, each: 5}", "each: 'Overall recommendation' is a Score: values are 1 to 4, "
         "not 5"),
        ('{field: Overall recommendation, average: "> 0"}', "average: 'Overall recommendation' is a Score: values "
         "are 1 to 4, not '0'"),
        ("{field: Overall recommendation, veto: Maybe}", "veto: 'Maybe' is neither a score 1-4 nor a label of "
         "'Overall recommendation' (labels: 1 - Strong No Hire, 2 - No Hire, 3 - Hire, 4 - Strong Hire)"),
        ("{field: Overall recommendation, each: true}", "each: 'Overall recommendation' is a Score: values are 1 "
         "to 4, not True"),
        ("{field: Level, each: Principal}", "each: 'Principal' is not an option of 'Level' (options: Junior, Mid, "
         "Senior, Staff)"),
        ('{field: Level, each: ">= Senior"}', "each: 'Level' is a ValueSelect field: only == and != apply, not >="),
        ('{field: Level, min: ">= 2"}', "min needs a Score or Number field; 'Level' is a ValueSelect"),
        ('{field: "Would you want to work with them?", each: maybe}', "each: 'Would you want to work with them?' is "
         "a Boolean field: compare it with true or false, not 'maybe'"),
        ("{field: Years of experience, each: many}", "each: 'Years of experience' is a Number field, and 'many' is "
         "not a number"),
        ("{field: Years of experience, each: .nan}", "each: 'Years of experience' is a Number field, and nan is not "
         "a number"),
        ("{field: Summary, each: x}", "field 'Summary' is a LongText field: requirements compare Score, Number, "
         "Boolean, ValueSelect, MultiValueSelect fields"),
        ("{field: Level, each: Senior, veto: Junior}", "a requirement names a field and exactly one of each, min, "
         "max, average, count, veto"),
        ("{field: Level, every: Senior}", "unknown key 'every' in a requirement (keys: field, each, min, max, "
         "average, count, veto)"),
        ("{field: Level, count: {value: Senior}}", "count names a value and exactly one of at_least, at_most, "
         "exactly"),
        ("{field: Level, count: {value: Senior, at_least: -1}}", "at_least must be at least 0, not -1"),
        ("{field: Level, count: Senior}", "count must be a mapping like {value: Senior, at_least: 2}"),
        ("Level >= 3", "a requirement must be a mapping like {field: ..., each: '>= 3'}, not 'Level >= 3'"),
    ],
)  # fmt: skip
def test_unknown_fields_operators_and_values_are_refused(line: str, expected: str) -> None:
    assert requirement_refusal(line) == f"line 7: {expected}"


def test_a_field_is_found_on_any_form_of_the_interviews_waited_for() -> None:
    """Level is on the panel's scorecard, not the debrief's: found while the panel is waited for, not otherwise."""
    assert requirement("{field: Level, each: Senior}").requirements
    refused = refusal("job: Senior Backend Engineer\nstage: Onsite\ninterviews: [Debrief]\non_pass: {advance: "
                      "Offer}\nrequire:\n  - {field: Level, each: Senior}\n")  # fmt: skip
    assert refused.startswith("line 8: field 'Level' is not on the feedback forms of stage 'Onsite' (Debrief)")


def test_a_name_meaning_different_fields_on_two_forms_is_refused() -> None:
    form = CATALOG.forms["form-short"]
    notes = form.form_definition.sections[0].fields[1]  # "Notes", a RichText at path `notes`
    clash = msgspec.structs.replace(notes.field, path="overall_recommendation", type="Number", title="Notes")
    sections = [msgspec.structs.replace(form.form_definition.sections[0], fields=[msgspec.structs.replace(
        notes, field=msgspec.structs.replace(clash, title="Overall recommendation"))])]  # fmt: skip
    short = msgspec.structs.replace(
        form, form_definition=msgspec.structs.replace(form.form_definition, sections=sections)
    )
    catalog = Catalog(CATALOG.jobs, CATALOG.plans, CATALOG.interviews, {**CATALOG.forms, "form-short": short},
                      CATALOG.reasons)  # fmt: skip
    [problem] = problems(
        "rules:\n  - name: r\n    job: Senior Backend Engineer\n    stage: Onsite\n    on_pass: {advance: Offer}\n"
        "    require:\n      - {field: Overall recommendation, each: 3}\n",
        catalog,
    )
    assert problem == (
        "line 7: field 'Overall recommendation' names different fields on the forms of stage 'Onsite' (Onsite "
        "Panel, Debrief) (overall_recommendation (Number), overall_recommendation (Score)): use its path"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("stage: Onsite\njob: Senior Backend Engineer\n", "line 2: on_pass (advance, by default): the next stage "
         "after 'Onsite' is 'Offer', a stage of type Offer, which is never entered implicitly: name it "
         "({advance: Offer})"),
        ("stage: Onsite\njob: Senior Backend Engineer\non_pass: advance\n", "line 5: on_pass: the next stage after "
         "'Onsite' is 'Offer', a stage of type Offer, which is never entered implicitly: name it ({advance: Offer})"),
        ("stage: Offer\njob: Senior Backend Engineer\n", "line 2: on_pass (advance, by default): the next stage "
         "after 'Offer' is 'Hired', a stage of type Hired, which is never entered implicitly: name it ({advance: "
         "Hired})"),
        ("stage: Hired\njob: Senior Backend Engineer\non_fail: advance\non_pass: hold\n", "line 5: on_fail: the "
         "next stage after 'Hired' is 'Archived', a stage of type Archived, which is never entered implicitly: "
         "reject instead"),
        ("stage: Archived\njob: Senior Backend Engineer\non_pass: hold\n", "line 3: stage 'Archived' is the plan's "
         "Archived stage: no rule moves a candidate out of it"),
        ("stage: Onsite\njob: Senior Backend Engineer\non_pass: {advance: Archived}\n", "line 5: advance to "
         "'Archived' (the Archived stage): use {reject: {reason: ...}}"),
        ("stage: Onsite\njob: Senior Backend Engineer\non_pass: {advance: Phone Screen}\n", "line 5: advance to "
         "'Phone Screen' does not move forward from 'Onsite'"),
        ("stage: Onsite\njob: Senior Backend Engineer\non_pass: {advance: Onsite}\n", "line 5: advance to "
         "'Onsite' does not move forward from 'Onsite'"),
        ("job: Account Executive\nstage: Offer\n", "line 2: on_pass (advance, by default): 'Offer' is the last "
         "stage of plan 'Sales plan'"),
    ],
)  # fmt: skip
def test_offer_hired_and_archived_are_guarded(body: str, expected: str) -> None:
    assert refusal(body) == expected


def test_offer_and_hired_are_entered_when_named() -> None:
    assert one("job: Senior Backend Engineer\nstage: Onsite\non_pass: {advance: Offer}\n").on_pass == Advance(
        to_stage_id=STAGE_IDS["Offer"]
    )
    assert one("job: Senior Backend Engineer\nstage: Offer\non_pass: {advance: hired}\n").on_pass == Advance(
        to_stage_id=STAGE_IDS["Hired"]
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("job: Account Executive\nstage: Screen\non_pass: hold\non_fail: {reject: {reason: Not a fit}}\n",
         "line 6: plan 'Sales plan' has no Archived stage to reject into"),
        ("job: Senior Backend Engineer\nstage: Phone Screen\non_fail: {reject: {reason: Legacy reason}}\n",
         "line 5: archive reason 'Legacy reason' is archived in Ashby"),
        ("job: Senior Backend Engineer\nstage: Phone Screen\non_fail: {reject: {reason: Too expensive}}\n",
         "line 5: unknown archive reason 'Too expensive' (known: Not a fit, Withdrew)"),
        ("job: Senior Backend Engineer\nstage: Phone Screen\non_fail: reject\n", "line 5: on_fail: reject needs a "
         "reason: {reject: {reason: ...}}"),
        ("job: Senior Backend Engineer\nstage: Phone Screen\non_fail: {reject: {template: t}}\n", "line 5: reject "
         "needs a reason (an archive reason's text or id)"),
        ("job: Senior Backend Engineer\nstage: Phone Screen\non_fail:\n  reject:\n    reason: Withdrew\n"
         "    send_after_hours: 2\n", "line 8: send_after_hours needs a template (the email to send)"),
        ("job: Senior Backend Engineer\nstage: Phone Screen\non_fail: {reject: {reason: Withdrew, why: x}}\n",
         "line 5: unknown key 'why' in reject (keys: reason, template, send_after_hours)"),
        ("job: Senior Backend Engineer\nstage: Phone Screen\non_fail: archive\n", "line 5: on_fail must be advance, "
         "hold, {advance: <stage>} or {reject: {reason: ...}}"),
    ],
)  # fmt: skip
def test_rejections_need_an_archived_stage_and_a_live_reason(body: str, expected: str) -> None:
    assert refusal(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("stage: Phone Screen\nprio: 3\n", "line 5: unknown key 'prio' in rule 'r' (keys: name, job, plan, stage, "
         "priority, mode, interviews, require, on_pass, on_fail, quiet_minutes, timeout_days, debrief_channel)"),
        ("stage: Phone Screen\npriority: high\n", "line 5: priority must be a whole number, not 'high'"),
        ("stage: Phone Screen\npriority: true\n", "line 5: priority must be a whole number, not true"),
        ("stage: Phone Screen\nmode: automatic\n", "line 5: unknown mode 'automatic' (modes: auto, approve, "
         "dry_run)"),
        ("stage: Phone Screen\nquiet_minutes: -5\n", "line 5: quiet_minutes must be at least 0, not -5"),
        ("stage: Phone Screen\ntimeout_days: 0\n", "line 5: timeout_days must be at least 1, not 0"),
        ("stage: Phone Screen\ndebrief_channel: '#hiring'\n", "line 5: debrief_channel must be a Slack channel id "
         "like C0123ABCD, not '#hiring'"),
        ("stage: Phone Screen\nrequire: {field: Level}\n", "line 5: require must be a list, not a mapping"),
        ("stage: Phone Screen\nrequire:\n  - {field: Overall recommendation, each: 3}\non_pass: hold\non_pass: "
         "advance\n", "line 8: 'on_pass' is given twice (first on line 7)"),
    ],
)  # fmt: skip
def test_unknown_keys_and_values_of_the_wrong_kind_are_refused(body: str, expected: str) -> None:
    assert refusal("job: Senior Backend Engineer\n" + body) == expected


def test_every_problem_of_the_file_is_reported_in_line_order() -> None:
    found = problems(
        """\
        rules:
          - name: a
            job: Senior Backend Engineer
            stage: Onsight
            mode: sometimes
          - job: Senior Backend Engineer
            stage: Phone Screen
          - name: c
            job: Senior Backend Engineer
            stage: Phone Screen
            require:
              - {field: Overall recommendation, each: 9}
              - {field: Level, each: ">= 2"}
        """
    )
    assert [p.split(":")[0] for p in found] == ["line 4", "line 5", "line 6", "line 12", "line 13"]
    assert found[2] == "line 6: a rule needs a name"


def test_rules_that_could_both_match_at_the_same_priority_are_refused() -> None:
    text = """\
        rules:
          - name: a
            job: Senior Backend Engineer
            stage: Phone Screen
          - name: every-job
            job: "*"
            plan: Engineering plan
            stage: Phone Screen
          - name: other-stage
            job: Senior Backend Engineer
            stage: Onsite
            on_pass: hold
          - name: b
            job: job-backend
            stage: Phone Screen
    """
    assert problems(text) == [
        "line 13: rules 'a' (line 2) and 'b' (line 13) could both match job 'Senior Backend Engineer', plan "
        "'Engineering plan', stage 'Phone Screen' at the same priority (0): give one a higher priority"
    ]
    assert (
        len(written(textwrap.dedent(text) + "    priority: 1\n")) == 4
    )  # b comes first now; the every-job rule never ties
    [every] = problems(textwrap.dedent(text).replace("job: job-backend", "job: '*'\n    plan: Engineering plan"))
    assert every.startswith("line 13: rules 'every-job' (line 5) and 'b' (line 13) could both match every job")


def test_a_name_is_used_once() -> None:
    text = "rules:\n  - name: a\n    stage: Phone Screen\n    job: Senior Backend Engineer\n    priority: 1\n"
    assert problems(text + "  - name: a\n    stage: Onsite\n    job: Senior Backend Engineer\n    on_pass: hold\n") == [
        "line 6: rule name 'a' is used twice (first on line 2)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1: the file is empty: it holds `rules:` and a list of rules"),
        ("# nothing\n", "line 1: the file is empty: it holds `rules:` and a list of rules"),
        ("- name: a\n", "line 1: the file must be a mapping with a `rules:` list, not a list"),
        ("rule: []\n", "line 1: unknown key 'rule' in the file (keys: rules)"),
        ("rules: {name: a}\n", "line 1: rules must be a list, not a mapping"),
        ("rules:\n  - just a name\n", "line 2: each rule must be a mapping of keys, not 'just a name'"),
        ("rules:\n  - name: a\n    stage: [Onsite\n", "line 4: not valid YAML: while parsing a flow "
         "sequence, expected ',' or ']', but got '<stream end>'"),
        ("rules: []\n---\nrules: []\n", "line 2: not valid YAML: expected a single document in the stream, but "
         "found another document"),
        ("rules:\n  - name: [a]\n    stage: Phone Screen\n    job: Senior Backend Engineer\n",
         "line 2: name must be a text, not a list"),
        ("rules:\n  - {name: a, stage: Onsite, job: Senior Backend Engineer, on_pass: hold, 1: x}\n",
         "line 2: keys must be plain names"),
    ],
)  # fmt: skip
def test_the_shape_of_the_file_is_checked(text: str, expected: str) -> None:
    assert problems(text) == [expected]
