-- Advancement rules, kept version by version, and the Ashby catalog their names are resolved against.
-- Invariants: a rule version, once written, never changes (a new version is a new row); at most one version
-- of a rule is active; the catalog tables are a cache, replaced whole by each read of Ashby.

CREATE TABLE ashby_jobs (
    id               text PRIMARY KEY,
    title            text NOT NULL,
    status           text NOT NULL DEFAULT '',
    default_plan_id  text,
    plan_ids         text[] NOT NULL DEFAULT '{}',
    fetched_at       timestamptz NOT NULL
);

CREATE TABLE ashby_interview_plans (
    id          text PRIMARY KEY,
    title       text NOT NULL,
    fetched_at  timestamptz NOT NULL
);

-- A plan's stages in plan order (`position` is Ashby's orderInInterviewPlan), each with the interviews the
-- plan's jobs hold in it: the evaluator reads order and type from here, the rules file the interview titles.
CREATE TABLE ashby_plan_stages (
    plan_id        text NOT NULL,
    stage_id       text NOT NULL,
    title          text NOT NULL,
    type           text NOT NULL,
    position       integer NOT NULL,
    interview_ids  text[] NOT NULL DEFAULT '{}',
    fetched_at     timestamptz NOT NULL,
    PRIMARY KEY (plan_id, stage_id)
);

CREATE TABLE ashby_archive_reasons (
    id           text PRIMARY KEY,
    text         text NOT NULL,
    is_archived  boolean NOT NULL DEFAULT false,
    fetched_at   timestamptz NOT NULL
);

-- When the catalog was last read whole from Ashby (one row): `fleet rules validate` refreshes it when older
-- than an hour.
CREATE TABLE ashby_catalog_syncs (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    synced_at  timestamptz NOT NULL
);

-- `rule` is the resolved rule (shared.advancement.model.Rule, its `version` included); `source` the text it
-- was written as. Scope columns repeat what `rule` holds, for lookups by stage.
CREATE TABLE rules (
    name            text NOT NULL,
    version         integer NOT NULL CHECK (version > 0),
    job_id          text,
    plan_id         text NOT NULL,
    stage_id        text NOT NULL,
    priority        integer NOT NULL,
    mode            text NOT NULL CHECK (mode IN ('auto', 'approve', 'dry_run')),
    rule            jsonb NOT NULL,
    source          text NOT NULL,
    created_at      timestamptz NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    deactivated_at  timestamptz,
    PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX rules_one_active_version ON rules (name) WHERE active;
CREATE INDEX rules_active_stage_idx ON rules (plan_id, stage_id) WHERE active;
