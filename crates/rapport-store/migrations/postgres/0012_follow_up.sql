-- Closing the loop: alerts and the follow-up tasks they open, action plans (tasks without an
-- alert), webhooks, and the outbox that delivers notifications and webhook events.

-- Portfolio settings, one JSON document per name (e.g. 'alert_rules'), read and checked by
-- the core crate; and the follow-up scanner's own state ('quadrants_version').
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by TEXT
);

-- Answers waiting for the alert rules: filled by a trigger in the transaction that stores
-- the answer (whatever stored it: the response page, an import, the API), emptied by the
-- scanner. Answers given more than 30 days ago (an imported history) raise no alerts.
CREATE TABLE response_inbox (
    response_id BIGINT PRIMARY KEY REFERENCES responses(id) ON DELETE CASCADE
);
CREATE FUNCTION responses_to_inbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.submitted_at >= now() - interval '30 days' THEN
        INSERT INTO response_inbox (response_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER responses_to_inbox AFTER INSERT ON responses
    FOR EACH ROW EXECUTE FUNCTION responses_to_inbox();

-- An alert, raised once: `key` names what it is about (an answer, an account in a wave).
CREATE TABLE alerts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('detractor', 'watch_words', 'nps_drop', 'problem')),
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    wave_id     BIGINT REFERENCES waves(id) ON DELETE CASCADE,
    response_id BIGINT REFERENCES responses(id) ON DELETE SET NULL,
    detail      TEXT NOT NULL,
    raised_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX alerts_account ON alerts (account_id);

-- Review meetings held with an account: the notes; the outcomes become tasks (review_id).
CREATE TABLE reviews (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    held_on     DATE NOT NULL,
    notes       TEXT NOT NULL,
    recorded_by TEXT,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX reviews_account ON reviews (account_id, held_on);

-- Work owed on an account: the follow-up of an alert (alert_id set), or an action plan item
-- (written on the account page, or an outcome of a review meeting: review_id set).
CREATE TABLE tasks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    alert_id     BIGINT UNIQUE REFERENCES alerts(id) ON DELETE CASCADE,
    review_id    BIGINT REFERENCES reviews(id) ON DELETE SET NULL,
    description  TEXT NOT NULL,
    function     TEXT NOT NULL CHECK (function IN ('sales', 'service', 'product', 'marketing', 'billing', 'executive')),
    owner_email  TEXT,
    due_at       TIMESTAMPTZ NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'done', 'dropped')),
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT,
    closed_at    TIMESTAMPTZ,
    closed_by    TEXT,
    outcome      TEXT,
    escalated_at TIMESTAMPTZ,
    escalated_to TEXT
);
CREATE INDEX tasks_account ON tasks (account_id);
CREATE INDEX tasks_due ON tasks (status, due_at);

-- The answers (and so comments) a task responds to.
CREATE TABLE task_responses (
    task_id     BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    response_id BIGINT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, response_id)
);

-- Each account's quadrant as last seen, to tell when it moves (account.quadrant_changed);
-- `changes` counts the moves, naming each one.
CREATE TABLE account_quadrants (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    wave_id    BIGINT REFERENCES waves(id) ON DELETE CASCADE,
    quadrant   TEXT NOT NULL,
    changes    INTEGER NOT NULL DEFAULT 0,
    changed_at TIMESTAMPTZ NOT NULL
);

-- Where events are posted, signed with the secret.
CREATE TABLE webhooks (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    events     TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Notifications and webhook deliveries, written in the transaction that decides them and run
-- by any `rapport serve` process; kept afterwards as the delivery log. `key` is unique: the
-- same notification or event is never queued twice.
CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
    webhook_id   BIGINT REFERENCES webhooks(id) ON DELETE CASCADE,
    recipient    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    run_at       TIMESTAMPTZ NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMPTZ,
    last_error   TEXT,
    last_status  INTEGER,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (status, run_at);
