"""The ingress: a thin Starlette app that verifies, decodes, enqueues and answers. No database pool."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable

from arq.connections import ArqRedis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from ingress.ashby import ashby_webhook
from ingress.health import health, ready
from ingress.http import RequestLogMiddleware
from ingress.slack import slack_interactions
from shared.clients.slack import SlackClient
from shared.jobs import batching_queue, queue_redis
from shared.ratelimit import RedisRateLimiter
from shared.settings import Settings


def create_app(
    settings: Settings,
    *,
    queue: ArqRedis | None = None,
    slack: SlackClient | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """Build the app. Tests inject `queue` and `slack`; otherwise the lifespan builds them from settings."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if queue is None:
                if settings.redis_url is None:
                    raise RuntimeError("REDIS_URL is required to run the ingress")
                app.state.queue = batching_queue(queue_redis(settings.redis_url))
                stack.push_async_callback(app.state.queue.aclose)
            if slack is None:
                app.state.slack = SlackClient(
                    token=settings.slack_bot_token,
                    base_url=settings.slack_base_url,
                    limiter=RedisRateLimiter(app.state.queue),
                )
                stack.push_async_callback(app.state.slack.aclose)
            yield

    app = Starlette(
        routes=[
            Route("/webhooks/ashby", ashby_webhook, methods=["POST"]),
            Route("/slack/interactions", slack_interactions, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
        ],
        middleware=[Middleware(RequestLogMiddleware)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    if queue is not None:
        app.state.queue = queue
    if slack is not None:
        app.state.slack = slack
    return app
