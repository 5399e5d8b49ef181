"""POST /slack/commands, the `/feedback` slash command: verify -> decode -> queue the answer -> ack at once.

The list needs PostgreSQL, which the ingress never touches, so the ack is an ephemeral "Looking…" and a job
(`answer_feedback_command`) posts the list to the command's `response_url`, ephemerally, in its place. The
`response_url` rather than `chat.postEphemeral`: it answers wherever the command was typed (postEphemeral
fails in channels and conversations the bot is not in), needs no scope and no Web API rate-limit slot, and
its allowance (5 answers within 30 minutes) is far more than the one we send.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import Response

from ingress.http import BodyRefused, JSONResponse, error
from ingress.slack_requests import QUEUE_ERRORS, queue_unavailable, verified_body
from ingress.state import state_of
from shared import jobs
from shared.payloads.slack_events import SlashCommand, is_user_id

FEEDBACK_COMMAND = "/feedback"
LOOKING = "Looking up the interview feedback you owe…"
HELP = (
    f"`{FEEDBACK_COMMAND}` lists the interview feedback you owe, oldest first, with a button to open each form, "
    "and your upcoming interviews; recruiters and hiring managers also see their candidates waiting on feedback "
    "and the decisions waiting for their approval. The app's *Home* tab shows the same."
)
log = structlog.get_logger("ingress.slack_commands")


async def slack_commands(request: Request) -> Response:
    state = state_of(request)
    try:
        body = await verified_body(request, log=log, what="slack_command")
    except BodyRefused as refused:
        return refused.response
    try:
        command = _command(body)
    except (ValueError, msgspec.ValidationError) as exc:
        return error(400, f"malformed slash command: {exc}")
    if command is None:  # Slack's SSL check of the command URL
        return Response(status_code=200)
    if command.command != FEEDBACK_COMMAND:
        return _ephemeral(f"This app answers {FEEDBACK_COMMAND} only.")
    if command.text.strip().lower() == "help":
        return _ephemeral(HELP)
    if not is_user_id(command.user_id):
        return error(400, "malformed slash command: no Slack user id")
    if not response_url_allowed(command.response_url, slack_base_url=state.settings.slack_base_url):
        log.warning("slack_command_rejected", reason="response_url is not Slack's")
        return error(400, "malformed slash command: response_url is not Slack's")
    # The response_url is a credential of sorts (it posts into the conversation): only its digest is kept.
    digest = hashlib.sha256(command.response_url.encode()).hexdigest()[:32]
    try:
        await jobs.enqueue_interactive(
            state.queue,
            jobs.ANSWER_FEEDBACK_COMMAND,
            command.user_id,
            command.response_url,
            job_id=f"{jobs.ANSWER_FEEDBACK_COMMAND}:{digest}",
            batcher=state.batcher,
        )
    except QUEUE_ERRORS as exc:
        return queue_unavailable(log, "slack_command", exc)
    return _ephemeral(LOOKING)


def response_url_allowed(url: str, *, slack_base_url: str) -> bool:
    """Slack's hooks host for the Web API in use (`hooks.slack.com` for `slack.com`), or the Web API's own
    origin (the simulator): a signed request names no other, and a worker posts to nothing else."""
    try:
        parts, base = urlsplit(url), urlsplit(slack_base_url)
        port = parts.port  # raises for a port that is no number
    except ValueError:
        return False
    if parts.username or parts.password or not base.hostname:
        return False
    if parts.scheme == "https" and parts.hostname == "hooks." + base.hostname and port is None:
        return True
    return (parts.scheme, parts.netloc) == (base.scheme, base.netloc)


def _command(body: bytes) -> SlashCommand | None:
    fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    if any(len(values) != 1 for values in fields.values()):
        raise ValueError("a form field appears more than once")
    form = {name: values[0] for name, values in fields.items()}
    if "ssl_check" in form and "command" not in form:
        return None
    return msgspec.convert(form, SlashCommand)


def _ephemeral(text: str) -> JSONResponse:
    return JSONResponse({"response_type": "ephemeral", "text": text})
