-- Sufficient statistics per (wave, account, contact role level), over the latest answer of
-- each contact, kept current in the same transaction as the answers: reports sum these
-- columns per segment and never scan answers. Plain integer columns, so that the database
-- sums them (GROUP BY) without decoding anything.
CREATE TABLE wave_account_stats (
    wave_id    BIGINT NOT NULL REFERENCES waves(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    promoters  BIGINT NOT NULL,
    passives   BIGINT NOT NULL,
    detractors BIGINT NOT NULL,
    ltr_sum    BIGINT NOT NULL,
    ltr_sumsq  BIGINT NOT NULL,
    PRIMARY KEY (wave_id, account_id, role)
);

-- Per driver (rated question), over the answers that rate it: n, Σx, Σx², Σxy, Σy, Σy²
-- with y the likelihood to recommend.
CREATE TABLE wave_driver_stats (
    wave_id    BIGINT NOT NULL REFERENCES waves(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    driver     TEXT NOT NULL,
    n          BIGINT NOT NULL,
    sum_x      BIGINT NOT NULL,
    sum_xx     BIGINT NOT NULL,
    sum_xy     BIGINT NOT NULL,
    sum_y      BIGINT NOT NULL,
    sum_yy     BIGINT NOT NULL,
    PRIMARY KEY (wave_id, account_id, role, driver)
);

-- Bumped by every transaction that changes what reports show (imports, the demo, answers,
-- rebuilds, waves): a process caches report inputs for as long as this number is unchanged,
-- which stays correct with any number of processes on one database.
CREATE TABLE data_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_version (id, version) VALUES (1, 0);
