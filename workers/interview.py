"""Loading one interviewer's interview for a job: their seat (PostgreSQL, with their feedback's state) and
the Ashby metadata it shows (the caches, `workers/metadata.py`), into a plain `Interview` value."""

from __future__ import annotations

from shared.db import interviews as interviews_db
from shared.errors import Permanent
from shared.interview import NO_APPLICATION, NO_INTERVIEW, Interview
from workers.deps import Deps
from workers.metadata import for_seat


class InterviewGone(Permanent):
    """The event or the interviewer is not (or no longer) on Ashby's schedule: nothing can be shown."""


async def load_interview(
    d: Deps, event_id: str, interviewer_id: str, *, resume_key: str | None = None, with_form: bool = False
) -> Interview:
    """The interview, with its feedback form when `with_form` (`form_unavailable` when there is no copy and
    Ashby does not answer); raises `InterviewGone` for an unknown pair."""
    seat = await interviews_db.seat(d.pool, event_id, interviewer_id)
    if seat is None:
        raise InterviewGone("unknown event or interviewer")
    metadata = await for_seat(d, seat, with_form=with_form)
    return Interview(
        seat=seat,
        interview=metadata.interview or NO_INTERVIEW,
        application=metadata.application or NO_APPLICATION,
        form=metadata.form.definition if metadata.form else None,
        form_unavailable=metadata.form_unavailable,
        resume_key=resume_key,
    )
