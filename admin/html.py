"""HTML built in Python: every value is escaped unless it is already `Html` (markup this module built).

Invariant: text from the database, the request or the environment reaches a page only through `esc` (or a
builder that calls it), so a name like `<script>` shows as text. No JavaScript anywhere: forms post, links
navigate, `<details>` folds.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime

from admin.auth import CSRF_FIELD


class Html(str):
    """Markup that is safe to insert as is."""


def esc(value: object) -> Html:
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[object], separator: str = "") -> Html:
    return Html(separator.join(esc(p) for p in parts))


def tag(element: str, /, *children: object, **attrs: object) -> Html:
    """`<element attrs>children</element>`; `class_` stands for `class`, `True` for a bare attribute, `None` or `False`
    for none, and underscores in other names become dashes (`aria_label`)."""
    rendered = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        attr = "class" if key == "class_" else key.replace("_", "-")
        rendered.append(f" {attr}" if value is True else f' {attr}="{esc(value)}"')
    return Html(f"<{element}{''.join(rendered)}>{join(children)}</{element}>")


def void(element: str, /, **attrs: object) -> Html:
    return Html(tag(element, **attrs).removesuffix(f"</{element}>"))


def when(at: datetime | None) -> Html:
    """A timestamp in UTC, to the minute, with the full value for machines."""
    if at is None:
        return esc("—")
    return tag("time", f"{at:%Y-%m-%d %H:%M} UTC", datetime=at.isoformat())


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, empty: str, caption: str | None = None) -> Html:
    body = [tag("tr", *(tag("td", cell) for cell in row)) for row in rows]
    if not body:
        return tag("p", empty, class_="empty")
    head = tag("thead", tag("tr", *(tag("th", h, scope="col") for h in headers)))
    return tag("table", tag("caption", caption) if caption else "", head, tag("tbody", *body))


def hidden(name: str, value: object) -> Html:
    return void("input", type="hidden", name=name, value=value)


def post_form(action: str, csrf: str, *fields: object, button: str, class_: str | None = None) -> Html:
    """A form that changes something: it carries the session's CSRF token."""
    return tag(
        "form",
        hidden(CSRF_FIELD, csrf),
        *fields,
        tag("button", button, type="submit"),
        method="post",
        action=action,
        class_=class_,
    )


def field(label: str, name: str, *, value: str = "", required: bool = False, placeholder: str = "") -> Html:
    return tag(
        "label",
        label,
        " ",
        void("input", type="text", name=name, value=value, required=required, placeholder=placeholder or None),
    )


NAV = (
    ("/", "Overview"),
    ("/reminders", "Reminders"),
    ("/feedback", "Feedback"),
    ("/people", "People"),
    ("/decisions", "Decisions"),
    ("/rules", "Rules"),
    ("/dead-letters", "Dead letters"),
)


def layout(title: str, *content: object, path: str, csrf: str | None, notice: str | None = None) -> Html:
    """The page around `content`: navigation and sign-out when signed in (`csrf` given)."""
    nav = ""
    if csrf is not None:
        links = [tag("a", label, href=href, aria_current="page" if href == path else None) for href, label in NAV]
        nav = tag("nav", *links, post_form("/logout", csrf, button="Sign out", class_="signout"))
    page = tag(
        "html",
        tag(
            "head",
            void("meta", charset="utf-8"),
            void("meta", name="viewport", content="width=device-width, initial-scale=1"),
            tag("title", f"{title} · fleet admin"),
            void("link", rel="stylesheet", href="/static/admin.css"),
        ),
        tag(
            "body",
            tag("header", tag("span", "fleet admin", class_="brand"), nav),
            tag("main", tag("h1", title), tag("p", notice, class_="notice", role="status") if notice else "", *content),
        ),
        lang="en",
    )
    return Html("<!doctype html>\n" + page)


STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f7f8fa; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1.2rem; background: #1d2330; }
header .brand { color: #fff; font-weight: 600; }
nav { display: flex; flex-wrap: wrap; align-items: center; gap: .9rem; }
nav a { color: #c9d2e3; text-decoration: none; }
nav a[aria-current=page] { color: #fff; border-bottom: 2px solid #7aa2f7; }
nav form.signout { margin-left: 1rem; }
main { padding: 1rem 1.2rem 3rem; max-width: 72rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; background: #fff; margin: .5rem 0; }
th, td { text-align: left; padding: .35rem .7rem; border-bottom: 1px solid #e3e6ec; vertical-align: top; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
.tiles { display: flex; flex-wrap: wrap; gap: .8rem; }
.tile { background: #fff; border: 1px solid #e3e6ec; padding: .6rem .9rem; min-width: 9rem; }
.tile strong { display: block; font-size: 1.5rem; }
.tile a { display: block; font-size: .85rem; }
.notice { background: #e6f4ea; border: 1px solid #9bd3ae; padding: .5rem .8rem; }
.error { background: #fdecea; border: 1px solid #f1a8a0; padding: .5rem .8rem; }
.empty { color: #5b6475; }
form { display: inline-flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin: 0; }
input[type=text], input[type=password] { padding: .25rem .4rem; }
button { padding: .25rem .7rem; cursor: pointer; }
pre { background: #f0f2f5; padding: .5rem; max-width: 48rem; overflow-x: auto; }
svg { background: #fff; border: 1px solid #e3e6ec; max-width: 100%; height: auto; }
"""
