-- Interview schedules mirrored from Ashby webhooks and syncs.
-- Never destroy history: removed events and interviewers are marked, cancelled schedules keep their rows,
-- and every change of an event's time is kept in interview_event_times.

CREATE TABLE interview_schedules (
    id                  text PRIMARY KEY,
    application_id      text,
    interview_stage_id  text,
    candidate_id        text,
    status              text NOT NULL,
    ashby_updated_at    timestamptz,
    cancelled_at        timestamptz,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    synced_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interview_schedules_application_idx ON interview_schedules (application_id);

CREATE TABLE interview_events (
    id                      text PRIMARY KEY,
    schedule_id             text NOT NULL REFERENCES interview_schedules (id),
    interview_id            text,
    start_time              timestamptz NOT NULL,
    end_time                timestamptz NOT NULL,
    feedback_link           text,
    location                text,
    meeting_link            text,
    has_submitted_feedback  boolean NOT NULL DEFAULT false,
    ashby_updated_at        timestamptz,
    removed_at              timestamptz,
    first_seen_at           timestamptz NOT NULL DEFAULT now(),
    synced_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interview_events_schedule_idx ON interview_events (schedule_id);
CREATE INDEX interview_events_start_idx ON interview_events (start_time);

CREATE TABLE interview_event_times (
    id           bigserial PRIMARY KEY,
    event_id     text NOT NULL REFERENCES interview_events (id),
    start_time   timestamptz NOT NULL,
    end_time     timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX interview_event_times_event_idx ON interview_event_times (event_id, id);

CREATE TABLE event_interviewers (
    event_id           text NOT NULL REFERENCES interview_events (id),
    user_id            text NOT NULL,
    email              text,
    first_name         text,
    last_name          text,
    training_role      text,
    feedback_required  boolean NOT NULL DEFAULT true,
    removed_at         timestamptz,
    first_seen_at      timestamptz NOT NULL DEFAULT now(),
    synced_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, user_id)
);
CREATE INDEX event_interviewers_user_idx ON event_interviewers (user_id);
