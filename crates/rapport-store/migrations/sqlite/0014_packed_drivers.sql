-- Each cell's driver sums move into its own row, packed (src/analytics/packed.rs): a report
-- reads one row per cell instead of one per driver. X'00' is the packed form of no drivers.
-- The cells of a database made before this migration are then recomputed from the answers
-- once, by the store as it opens it, which also drops the per-driver table
-- (Store::connect).
ALTER TABLE wave_account_stats ADD COLUMN drivers BLOB NOT NULL DEFAULT X'00';
