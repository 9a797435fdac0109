-- The durable job queue: invitation and reminder deliveries, run by `rapport serve` (or by
-- `rapport wave send`), claimed atomically so that no job runs twice, kept after they finish
-- as the delivery log. (kind, invitation_id, seq) is unique: queueing the same delivery again
-- changes nothing.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('invitation', 'reminder')),
    invitation_id INTEGER NOT NULL REFERENCES invitations(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    run_at        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    last_error    TEXT,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at   TEXT,
    UNIQUE (kind, invitation_id, seq)
);
CREATE INDEX jobs_due ON jobs (status, run_at);
