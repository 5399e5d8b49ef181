"""Interviewers in Slack during a chaos run: open the form from the "feedback due" DM and submit it.

They behave as people do with a flaky app: a click that opened nothing (Slack's 429 on `views.open`, an
ingress answering 503 while Redis restarts) is clicked again a few seconds later, a submission Slack
could not deliver is sent again from the still-open form, some press Submit twice at once, and a DM
saying Ashby did not take the feedback is answered by reopening the form and sending it again. Every
interaction goes through the Slack simulator's actor, signed, to one of the ingress processes.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from fleet.processes import wait_until
from shared.blocks import OPEN_FEEDBACK_FORM, REOPEN_FEEDBACK_FORM
from shared.feedback_form import CALLBACK_ID as FEEDBACK_CALLBACK
from shared.modal_views import ALREADY_SUBMITTED, NOTICE_CALLBACK, SUBMITTING
from sim.pairing import fill_view
from sim.slack import SlackActor, SlackState
from sim.slack.state import Message, SimView

HYDRATE_WAIT_S = 20.0
FAILED_NOTICE = "could not be submitted"  # shared/blocks.py submission_failed_message


class Inbox:
    """The DMs each Slack user has received, read from the simulator's message list as it grows."""

    def __init__(self, slack: SlackState) -> None:
        self._slack = slack
        self._read = 0
        self._by_user: dict[str, list[Message]] = defaultdict(list)
        self._news: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def run(self) -> None:
        while True:
            for message in self._slack.messages[self._read :]:
                channel = self._slack.channels.get(message.channel)
                if channel is not None and channel.user_id is not None:
                    self._by_user[channel.user_id].append(message)
                    self._news[channel.user_id].set()
            self._read = len(self._slack.messages)
            await asyncio.sleep(0.2)

    async def first(self, user: str, wanted: Callable[[Message], bool], *, after: int = 0, until: float) -> int | None:
        """The position of the first DM from `after` on that `wanted` accepts, waiting until `until`."""
        while time.time() < until:
            messages = self._by_user[user]
            for n in range(after, len(messages)):
                if wanted(messages[n]):
                    return n
            self._news[user].clear()
            try:
                await asyncio.wait_for(self._news[user].wait(), max(0.1, min(5.0, until - time.time())))
            except TimeoutError:
                pass
        return None

    def message(self, user: str, n: int) -> Message:
        return self._by_user[user][n]


@dataclass
class Interviewer:
    slack_id: str
    double_submit: bool
    in_ashby: Callable[[], bool]
    clicks: int = 0
    opens_failed: int = 0
    submissions: int = 0  # view_submission payloads sent
    submissions_refused: int = 0  # answered other than 200, or not answered
    failure_notices: int = 0  # DMs saying Ashby did not take it (each answered by sending it again)
    problems: list[str] = field(default_factory=list)


async def give_feedback(
    person: Interviewer, inbox: Inbox, slack: SlackState, actors: list[SlackActor], rng: random.Random, until: float
) -> None:
    """Submit from the "feedback due" DM; then, until the scorecard is in Ashby, answer failure notices."""
    due = await inbox.first(person.slack_id, lambda m: m.text.startswith("Feedback due: "), until=until)
    if due is None:
        person.problems.append("no feedback-due DM to open the form from")
        return
    await asyncio.sleep(rng.uniform(1.0, 6.0))  # reading the DM
    read = due + 1
    button = (inbox.message(person.slack_id, due), OPEN_FEEDBACK_FORM)
    while time.time() < until and not person.in_ashby():
        if not await _open_and_submit(person, button, slack, actors, rng, until):
            return
        while time.time() < until and not person.in_ashby():
            notice = await inbox.first(
                person.slack_id, lambda m: FAILED_NOTICE in m.text, after=read, until=min(until, time.time() + 1.0)
            )
            if notice is not None:
                person.failure_notices += 1
                read = notice + 1
                button = (inbox.message(person.slack_id, notice), REOPEN_FEEDBACK_FORM)
                break


async def _open_and_submit(
    person: Interviewer,
    button: tuple[Message, str],
    slack: SlackState,
    actors: list[SlackActor],
    rng: random.Random,
    until: float,
) -> bool:
    """Click until a form opens, then submit until Slack shows "Submitting"; False if time ran out."""
    while time.time() < until:
        view = await _open(person, button, slack, rng.choice(actors))
        if view is None:
            person.opens_failed += 1
            await asyncio.sleep(rng.uniform(2.0, 5.0))
            continue
        if ALREADY_SUBMITTED in _notice(view.view):
            return True
        while view.is_open and view.view.get("callback_id") == FEEDBACK_CALLBACK and time.time() < until:
            values = fill_view(view.view)
            copies = 2 if person.double_submit else 1
            answers = await asyncio.gather(*(_submit(person, view, values, rng.choice(actors)) for _ in range(copies)))
            if any(answer is not None and answer.status_code == 200 for answer in answers):
                break
            await asyncio.sleep(rng.uniform(2.0, 5.0))  # Slack showed "trouble connecting": try again
        text = _notice(view.view)
        if SUBMITTING in text or ALREADY_SUBMITTED in text:
            return True
        if view.errors:
            person.problems.append(f"the form was refused: {sorted(view.errors)}")
            return False
        await asyncio.sleep(rng.uniform(1.0, 3.0))  # e.g. "no longer available": open it again
    return False


async def _open(
    person: Interviewer, button: tuple[Message, str], slack: SlackState, actor: SlackActor
) -> SimView | None:
    """Click the button; the form it opened once it has its inputs (or a notice), else None."""
    before = {view_id for view_id, view in slack.views.items() if view.user_id == person.slack_id}
    person.clicks += 1
    try:
        answer = await actor.click_button(button[0], button[1], user_id=person.slack_id)
    except httpx.HTTPError:
        return None
    opened = [v for view_id, v in slack.views.items() if v.user_id == person.slack_id and view_id not in before]
    if answer.status_code != 200 or not opened:
        return None
    view = opened[-1]

    async def filled_in() -> bool:  # a loading view, until a worker fills it in
        return view.view.get("callback_id") in (FEEDBACK_CALLBACK, NOTICE_CALLBACK)

    try:
        await wait_until(filled_in, timeout_s=HYDRATE_WAIT_S, what="the form to be filled in")
    except TimeoutError:
        return None
    return view


async def _submit(
    person: Interviewer, view: SimView, values: dict[str, dict[str, Any]], actor: SlackActor
) -> httpx.Response | None:
    person.submissions += 1
    try:
        answer = await actor.submit_view(view.id, values, user_id=person.slack_id)
    except (httpx.HTTPError, ValueError):  # ValueError: the other copy's answer closed the view already
        answer = None
    if answer is None or answer.status_code != 200:
        person.submissions_refused += 1
    return answer


def _notice(view: dict[str, Any]) -> str:
    blocks = view.get("blocks") or []
    text = blocks[0].get("text") if blocks and isinstance(blocks[0], dict) else None
    return str(text.get("text", "")) if isinstance(text, dict) else ""
