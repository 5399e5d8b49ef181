"""Where people already are in Slack: the app's Home tab, published when opened (and after a change its
person made, if they looked at it within the hour), and the answer to `/feedback`.

Both read the same lists (`loads.home_facts`) and render them purely (`shared/home_view.py`); publishing
is idempotent (the tab shows what PostgreSQL says at the time), so a run twice is harmless.
"""

from __future__ import annotations

from typing import Any

from shared import home_openers
from shared.home_view import feedback_message, home_view
from workers import loads
from workers.deps import deps
from workers.job_boundary import job


@job(tries=3)
async def publish_home(ctx: dict[str, Any], slack_user_id: str) -> dict[str, Any]:
    """views.publish the person's Home tab (paced by the Slack client at `views.publish`'s tier)."""
    d = deps(ctx)
    home = await loads.home_facts(d, slack_user_id)
    await d.slack.publish_view(slack_user_id, home_view(home, now=d.clock()))
    await home_openers.remember(d.queue, slack_user_id, at=d.clock())
    return {"outcome": "published", "owed": home.owed.total, "oversees": home.oversees}


@job(tries=5, subject=lambda args: str(args[0]))  # by the user id: the response_url can post, so it stays out
async def answer_feedback_command(ctx: dict[str, Any], slack_user_id: str, response_url: str) -> dict[str, Any]:
    """The list behind `/feedback`, posted ephemerally to the command's response_url in place of "Looking…"."""
    d = deps(ctx)
    home = await loads.home_facts(d, slack_user_id)
    text, blocks = feedback_message(home, now=d.clock())
    await d.slack.respond(response_url, text, blocks)
    return {"outcome": "answered", "owed": home.owed.total}
