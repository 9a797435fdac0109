-- Read-only links to a dashboard view or an account report, for people without an account.
-- Only a hash of each link's token is stored; times are Unix seconds (UTC).
CREATE TABLE share_links (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('dashboard', 'account')),
    target      TEXT NOT NULL,
    owned_by    TEXT,
    hide_people INTEGER NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX share_links_creator ON share_links (created_by);
