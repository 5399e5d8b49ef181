"""Running the Ashby simulator over HTTP: `serve` for `fleet sim ashby`."""

from __future__ import annotations

import uvicorn

from sim.ashby.app import create_app
from sim.ashby.org import AshbyOrg
from sim.ashby.seed import seed_org
from sim.ashby.webhooks import WebhookTarget


async def serve(
    *,
    host: str,
    port: int,
    api_key: str,
    webhook_url: str | None,
    webhook_secret: str | None,
    org: AshbyOrg | None = None,
) -> None:
    """Serve until cancelled; point ASHBY_BASE_URL at http://host:port. Without `org`, `seed_org()`'s org.

    With `webhook_url`, schedule and stage changes are sent there in the background, signed with
    `webhook_secret` (as ASHBY_WEBHOOK_SECRET on the receiving side)."""
    webhook = WebhookTarget(webhook_url, webhook_secret) if webhook_url else None
    app = create_app(org or seed_org().org, api_key=api_key, webhook=webhook)
    config = uvicorn.Config(app, host=host, port=port, log_level="info", lifespan="on")
    await uvicorn.Server(config).serve()
