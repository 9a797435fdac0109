-- The portfolio: accounts, contacts, revenue, opportunities, service cases, users,
-- and the survey skeleton (surveys, waves, invitations, responses) that later features grow on.
-- Money is integer cents; hours and percentages are integer hundredths; times are UTC.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'account_manager', 'executive')),
    password_hash TEXT,
    manager_id    BIGINT REFERENCES users(id),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id        TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    vertical           TEXT,
    region             TEXT,
    owner_email        TEXT,
    billed_revenue     BIGINT,
    potential_revenue  BIGINT,
    cost_of_sales      BIGINT,
    payment_days       INTEGER,
    relationship_style TEXT CHECK (relationship_style IN ('relationship', 'transaction')),
    strategic          BOOLEAN,
    attributes         TEXT NOT NULL DEFAULT '{}',
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX accounts_vertical ON accounts (vertical);
CREATE INDEX accounts_owner ON accounts (owner_email);

CREATE TABLE contacts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    title       TEXT,
    role        TEXT CHECK (role IN ('executive', 'manager', 'user')),
    email       TEXT,
    phone       TEXT,
    language    TEXT,
    opted_out   BOOLEAN NOT NULL DEFAULT FALSE,
    attributes  TEXT NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX contacts_account ON contacts (account_id);

CREATE TABLE revenue (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    period     TEXT NOT NULL,
    billed     BIGINT,
    booked     BIGINT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (account_id, period)
);

CREATE TABLE opportunities (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    amount      BIGINT,
    stage       TEXT,
    outcome     TEXT CHECK (outcome IN ('open', 'won', 'lost')),
    discount_bp INTEGER,
    opened_on   DATE,
    closed_on   DATE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX opportunities_account ON opportunities (account_id);

CREATE TABLE service_cases (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id       TEXT NOT NULL UNIQUE,
    account_id        BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind              TEXT CHECK (kind IN ('exception', 'service_request', 'order_change', 'complaint', 'other')),
    opened_on         DATE,
    closed_on         DATE,
    effort_centihours BIGINT,
    billable          BOOLEAN,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX service_cases_account ON service_cases (account_id);

-- A survey has versions; a wave keeps the version it was sent with.
CREATE TABLE surveys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE survey_versions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id  BIGINT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (survey_id, version)
);

CREATE TABLE waves (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    survey_version_id BIGINT REFERENCES survey_versions(id),
    opens_on          DATE,
    closes_on         DATE,
    status            TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE invitations (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wave_id    BIGINT NOT NULL REFERENCES waves(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    channel    TEXT NOT NULL DEFAULT 'email',
    status     TEXT NOT NULL DEFAULT 'pending',
    sent_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (wave_id, contact_id)
);

-- One row per answer given. A contact who answers twice in a wave keeps both rows;
-- analysis uses the latest (greatest submitted_at, then id).
CREATE TABLE responses (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wave_id       BIGINT NOT NULL REFERENCES waves(id) ON DELETE CASCADE,
    contact_id    BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    account_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    invitation_id BIGINT REFERENCES invitations(id),
    submitted_at  TIMESTAMPTZ NOT NULL,
    ltr           INTEGER NOT NULL CHECK (ltr BETWEEN 0 AND 10),
    comment       TEXT,
    scores        TEXT NOT NULL DEFAULT '{}',
    source        TEXT NOT NULL DEFAULT 'import',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (wave_id, contact_id, submitted_at)
);
CREATE INDEX responses_wave_account ON responses (wave_id, account_id, contact_id);
CREATE INDEX responses_contact ON responses (contact_id);
