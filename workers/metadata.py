"""Serving the Ashby metadata an interviewer's seat shows: the interview, the application (with its candidate)
and the interview's feedback form, from the cache at any age.

Stale-while-revalidate: a copy older than CACHE_TTL is served and queued for the refresher
(`workers/metadata_refresh.py`), never refreshed inline, so a burst of reminders due at once is paced by
Slack alone, not by the Ashby key's budget, and an Ashby outage never takes away a form we already have (a
stale form is better than none). Only a copy never cached is fetched inline (`workers/ashby_fetch.py`;
ingestion warms the cache days ahead), then stored.
"""

from __future__ import annotations

from datetime import timedelta

from shared.db import ashby_cache
from shared.db.interviews import Seat
from workers.ashby_fetch import Fetched, fetch_missing
from workers.deps import Deps
from workers.metadata_refresh import queue_refresh

CACHE_TTL = timedelta(hours=1)


async def for_seat(d: Deps, seat: Seat, *, with_form: bool = False) -> Fetched:
    """The metadata of an interviewer's seat (the form too when `with_form`): read, refresh what is stale,
    fetch and store what is missing."""
    cached = await ashby_cache.read_for(
        d.pool, interview_id=seat.interview_id, application_id=seat.application_id, with_form=with_form
    )
    stale = cached.older_than(d.clock() - CACHE_TTL)
    await queue_refresh(d, interviews=stale.interviews, applications=stale.applications, forms=stale.forms)
    fetched = await fetch_missing(
        d, cached, interview_id=seat.interview_id, application_id=seat.application_id, with_form=with_form
    )
    if fetched.fresh:
        await ashby_cache.put(d.pool, *fetched.fresh)
    return fetched
