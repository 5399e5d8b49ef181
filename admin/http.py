"""HTTP plumbing for the admin service: bounded form reading, HTML responses and the security headers.

Forms are read by hand (`application/x-www-form-urlencoded` only, at most 64 KiB) rather than through
python-multipart: the dashboard posts nothing else, and one dependency fewer is one less parser exposed.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_FORM_BYTES = 64 * 1024

# Pages hold no script at all; styles come from our own stylesheet; forms post only to this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class FormRefused(Exception):
    """The request body is not a form this service reads (too large, or another content type)."""


async def read_form(request: Request) -> dict[str, str]:
    """The posted fields (the first value of each), read once per request and kept on it."""
    cached: dict[str, str] | None = getattr(request.state, "form", None)
    if cached is not None:
        return cached
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormRefused("form larger than 64 KiB")
    if body and content_type != "application/x-www-form-urlencoded":
        raise FormRefused("expected application/x-www-form-urlencoded")
    form: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(name, value)
    request.state.form = form
    return form


def int_param(request: Request, name: str, *, default: int, high: int) -> int:
    """A positive whole number from the query string, at most `high`; `default` when absent or not a number."""
    raw = request.query_params.get(name, "")
    return min(max(int(raw), 1), high) if raw.isdigit() and len(raw) < 10 else default


def html_page(content: str, *, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status_code)


def see_other(path: str) -> RedirectResponse:
    """After a POST: the browser loads `path` with GET (a refresh does not post again)."""
    return RedirectResponse(path, status_code=303)


def local_path(candidate: str | None, default: str = "/") -> str:
    """`candidate` if it is a path on this site, else `default`: a sign-in link must not send anyone elsewhere."""
    if candidate and candidate.startswith("/") and not candidate.startswith(("//", "/\\")) and candidate.isprintable():
        return candidate
    return default


class SecurityHeadersMiddleware:
    """Every answer: no framing, no sniffing, no referrer, our CSP; and nothing signed-in is cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["content-security-policy"] = CONTENT_SECURITY_POLICY
                headers["x-frame-options"] = "DENY"
                headers["x-content-type-options"] = "nosniff"
                headers["referrer-policy"] = "no-referrer"
                if not scope["path"].startswith("/static/"):
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
