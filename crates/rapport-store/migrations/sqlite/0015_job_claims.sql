-- Each claim of a job counts here, never reset (attempts is, when failed jobs are sent again),
-- so a worker finishing a job can tell it still holds the claim it was handed
-- (Store::finish_job): one whose lease ran out must not undo what happened to the job since.
ALTER TABLE jobs ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
