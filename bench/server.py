"""Serve either the real ingress or a bare Starlette endpoint the way `fleet ingress` serves (`ingress.server.serve`:
uvicorn on httptools with the header deadline, uvloop, the keep-alive and connection limits), JSON log lines to
stdout.

python -m bench.server ingress|bare PORT
"""

from __future__ import annotations

import os
import sys

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ingress.app import create_app
from ingress.server import serve
from shared.logs import configure_logging
from shared.settings import load_settings


async def bare_endpoint(request: Request) -> Response:
    await request.body()
    return Response(status_code=204)


def main() -> None:
    which, port = sys.argv[1], int(sys.argv[2])
    settings = load_settings(os.environ)
    configure_logging(level=settings.log_level, fmt="json")
    app = (
        create_app(settings)
        if which == "ingress"
        else Starlette(routes=[Route("/webhooks/ashby", bare_endpoint, methods=["POST"])])
    )
    sys.exit(serve(settings, host="127.0.0.1", port=port, app=app))


if __name__ == "__main__":
    main()
