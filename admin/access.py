"""Access to the admin service, per request: signing in and out, and the guards every route sits behind.

Dashboard pages need a session (else they send the browser to sign in); the API takes the admin token as
`Authorization: Bearer` or a session. A state-changing request with a session must carry the session's
CSRF token (a form field, or the `X-CSRF-Token` header for the API); the token compare and the cookie
signature are `admin.auth`'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from admin.auth import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Session, bearer_token, token_matches
from admin.html import Html, layout, tag, void
from admin.http import FormRefused, html_page, local_path, read_form, see_other
from admin.state import state_of
from ingress.http import error

Handler = Callable[[Request], Awaitable[Response]]
SAFE_METHODS = ("GET", "HEAD")


def session_of(request: Request) -> Session | None:
    state = state_of(request)
    return state.sessions.verify(request.cookies.get(SESSION_COOKIE), now=state.clock())


def csrf_of(request: Request) -> str:
    """The CSRF token of the request's session (for a page's forms); only inside `signed_in`."""
    session: Session = request.state.session
    return state_of(request).sessions.csrf_token(session)


def signed_in(handler: Handler) -> Handler:
    """A dashboard route: a session, and for a POST its CSRF token in the form."""

    async def guarded(request: Request) -> Response:
        session = session_of(request)
        if session is None:
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return see_other("/login?next=" + quote(wanted if request.method in SAFE_METHODS else "/", safe=""))
        if request.method not in SAFE_METHODS:
            try:
                given = (await read_form(request)).get(CSRF_FIELD)
            except FormRefused as refused:
                return _refusal(400, str(refused))
            if not state_of(request).sessions.csrf_matches(session, given):
                return _refusal(403, "This form is stale or did not come from this dashboard: reload the page.")
        request.state.session = session
        return await handler(request)

    return guarded


def api_access(handler: Handler) -> Handler:
    """An API route: the admin token as a bearer token, or a session (with `X-CSRF-Token` unless it only reads)."""

    async def guarded(request: Request) -> Response:
        state = state_of(request)
        token = bearer_token(request.headers.get("authorization"))
        if token is not None:
            if not token_matches(token, state.settings.admin_token):
                return error(401, "invalid admin token", **{"WWW-Authenticate": "Bearer"})
            return await handler(request)
        session = session_of(request)
        if session is None:
            return error(401, "admin token required (Authorization: Bearer)", **{"WWW-Authenticate": "Bearer"})
        if request.method not in SAFE_METHODS and not state.sessions.csrf_matches(
            session, request.headers.get(CSRF_HEADER)
        ):
            return error(403, "missing or wrong X-CSRF-Token for this session")
        return await handler(request)

    return guarded


def _refusal(status: int, message: str) -> Response:
    return html_page(layout("Refused", tag("p", message, class_="error"), path="", csrf=None), status_code=status)


def signin_page(*, next_path: str, problem: str | None = None) -> Html:
    form = tag(
        "form",
        void("input", type="hidden", name="next", value=next_path),
        tag(
            "label",
            "Admin token ",
            void("input", type="password", name="token", required=True, autocomplete="current-password"),
        ),
        tag("button", "Sign in", type="submit"),
        method="post",
        action="/login",
    )
    return layout(
        "Sign in",
        tag("p", problem, class_="error", role="alert") if problem else "",
        tag("p", "Sign in with the admin token (ADMIN_TOKEN) to use the dashboard."),
        form,
        path="/login",
        csrf=None,
    )


async def login_form(request: Request) -> Response:
    if session_of(request) is not None:
        return see_other(local_path(request.query_params.get("next")))
    return html_page(signin_page(next_path=local_path(request.query_params.get("next"))))


async def login(request: Request) -> Response:
    """Sign in: the admin token buys a session cookie (HttpOnly, SameSite=Strict, Secure over https)."""
    state = state_of(request)
    try:
        form = await read_form(request)
    except FormRefused as refused:
        return _refusal(400, str(refused))
    next_path = local_path(form.get("next"))
    if not token_matches(form.get("token", ""), state.settings.admin_token):
        return html_page(signin_page(next_path=next_path, problem="That is not the admin token."), status_code=401)
    response = see_other(next_path)
    response.set_cookie(
        SESSION_COOKIE,
        state.sessions.issue(now=state.clock(), nonce=state.new_nonce()),
        max_age=state.sessions.max_age_s,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


async def logout(request: Request) -> Response:
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
