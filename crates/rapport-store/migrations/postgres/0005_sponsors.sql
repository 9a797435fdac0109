-- The executive who sponsors an account (a user's email): importable like the owner, and
-- what executives' views highlight.
ALTER TABLE accounts ADD COLUMN sponsor_email TEXT;
CREATE INDEX accounts_sponsor ON accounts (sponsor_email);
