"""How `fleet admin` serves the app: uvicorn, until SIGINT/SIGTERM.

Behind a TLS-terminating proxy, set FORWARDED_ALLOW_IPS to the proxy's address (uvicorn's own variable) so
the app sees https and marks the session cookie Secure.
"""

from __future__ import annotations

import contextlib
import sys

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from admin.app import create_app
from shared.settings import Settings, admin_token_problem


def serve(settings: Settings, *, host: str, port: int) -> int:
    """Run the admin service; the process exit code."""
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        ws="none",
        timeout_keep_alive=settings.ingress_keepalive_s,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=True,
    )
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else STARTUP_FAILURE


def run_admin(settings: Settings, *, host: str, port: int) -> int:
    """`fleet admin`: refuses to start without a usable ADMIN_TOKEN or without PostgreSQL and Redis."""
    problems = [admin_token_problem(settings)]
    problems += [f"{name} must be set" for name in ("DATABASE_URL", "REDIS_URL") if not getattr(settings, name.lower())]
    if any(problems):
        print("\n".join(p for p in problems if p), file=sys.stderr)
        return 2
    return serve(settings, host=host, port=port)
