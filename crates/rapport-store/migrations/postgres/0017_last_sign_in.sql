-- When each user last started a session (unix seconds), so that administrators see sign-ins
-- nobody uses any more.
ALTER TABLE users ADD COLUMN last_sign_in_at BIGINT;
