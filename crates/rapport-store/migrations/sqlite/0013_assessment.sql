-- The portfolio assessment's definition (the ideal account's weighted criteria, the hourly
-- cost of service, the target margin, when silence becomes neglect): every version kept, with
-- who changed it, when and why. The current definition is the highest version; with none, the
-- built-in default applies (version 0).
CREATE TABLE assessment_definitions (
    version    INTEGER PRIMARY KEY,
    definition TEXT NOT NULL,
    changed_by TEXT,
    changed_at TEXT NOT NULL,
    reason     TEXT NOT NULL
);
