//! The analytics cells: per (wave, account, contact role level) sufficient statistics over
//! the latest answer of each contact, kept current in the same transaction as the answers
//! (see [`crate::writer`]), and rebuilt from all answers on demand. Reports have the database
//! sum cells per segment and compute every figure in `rapport-core`; they never scan answers.

use std::collections::{BTreeMap, HashSet};

use rapport_core::account::Account;
use rapport_core::contact::RoleLevel;
use rapport_core::loyalty::LoyaltyCounts;
use rapport_core::period::Period;
use rapport_core::segment::Dimension;
use rapport_core::stats::{CellStats, DriverSums};
use sqlx::QueryBuilder;
use time::{Date, OffsetDateTime};

use crate::copy_out;
use crate::direct;
use crate::error::StoreError;
use crate::on_pool;
use crate::portfolio::{ACCOUNT_COLUMNS, AccountRow};
use crate::record::SqlValue;
use crate::store::Store;
use crate::tx::{Tx, on_tx};
use crate::unnest;

pub(crate) mod in_place;
mod increment;
mod kept;
mod packed;
mod rebuild;
mod wave_cells;
pub(crate) use increment::{CellAnswer, add_answers};
pub use wave_cells::WaveCells;

/// How a role level is stored in a cell key (`none` for contacts without one).
fn role_key(role: Option<RoleLevel>) -> &'static str {
    role.map_or("none", RoleLevel::as_str)
}

/// One answer as read through sqlx, owned (see [`Answer`]).
#[derive(sqlx::FromRow)]
struct AnswerRow {
    wave_id: i64,
    account_id: i64,
    contact_id: i64,
    role: Option<String>,
    submitted_at: OffsetDateTime,
    ltr: i32,
    scores: String,
}

impl AnswerRow {
    fn answer(&self) -> Answer<'_> {
        Answer {
            wave_id: self.wave_id,
            account_id: self.account_id,
            contact_id: self.contact_id,
            role: self.role.as_deref().and_then(RoleLevel::parse),
            submitted_at: self.submitted_at,
            ltr: self.ltr,
            scores: Scores::Text(&self.scores),
        }
    }
}

/// One answer as the fold needs it, borrowed from the row it was read from: a rebuild reads
/// millions, and copying each one's texts cost two allocations an answer.
///
/// It has no id: the fold needs none. A contact has at most one answer a wave at a given
/// time (the answers' unique key), so the latest is the one with the greatest `submitted_at`,
/// and an answer is named by its contact, wave and time ([`named`]). Not reading the
/// ids saved a rebuild a column of 2.5M values at 100,000 accounts.
struct Answer<'a> {
    wave_id: i64,
    account_id: i64,
    contact_id: i64,
    role: Option<RoleLevel>,
    submitted_at: OffsetDateTime,
    ltr: i32,
    scores: Scores<'a>,
}

/// An answer's driver ratings: the JSON object they are stored as, or already read into
/// (driver number, rating) pairs in key order, numbered by the [`DriverKeys`] that the fold
/// they are pushed to was made with ([`Folder::with_keys`]).
#[derive(Clone, Copy)]
enum Scores<'a> {
    Text(&'a str),
    Numbered(&'a [(u16, u8)]),
}

/// The columns of an [`Answer`], in order, and the tables they come from.
const ANSWER_COLUMNS: &str = "r.wave_id, r.account_id, r.contact_id, c.role, r.submitted_at, r.ltr, r.scores \
     FROM responses r JOIN contacts c ON c.id = r.contact_id";

/// A finished cell in its stored form, ready to compare with a stored one or to write.
struct Cell {
    wave_id: i64,
    account_id: i64,
    role: &'static str,
    /// The five loyalty columns ([`loyalty_columns`]).
    loyalty: [i64; 5],
    /// The packed driver sums ([`packed`]).
    drivers: Vec<u8>,
}

#[cfg(test)]
impl Cell {
    /// The cell of `stats` in its stored form.
    fn of(wave_id: i64, account_id: i64, role: &'static str, stats: &CellStats) -> Cell {
        Cell {
            wave_id,
            account_id,
            role,
            loyalty: loyalty_columns(&stats.loyalty),
            drivers: packed::pack(&stats.drivers),
        }
    }

    /// The stats this cell stores.
    fn stats(&self) -> CellStats {
        CellStats { loyalty: counts(self.loyalty), drivers: packed::unpack_owned(&self.drivers).unwrap() }
    }
}

/// The latest answer of a contact so far, while the fold goes through the contact's answers.
struct Latest {
    wave_id: i64,
    account_id: i64,
    contact_id: i64,
    role: &'static str,
    submitted_at: OffsetDateTime,
    ltr: i32,
    /// Its ratings by driver number ([`DriverKeys`]).
    ratings: Vec<(u16, u8)>,
}

impl Latest {
    /// `answer`, its ratings numbered by `keys` into `room` (the list of an answer folded
    /// before).
    fn new(answer: &Answer<'_>, mut room: Vec<(u16, u8)>, keys: &mut DriverKeys) -> Result<Latest, StoreError> {
        room.clear();
        match answer.scores {
            Scores::Numbered(ratings) => room.extend_from_slice(ratings),
            Scores::Text(text) => keys.read(text, &mut room).map_err(|e| {
                StoreError::Other(e.context(format!(
                    "reading the scores of {}",
                    named(answer.contact_id, answer.wave_id, answer.submitted_at)
                )))
            })?,
        }
        Ok(Latest {
            wave_id: answer.wave_id,
            account_id: answer.account_id,
            contact_id: answer.contact_id,
            role: role_key(answer.role),
            submitted_at: answer.submitted_at,
            ltr: answer.ltr,
            ratings: room,
        })
    }
}

/// How an error names an answer: by its contact, wave and time (ids, as stored), which are
/// its unique key.
fn named(contact_id: i64, wave_id: i64, submitted_at: OffsetDateTime) -> String {
    format!("the answer of contact {contact_id} in wave {wave_id} submitted at {submitted_at}")
}

/// Folds answers ordered by (wave, account, contact) into cells, keeping only the latest
/// answer of each contact (greatest `submitted_at`).
#[derive(Default)]
struct Folder {
    group: Option<(i64, i64)>,
    /// The open group's sums, one entry per role key met so far (a handful), in key order.
    sums: Vec<(&'static str, Sums)>,
    keys: DriverKeys,
    best: Option<Latest>,
    /// The ratings of the last folded answer, whose room the next one reuses.
    spare: Vec<(u16, u8)>,
    done: Vec<Cell>,
    /// Answers pushed so far.
    answers: u64,
    /// Cells finished so far, handed out or not.
    cells_done: u64,
}

/// One cell's sums while the fold goes through its answers: what [`CellStats::add_answer`]
/// counts, with the drivers by their number in [`DriverKeys`] instead of a map by key. A map
/// of keys a cell, allocated and freed for each of 1M cells, was a tenth of a rebuild; these
/// are reused from one cell to the next. A test proves both count the same.
#[derive(Default)]
struct Sums {
    loyalty: LoyaltyCounts,
    drivers: Vec<DriverSums>,
}

/// The driver keys the fold has met, numbered in the order met, and their numbers in key order.
#[derive(Default)]
struct DriverKeys {
    names: Vec<String>,
    in_order: Vec<usize>,
}

impl Folder {
    /// A fold whose driver numbers are those of `keys`: answers whose scores were numbered
    /// by these keys ([`Scores::Numbered`]) may be pushed to it.
    fn with_keys(keys: DriverKeys) -> Folder {
        Folder { keys, ..Folder::default() }
    }

    fn push(&mut self, row: Answer<'_>) -> Result<(), StoreError> {
        self.answers += 1;
        if let Some(best) = self.best.as_mut()
            && (best.wave_id, best.account_id, best.contact_id) == (row.wave_id, row.account_id, row.contact_id)
        {
            if row.submitted_at > best.submitted_at {
                *best = Latest::new(&row, std::mem::take(&mut best.ratings), &mut self.keys)?;
            }
            return Ok(());
        }
        self.take_best()?;
        if self.group != Some((row.wave_id, row.account_id)) {
            self.close_group();
            self.group = Some((row.wave_id, row.account_id));
        }
        self.best = Some(Latest::new(&row, std::mem::take(&mut self.spare), &mut self.keys)?);
        Ok(())
    }

    fn take_best(&mut self) -> Result<(), StoreError> {
        let Some(best) = self.best.take() else { return Ok(()) };
        let ltr = u8::try_from(best.ltr).ok().filter(|l| *l <= 10).ok_or_else(|| {
            let answer = named(best.contact_id, best.wave_id, best.submitted_at);
            StoreError::Other(anyhow::anyhow!("{answer} has an LTR of {} outside 0-10", best.ltr))
        })?;
        let at = match self.sums.iter().position(|(role, _)| *role >= best.role) {
            Some(i) if self.sums[i].0 == best.role => i,
            place => {
                let i = place.unwrap_or(self.sums.len());
                self.sums.insert(i, (best.role, Sums::default()));
                i
            }
        };
        let sums = &mut self.sums[at].1;
        sums.loyalty.add(ltr);
        for &(number, x) in &best.ratings {
            let number = usize::from(number);
            if sums.drivers.len() <= number {
                sums.drivers.resize(number + 1, DriverSums::default());
            }
            sums.drivers[number].add(x, ltr);
        }
        self.spare = best.ratings;
        Ok(())
    }

    fn close_group(&mut self) {
        let Some((wave_id, account_id)) = self.group.take() else { return };
        for (role, sums) in &mut self.sums {
            if sums.loyalty.is_empty() {
                continue;
            }
            let rated = || sums.drivers.iter().filter(|d| d.n > 0);
            let mut drivers = Vec::new();
            let in_key_order = self.keys.in_order.iter().filter_map(|&i| {
                let d = sums.drivers.get(i).filter(|d| d.n > 0)?;
                Some((self.keys.names[i].as_str(), d))
            });
            packed::pack_sorted(rated().count(), in_key_order, &mut drivers);
            self.done.push(Cell { wave_id, account_id, role, loyalty: loyalty_columns(&sums.loyalty), drivers });
            self.cells_done += 1;
            sums.loyalty = LoyaltyCounts::default();
            sums.drivers.fill(DriverSums::default());
        }
    }

    /// The cells finished so far, once there are enough of them to write as a chunk.
    fn ready(&mut self) -> Option<Vec<Cell>> {
        (self.done.len() >= INSERT_CHUNK).then(|| std::mem::take(&mut self.done))
    }

    /// The cells not handed out yet, the last one finished.
    fn finish(&mut self) -> Result<Vec<Cell>, StoreError> {
        self.take_best()?;
        self.close_group();
        Ok(std::mem::take(&mut self.done))
    }
}

impl DriverKeys {
    /// Reads an answer's scores from their JSON text into `out` as (driver number, rating)
    /// pairs in key order. Driver keys are plain words, so their text borrows from the
    /// answer's; a key written with escapes (which cannot be borrowed) is read again into text
    /// of its own.
    fn read(&mut self, text: &str, out: &mut Vec<(u16, u8)>) -> anyhow::Result<()> {
        let owned: BTreeMap<String, u8>;
        let pairs: Vec<(&str, u8)> = match serde_json::from_str::<ScorePairs<'_>>(text) {
            Ok(ScorePairs(pairs)) => pairs,
            Err(_) => {
                owned = serde_json::from_str(text)?;
                owned.iter().map(|(k, v)| (k.as_str(), *v)).collect()
            }
        };
        let mut too_many = false;
        self.number(&pairs, |number, x| match u16::try_from(number) {
            Ok(number) => out.push((number, x)),
            Err(_) => too_many = true,
        });
        if too_many {
            anyhow::bail!("the answers rate more than 65,536 different drivers, more than Rapport can sum at once");
        }
        Ok(())
    }

    /// Calls `each` with the number and rating of every pair of `drivers` (in ascending key
    /// order, each key once), numbering a key the first time it is met. One walk through the
    /// keys in order, beside the pairs: no hashing, and no allocation once every key is known.
    fn number(&mut self, drivers: &[(&str, u8)], mut each: impl FnMut(usize, u8)) {
        let mut at = 0;
        for &(key, x) in drivers {
            // Most answers rate the same drivers: the next key known is usually this one.
            let next = |at: usize| self.in_order.get(at).filter(|&&i| self.names[i] == key).copied();
            let mut found = next(at);
            if found.is_none() {
                while at < self.in_order.len() && self.names[self.in_order[at]].as_str() < key {
                    at += 1;
                }
                found = next(at);
            }
            let number = match found {
                Some(i) => i,
                None => {
                    self.names.push(key.to_string());
                    self.in_order.insert(at, self.names.len() - 1);
                    self.names.len() - 1
                }
            };
            at += 1;
            each(number, x);
        }
    }
}

/// An answer's scores read from their JSON object as (driver key, rating) pairs in key order,
/// each key once (a key given twice keeps its last rating, as a map would), borrowed from the
/// text: building a map for each of millions of answers was a tenth of a rebuild's fold.
struct ScorePairs<'a>(Vec<(&'a str, u8)>);

impl<'de> serde::Deserialize<'de> for ScorePairs<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = ScorePairs<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of driver keys to ratings")
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<ScorePairs<'de>, M::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(pair) = map.next_entry::<&'de str, u8>()? {
                    pairs.push(pair);
                }
                // Rapport writes the keys in order, each once: then one look is enough.
                if pairs.is_sorted_by(|a, b| a.0 < b.0) {
                    return Ok(ScorePairs(pairs));
                }
                // Stable: a repeated key's ratings stay in the order given, and the last wins.
                pairs.sort_by(|a, b| a.0.cmp(b.0));
                pairs.dedup_by(|later, earlier| {
                    let repeat = later.0 == earlier.0;
                    if repeat {
                        earlier.1 = later.1;
                    }
                    repeat
                });
                Ok(ScorePairs(pairs))
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

/// The summed loyalty columns, as BIGINT on both backends (PostgreSQL sums BIGINT to NUMERIC).
const LOYALTY_SUMS: &str = "CAST(SUM(promoters) AS BIGINT), CAST(SUM(passives) AS BIGINT), \
     CAST(SUM(detractors) AS BIGINT), CAST(SUM(ltr_sum) AS BIGINT), CAST(SUM(ltr_sumsq) AS BIGINT)";

/// The stored value a dimension groups by (named into segments by [`Dimension::key_of_value`]).
fn segment_column(by: Dimension) -> &'static str {
    match by {
        Dimension::Vertical => "a.vertical",
        Dimension::Region => "a.region",
        Dimension::Owner => "a.owner_email",
        Dimension::Role => "s.role",
        Dimension::RelationshipStyle => "a.relationship_style",
        Dimension::Strategic => "CASE WHEN a.strategic IS NULL THEN NULL WHEN a.strategic THEN 'true' ELSE 'false' END",
    }
}

fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A cell's five loyalty columns as stored (the inverse of [`counts`]).
fn loyalty_columns(l: &LoyaltyCounts) -> [i64; 5] {
    [l.promoters, l.passives, l.detractors, l.ltr_sum, l.ltr_sumsq].map(int)
}

/// A cell's five loyalty columns read from a rusqlite row, from column `first` on.
fn row_loyalty(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<[i64; 5]> {
    let mut loyalty = [0; 5];
    for (i, sum) in loyalty.iter_mut().enumerate() {
        *sum = row.get(first + i)?;
    }
    Ok(loyalty)
}

fn counts([promoters, passives, detractors, ltr_sum, ltr_sumsq]: [i64; 5]) -> LoyaltyCounts {
    LoyaltyCounts {
        promoters: uint(promoters),
        passives: uint(passives),
        detractors: uint(detractors),
        ltr_sum: uint(ltr_sum),
        ltr_sumsq: uint(ltr_sumsq),
    }
}

/// Account ids per wave whose cells must be recomputed.
pub(crate) type Touched = BTreeMap<i64, HashSet<i64>>;

/// Accounts per statement when cells are refreshed.
const REFRESH_CHUNK: usize = 400;
/// Cells per insert statement.
const INSERT_CHUNK: usize = 500;

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A cell's row, as [`increment::CELL_INSERT`] names its columns.
fn cell_values(c: &Cell) -> Vec<SqlValue> {
    let mut row = vec![
        SqlValue::Int(Some(c.wave_id)),
        SqlValue::Int(Some(c.account_id)),
        SqlValue::Text(Some(c.role.to_string())),
    ];
    row.extend(c.loyalty.map(|v| SqlValue::Int(Some(v))));
    row.push(SqlValue::Bytes(Some(c.drivers.clone())));
    row
}

/// Writes `cells`, each over any stored cell of its key.
async fn put_cells(tx: &mut Tx, cells: &[Cell]) -> Result<(), StoreError> {
    if let Tx::Postgres(t) = &mut *tx {
        // One statement of arrays (see [`crate::unnest`]).
        if !cells.is_empty() {
            unnest::insert(increment::CELL_INSERT, cells.iter().map(cell_values).collect(), increment::CELL_UPSERT)?
                .build()
                .execute(&mut **t)
                .await?;
        }
        return Ok(());
    }
    for chunk in cells.chunks(INSERT_CHUNK) {
        on_tx!(&mut *tx, |t| {
            let mut qb = QueryBuilder::new(increment::CELL_INSERT);
            qb.push_values(chunk, |mut b, c| {
                for v in cell_values(c) {
                    crate::writer::bind_value!(b, v);
                }
            });
            qb.push(increment::CELL_UPSERT);
            qb.build().execute(&mut **t).await?;
        });
    }
    Ok(())
}

/// Recomputes the cells of the given (wave, account) pairs from their answers, inside the
/// transaction that changed those answers.
pub(crate) async fn refresh_cells(tx: &mut Tx, touched: &Touched) -> Result<(), StoreError> {
    if let Tx::Postgres(t) = &mut *tx {
        // The planner's statistics predate the rows this transaction wrote (a bulk import may
        // add millions), so it would pick sequential scans for the per-chunk lookups and
        // deletes below, each slower than the last. Every statement here is keyed by an index
        // prefix, so use the indexes, for the rest of this transaction only.
        // A connection may also hold a generic plan made when the tables were small: plan each
        // statement for the sizes it meets now.
        sqlx::query("SET LOCAL enable_seqscan = off").execute(&mut **t).await?;
        sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan").execute(&mut **t).await?;
    }
    let mut all: Vec<i64> = touched.values().flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    lock_accounts(tx, &all).await?;
    for (&wave_id, accounts) in touched {
        let mut ids: Vec<i64> = accounts.iter().copied().collect();
        ids.sort_unstable();
        for chunk in ids.chunks(REFRESH_CHUNK) {
            let rows: Vec<AnswerRow> = on_tx!(&mut *tx, |t| {
                let mut qb = QueryBuilder::new(format!("SELECT {ANSWER_COLUMNS} WHERE r.wave_id = "));
                qb.push_bind(wave_id).push(" AND r.account_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(") ORDER BY r.account_id, r.contact_id");
                qb.build_query_as().fetch_all(&mut **t).await?
            });
            let mut folder = Folder::default();
            for row in &rows {
                folder.push(row.answer())?;
            }
            let cells = folder.finish()?;
            on_tx!(&mut *tx, |t| {
                let mut qb = QueryBuilder::new("DELETE FROM wave_account_stats WHERE wave_id = ");
                qb.push_bind(wave_id).push(" AND account_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build().execute(&mut **t).await?;
            });
            put_cells(tx, &cells).await?;
        }
    }
    Ok(())
}

/// Several processes may write answers for the same accounts at once (servers behind a load
/// balancer, or an import beside them), and each changes an account's cells from the answers
/// it can see, so two must not interleave: on PostgreSQL this locks every account in `ids`
/// (sorted, unique) for the rest of the transaction, in one order (ascending id) so that no
/// two lock in opposite orders. (SQLite has one writer at a time already.) Taking a lock the
/// transaction holds already is harmless.
///
/// PostgreSQL keeps every lock a transaction holds in one shared table, sized for about 64
/// per connection (6,400 by default): an import of answers for 100,000 accounts could not
/// lock them one by one ("out of shared memory"). So each transaction first takes the
/// portfolio's lock, shared for a few accounts and exclusive for many
/// ([`MANY_ACCOUNTS`]); the exclusive one stands for all the accounts at once.
pub(crate) async fn lock_accounts(tx: &mut Tx, ids: &[i64]) -> Result<(), StoreError> {
    if let Tx::Postgres(t) = &mut *tx {
        if ids.len() > MANY_ACCOUNTS {
            return lock_portfolio(tx).await;
        }
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1, 0)").bind(PORTFOLIO_LOCK).execute(&mut **t).await?;
        sqlx::query("SELECT COUNT(pg_advisory_xact_lock(id)) FROM (SELECT id FROM unnest($1::bigint[]) AS id ORDER BY id) AS ids")
            .bind(ids)
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

/// Locks every account's cells at once on PostgreSQL (see [`lock_accounts`]), for the rest of
/// the transaction: a rebuild, or a write of answers for more than [`MANY_ACCOUNTS`].
pub(crate) async fn lock_portfolio(tx: &mut Tx) -> Result<(), StoreError> {
    if let Tx::Postgres(t) = &mut *tx {
        sqlx::query("SELECT pg_advisory_xact_lock($1, 0)").bind(PORTFOLIO_LOCK).execute(&mut **t).await?;
    }
    Ok(())
}

/// Above this many accounts a transaction locks the whole portfolio, not each account.
const MANY_ACCOUNTS: usize = 1_000;

/// The portfolio's advisory lock, in PostgreSQL's two-number key space, which never meets the
/// one-number keys of the accounts' locks ("RAPP").
const PORTFOLIO_LOCK: i32 = 0x5241_5050;

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildSummary {
    /// Answers read.
    pub answers: u64,
    /// Cells recomputed.
    pub cells: u64,
    /// Stored cells that differed from the recomputed ones (changed, missing or left over),
    /// and were corrected: none when every import and answer kept them right.
    pub corrected: u64,
}

/// The cells `query` selects (the columns of [`Store::wave_cells`]), read through PostgreSQL's
/// binary COPY into room for `room` of them.
async fn copy_cells(pool: &sqlx::PgPool, query: &str, room: usize) -> Result<WaveCells, StoreError> {
    let mut cells = WaveCells::with_capacity(room);
    copy_out::copy_rows(pool, query, |r| {
        cells.push(r.int8_not_null(0)?, r.text_not_null(1)?, copied_loyalty(r, 2)?, r.bytes_not_null(7)?);
        Ok(())
    })
    .await?;
    Ok(cells)
}

/// The five loyalty sums of a cell read through COPY, from field `first` on.
fn copied_loyalty(r: &copy_out::Fields<'_>, first: usize) -> Result<[i64; 5], StoreError> {
    let mut loyalty = [0; 5];
    for (i, sum) in loyalty.iter_mut().enumerate() {
        *sum = r.int8_not_null(first + i)?;
    }
    Ok(loyalty)
}

/// The planner's count of `table`'s rows on PostgreSQL (0 before the table was first
/// analyzed): room to reserve for reading them, without the scan an exact count costs.
async fn planned_rows(pool: &sqlx::PgPool, table: &str) -> Result<usize, StoreError> {
    let rows: f32 = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE oid = $1::regclass")
        .bind(table)
        .fetch_one(pool)
        .await?;
    Ok(rows.clamp(0.0, 1e7) as usize)
}

/// How many rows `table` has: to size a list or map that will hold about one item per row
/// from the start. A list grown by doubling copies itself as it grows and touches about three
/// times the memory in the end, and in a process that has just started, memory touched for
/// the first time costs more than reading the rows: the kernel's zeroing of fresh pages was
/// the largest single cost in a profile of the first reports at 100,000 accounts. Sized, the
/// first quadrant report took a median 284 ms instead of 354 ms, without the slow runs of
/// 400-660 ms (BENCHMARKS.md, issue 3).
fn row_count(db: &rusqlite::Connection, table: &str) -> rusqlite::Result<usize> {
    let count: i64 = db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// A wave, as reports list it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WaveInfo {
    /// Internal id.
    pub id: i64,
    /// Its name, e.g. 2026-Q3.
    pub name: String,
    /// First day of answers, when known.
    pub opens_on: Option<Date>,
    /// Last day, when known.
    pub closes_on: Option<Date>,
    /// draft, open or closed.
    pub status: String,
    /// Whether anyone has answered in it yet.
    pub answered: bool,
}

/// An account with its internal id, as reports need it.
#[derive(Debug, Clone)]
pub struct PortfolioAccount {
    /// Internal id (the key of analytics cells).
    pub id: i64,
    /// The account (custom attributes are not loaded).
    pub account: Account,
}

/// One cell as reports read it.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveCell {
    /// The account's internal id.
    pub account_id: i64,
    /// The contacts' role level (None: contacts without one).
    pub role: Option<RoleLevel>,
    /// The statistics.
    pub stats: CellStats,
}

impl Store {
    /// Recomputes every analytics cell from all answers and corrects the stored cells that
    /// differ, in one transaction. What it finds is what answers and imports maintained
    /// incrementally (the tests prove it), so normally it corrects none.
    pub async fn rebuild_analytics(&self) -> Result<RebuildSummary, StoreError> {
        match self {
            Store::Sqlite(db) => {
                let file = db.direct().file().to_path_buf();
                direct::write(db, move |tx| rebuild::in_place(tx, &file)).await
            }
            Store::Postgres(pool) => rebuild::on_postgres(self, pool).await,
        }
    }

    /// Migration 0014 moved each cell's driver sums into its row, packed
    /// (`analytics/packed.rs`). A database made before it still has them in the per-driver
    /// table: when that holds any, the cells are recomputed from the answers, once; then the
    /// table is dropped. (A new database has the table too, made by migration 0002, but empty:
    /// it is only dropped.) Until this has run, the store does not open.
    pub(crate) async fn pack_old_cells(&self) -> Result<(), StoreError> {
        let sql = match self {
            Store::Sqlite(_) => {
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'wave_driver_stats')"
            }
            Store::Postgres(_) => "SELECT to_regclass('wave_driver_stats') IS NOT NULL",
        };
        let old: bool = on_pool!(self, |pool| sqlx::query_scalar(sql).fetch_one(pool).await?);
        if !old {
            return Ok(());
        }
        let sql = "SELECT EXISTS (SELECT 1 FROM wave_driver_stats)";
        let filled: bool = on_pool!(self, |pool| sqlx::query_scalar(sql).fetch_one(pool).await?);
        if filled {
            tracing::info!("recomputing the analytics cells from the answers, once, in this version's packed form");
            let done = self.rebuild_analytics().await?;
            tracing::info!(answers = done.answers, cells = done.cells, "analytics cells recomputed");
        }
        // Should this stop before the drop, the next start rebuilds again, which changes nothing.
        let mut tx = Tx::begin(self).await?;
        on_tx!(&mut tx, |t| {
            sqlx::query("DROP TABLE IF EXISTS wave_driver_stats").execute(&mut **t).await?;
        });
        tx.commit().await?;
        Ok(())
    }

    /// The number every change to report data bumps (see [`crate::report_cache`]).
    pub async fn data_version(&self) -> Result<i64, StoreError> {
        let sql = "SELECT version FROM data_version WHERE id = 1";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql).fetch_one(pool).await?))
    }

    /// Every wave, oldest first: by opening date, or for waves imported without dates by
    /// the period their name gives (2026-Q3 opens 2026-07-01), then by name. Sorted here so
    /// both backends agree (they order NULL dates differently).
    pub async fn list_waves(&self) -> Result<Vec<WaveInfo>, StoreError> {
        let sql = "SELECT w.id, w.name, w.opens_on, w.closes_on, w.status, \
                   EXISTS (SELECT 1 FROM responses r WHERE r.wave_id = w.id) AS answered FROM waves w";
        let mut waves: Vec<WaveInfo> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        let start = |w: &WaveInfo| w.opens_on.or_else(|| Period::parse(&w.name).ok().map(Period::first_day));
        waves.sort_by(|a, b| (start(a).is_none(), start(a), &a.name).cmp(&(start(b).is_none(), start(b), &b.name)));
        Ok(waves)
    }

    /// Every account with the fields reports use, ordered by CRM id.
    pub async fn portfolio_accounts(&self) -> Result<Vec<PortfolioAccount>, StoreError> {
        // Reports do not show custom attributes: skip reading them.
        let sql = format!("SELECT {ACCOUNT_COLUMNS}, '{{}}' AS attributes FROM accounts ORDER BY external_id");
        let rows: Vec<AccountRow> = match self {
            Store::Sqlite(db) => {
                direct::read(db, move |db| {
                    let mut rows = Vec::with_capacity(row_count(db, "accounts")?);
                    for row in db.prepare(&sql)?.query_map([], AccountRow::from_rusqlite)? {
                        rows.push(row?);
                    }
                    Ok(rows)
                })
                .await?
            }
            Store::Postgres(pool) => {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(pool).await?;
                let mut rows = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
                copy_out::copy_rows(pool, &sql, |r| {
                    rows.push(AccountRow::from_copy(r)?);
                    Ok(())
                })
                .await?;
                rows
            }
        };
        rows.into_iter().map(|r| Ok(PortfolioAccount { id: r.id, account: r.into_account()? })).collect()
    }

    /// The analytics cells of one wave, read once into memory ([`WaveCells`]): what every
    /// figure of a wave is summed from.
    pub async fn wave_cells(&self, wave_id: i64) -> Result<WaveCells, StoreError> {
        let sql = "SELECT account_id, role, promoters, passives, detractors, ltr_sum, ltr_sumsq, drivers \
                   FROM wave_account_stats WHERE wave_id = $1";
        match self {
            Store::Sqlite(db) => {
                direct::read(db, move |db| {
                    // Sized from the start: growing 40 MB of lists by doubling costs the kernel
                    // fresh pages to zero at every step (BENCHMARKS.md, issue 3).
                    let count_sql = "SELECT COUNT(*) FROM wave_account_stats WHERE wave_id = $1";
                    let count: i64 = db.query_row(count_sql, [wave_id], |r| r.get(0))?;
                    let mut cells = WaveCells::with_capacity(usize::try_from(count).unwrap_or(0));
                    let mut statement = db.prepare(sql)?;
                    let mut rows = statement.query([wave_id])?;
                    while let Some(r) = rows.next()? {
                        cells.push(r.get(0)?, r.get_ref(1)?.as_str()?, row_loyalty(r, 2)?, r.get_ref(7)?.as_blob()?);
                    }
                    Ok(cells)
                })
                .await
            }
            Store::Postgres(pool) => {
                // The wave's accounts in two halves by id, each read through COPY on a connection
                // and a task of its own: most of a COPY's time is the server writing each value
                // out, which one server process does on one core (BENCHMARKS.md, issue 3).
                let range = "SELECT MIN(account_id), MAX(account_id) FROM wave_account_stats WHERE wave_id = $1";
                let (low, high): (Option<i64>, Option<i64>) =
                    sqlx::query_as(range).bind(wave_id).fetch_one(pool).await?;
                let (Some(low), Some(high)) = (low, high) else { return Ok(WaveCells::default()) };
                let middle = low + (high - low) / 2;
                // Room sized by the planner's count of every wave's cells: generous, but memory
                // reserved and never written costs nothing, where an exact count cost a scan.
                let room = planned_rows(pool, "wave_account_stats").await? / 2;
                let halves = [(low, middle), (middle + 1, high)].map(|(from, to)| {
                    // COPY takes no parameters; the wave and the ids are numbers, written in.
                    let query =
                        format!("{} AND account_id BETWEEN {from} AND {to}", sql.replace("$1", &wave_id.to_string()));
                    let pool = pool.clone();
                    tokio::spawn(async move { copy_cells(&pool, &query, room).await })
                });
                let mut cells = WaveCells::default();
                for half in halves {
                    let half = half.await.map_err(|e| {
                        StoreError::Other(anyhow::Error::new(e).context("reading a wave's analytics cells stopped"))
                    })??;
                    cells.append(half);
                }
                Ok(cells)
            }
        }
    }

    /// Loyalty counts per (wave, segment), summed by the database: for one wave or all, the
    /// whole portfolio (`by` None, segment "all") or per segment, optionally for one account.
    pub async fn loyalty_by_segment(
        &self,
        wave_id: Option<i64>,
        by: Option<Dimension>,
        account_id: Option<i64>,
    ) -> Result<Vec<(i64, String, LoyaltyCounts)>, StoreError> {
        let key = by.map_or("NULL", segment_column);
        let mut sql = format!(
            "SELECT s.wave_id, {key} AS k, {LOYALTY_SUMS} FROM wave_account_stats s \
             JOIN accounts a ON a.id = s.account_id WHERE 1 = 1"
        );
        let mut binds = Vec::new();
        for (column, value) in [("s.wave_id", wave_id), ("s.account_id", account_id)] {
            if let Some(v) = value {
                binds.push(v);
                sql.push_str(&format!(" AND {column} = ${}", binds.len()));
            }
        }
        sql.push_str(" GROUP BY s.wave_id, k");
        // (wave, stored value, five loyalty sums)
        type Row = (i64, Option<String>, i64, i64, i64, i64, i64);
        let rows: Vec<Row> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for b in &binds {
                q = q.bind(*b);
            }
            q.fetch_all(pool).await?
        });
        // Raw values that name the same segment ("Retail" and " Retail") merge here.
        let mut merged: BTreeMap<(i64, String), LoyaltyCounts> = BTreeMap::new();
        for (wave, raw, p, pa, d, s, ss) in rows {
            let segment = by.map_or_else(|| "all".to_string(), |dim| dim.key_of_value(raw.as_deref()).into_owned());
            merged.entry((wave, segment)).or_default().merge(&counts([p, pa, d, s, ss]));
        }
        Ok(merged.into_iter().map(|((w, k), c)| (w, k, c)).collect())
    }

    /// Invitations sent per account in a wave (empty when the wave's answers were imported).
    pub async fn invitations_per_account(&self, wave_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let sql = "SELECT c.account_id, COUNT(*) FROM invitations i JOIN contacts c ON c.id = i.contact_id \
                   WHERE i.wave_id = $1 GROUP BY c.account_id";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).bind(wave_id).fetch_all(pool).await?))
    }

    /// Contacts on file per account (the base of response rates for imported waves).
    pub async fn contacts_per_account(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let sql = "SELECT account_id, COUNT(*) FROM contacts GROUP BY account_id";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?))
    }

    /// Every cell as stored, one line per cell (loyalty, then drivers), in key order: for
    /// tests that compare incremental maintenance with a rebuild.
    pub async fn dump_analytics(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for wave in self.list_waves().await? {
            for cell in self.wave_cells(wave.id).await?.to_cells()? {
                out.push(format!("{} {} {:?} {:?}", wave.id, cell.account_id, cell.role, cell.stats));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(contact_id: i64, day: u8, ltr: i32, scores: &str) -> Answer<'_> {
        let submitted_at = time::macros::datetime!(2026-08-01 12:00 UTC) + time::Duration::days(i64::from(day));
        Answer {
            wave_id: 1,
            account_id: 7,
            contact_id,
            role: Some(RoleLevel::Executive),
            submitted_at,
            ltr,
            scores: Scores::Text(scores),
        }
    }

    #[test]
    fn the_fold_counts_each_contacts_latest_answer_whatever_its_scores_text_looked_like() {
        let mut folder = Folder::default();
        folder.push(answer(1, 1, 3, r#"{"delivery":2,"support":1,"value":1}"#)).unwrap();
        // The later answer wins; its key is written with an escape, which cannot be borrowed.
        folder.push(answer(1, 2, 9, r#"{"deliv\u0065ry":5}"#)).unwrap();
        // An earlier answer read after a later one changes nothing.
        folder.push(answer(1, 0, 0, r#"{"delivery":1}"#)).unwrap();
        // The next contact reuses the room of the previous one's text: nothing of it stays.
        folder.push(answer(2, 1, 10, r#"{"delivery":4}"#)).unwrap();
        let cells = folder.finish().unwrap();
        assert_eq!(cells.len(), 1, "one account, one role level");
        let stats = &cells[0].stats();
        assert_eq!((stats.loyalty.promoters, stats.loyalty.detractors, stats.loyalty.ltr_sum), (2, 0, 19));
        assert_eq!(stats.drivers.keys().collect::<Vec<_>>(), ["delivery"], "support and value were replaced");
        let delivery = &stats.drivers["delivery"];
        assert_eq!((delivery.n, delivery.sum_x, delivery.sum_xy), (2, 9, 5 * 9 + 4 * 10));
    }

    #[test]
    fn the_fold_counts_every_cell_as_cell_stats_count_the_latest_answers() {
        use rand::{Rng, SeedableRng};
        struct Row {
            wave: i64,
            account: i64,
            contact: i64,
            minute: i64,
            ltr: u8,
            scores: String,
        }
        let role = |contact: i64| {
            [None, Some(RoleLevel::Executive), Some(RoleLevel::Manager), Some(RoleLevel::User)]
                [usize::try_from(contact % 4).unwrap()]
        };
        // Keys met in no particular order, so later keys land between those numbered earlier.
        let pool = ["value", "brand", "support", "delivery", "zeal", "account_team", "b", "ease"];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut rows: Vec<Row> = (0..3_000)
            .map(|_| {
                let mut rated = Vec::new();
                for key in pool {
                    if rng.gen_bool(0.6) {
                        rated.push(format!("\"{key}\":{}", rng.gen_range(1..6)));
                    }
                }
                Row {
                    wave: rng.gen_range(1..3),
                    account: rng.gen_range(1..40),
                    contact: rng.gen_range(1..9),
                    minute: rng.gen_range(0..100_000),
                    ltr: rng.gen_range(0..11),
                    scores: format!("{{{}}}", rated.join(",")),
                }
            })
            .collect();
        // As the answers' unique key keeps them: one answer a contact, wave and time.
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert((r.wave, r.contact, r.minute)));
        rows.sort_by_key(|r| (r.wave, r.account, r.contact));
        let mut folder = Folder::default();
        let day = time::macros::datetime!(2026-08-01 12:00 UTC);
        for r in &rows {
            folder
                .push(Answer {
                    wave_id: r.wave,
                    account_id: r.account,
                    contact_id: r.contact,
                    role: role(r.contact),
                    submitted_at: day + time::Duration::minutes(r.minute),
                    ltr: i32::from(r.ltr),
                    scores: Scores::Text(&r.scores),
                })
                .unwrap();
        }
        let cells = folder.finish().unwrap();
        for c in &cells {
            assert_eq!(c.drivers, packed::pack(&c.stats().drivers), "packed in key order, as a stored cell would be");
        }
        let folded: Vec<(i64, i64, &str, CellStats)> =
            cells.iter().map(|c| (c.wave_id, c.account_id, c.role, c.stats())).collect();

        // The same through CellStats, over each contact's latest answer.
        let mut latest: BTreeMap<(i64, i64, i64), &Row> = BTreeMap::new();
        for r in &rows {
            let slot = latest.entry((r.wave, r.account, r.contact)).or_insert(r);
            if r.minute > slot.minute {
                *slot = r;
            }
        }
        let mut expected: BTreeMap<(i64, i64, &str), CellStats> = BTreeMap::new();
        for r in latest.into_values() {
            let scores: BTreeMap<String, u8> = serde_json::from_str(&r.scores).unwrap();
            let pairs: Vec<(&str, u8)> = scores.iter().map(|(k, x)| (k.as_str(), *x)).collect();
            expected.entry((r.wave, r.account, role_key(role(r.contact)))).or_default().add_answer(r.ltr, &pairs);
        }
        let expected: Vec<(i64, i64, &str, CellStats)> =
            expected.into_iter().map(|((w, a, role), s)| (w, a, role, s)).collect();
        assert!(expected.len() > 200, "many cells: {}", expected.len());
        assert_eq!(folded, expected);
    }

    #[test]
    fn scores_are_read_in_key_order_each_key_once_with_its_last_rating() {
        let read = |text| serde_json::from_str::<ScorePairs<'_>>(text).map(|p| p.0);
        assert_eq!(
            read(r#"{"value":5,"brand":4,"delivery":2}"#).unwrap(),
            [("brand", 4), ("delivery", 2), ("value", 5)]
        );
        assert_eq!(read(r#"{"brand":1,"value":5,"brand":4,"brand":3}"#).unwrap(), [("brand", 3), ("value", 5)]);
        assert_eq!(read("{}").unwrap(), []);
        assert!(read(r#"{"brand":"four"}"#).is_err() && read("[4]").is_err() && read(r#"{"brand":400}"#).is_err());
    }

    #[test]
    fn scores_that_are_not_a_map_of_ratings_name_their_answer() {
        let mut folder = Folder::default();
        let read = folder.push(answer(41, 1, 9, r#"{"delivery":"five"}"#)).and_then(|()| folder.finish());
        let err = read.err().expect("the scores cannot be read");
        assert!(format!("{err:#}").contains("the answer of contact 41 in wave 1 submitted at 2026-08-02"), "{err:#}");
    }
}
