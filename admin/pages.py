"""The dashboard's pages: each reads its figures, renders HTML on the server, and works without JavaScript.

A form posts, the handler acts (`admin.operations`) and redirects to a page that says what happened
(`?notice=`, chosen from a fixed list), so a refresh never posts twice.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from admin.access import csrf_of, signed_in
from admin.chart import weekly_chart
from admin.html import Html, duration, field, hidden, layout, percent, post_form, table, tag, void, when
from admin.http import html_page, int_param, read_form, see_other
from admin.operations import InvalidInput, map_person, parse_mapping, replay_dead_letter, resync
from admin.overview import DEFAULT_WEEKS, load_overview
from admin.state import state_of
from shared.db import advancement, dead_letters, stats
from shared.db.stats import FeedbackFigures
from shared.people import list_unmatched

NOTICES = {
    "replayed": "Dead letter {id} is queued again.",
    "replay_gone": "Dead letter {id} was replayed already, or does not exist.",
    "mapped": "The Ashby user is mapped to Slack by hand; reminders reach them from now on.",
    "resync": "Schedule reconciliation and feedback sync are queued; a worker runs them within seconds.",
}


def _notice(request: Request) -> str | None:
    template = NOTICES.get(request.query_params.get("notice", ""))
    if template is None:
        return None
    wanted = request.query_params.get("id", "")
    return template.format(id=wanted if wanted.isdigit() else "?")


def _page(request: Request, title: str, *content: object, problem: str | None = None, status: int = 200) -> Response:
    body = [tag("p", problem, class_="error", role="alert") if problem else "", *content]
    return html_page(
        layout(title, *body, path=request.url.path, csrf=csrf_of(request), notice=_notice(request)), status_code=status
    )


def _tiles(*tiles: tuple[str, object, str | None]) -> Html:
    return tag(
        "div",
        *(
            tag("div", tag("strong", value), label, tag("a", "details", href=href) if href else "", class_="tile")
            for label, value, href in tiles
        ),
        class_="tiles",
    )


@signed_in
async def overview(request: Request) -> Response:
    o = await load_overview(state_of(request))
    return _page(
        request,
        "Overview",
        _tiles(
            ("reminders sent", o.reminders["sent"], "/reminders"),
            ("reminders pending", o.reminders["pending"] + o.reminders["sending"], "/reminders"),
            (f"feedback complete ({DEFAULT_WEEKS} weeks)", percent(o.feedback.completion), "/feedback"),
            ("median time to feedback", duration(o.feedback.median_s), "/feedback"),
            ("people unmatched in Slack", o.unmatched_people, "/people"),
            ("decisions awaiting approval", o.decisions.get("awaiting_approval", 0), "/decisions"),
            ("dead letters", o.dead_letters, "/dead-letters"),
        ),
        tag("h2", "Time to feedback"),
        weekly_chart(o.by_week),
        tag("h2", "Queues and syncs"),
        table(["queue", "jobs waiting"], sorted(o.queues.items()), empty="No queues."),
        table(
            ["sync", "last completed pass", "kind"],
            [(s.name, when(s.synced_at), "full" if s.full_sync else "incremental") for s in o.syncs],
            empty="No sync has completed yet.",
        ),
        tag("p", "Reconcile schedules and sync feedback from Ashby now, instead of at the workers' next tick:"),
        post_form("/resync", csrf_of(request), button="Resync from Ashby now"),
    )


@signed_in
async def reminders(request: Request) -> Response:
    counts = await stats.reminder_counts(state_of(request).pool)
    kinds = [
        (kind, *(counts.by_kind.get(kind, {}).get(s, 0) for s in stats.REMINDER_STATES))
        for kind in stats.REMINDER_KINDS
        if kind in counts.by_kind
    ]
    return _page(
        request,
        "Reminders",
        table(["state", "reminders"], counts.by_state.items(), empty="No reminders.", caption="By state"),
        table(["kind", *stats.REMINDER_STATES], kinds, empty="No reminders yet.", caption="By kind"),
        tag("h2", "Why reminders were skipped or failed"),
        table(["state", "reason", "reminders"], counts.reasons, empty="None skipped or failed."),
    )


def _figure_rows(rows: list[FeedbackFigures]) -> list[tuple[object, ...]]:
    return [(r.label, r.owed, r.received, percent(r.completion), duration(r.median_s)) for r in rows]


@signed_in
async def feedback(request: Request) -> Response:
    state = state_of(request)
    weeks_back = int_param(request, "weeks", default=DEFAULT_WEEKS, high=104)
    now = state.now()
    since = now - timedelta(weeks=weeks_back)
    async with state.pool.acquire() as conn:
        total = await stats.feedback_total(conn, since=since, until=now)
        by_week = await stats.feedback_by_week(conn, since=since, until=now)
        by_interview = await stats.feedback_by_interview(conn, since=since, until=now)
        by_interviewer = await stats.feedback_by_interviewer(conn, since=since, until=now)
    headers = ["owed", "received", "complete", "median time to feedback"]
    window = tag(
        "form",
        tag("label", "Weeks ", void("input", type="number", name="weeks", min=1, max=104, value=weeks_back)),
        tag("button", "Show", type="submit"),
        method="get",
        action="/feedback",
    )
    return _page(
        request,
        "Feedback",
        tag(
            "p",
            f"Interviews that ended in the last {weeks_back} weeks. Time to feedback runs from the end of the "
            "interview to the feedback's submission in Ashby.",
        ),
        window,
        table(["", *headers], _figure_rows([total]), empty=""),
        weekly_chart(by_week),
        table(["week starting", *headers], _figure_rows(by_week), empty="No weeks.", caption="Per week"),
        tag("h2", "Per interview"),
        table(["interview", *headers], _figure_rows(by_interview), empty="No interviews ended in this window."),
        tag("h2", "Per interviewer"),
        table(["interviewer", *headers], _figure_rows(by_interviewer), empty="No interviewers in this window."),
    )


def _mapping_form(csrf: str, ashby_user_id: str | None = None) -> Html:
    who = (
        hidden("ashby_user_id", ashby_user_id)
        if ashby_user_id
        else field("Ashby user id", "ashby_user_id", required=True)
    )
    return post_form(
        "/people/map",
        csrf,
        who,
        field("Slack user id", "slack_user_id", required=True, placeholder="U0123ABCD"),
        field("Time zone", "tz", placeholder="Europe/Berlin (optional)"),
        button="Map",
    )


@signed_in
async def people(request: Request) -> Response:
    return await _people(request)


async def _people(request: Request, *, problem: str | None = None, status: int = 200) -> Response:
    state = state_of(request)
    csrf = csrf_of(request)
    rows = await list_unmatched(state.pool, now=state.now())
    return _page(
        request,
        "People",
        tag(
            "p",
            "Interviewers who cannot be reminded in Slack, and why. Map one by hand: lookups never change a "
            "manual mapping.",
        ),
        table(
            ["Ashby user", "name", "email", "status", "reason", "upcoming interviews", "map to Slack"],
            [
                (
                    r.ashby_user_id,
                    r.name or "—",
                    r.email or "—",
                    r.status,
                    r.reason or "—",
                    r.upcoming_interviews,
                    _mapping_form(csrf, r.ashby_user_id),
                )
                for r in rows
            ],
            empty="Every interviewer is matched to a Slack account.",
        ),
        tag("h2", "Map any Ashby user"),
        _mapping_form(csrf),
        problem=problem,
        status=status,
    )


@signed_in
async def map_person_form(request: Request) -> Response:
    form = await read_form(request)
    try:
        mapping = parse_mapping(form.get("ashby_user_id"), form.get("slack_user_id"), form.get("tz"))
    except InvalidInput as invalid:
        return await _people(request, problem=str(invalid), status=400)
    await map_person(state_of(request), mapping)
    return see_other("/people?notice=mapped")


def _evidence(value: dict[str, object]) -> Html:
    return tag(
        "details", tag("summary", "evidence"), tag("pre", json.dumps(value, indent=2, sort_keys=True, default=str))
    )


@signed_in
async def decisions(request: Request) -> Response:
    state = state_of(request)
    application_id = request.query_params.get("application_id", "").strip() or None
    rows = await advancement.decisions(state.pool, application_id=application_id, limit=200)
    search = tag(
        "form",
        field("Application id", "application_id", value=application_id or ""),
        tag("button", "Filter", type="submit"),
        method="get",
        action="/decisions",
    )
    return _page(
        request,
        "Decisions",
        tag("p", "What the advancement rules decided, newest first, with the evidence each decision was based on."),
        search,
        table(
            ["when", "application", "rule", "mode", "outcome", "state", "decided by", "reason", "evidence"],
            [
                (
                    when(d.created_at),
                    tag("a", d.application_id, href=f"/decisions?{urlencode({'application_id': d.application_id})}"),
                    f"{d.rule_name} v{d.rule_version}",
                    d.mode,
                    d.outcome,
                    d.state,
                    d.decided_by or "—",
                    d.reason,
                    _evidence(d.evidence),
                )
                for d in rows
            ],
            empty="No decisions yet.",
        ),
    )


@signed_in
async def rules(request: Request) -> Response:
    state = state_of(request)
    async with state.pool.acquire() as conn:
        versions = await stats.rule_versions(conn)
        activity = {(a.rule_name, a.rule_version): a for a in await stats.rule_activity(conn)}
    rows = []
    for v in versions:
        decided = activity.get((v.name, v.version))
        outcomes = decided.outcomes if decided else {}
        rows.append(
            (
                v.name,
                v.version,
                v.mode,
                f"{v.job} · {v.plan} · {v.stage}",
                "active" if v.active else tag("span", "inactive since ", when(v.deactivated_at)),
                *(outcomes.get(o, 0) for o in ("advance", "reject", "hold")),
                when(decided.last_decided) if decided else "—",
                tag("details", tag("summary", "as written"), tag("pre", v.source)),
            )
        )
    return _page(
        request,
        "Rules",
        tag(
            "p",
            "Every version of every advancement rule (",
            tag("code", "fleet rules apply"),
            " writes them; docs/rules.md), the active ones first, with what each version decided.",
        ),
        table(
            [
                "rule",
                "version",
                "mode",
                "job · plan · stage",
                "status",
                "advance",
                "reject",
                "hold",
                "last decision",
                "rule file",
            ],
            rows,
            empty="No rules are stored: write a rules file and apply it with fleet rules apply.",
        ),
    )


@signed_in
async def dead_letter_list(request: Request) -> Response:
    state = state_of(request)
    csrf = csrf_of(request)
    letters = await dead_letters.list_open(state.pool, limit=500)
    return _page(
        request,
        "Dead letters",
        tag(
            "p",
            "Jobs that failed for good. Replay one once its cause is fixed: it runs again with the arguments "
            "it failed with.",
        ),
        table(
            ["id", "failed", "job", "queue", "about", "error", "attempts", ""],
            [
                (
                    letter.id,
                    when(letter.failed_at),
                    letter.job_name,
                    letter.queue,
                    letter.subject or "—",
                    letter.error,
                    letter.attempts,
                    post_form(f"/dead-letters/{letter.id}/replay", csrf, button="Replay"),
                )
                for letter in letters
            ],
            empty="No dead letters.",
        ),
    )


@signed_in
async def replay_form(request: Request) -> Response:
    dead_letter_id = request.path_params["dead_letter_id"]
    result = await replay_dead_letter(state_of(request), dead_letter_id)
    notice = "replayed" if result.job_id is not None else "replay_gone"
    return see_other(f"/dead-letters?notice={notice}&id={dead_letter_id}")


@signed_in
async def resync_form(request: Request) -> Response:
    await resync(state_of(request))
    return see_other("/?notice=resync")
