"""Sentry, end to end against a local collector: what leaves the process names the failure (its type, file
and function) and nothing it was about (messages, local variables, request bodies, names, e-mails)."""

from __future__ import annotations

import gzip
import http.server
import threading
import zlib
from collections.abc import Iterator
from typing import ClassVar

import pytest
import sentry_sdk

from shared.embedded import free_port
from shared.error_reporting import init_error_reporting, report_exception, scrub_event
from tests.helpers import make_settings

SECRET_STUFF = ("casey.jones@example.com", "Casey Jones", "Strong hire: brilliant", "xoxb-0000-secret")


class Collector(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        encoding = self.headers.get("content-encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]

            body = brotli.decompress(body)
        Collector.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    Collector.received = []
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://publickey@127.0.0.1:{port}/42"
    sentry_sdk.get_client().close()
    server.shutdown()
    server.server_close()


def fail_with_personal_data() -> None:
    candidate = {"name": SECRET_STUFF[1], "email": SECRET_STUFF[0], "answer": SECRET_STUFF[2]}  # noqa: F841
    raise ValueError(f"Ashby refused {SECRET_STUFF[0]} ({SECRET_STUFF[1]}): {SECRET_STUFF[2]} {SECRET_STUFF[3]}")


def test_an_error_reaches_sentry_scrubbed(collector: str) -> None:
    settings = make_settings(None, None, sentry_dsn=collector, sentry_release="fleet@1.2.3")
    assert init_error_reporting(settings, role="worker-default")
    sentry_sdk.add_breadcrumb(message=f"posted to {SECRET_STUFF[0]}", data={"text": SECRET_STUFF[2]})
    try:
        fail_with_personal_data()
    except ValueError as exc:
        report_exception(exc)
    sentry_sdk.flush(timeout=5)
    sent = b"".join(Collector.received)
    assert b"ValueError" in sent and b"fail_with_personal_data" in sent and b"test_error_reporting.py" in sent
    assert b"worker-default" in sent and b"fleet@1.2.3" in sent
    for secret in SECRET_STUFF:
        assert secret.encode() not in sent, secret


def test_without_a_dsn_nothing_starts() -> None:
    assert not init_error_reporting(make_settings(None, None), role="ingress")


def test_requests_keep_only_their_method() -> None:
    event = {
        "request": {"method": "POST", "url": "https://x/webhooks/ashby?email=a@b.c", "data": "{...}", "headers": {}},
        "logentry": {"message": "failed for %s", "params": ["a@b.c"], "formatted": "failed for a@b.c"},
        "extra": {"body": "..."},
        "user": {"email": "a@b.c"},
    }
    assert scrub_event(event) == {
        "request": {"method": "POST"},
        "logentry": {"message": "failed for %s", "formatted": "failed for %s"},
    }
