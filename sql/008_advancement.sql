-- Advancement: the feedback's values (what rules read), the application's place in its plan, the queue of
-- applications whose evidence changed, and the decisions with their evidence (the audit trail).

-- What the interviewer answered, by field path, as Ashby stores it (`submittedValues`). Personal data:
-- purged with the rest (docs/operations.md).
ALTER TABLE feedback_received ADD COLUMN submitted_values jsonb;

ALTER TABLE ashby_applications ADD COLUMN stage_id text;
ALTER TABLE ashby_applications ADD COLUMN plan_id text;
ALTER TABLE ashby_applications ADD COLUMN status text;

-- Applications to evaluate, and when: now (their feedback, schedules or stage changed), or later (the end of
-- a quiet period, a timeout). One row per application; a new change pulls it earlier, never later.
CREATE TABLE advancement_queue (
    application_id  text PRIMARY KEY,
    evaluate_after  timestamptz NOT NULL,
    reason          text NOT NULL,
    queued_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX advancement_queue_due_idx ON advancement_queue (evaluate_after);

-- One decision per (application, from stage, rule version): re-evaluating never decides twice.
-- state: awaiting_approval (approve mode) -> approved -> executing -> done | superseded | failed;
--        held (a human decides in Ashby); dry_run (recorded, never executed); refused (an approver said no).
CREATE TABLE decisions (
    id                          bigserial PRIMARY KEY,
    application_id              text NOT NULL,
    job_id                      text,
    from_stage_id               text NOT NULL,
    rule_name                   text NOT NULL,
    rule_version                integer NOT NULL,
    mode                        text NOT NULL CHECK (mode IN ('auto', 'approve', 'dry_run')),
    outcome                     text NOT NULL CHECK (outcome IN ('advance', 'reject', 'hold')),
    to_stage_id                 text,
    archive_reason_id           text,
    communication_template_id   text,
    send_after_hours            integer,
    reason                      text NOT NULL,
    evidence                    jsonb NOT NULL,
    channel                     text,  -- the rule's hiring channel (debrief; approvals when no recruiter is in Slack)
    state                       text NOT NULL CHECK (state IN ('awaiting_approval', 'approved', 'executing', 'done',
                                    'superseded', 'failed', 'held', 'dry_run', 'refused')),
    decided_by                  text,  -- 'rule' (auto), or the Slack user who clicked
    decided_at                  timestamptz,
    attempts                    integer NOT NULL DEFAULT 0,
    called_at                   timestamptz,  -- set just before application.changeStage is called
    ashby_result                jsonb,  -- the stage Ashby reported after the move, or its error code
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (application_id, from_stage_id, rule_name, rule_version)
);
CREATE INDEX decisions_application_idx ON decisions (application_id, created_at);
CREATE INDEX decisions_open_idx ON decisions (state, updated_at)
    WHERE state IN ('awaiting_approval', 'approved', 'executing');

-- The Slack messages a decision was posted as (one per recruiter, or one in a channel), updated when decided.
CREATE TABLE decision_messages (
    decision_id  bigint NOT NULL REFERENCES decisions (id),
    channel      text NOT NULL,
    ts           text NOT NULL,
    PRIMARY KEY (decision_id, channel)
);

-- The debrief summary posted once per (application, stage) to the job's hiring channel.
CREATE TABLE debriefs (
    application_id  text NOT NULL,
    stage_id        text NOT NULL,
    channel         text NOT NULL,
    ts              text,
    posted_at       timestamptz,
    PRIMARY KEY (application_id, stage_id)
);
