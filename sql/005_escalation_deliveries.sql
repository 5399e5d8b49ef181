-- One row per recipient of an escalation (the hiring team's recruiter and coordinator get one message each).
-- When Slack takes the first post and refuses the second for now, the escalation is retried: these rows
-- make the retry post only to those who have not had it, so nobody gets the message twice.
CREATE TABLE escalation_deliveries (
    reminder_id    bigint NOT NULL REFERENCES reminders (id),
    slack_user_id  text NOT NULL,
    channel        text NOT NULL,
    ts             text NOT NULL,
    sent_at        timestamptz NOT NULL,
    PRIMARY KEY (reminder_id, slack_user_id)
);
