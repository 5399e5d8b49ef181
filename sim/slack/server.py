"""Running the Slack simulator over HTTP: `serve` for `fleet sim slack`.

slack_sdk's AsyncWebClient talks aiohttp, so tests need a real socket rather than an ASGI transport.
"""

from __future__ import annotations

import uvicorn

from sim.slack.app import create_app
from sim.slack.state import SlackState


async def serve(
    *,
    host: str,
    port: int,
    token: str,
    signing_secret: str,
    interactions_url: str | None,
    state: SlackState | None = None,
) -> None:
    """Serve the simulator until cancelled or interrupted; point SLACK_BASE_URL at http://host:port/api/."""
    app = create_app(
        state or SlackState(),
        token=token,
        signing_secret=signing_secret,
        interactions_url=interactions_url,
        public_url=f"http://{host}:{port}",
    )
    config = uvicorn.Config(app, host=host, port=port, log_level="info", lifespan="on")
    await uvicorn.Server(config).serve()
