"""The ingress: a thin Starlette app that verifies, decodes, enqueues and answers. No database pool."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from arq.connections import ArqRedis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ingress.ashby import AshbyWebhook
from ingress.health import health, metrics_endpoint, ready
from ingress.http import RequestLogMiddleware
from ingress.slack import slack_interactions
from ingress.slack_commands import slack_commands
from ingress.slack_events import slack_events
from ingress.state import IngressState
from shared.clients.slack import SlackClient
from shared.jobs import enqueue_batcher, queue_redis
from shared.metrics import Metrics, build_metrics
from shared.ratelimit import RedisRateLimiter
from shared.settings import Settings

ASHBY_WEBHOOK = "/webhooks/ashby"


class Ingress(Starlette):
    """The Starlette app, except that POST /webhooks/ashby, the one request that comes by the thousand, goes
    straight to its handler behind the request log (request id, metrics, canonical line, 500 on an exception):
    Starlette's error and exception middleware and its router cost more CPU than the handler's own work.
    Every other request, and any other method on that path (405), takes the usual way."""

    def __init__(self, *, webhook: ASGIApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.webhook = webhook

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == ASHBY_WEBHOOK and scope["method"] == "POST":
            scope["app"] = self
            await self.webhook(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    queue: ArqRedis | None = None,
    slack: SlackClient | None = None,
    clock: Callable[[], float] = time.time,
    metrics: Metrics | None = None,
) -> Ingress:
    """Build the app. Tests inject `queue` and `slack` (the state is ready at once, for clients that do not run
    the lifespan); otherwise the lifespan builds them from settings and closes them on shutdown."""

    counted = metrics or build_metrics()

    def state(queue: ArqRedis, slack: SlackClient) -> IngressState:
        batcher = enqueue_batcher(queue)
        return IngressState(settings=settings, clock=clock, queue=queue, batcher=batcher, slack=slack, metrics=counted)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            redis = queue
            if redis is None:
                if settings.redis_url is None:
                    raise RuntimeError("REDIS_URL is required to run the ingress")
                redis = queue_redis(settings.redis_url)
                stack.push_async_callback(redis.aclose)
            client = slack
            if client is None:
                client = SlackClient(
                    token=settings.slack_bot_token, base_url=settings.slack_base_url, limiter=RedisRateLimiter(redis)
                )
                stack.push_async_callback(client.aclose)
            app.state.ingress = state(redis, client)
            yield

    webhook = AshbyWebhook()
    app = Ingress(
        webhook=RequestLogMiddleware(webhook, metrics=counted),
        routes=[
            Route(ASHBY_WEBHOOK, webhook, methods=["POST"]),
            Route("/slack/interactions", slack_interactions, methods=["POST"]),
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/slack/commands", slack_commands, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        middleware=[Middleware(RequestLogMiddleware, metrics=counted)],
        lifespan=lifespan,
    )
    if queue is not None:  # given by a test, whose client may not run the lifespan
        # Without a Slack client given, one that opens no connection until a handler needs it.
        app.state.ingress = state(queue, slack or SlackClient(token=settings.slack_bot_token, limiter=None))
    return app
