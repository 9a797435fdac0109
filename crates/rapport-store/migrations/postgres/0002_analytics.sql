-- Sufficient statistics per (wave, account, contact role level): loyalty counts and per-driver
-- sums over the latest answer of each contact, kept current in the same transaction as the
-- answers, so that every report is a merge of cells, never a scan of answers.
CREATE TABLE wave_account_stats (
    wave_id    BIGINT NOT NULL REFERENCES waves(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    stats      TEXT NOT NULL,
    PRIMARY KEY (wave_id, account_id, role)
);
