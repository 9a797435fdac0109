-- Read-only links to a dashboard view or an account report, for people without an account.
-- Only a hash of each link's token is stored; times are Unix seconds (UTC).
CREATE TABLE share_links (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('dashboard', 'account')),
    target      TEXT NOT NULL,
    owned_by    TEXT,
    hide_people BOOLEAN NOT NULL,
    created_by  BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX share_links_creator ON share_links (created_by);
