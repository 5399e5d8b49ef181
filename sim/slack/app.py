"""The Slack simulator as a Starlette app: the Web API under `/api/`, and a small control API under `/_sim/`
for tests and demos that run it in another process (seed users, read what was posted, act as a user)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sim.slack.actor import SlackActor
from sim.slack.api import SlackApi
from sim.slack.blockkit import message_problems
from sim.slack.state import SlackState


def create_app(
    state: SlackState,
    *,
    token: str,
    signing_secret: str,
    interactions_url: str | None,
    events_url: str | None = None,
    commands_url: str | None = None,
    public_url: str | None = None,
    clock: Callable[[], float] = time.time,
    http: httpx.AsyncClient | None = None,
) -> Starlette:
    """`app.state.slack` is the state, `app.state.actor` the simulated user (`click_button`, `submit_view`,
    `open_home`, `run_command`). `public_url` is where the simulator itself is reached (slash commands'
    response_urls point there); a test that serves it on a free port sets `actor.public_url` once it listens."""
    api = SlackApi(state, token=token, clock=clock)
    actor = SlackActor(
        state,
        signing_secret=signing_secret,
        interactions_url=interactions_url,
        events_url=events_url,
        commands_url=commands_url,
        public_url=public_url,
        http=http,
        clock=clock,
    )
    control = _Control(state, actor, clock)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await actor.aclose()

    app = Starlette(
        routes=[
            Route("/api/{method}", api.endpoint, methods=["GET", "POST"]),
            Route("/_sim/users", control.add_user, methods=["POST"]),
            Route("/_sim/messages", control.messages, methods=["GET"]),
            Route("/_sim/views", control.views, methods=["GET"]),
            Route("/_sim/rate-limits", control.rate_limits, methods=["POST"]),
            Route("/_sim/click", control.click, methods=["POST"]),
            Route("/_sim/submit", control.submit, methods=["POST"]),
            Route("/_sim/respond/{token}", control.respond, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.slack = state
    app.state.actor = actor
    return app


class _Control:
    def __init__(self, state: SlackState, actor: SlackActor, clock: Callable[[], float]) -> None:
        self.state = state
        self.actor = actor
        self.clock = clock

    async def add_user(self, request: Request) -> JSONResponse:
        body = await request.json()
        user = self.state.add_user(
            body["id"],
            body.get("email"),
            tz=body.get("tz", "America/New_York"),
            deleted=bool(body.get("deleted")),
            is_bot=bool(body.get("is_bot")),
            name=body.get("name", ""),
        )
        return JSONResponse(asdict(user))

    async def messages(self, request: Request) -> JSONResponse:
        channel = request.query_params.get("channel")
        found = self.state.messages_in(channel) if channel else self.state.messages
        return JSONResponse([asdict(m) for m in found])

    async def views(self, request: Request) -> JSONResponse:
        return JSONResponse(
            [{**v.to_json(), "is_open": v.is_open, "errors": v.errors} for v in self.state.views.values()]
        )

    async def rate_limits(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.state.rate_limits.enabled = bool(body.get("enabled", True))
        self.state.rate_limits.reset()
        return JSONResponse({"enabled": self.state.rate_limits.enabled})

    async def click(self, request: Request) -> Response:
        body = await request.json()
        message = self.state.find_message(body["channel"], body["ts"])
        if message is None:
            return JSONResponse({"error": "message_not_found"}, status_code=404)
        return _relay(await self.actor.click_button(message, body["action_id"], user_id=body["user_id"]))

    async def submit(self, request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        response = await self.actor.submit_view(body["view_id"], body.get("values") or {}, user_id=body["user_id"])
        return _relay(response)

    async def respond(self, request: Request) -> Response:
        """A slash command's response_url: Slack answers `ok`, or 404 with why it no longer posts."""
        command = self.state.commands.get(request.path_params["token"])
        try:
            body = await request.json()
        except ValueError:
            return Response("invalid_payload", status_code=400)
        if command is None:
            return Response("no_service", status_code=404)
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return Response("no_text", status_code=400)
        problems = message_problems(body.get("text"), body.get("blocks"))
        if problems:
            return Response("invalid_blocks", status_code=400)
        refused = command.answer(body, now=self.clock())
        return Response(refused, status_code=404) if refused else Response("ok")


def _relay(response: httpx.Response) -> Response:
    """The ingress's answer, as the simulated user saw it."""
    return Response(response.content, status_code=response.status_code, media_type=response.headers.get("content-type"))
