"""The admin service's access rules: token compare, session cookies, CSRF, and the refusals at the HTTP edge.

The app here gets a pool and a queue that fail on any use: every request below is answered before either.
"""

from __future__ import annotations

from typing import Any, cast

import httpx
import pytest

from admin.app import create_app
from admin.auth import SESSION_COOKIE, Sessions, bearer_token, token_matches
from admin.http import local_path
from shared.settings import SettingsError, admin_token_problem, load_settings
from tests.helpers import make_settings

TOKEN = "admin-token-for-tests-0123456789abcdef"
T0 = 1_770_000_000.0


class Untouchable:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the request reached the {name!r} of a store it must not use")


def app_client(clock: float = T0, *, base_url: str = "http://admin.test") -> httpx.AsyncClient:
    app = create_app(
        make_settings(admin_token=TOKEN),
        pool=cast(Any, Untouchable()),
        queue=cast(Any, Untouchable()),
        clock=lambda: clock,
        new_nonce=lambda: "n0nce",
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


def test_token_compare_needs_the_exact_token_and_never_matches_an_empty_one() -> None:
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(TOKEN[:-1], TOKEN) and not token_matches(TOKEN + "x", TOKEN)
    assert not token_matches("", "") and not token_matches("anything", "")
    assert bearer_token(f"Bearer {TOKEN}") == TOKEN and bearer_token(f"bearer  {TOKEN} ") == TOKEN
    assert bearer_token(f"Basic {TOKEN}") is None and bearer_token("Bearer ") is None and bearer_token(None) is None


def test_a_session_cookie_verifies_until_it_expires_and_only_under_its_token() -> None:
    sessions = Sessions(TOKEN, max_age_s=3600)
    cookie = sessions.issue(now=T0, nonce="abc123")
    assert TOKEN not in cookie
    session = sessions.verify(cookie, now=T0 + 3599)
    assert session is not None and session.nonce == "abc123"
    assert sessions.verify(cookie, now=T0 + 3600) is None  # expired
    assert sessions.verify(cookie, now=T0 - 10) is None  # from the future
    assert Sessions(TOKEN + "-rotated").verify(cookie, now=T0) is None  # a new token signs everyone out
    version, issued, nonce, mac = cookie.split(".")
    for forged in (f"{version}.{int(T0) + 1800}.{nonce}.{mac}", f"{version}.{issued}.other.{mac}", cookie[:-1] + "0"):
        assert sessions.verify(forged, now=T0 + 1) is None
    for junk in (None, "", "v1.x.y.z", "a.b.c", "v2." + cookie[3:]):
        assert sessions.verify(junk, now=T0) is None


def test_csrf_tokens_belong_to_their_session() -> None:
    sessions = Sessions(TOKEN)
    mine, other = (sessions.verify(sessions.issue(now=T0, nonce=n), now=T0) for n in ("one", "two"))
    assert mine is not None and other is not None
    assert sessions.csrf_matches(mine, sessions.csrf_token(mine))
    assert not sessions.csrf_matches(mine, sessions.csrf_token(other))
    assert not sessions.csrf_matches(mine, None) and not sessions.csrf_matches(mine, "")


def test_sign_in_redirects_stay_on_this_site() -> None:
    assert local_path("/dead-letters?x=1") == "/dead-letters?x=1"
    for outside in ("https://evil.example", "//evil.example", "/\\evil.example", "evil", None, "/\nx"):
        assert local_path(outside) == "/"


def test_the_admin_token_setting() -> None:
    assert admin_token_problem(make_settings()) is not None  # unset: the admin refuses to start, anywhere
    assert admin_token_problem(make_settings(admin_token="short")) is None  # outside production, the operator's call
    assert admin_token_problem(make_settings(admin_token="short", environment="production")) is not None
    production = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": "postgresql://h/db",
        "REDIS_URL": "redis://h",
        "ASHBY_WEBHOOK_SECRET": "w" * 32,
        "SLACK_SIGNING_SECRET": "s" * 32,
        "ASHBY_API_KEY": "key",
        "SLACK_BOT_TOKEN": "xoxb-1",
    }
    assert load_settings(production).admin_token == ""  # the ingress and workers do not need it
    with pytest.raises(SettingsError, match="ADMIN_TOKEN: must be at least 32") as refused:
        load_settings({**production, "ADMIN_TOKEN": "too-short-token"})
    assert "too-short-token" not in str(refused.value)
    settings = load_settings({**production, "ADMIN_TOKEN": "t" * 32, "ADMIN_PORT": "9090"})
    assert (settings.admin_port, admin_token_problem(settings)) == (9090, None)
    assert "t" * 32 not in repr(settings)
    with pytest.raises(ValueError, match="ADMIN_TOKEN"):
        create_app(make_settings(), pool=cast(Any, Untouchable()), queue=cast(Any, Untouchable()))


async def test_sign_in_sets_a_strict_http_only_cookie_secure_over_https() -> None:
    async with app_client() as client:
        refused = await client.post("/login", data={"token": "wrong", "next": "/people"})
        assert refused.status_code == 401 and SESSION_COOKIE not in refused.cookies
        assert "That is not the admin token." in refused.text
        signed = await client.post("/login", data={"token": TOKEN, "next": "/people"})
    assert signed.status_code == 303 and signed.headers["location"] == "/people"
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie and "secure" not in cookie
    async with app_client(base_url="https://admin.test") as client:
        secure = await client.post("/login", data={"token": TOKEN, "next": "https://evil.example/"})
    assert "; secure" in secure.headers["set-cookie"].lower() and secure.headers["location"] == "/"


async def test_pages_send_strangers_to_sign_in_and_the_api_answers_401() -> None:
    async with app_client() as client:
        page = await client.get("/dead-letters?x=1")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fdead-letters%3Fx%3D1"
        assert (await client.get("/login")).status_code == 200
        for method, path in (("GET", "/api/overview"), ("POST", "/api/resync"), ("POST", "/api/dead-letters/1/replay")):
            answer = await client.request(method, path)
            assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
        wrong = await client.get("/api/overview", headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"})
        assert wrong.status_code == 401
        client.cookies.set(SESSION_COOKIE, Sessions("another-token").issue(now=T0, nonce="a"))
        assert (await client.get("/")).status_code == 303
        assert (await client.get("/health")).json() == {"status": "ok"}


async def test_a_post_without_its_sessions_csrf_token_is_refused() -> None:
    sessions = Sessions(TOKEN)
    cookie = sessions.issue(now=T0, nonce="n0nce")
    other = sessions.csrf_token(sessions.verify(sessions.issue(now=T0, nonce="other"), now=T0))  # type: ignore[arg-type]
    async with app_client() as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        for data in ({}, {"csrf_token": ""}, {"csrf_token": other}):
            for path in ("/resync", "/dead-letters/41/replay", "/people/map", "/logout"):
                answer = await client.post(path, data=data)
                assert answer.status_code == 403, (path, data)
                assert "did not come from this dashboard" in answer.text
        for path in ("/api/resync", "/api/dead-letters/41/replay"):
            assert (await client.post(path)).status_code == 403
            assert (await client.post(path, headers={"X-CSRF-Token": other})).status_code == 403
        big = await client.post("/resync", content=b"x" * (70 * 1024), headers={"content-type": "text/plain"})
        assert big.status_code == 400


async def test_every_answer_carries_the_security_headers() -> None:
    async with app_client() as client:
        answer = await client.get("/login")
        css = await client.get("/static/admin.css")
    headers = answer.headers
    assert (
        "script-src" not in headers["content-security-policy"]
        and "default-src 'none'" in headers["content-security-policy"]
    )
    assert (headers["x-frame-options"], headers["x-content-type-options"], headers["referrer-policy"]) == (
        "DENY",
        "nosniff",
        "no-referrer",
    )
    assert headers["cache-control"] == "no-store" and css.headers["cache-control"] == "max-age=3600"
    assert "<script" not in answer.text and css.headers["content-type"].startswith("text/css")
