"""The admin app: routes, and the lifespan that builds its PostgreSQL pool and Redis client once."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Callable

import asyncpg
from arq.connections import ArqRedis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from admin import api, pages
from admin.access import login, login_form, logout, signed_in
from admin.auth import Sessions
from admin.html import STYLE
from admin.http import SecurityHeadersMiddleware
from admin.state import AdminState
from ingress.http import JSONResponse, RequestLogMiddleware
from shared.db.pool import create_pool
from shared.jobs import queue_redis
from shared.settings import Settings, admin_token_problem


def _nonce() -> str:
    return secrets.token_hex(16)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def stylesheet(request: Request) -> Response:
    return Response(STYLE, media_type="text/css", headers={"cache-control": "max-age=3600"})


def create_app(
    settings: Settings,
    *,
    pool: asyncpg.Pool | None = None,
    queue: ArqRedis | None = None,
    clock: Callable[[], float] = time.time,
    new_nonce: Callable[[], str] = _nonce,
) -> Starlette:
    """Build the app; refuses settings without a usable ADMIN_TOKEN. Tests inject `pool` and `queue` (the state
    is ready at once); otherwise the lifespan builds them from settings and closes them on shutdown."""
    problem = admin_token_problem(settings)
    if problem:
        raise ValueError(problem)
    sessions = Sessions(settings.admin_token)

    def state(pool: asyncpg.Pool, queue: ArqRedis) -> AdminState:
        return AdminState(
            settings=settings, pool=pool, queue=queue, sessions=sessions, clock=clock, new_nonce=new_nonce
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if pool is not None and queue is not None:
            yield
            return
        if settings.database_url is None or settings.redis_url is None:
            raise RuntimeError("DATABASE_URL and REDIS_URL are required to run the admin service")
        async with contextlib.AsyncExitStack() as stack:
            db = await create_pool(settings.database_url, min_size=1, max_size=min(settings.db_pool_max, 5))
            stack.push_async_callback(db.close)
            redis = queue_redis(settings.redis_url)
            stack.push_async_callback(redis.aclose)
            app.state.admin = state(db, redis)
            yield

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/static/admin.css", stylesheet, methods=["GET"]),
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", signed_in(logout), methods=["POST"]),
            Route("/", pages.overview, methods=["GET"]),
            Route("/reminders", pages.reminders, methods=["GET"]),
            Route("/feedback", pages.feedback, methods=["GET"]),
            Route("/people", pages.people, methods=["GET"]),
            Route("/people/map", pages.map_person_form, methods=["POST"]),
            Route("/decisions", pages.decisions, methods=["GET"]),
            Route("/rules", pages.rules, methods=["GET"]),
            Route("/dead-letters", pages.dead_letter_list, methods=["GET"]),
            Route("/dead-letters/{dead_letter_id:int}/replay", pages.replay_form, methods=["POST"]),
            Route("/resync", pages.resync_form, methods=["POST"]),
            Mount(
                "/api",
                routes=[
                    Route("/overview", api.overview, methods=["GET"]),
                    Route("/reminders", api.reminders, methods=["GET"]),
                    Route("/feedback", api.feedback, methods=["GET"]),
                    Route("/people/unmatched", api.unmatched_people, methods=["GET"]),
                    Route("/people/{ashby_user_id}/mapping", api.map_person_api, methods=["PUT"]),
                    Route("/decisions", api.decisions, methods=["GET"]),
                    Route("/rules", api.rules, methods=["GET"]),
                    Route("/dead-letters", api.dead_letter_list, methods=["GET"]),
                    Route("/dead-letters/{dead_letter_id:int}/replay", api.replay, methods=["POST"]),
                    Route("/resync", api.resync_api, methods=["POST"]),
                ],
            ),
        ],
        middleware=[Middleware(RequestLogMiddleware), Middleware(SecurityHeadersMiddleware)],
        lifespan=lifespan,
    )
    if pool is not None and queue is not None:  # given by a test, whose client may not run the lifespan
        app.state.admin = state(pool, queue)
    return app
