-- Faults lose nothing: a job that fails for good is kept where an operator can see and replay it, and a
-- claimed reminder that keeps failing is parked with its reason instead of being claimed forever.

-- One row per job that failed for good (a bug, bad data, or an infrastructure outage that outlived its
-- retries). `args` is the job's msgpack-encoded (args, kwargs), kept so `fleet dead-letters replay` can run
-- it again; it may hold personal data (a webhook body, scorecard answers) and is purged with the rest
-- (docs/operations.md). `subject` names what the job was about by ids only; `error` is a type and a code,
-- never a message (messages can quote the values that failed).
CREATE TABLE dead_letters (
    id            bigserial PRIMARY KEY,
    job_id        text NOT NULL,
    job_name      text NOT NULL,
    queue         text NOT NULL,
    subject       text NOT NULL DEFAULT '',
    args          bytea NOT NULL,
    error         text NOT NULL,
    attempts      integer NOT NULL,
    failed_at     timestamptz NOT NULL DEFAULT now(),
    replayed_at   timestamptz,
    replay_job_id text,
    UNIQUE (job_id)
);
CREATE INDEX dead_letters_open_idx ON dead_letters (failed_at) WHERE replayed_at IS NULL;

-- A reminder whose sends keep failing (its worker died mid-send, or an error no retry cures) is parked as
-- `failed` after a few failures, with the reason in skip_reason. `attempts` still counts every claim,
-- including the ones handed back because Slack was busy, which are not failures.
ALTER TABLE reminders ADD COLUMN failures integer NOT NULL DEFAULT 0;
ALTER TABLE reminders DROP CONSTRAINT reminders_state_check;
ALTER TABLE reminders ADD CONSTRAINT reminders_state_check
    CHECK (state IN ('pending', 'sending', 'sent', 'skipped', 'failed'));
