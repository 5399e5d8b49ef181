-- Personal data hygiene (docs/privacy.md): what a candidate's deletion or merge in Ashby did, by ids only, and
-- the indexes the daily retention purge (`purge_expired`) finds expired rows with, batch by batch.

-- One row per candidate Ashby deleted or merged away: that the purge (or the re-keying) happened, when, to which
-- applications, and how many rows it changed per place. Ids and counts only, never a name.
CREATE TABLE candidate_removals (
    candidate_id     text PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('deleted', 'merged')),
    merged_into      text,  -- the candidate that remains after a merge
    application_ids  text[] NOT NULL DEFAULT '{}',
    changed          jsonb NOT NULL DEFAULT '{}',  -- rows changed per place, e.g. {"drafts": 1}
    removed_at       timestamptz NOT NULL,
    CHECK ((kind = 'merged') = (merged_into IS NOT NULL))
);

-- Finding a candidate's rows (deletion, merge).
CREATE INDEX interview_schedules_candidate_idx ON interview_schedules (candidate_id);
CREATE INDEX ashby_applications_candidate_idx ON ashby_applications (candidate_id);

-- Finding what expired (retention), each index covering only the rows that still hold personal data.
CREATE INDEX feedback_drafts_updated_idx ON feedback_drafts (updated_at);
CREATE INDEX dead_letters_failed_idx ON dead_letters (failed_at);
CREATE INDEX feedback_submissions_answers_idx ON feedback_submissions (updated_at) WHERE field_submissions <> '[]';
CREATE INDEX feedback_received_values_idx ON feedback_received (recorded_at) WHERE submitted_values IS NOT NULL;
CREATE INDEX interview_events_end_idx ON interview_events (end_time);
CREATE INDEX ashby_applications_fetched_idx ON ashby_applications (fetched_at);
CREATE INDEX decisions_unredacted_idx ON decisions (created_at) WHERE NOT evidence ? 'redacted';
