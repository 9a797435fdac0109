-- Surveys sent from Rapport: waves keep the survey version they were sent with, and each
-- invitation carries its own secret, language, delivery state and saved partial answers.

-- No earlier version wrote invitations (waves came from imported answers), so the table is
-- remade in its final shape rather than altered column by column.
DROP TABLE invitations CASCADE;
CREATE TABLE invitations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wave_id     BIGINT NOT NULL REFERENCES waves(id) ON DELETE CASCADE,
    contact_id  BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    -- 160 random bits, hex; the personal link is "/s/{id}-{secret}" and the secret is compared
    -- in constant time after the row is found by id.
    secret      TEXT NOT NULL,
    language    TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'link')),
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'bounced')),
    sent_at     TIMESTAMPTZ,
    last_error  TEXT,
    reminders   INTEGER NOT NULL DEFAULT 0,
    reminded_at TIMESTAMPTZ,
    opened_at   TIMESTAMPTZ,
    answered_at TIMESTAMPTZ,
    -- Partial answers saved to finish later (the answers' JSON form); cleared by the answer.
    draft       TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (wave_id, contact_id)
);
CREATE INDEX invitations_contact ON invitations (contact_id);
ALTER TABLE responses ADD CONSTRAINT responses_invitation_id_fkey
    FOREIGN KEY (invitation_id) REFERENCES invitations(id);

ALTER TABLE waves ADD COLUMN exclude_days INTEGER;
ALTER TABLE waves ADD COLUMN selection TEXT;
-- Reminders to those who have not answered: after this many days, at most this many.
ALTER TABLE waves ADD COLUMN remind_after_days INTEGER;
ALTER TABLE waves ADD COLUMN max_reminders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE waves ADD COLUMN closed_at TIMESTAMPTZ;

-- Every answer given on the response page, as the survey's questions were answered (the
-- answers' JSON form); imported answers have none.
ALTER TABLE responses ADD COLUMN answers TEXT;

ALTER TABLE contacts ADD COLUMN unsubscribed_at TIMESTAMPTZ;
