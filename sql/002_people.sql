-- The people directory: Ashby user ⇄ Slack user, matched by email through users.lookupByEmail and cached.
-- A manual override (override = true) wins and is never overwritten by a lookup. Emails are stored lower-cased.
-- status: matched (slack_user_id set), unmatched (reason says why), deactivated (the Slack account is deleted).

CREATE TABLE people (
    ashby_user_id  text PRIMARY KEY,
    email          text,
    slack_user_id  text,
    slack_tz       text,
    status         text NOT NULL CHECK (status IN ('matched', 'unmatched', 'deactivated')),
    reason         text,
    override       boolean NOT NULL DEFAULT false,
    looked_up_at   timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'matched' OR slack_user_id IS NOT NULL)
);
CREATE INDEX people_slack_user_idx ON people (slack_user_id);
CREATE INDEX people_not_matched_idx ON people (status) WHERE status <> 'matched';
