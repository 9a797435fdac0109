-- Closing the loop: alerts and the follow-up tasks they open, action plans (tasks without an
-- alert), webhooks, and the outbox that delivers notifications and webhook events.

-- Portfolio settings, one JSON document per name (e.g. 'alert_rules'), read and checked by
-- the core crate; and the follow-up scanner's own state ('quadrants_version').
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_by TEXT
);

-- Answers waiting for the alert rules: filled by a trigger in the transaction that stores
-- the answer (whatever stored it: the response page, an import, the API), emptied by the
-- scanner. Answers given more than 30 days ago (an imported history) raise no alerts.
CREATE TABLE response_inbox (
    response_id INTEGER PRIMARY KEY REFERENCES responses(id) ON DELETE CASCADE
);
CREATE TRIGGER responses_to_inbox AFTER INSERT ON responses
WHEN julianday(NEW.submitted_at) >= julianday('now') - 30
BEGIN
    INSERT OR IGNORE INTO response_inbox (response_id) VALUES (NEW.id);
END;

-- An alert, raised once: `key` names what it is about (an answer, an account in a wave).
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('detractor', 'watch_words', 'nps_drop', 'problem')),
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    wave_id     INTEGER REFERENCES waves(id) ON DELETE CASCADE,
    response_id INTEGER REFERENCES responses(id) ON DELETE SET NULL,
    detail      TEXT NOT NULL,
    raised_at   TEXT NOT NULL
);
CREATE INDEX alerts_account ON alerts (account_id);

-- Review meetings held with an account: the notes; the outcomes become tasks (review_id).
CREATE TABLE reviews (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    held_on     TEXT NOT NULL,
    notes       TEXT NOT NULL,
    recorded_by TEXT,
    recorded_at TEXT NOT NULL
);
CREATE INDEX reviews_account ON reviews (account_id, held_on);

-- Work owed on an account: the follow-up of an alert (alert_id set), or an action plan item
-- (written on the account page, or an outcome of a review meeting: review_id set).
CREATE TABLE tasks (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    alert_id     INTEGER UNIQUE REFERENCES alerts(id) ON DELETE CASCADE,
    review_id    INTEGER REFERENCES reviews(id) ON DELETE SET NULL,
    description  TEXT NOT NULL,
    function     TEXT NOT NULL CHECK (function IN ('sales', 'service', 'product', 'marketing', 'billing', 'executive')),
    owner_email  TEXT,
    due_at       TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'done', 'dropped')),
    created_at   TEXT NOT NULL,
    created_by   TEXT,
    closed_at    TEXT,
    closed_by    TEXT,
    outcome      TEXT,
    escalated_at TEXT,
    escalated_to TEXT
);
CREATE INDEX tasks_account ON tasks (account_id);
CREATE INDEX tasks_due ON tasks (status, due_at);

-- The answers (and so comments) a task responds to.
CREATE TABLE task_responses (
    task_id     INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    response_id INTEGER NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, response_id)
);

-- Each account's quadrant as last seen, to tell when it moves (account.quadrant_changed);
-- `changes` counts the moves, naming each one.
CREATE TABLE account_quadrants (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    wave_id    INTEGER REFERENCES waves(id) ON DELETE CASCADE,
    quadrant   TEXT NOT NULL,
    changes    INTEGER NOT NULL DEFAULT 0,
    changed_at TEXT NOT NULL
);

-- Where events are posted, signed with the secret.
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    events     TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Notifications and webhook deliveries, written in the transaction that decides them and run
-- by any `rapport serve` process; kept afterwards as the delivery log. `key` is unique: the
-- same notification or event is never queued twice.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
    webhook_id   INTEGER REFERENCES webhooks(id) ON DELETE CASCADE,
    recipient    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    run_at       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    last_error   TEXT,
    last_status  INTEGER,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    finished_at  TEXT
);
CREATE INDEX outbox_due ON outbox (status, run_at);
