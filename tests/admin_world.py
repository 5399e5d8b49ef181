"""A small, fully known dataset for the admin service's figures and pages (inserted with plain SQL).

NOW is a Wednesday; its week starts on Monday 2026-03-16. Within 12 weeks of NOW, feedback is owed for five
seats: the technical interview's three (all received: after 2 h, after 6 h, and before the interview ended,
counted as 0) and the culture interview's two (one received after 4 h). Everything else is there to be left
out: a shadow, a removed interviewer, a removed event, a cancelled schedule, a future interview, and one
that ended 30 weeks ago.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg

from shared import jobs

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DEAD_LETTER_ID = 41
EVIL = "<script>alert('x')</script>"

_EVENTS = [
    # id, schedule, interview, end (from now)
    ("e1", "s1", "int-tech", -timedelta(days=2)),
    ("e2", "s1", "int-culture", -timedelta(days=9)),
    ("e3", "s1", "int-tech", -timedelta(days=9) + HOUR),
    ("e4", "s1", "int-tech", -timedelta(days=3)),  # removed
    ("e5", "s2", "int-tech", -timedelta(days=3)),  # its schedule is cancelled
    ("e6", "s1", "int-tech", timedelta(days=1)),  # not over yet
    ("e7", "s1", "int-tech", -timedelta(weeks=30)),  # before the window
]
_SEATS = [
    # event, user, required, removed
    ("e1", "alice", True, False),
    ("e1", "bob", True, False),
    ("e1", "carol", False, False),  # a shadow owes nothing
    ("e1", "erin", True, True),  # removed from the event
    ("e2", "alice", True, False),
    ("e2", "dave", True, False),
    ("e3", "bob", True, False),
    ("e4", "alice", True, False),
    ("e5", "alice", True, False),
    ("e6", "alice", True, False),
    ("e7", "alice", True, False),
]
_FEEDBACK = [
    # event, user, submitted after the end (None: Ashby gave no time), recorded after the end
    ("e1", "alice", 2 * HOUR, 3 * HOUR),
    ("e1", "bob", None, 6 * HOUR),
    ("e2", "alice", 4 * HOUR, 5 * HOUR),
    ("e3", "bob", -timedelta(minutes=10), HOUR),
    ("e4", "alice", HOUR, HOUR),
    ("e5", "alice", HOUR, HOUR),
    ("e7", "alice", HOUR, HOUR),
]
_REMINDERS = [
    # event, user, kind, state, skip_reason
    ("e1", "alice", "due", "sent", None),
    ("e1", "carol", "brief", "sent", None),
    ("e1", "bob", "due", "skipped", "feedback_received"),
    ("e1", "alice", "overdue", "skipped", "feedback_received"),
    ("e2", "dave", "overdue", "failed", "failed:channel_not_found"),
    ("e2", "dave", "escalation", "pending", None),
    ("e6", "alice", "brief", "pending", None),
    ("e1", "bob", "overdue", "sending", None),
]


async def seed_admin_world(pool: asyncpg.Pool, *, now: datetime = NOW) -> None:
    """The dataset, its times relative to `now` (NOW for exact figures; the wall clock for a real process)."""
    ends = {e: now + offset for e, _, _, offset in _EVENTS}
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO ashby_interviews (id, title, fetched_at) VALUES ($1, $2, $3)",
            [("int-tech", "Technical interview", now), ("int-culture", f"Culture {EVIL}", now)],
        )
        await conn.executemany(
            "INSERT INTO interview_schedules (id, application_id, status, cancelled_at) VALUES ($1, $2, $3, $4)",
            [("s1", "app-1", "Scheduled", None), ("s2", "app-2", "Cancelled", now - timedelta(days=5))],
        )
        await conn.executemany(
            "INSERT INTO interview_events (id, schedule_id, interview_id, start_time, end_time, removed_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            [(e, s, i, ends[e] - HOUR, ends[e], now - HOUR if e == "e4" else None) for e, s, i, _ in _EVENTS],
        )
        await conn.executemany(
            "INSERT INTO event_interviewers (event_id, user_id, first_name, last_name, feedback_required, removed_at) "
            "VALUES ($1, $2, $3, 'Tester', $4, $5)",
            [(e, u, u.title(), required, now - HOUR if removed else None) for e, u, required, removed in _SEATS],
        )
        await conn.executemany(
            "INSERT INTO feedback_received (event_id, interviewer_id, source, submitted_at, recorded_at) "
            "VALUES ($1, $2, 'ashby', $3, $4)",
            [(e, u, None if sub is None else ends[e] + sub, ends[e] + rec) for e, u, sub, rec in _FEEDBACK],
        )
        await conn.executemany(
            "INSERT INTO reminders (event_id, interviewer_id, kind, due_at, state, skip_reason) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            [(e, u, kind, ends[e], state, why) for e, u, kind, state, why in _REMINDERS],
        )
        await conn.executemany(
            "INSERT INTO people (ashby_user_id, email, slack_user_id, status, reason, looked_up_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            [
                ("alice", "alice@example.com", "UALICE", "matched", None, now),
                ("dave", "dave@example.com", None, "unmatched", "no Slack user with this email", now),
                ("erin", None, None, "unmatched", "no email in Ashby", now),
            ],
        )
        await conn.execute(
            "INSERT INTO dead_letters (id, job_id, job_name, queue, subject, args, error, attempts, failed_at) "
            "VALUES ($1, 'send_reminder:77', $2, $3, 'reminder 77', $4, 'Permanent:channel_not_found', 3, $5)",
            DEAD_LETTER_ID,
            jobs.SEND_REMINDER,
            jobs.QUEUE_DEFAULT,
            jobs.serialize(((77,), {})),
            now - HOUR,
        )
        await conn.execute(
            "INSERT INTO decisions (application_id, job_id, from_stage_id, rule_name, rule_version, mode, outcome, "
            "to_stage_id, reason, evidence, state, created_at) VALUES ('app-1', 'job-1', 'stage-onsite', "
            "'onsite-bar', 3, 'approve', 'advance', 'stage-offer', 'every score is 3 or more', $1::jsonb, "
            "'awaiting_approval', $2)",
            json.dumps({"scores": {"alice": 4, "bob": 3}, "note": EVIL}),
            now - HOUR,
        )
        await conn.execute(
            "INSERT INTO ashby_jobs (id, title, fetched_at) VALUES ('job-1', 'Backend engineer', $1)", now
        )
        await conn.execute(
            "INSERT INTO ashby_plan_stages (plan_id, stage_id, title, type, position, fetched_at) "
            "VALUES ('plan-1', 'stage-onsite', 'Onsite', 'Active', 2, $1)",
            now,
        )
        await conn.executemany(
            "INSERT INTO rules (name, version, job_id, plan_id, stage_id, priority, mode, rule, source, created_at, "
            "active, deactivated_at) VALUES ('onsite-bar', $1, 'job-1', 'plan-1', 'stage-onsite', 0, $2, $3::jsonb, "
            "$4, $5, $6, $7)",
            [
                (2, "dry_run", "{}", "name: onsite-bar\nmode: dry_run", now - 48 * HOUR, False, now - 24 * HOUR),
                (3, "approve", "{}", f"name: onsite-bar\nmode: approve  # {EVIL}", now - 24 * HOUR, True, None),
            ],
        )
        await conn.execute(
            "INSERT INTO ashby_sync_tokens (name, sync_token, full_sync, synced_at) "
            "VALUES ('applicationFeedback.list', 'token-x', false, $1)",
            now - HOUR,
        )
