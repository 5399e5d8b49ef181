-- Reminders, feedback and the Ashby metadata they are built from.
-- Invariants: one reminder row per (event, interviewer, kind, sequence); a sent reminder is never sent
-- again; one submission per (event, interviewer); feedback, once seen, stops every pending reminder.

-- Caches of Ashby metadata, refreshed on use; never the source of truth for anything but rendering.
CREATE TABLE ashby_interviews (
    id                           text PRIMARY KEY,
    title                        text NOT NULL DEFAULT '',
    feedback_form_definition_id  text,
    instructions_plain           text,
    job_id                       text,
    fetched_at                   timestamptz NOT NULL
);

CREATE TABLE ashby_feedback_forms (
    id          text PRIMARY KEY,
    definition  jsonb NOT NULL,
    fetched_at  timestamptz NOT NULL
);

-- Candidate personal data is limited to what a reminder shows (name, current role); no e-mail or phone.
CREATE TABLE ashby_applications (
    id                  text PRIMARY KEY,
    candidate_id        text,
    candidate_name      text,
    candidate_position  text,
    candidate_company   text,
    candidate_url       text,
    job_id              text,
    job_title           text,
    stage_title         text,
    hiring_team         jsonb NOT NULL DEFAULT '[]',
    fetched_at          timestamptz NOT NULL
);

CREATE TABLE reminders (
    id                  bigserial PRIMARY KEY,
    event_id            text NOT NULL REFERENCES interview_events (id),
    interviewer_id      text NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('brief', 'due', 'overdue', 'escalation')),
    sequence            integer NOT NULL DEFAULT 0,
    due_at              timestamptz NOT NULL,
    state               text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'skipped')),
    lease_until         timestamptz,
    attempts            integer NOT NULL DEFAULT 0,
    skip_reason         text,
    channel             text,
    ts                  text,
    sent_at             timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, interviewer_id, kind, sequence)
);
CREATE INDEX reminders_due_idx ON reminders (due_at) WHERE state IN ('pending', 'sending');
CREATE INDEX reminders_interviewer_idx ON reminders (interviewer_id, event_id);

-- Feedback that exists in Ashby for (event, interviewer), however it got there (our submission or Ashby's UI).
CREATE TABLE feedback_received (
    event_id             text NOT NULL,
    interviewer_id       text NOT NULL,
    source               text NOT NULL CHECK (source IN ('slack', 'ashby')),
    ashby_submission_id  text,
    submitted_at         timestamptz,
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, interviewer_id)
);

-- Our own submissions through Slack: claimed before the Ashby call, recorded after it.
CREATE TABLE feedback_submissions (
    event_id             text NOT NULL,
    interviewer_id       text NOT NULL,
    slack_user_id        text NOT NULL,
    state                text NOT NULL CHECK (state IN ('submitting', 'submitted', 'failed')),
    field_submissions    jsonb NOT NULL,
    ashby_submission_id  text,
    error                text,
    attempts             integer NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, interviewer_id)
);

CREATE TABLE feedback_drafts (
    event_id        text NOT NULL,
    interviewer_id  text NOT NULL,
    state_values    jsonb NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, interviewer_id)
);

-- Ashby incremental-sync tokens, one per synced list (e.g. applicationFeedback.list).
CREATE TABLE ashby_sync_tokens (
    name        text PRIMARY KEY,
    sync_token  text,
    full_sync   boolean NOT NULL DEFAULT false,
    synced_at   timestamptz NOT NULL
);
