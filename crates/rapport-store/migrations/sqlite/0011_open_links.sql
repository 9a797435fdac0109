-- Open links: one link per wave (or per account in a wave) for meetings, kiosks and print,
-- shown as a QR code. Whoever answers gives a company and an email: the answer goes to the
-- account's contact with that email, or waits here, unmatched, for someone to review.
CREATE TABLE open_links (
    id         INTEGER PRIMARY KEY,
    wave_id    INTEGER NOT NULL REFERENCES waves(id) ON DELETE CASCADE,
    account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX open_links_wave ON open_links (wave_id, account_id);

CREATE TABLE unmatched_answers (
    id           INTEGER PRIMARY KEY,
    wave_id      INTEGER NOT NULL REFERENCES waves(id) ON DELETE CASCADE,
    open_link_id INTEGER NOT NULL REFERENCES open_links(id) ON DELETE CASCADE,
    company      TEXT NOT NULL,
    email        TEXT NOT NULL,
    name         TEXT,
    language     TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    ltr          INTEGER NOT NULL CHECK (ltr BETWEEN 0 AND 10),
    answers      TEXT NOT NULL
);
CREATE INDEX unmatched_answers_wave ON unmatched_answers (wave_id);
