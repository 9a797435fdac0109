//! Writes records in batches inside one transaction: a whole file, or the whole demo,
//! lands entirely or not at all.
//!
//! Rows are buffered per kind and written in batches, which is what makes a million-row
//! import take seconds rather than minutes: on PostgreSQL one statement of arrays per batch
//! ([`unnest`]), on SQLite multi-row upserts (plain inserts into a table that was empty)
//! stepped in place through rusqlite ([`direct::within`]), each batch written behind while
//! the next is resolved. References (a contact's account, an answer's contact and wave) are
//! resolved per batch, so memory stays flat in the size of the file.

use std::collections::{HashMap, HashSet};

use rusqlite::types::{ToSql, ToSqlOutput, Value, ValueRef};
use sqlx::QueryBuilder;
use time::format_description::well_known::Rfc3339;
use tokio::sync::OwnedMutexGuard;
use xxhash_rust::xxh3::xxh3_128;

use crate::analytics::{Touched, refresh_cells};
use crate::direct;
use crate::error::StoreError;
use crate::import::RowError;
use crate::kind::Kind;
use crate::record::{Record, Resolved, SqlValue, TableSpec, table_spec, values};
use crate::store::{Backend, Store};
use crate::tx::{Tx, on_tx};
use crate::unnest;

/// What the writer did with one kind of record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    /// Rows given.
    pub rows: u64,
    /// Rows that did not exist before.
    pub inserted: u64,
    /// Existing rows whose values changed.
    pub updated: u64,
    /// Existing rows left as they were (same values).
    pub unchanged: u64,
}

/// Binds one typed value of a multi-row `VALUES` list (SQLite).
macro_rules! bind_value {
    ($b:expr, $v:expr) => {
        match $v {
            SqlValue::Int(x) => {
                $b.push_bind(x);
            }
            SqlValue::Text(x) => {
                $b.push_bind(x);
            }
            SqlValue::Bool(x) => {
                $b.push_bind(x);
            }
            SqlValue::Date(x) => {
                $b.push_bind(x);
            }
            SqlValue::Time(x) => {
                $b.push_bind(x);
            }
            SqlValue::Bytes(x) => {
                $b.push_bind(x);
            }
        }
    };
}
pub(crate) use bind_value;

/// A typed value bound to a rusqlite statement, written as sqlx writes it (dates as
/// `YYYY-MM-DD`, instants in RFC 3339, booleans as 0 and 1), so that a row written either way
/// reads back the same and a re-import finds it unchanged.
impl ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let failed = |e: time::error::Format| rusqlite::Error::ToSqlConversionFailure(Box::new(e));
        Ok(match self {
            SqlValue::Int(Some(x)) => ToSqlOutput::Owned(Value::Integer(*x)),
            SqlValue::Text(Some(x)) => ToSqlOutput::Borrowed(ValueRef::Text(x.as_bytes())),
            SqlValue::Bool(Some(x)) => ToSqlOutput::Owned(Value::Integer(i64::from(*x))),
            SqlValue::Date(Some(x)) => ToSqlOutput::Owned(Value::Text(
                x.format(time::macros::format_description!("[year]-[month]-[day]")).map_err(failed)?,
            )),
            SqlValue::Time(Some(x)) => ToSqlOutput::Owned(Value::Text(x.format(&Rfc3339).map_err(failed)?)),
            SqlValue::Bytes(Some(x)) => ToSqlOutput::Borrowed(ValueRef::Blob(x)),
            SqlValue::Int(None)
            | SqlValue::Text(None)
            | SqlValue::Bool(None)
            | SqlValue::Date(None)
            | SqlValue::Time(None)
            | SqlValue::Bytes(None) => ToSqlOutput::Owned(Value::Null),
        })
    }
}

/// Rows per batch, per backend. On SQLite a batch is a hop to the blocking pool and back, its
/// rows written in multi-row statements of [`ROWS_PER_STATEMENT`]; each hop prepares its
/// statements again, so batches are large. On PostgreSQL a batch is one statement of arrays
/// (see [`unnest`]). Either way the next batch is read while one is written.
fn batch_rows(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 5_000,
        Backend::Postgres => 5_000,
    }
}

/// Rows per multi-row upsert on SQLite, well under its bind limit (32,766) for the widest
/// table. A statement per row would spare SQLite the statement journal that a multi-row
/// statement keeps, but it opens and closes its cursors on the table and each index for every
/// row, and a million contacts took about 13% longer that way (BENCHMARKS.md, issue 2).
const ROWS_PER_STATEMENT: usize = 500;

/// The most accounts whose ids a writer keeps at once (about 100 bytes each).
const KNOWN_ACCOUNTS: usize = 200_000;

/// Buffers records and writes them in one transaction.
pub struct Writer {
    /// The transaction; away on the blocking pool while a SQLite batch is written (see
    /// [`Writer::on_sqlite`] and [`Behind`]), and gone after an error there rolled it back.
    tx: Option<Tx>,
    /// The SQLite batch being written while the next one is prepared.
    behind: Option<Behind>,
    backend: Backend,
    pending: HashMap<Kind, Vec<(u64, Record)>>,
    /// The columns to update on conflict, per kind (None: every column).
    update_columns: HashMap<Kind, Vec<&'static str>>,
    seen: HashMap<Kind, HashSet<u128>>,
    waves: HashMap<String, i64>,
    /// The ids of accounts found so far (an account keeps its id, and none is deleted in the
    /// writer's transaction): a file of contacts names each account many times.
    account_ids: HashMap<String, i64>,
    counts: HashMap<Kind, KindCounts>,
    before: HashMap<Kind, i64>,
    /// The SQLite indexes set aside while their tables fill from empty, as `CREATE INDEX`
    /// statements to build them again before the commit (see [`Writer::set_indexes_aside`]).
    set_aside: Vec<String>,
    errors: Vec<RowError>,
    error_count: u64,
    max_errors: usize,
    check_duplicates: bool,
    /// Analytics cells whose answers this transaction changed.
    touched: Touched,
    /// Whether the database held any answer when first asked.
    any_answers: Option<bool>,
    /// When the transaction began, as SQLite's `created_at` and `updated_at` hold it: the
    /// rows written on SQLite are stamped with it (see [`direct::stamp`]); on PostgreSQL the
    /// columns' default, `now()`, is the same for every row of the transaction already.
    stamp: String,
}

impl Writer {
    /// Opens the transaction.
    pub async fn begin(store: &Store, max_errors: usize) -> Result<Writer, StoreError> {
        // Every reference is looked up before its row is written (`resolve`).
        let tx = Tx::begin_bulk(store).await?;
        Ok(Writer {
            tx: Some(tx),
            behind: None,
            backend: store.backend(),
            pending: HashMap::new(),
            update_columns: HashMap::new(),
            seen: HashMap::new(),
            waves: HashMap::new(),
            account_ids: HashMap::new(),
            counts: HashMap::new(),
            before: HashMap::new(),
            set_aside: Vec::new(),
            errors: Vec::new(),
            error_count: 0,
            max_errors,
            check_duplicates: true,
            touched: Touched::new(),
            any_answers: None,
            stamp: direct::stamp(time::OffsetDateTime::now_utc())?,
        })
    }

    /// Skips the per-row duplicate check, for generated data whose keys are unique by
    /// construction (the demo at 100,000 accounts writes millions of rows).
    pub fn trust_unique_keys(&mut self) {
        self.check_duplicates = false;
    }

    /// Records per written batch: an import reads the next batch while one is written.
    pub fn batch_len(&self) -> usize {
        batch_rows(self.backend)
    }

    /// Limits the columns an upsert of `kind` overwrites to those a file actually has, so
    /// that importing a file with fewer columns never blanks the others.
    pub fn update_only(&mut self, kind: Kind, columns: Vec<&'static str>) {
        self.update_columns.insert(kind, columns);
    }

    /// Records problems found in a row. Once there is one, nothing more is written and
    /// [`Writer::finish`] rolls back, but validation goes on so every bad row is reported.
    pub fn reject(&mut self, errors: Vec<RowError>) {
        for e in errors {
            self.error_count += 1;
            if self.errors.len() < self.max_errors {
                self.errors.push(e);
            }
        }
    }

    /// Whether any row was rejected.
    pub fn has_errors(&self) -> bool {
        self.error_count > 0
    }

    /// Adds a record read at `line` (0 when it does not come from a file).
    pub async fn push(&mut self, line: u64, record: Record) -> Result<(), StoreError> {
        let kind = record.kind();
        if self.check_duplicates && !self.seen.entry(kind).or_default().insert(xxh3_128(record.key().as_bytes())) {
            self.reject(vec![RowError {
                line,
                column: None,
                value: None,
                message: format!("the {} appears more than once in this file: keep one row", record.key_description()),
            }]);
            return Ok(());
        }
        self.counts.entry(kind).or_default().rows += 1;
        let buffer = self.pending.entry(kind).or_default();
        buffer.push((line, record));
        if buffer.len() >= batch_rows(self.backend) {
            self.flush(kind).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, kind: Kind) -> Result<(), StoreError> {
        // What a batch refers to must be written first.
        let needs: &[Kind] = match kind {
            Kind::Accounts => &[],
            Kind::Responses => &[Kind::Accounts, Kind::Contacts],
            _ => &[Kind::Accounts],
        };
        for &dep in needs {
            Box::pin(self.flush(dep)).await?;
        }
        let batch = match self.pending.get_mut(&kind) {
            Some(b) if !b.is_empty() => std::mem::take(b),
            _ => return Ok(()),
        };
        if !self.before.contains_key(&kind) {
            let n = self.count_rows(kind).await?;
            self.before.insert(kind, n);
            if self.backend == Backend::Sqlite && self.fills_from_empty(kind) {
                self.set_indexes_aside(kind).await?;
            }
        }
        let resolved = self.resolve(&batch).await?;
        if self.has_errors() {
            return Ok(());
        }
        if kind == Kind::Responses {
            for ids in &resolved {
                self.touched.entry(ids.wave_id).or_default().insert(ids.account_id);
            }
        }
        let rows: Vec<Vec<SqlValue>> = batch.iter().zip(&resolved).map(|((_, r), ids)| values(r, *ids)).collect();
        if kind == Kind::Contacts {
            self.touch_new_roles(&rows).await?;
        }
        self.upsert(kind, rows).await
    }

    /// Cells are keyed by the contact's role level, and answers are counted in them by
    /// difference (see [`crate::analytics`]): a contact whose role level changes moves its
    /// answers to other cells, so the cells of every (wave, account) it answered in are
    /// recomputed when the file is written. `rows` are contacts about to be upserted.
    async fn touch_new_roles(&mut self, rows: &[Vec<SqlValue>]) -> Result<(), StoreError> {
        let spec = table_spec(Kind::Contacts);
        let written = self.update_columns.get(&Kind::Contacts).is_none_or(|cols| cols.contains(&"role"));
        let column = |name: &str| spec.columns.iter().position(|c| *c == name);
        let (Some(id_at), Some(role_at)) = (column("external_id"), column("role")) else { return Ok(()) };
        if !written || rows.is_empty() || !self.any_answers().await? {
            return Ok(());
        }
        let text = |v: &SqlValue| match v {
            SqlValue::Text(t) => t.clone(),
            _ => None,
        };
        let keys: Vec<(Option<String>, Option<String>)> =
            rows.iter().map(|r| (r.get(id_at).and_then(text), r.get(role_at).and_then(text))).collect();
        let moved: Vec<(i64, i64)> = on_tx!(self.tx().await?, |t| {
            let mut qb = QueryBuilder::new("WITH k (external_id, role) AS (");
            qb.push_values(&keys, |mut b, (id, role)| {
                b.push_bind(id.as_deref()).push_bind(role.as_deref());
            });
            qb.push(
                ") SELECT DISTINCT r.wave_id, r.account_id FROM k JOIN contacts c ON c.external_id = k.external_id \
                 JOIN responses r ON r.contact_id = c.id WHERE c.role IS DISTINCT FROM k.role",
            );
            qb.build_query_as().fetch_all(&mut **t).await?
        });
        for (wave_id, account_id) in moved {
            self.touched.entry(wave_id).or_default().insert(account_id);
        }
        Ok(())
    }

    /// Whether any answer is stored (asked once per file: a first import has none).
    async fn any_answers(&mut self) -> Result<bool, StoreError> {
        if let Some(any) = self.any_answers {
            return Ok(any);
        }
        let any: bool = on_tx!(self.tx().await?, |t| sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM responses)")
            .fetch_one(&mut **t)
            .await?);
        self.any_answers = Some(any);
        Ok(any)
    }

    /// Looks up the internal ids each record of a batch refers to; unknown ones are errors.
    async fn resolve(&mut self, batch: &[(u64, Record)]) -> Result<Vec<Resolved>, StoreError> {
        let mut out = vec![Resolved::default(); batch.len()];
        if self.account_ids.len() > KNOWN_ACCOUNTS {
            self.account_ids.clear();
        }
        let unknown: Vec<String> = batch
            .iter()
            .filter_map(|(_, r)| r.account_ref())
            .filter(|ext| !self.account_ids.contains_key(*ext))
            .map(str::to_string)
            .collect();
        if !unknown.is_empty() {
            let found = self.lookup("accounts", "id", unknown).await?;
            self.account_ids.extend(found.into_iter().map(|(ext, (id, _))| (ext, id)));
        }
        if batch.iter().any(|(_, r)| r.account_ref().is_some()) {
            let mut errors = Vec::new();
            for ((line, record), ids) in batch.iter().zip(out.iter_mut()) {
                let Some(ext) = record.account_ref() else { continue };
                match self.account_ids.get(ext) {
                    Some(&id) => ids.account_id = id,
                    None => errors.push(RowError {
                        line: *line,
                        column: Some("account_id".into()),
                        value: Some(ext.to_string()),
                        message: "no account has this account_id: import the account first, or correct the id".into(),
                    }),
                }
            }
            self.reject(errors);
        }
        if batch.iter().any(|(_, r)| matches!(r, Record::Response(_))) {
            let contact_refs: Vec<String> = batch
                .iter()
                .filter_map(|(_, r)| if let Record::Response(x) = r { Some(x.contact_id.clone()) } else { None })
                .collect();
            let found = self.lookup("contacts", "account_id", contact_refs).await?;
            let mut errors = Vec::new();
            for ((line, record), ids) in batch.iter().zip(out.iter_mut()) {
                let Record::Response(resp) = record else { continue };
                match found.get(&resp.contact_id) {
                    Some(&(id, account)) => {
                        ids.contact_id = id;
                        ids.account_id = account;
                    }
                    None => errors.push(RowError {
                        line: *line,
                        column: Some("contact_id".into()),
                        value: Some(resp.contact_id.clone()),
                        message: "no contact has this contact_id: import the contact first, or correct the id".into(),
                    }),
                }
                ids.wave_id = self.wave_id(&resp.wave).await?;
            }
            self.reject(errors);
        }
        Ok(out)
    }

    /// external_id -> (id, second column) for the given external ids of `table`.
    async fn lookup(
        &mut self,
        table: &str,
        second: &str,
        mut external_ids: Vec<String>,
    ) -> Result<HashMap<String, (i64, i64)>, StoreError> {
        external_ids.sort_unstable();
        external_ids.dedup();
        if self.backend == Backend::Sqlite {
            let sql = format!(
                "SELECT external_id, id, {second} FROM {table} WHERE external_id IN ({})",
                vec!["?"; external_ids.len()].join(", ")
            );
            return self
                .on_sqlite(move |conn| {
                    let mut statement = conn.prepare(&sql).map_err(direct::writing)?;
                    let mut rows =
                        statement.query(rusqlite::params_from_iter(&external_ids)).map_err(direct::writing)?;
                    let mut found = HashMap::with_capacity(external_ids.len());
                    while let Some(row) = rows.next().map_err(direct::writing)? {
                        let ids = (row.get(1).map_err(direct::writing)?, row.get(2).map_err(direct::writing)?);
                        found.insert(row.get(0).map_err(direct::writing)?, ids);
                    }
                    Ok(found)
                })
                .await;
        }
        let sql = format!("SELECT external_id, id, {second} FROM {table} WHERE external_id = ANY($1)");
        let Tx::Postgres(tx) = self.tx().await? else { unreachable!("the backend is PostgreSQL") };
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(&sql).bind(&external_ids).fetch_all(&mut **tx).await?;
        Ok(rows.into_iter().map(|(ext, id, second)| (ext, (id, second))).collect())
    }

    /// The id of the wave named `name`, creating it (closed, with no dates) for answers
    /// collected elsewhere.
    async fn wave_id(&mut self, name: &str) -> Result<i64, StoreError> {
        if let Some(id) = self.waves.get(name) {
            return Ok(*id);
        }
        let id: i64 = on_tx!(self.tx().await?, |t| {
            sqlx::query("INSERT INTO waves (name, status) VALUES ($1, 'closed') ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .execute(&mut **t)
                .await?;
            sqlx::query_scalar("SELECT id FROM waves WHERE name = $1").bind(name).fetch_one(&mut **t).await?
        });
        self.waves.insert(name.to_string(), id);
        Ok(id)
    }

    /// Whether the table of `kind` was empty when this write first wrote to it: its rows
    /// then meet none already there, which the SQLite path uses twice (plain inserts in
    /// [`Writer::upsert`], indexes built at the end in [`Writer::set_indexes_aside`]).
    fn fills_from_empty(&self, kind: Kind) -> bool {
        self.before.get(&kind) == Some(&0)
    }

    /// Drops the plain (not unique) indexes of the empty table `kind` fills, to build them
    /// again in one pass before the commit ([`Writer::restore_indexes`]). Rows arrive in the
    /// file's order, so each such index (a contact's account, an answer's wave) takes them in
    /// random order, a page read and written for nearly every row once the index outgrows
    /// the cache; built at the end, it is sorted once. A million contacts spent 3.0-3.6 s in
    /// the insert with the account index kept, and 1.3 s in the insert plus 0.8 s in the
    /// build with it set aside (BENCHMARKS.md, issue 2). Unique indexes stay: they are how a
    /// conflict is found. All of it is inside the transaction, so a file that fails leaves
    /// the indexes as they were, and other connections see them throughout (WAL: a reader
    /// keeps the schema of its snapshot). Not on PostgreSQL, where dropping an index locks
    /// the table against readers until the commit.
    async fn set_indexes_aside(&mut self, kind: Kind) -> Result<(), StoreError> {
        let table = table_spec(kind).table;
        let indexes = self
            .on_sqlite(move |conn| {
                let mut statement = conn
                    .prepare(
                        "SELECT m.name, m.sql FROM pragma_index_list(?1) l JOIN sqlite_master m ON m.name = l.name \
                         WHERE l.origin = 'c' AND NOT l.\"unique\"",
                    )
                    .map_err(direct::writing)?;
                let indexes: Vec<(String, String)> = statement
                    .query_map([table], |row| Ok((row.get(0)?, row.get(1)?)))
                    .and_then(Iterator::collect)
                    .map_err(direct::writing)?;
                for (name, _) in &indexes {
                    conn.execute_batch(&format!("DROP INDEX \"{name}\"")).map_err(direct::writing)?;
                }
                Ok(indexes)
            })
            .await?;
        self.set_aside.extend(indexes.into_iter().map(|(_, sql)| sql));
        Ok(())
    }

    /// Builds again the indexes set aside ([`Writer::set_indexes_aside`]).
    async fn restore_indexes(&mut self) -> Result<(), StoreError> {
        if self.set_aside.is_empty() {
            return Ok(());
        }
        let statements = std::mem::take(&mut self.set_aside).join(";\n");
        self.on_sqlite(move |conn| conn.execute_batch(&statements).map_err(direct::writing)).await
    }

    async fn count_rows(&mut self, kind: Kind) -> Result<i64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {}", table_spec(kind).table);
        Ok(on_tx!(self.tx().await?, |t| sqlx::query_scalar(&sql).fetch_one(&mut **t).await?))
    }

    /// Writes one batch, and counts the rows it inserted or changed. On SQLite the batch is
    /// written behind: this returns once it started, and the next batch is resolved and
    /// made into rows meanwhile ([`Writer::write_behind`]).
    async fn upsert(&mut self, kind: Kind, rows: Vec<Vec<SqlValue>>) -> Result<(), StoreError> {
        let spec = table_spec(kind);
        let update_only = self.update_columns.get(&kind).map(Vec::as_slice);
        if self.backend == Backend::Sqlite {
            // Every table a file is written to has `created_at`; those with `updated_at` touch it.
            let stamps: &[&str] = if spec.touches_updated_at { &["created_at", "updated_at"] } else { &["created_at"] };
            // Into a table that was empty when the transaction began, no row can meet one
            // already there (the file's own repeats are refused before: `push`), so the rows
            // are plain inserts; and `OR ROLLBACK` spares SQLite the statement journal that a
            // multi-row statement which may abort keeps of every page it touches (a copy of
            // each of the account index's pages per statement: a million contacts took 25%
            // longer with it, BENCHMARKS.md, issue 2). Should a row fail after all, the whole
            // transaction is undone, as the writer undoes it on any error.
            let (verb, tail) = if self.fills_from_empty(kind) {
                ("INSERT OR ROLLBACK", String::new())
            } else {
                ("INSERT", conflict_clause(spec, update_only, self.backend))
            };
            let head = format!("{verb} INTO {} ({}, {}) ", spec.table, spec.columns.join(", "), stamps.join(", "));
            let row = format!("({})", vec!["?"; spec.columns.len() + stamps.len()].join(", "));
            let statement_for =
                move |rows: usize| format!("{head}VALUES {}{tail}", vec![row.as_str(); rows].join(", "));
            let stamp = self.stamp.clone();
            return self
                .write_behind(kind, move |conn| {
                    let mut changed = 0;
                    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                        // The full chunks share one statement, prepared once per batch.
                        let mut statement =
                            conn.prepare_cached(&statement_for(chunk.len())).map_err(direct::writing)?;
                        let values = chunk.iter().flat_map(|row| {
                            let stamps = std::iter::repeat_n(&stamp as &dyn ToSql, stamps.len());
                            row.iter().map(|v| v as &dyn ToSql).chain(stamps)
                        });
                        let written = statement.execute(rusqlite::params_from_iter(values));
                        if written.is_err() && conn.is_autocommit() {
                            // `OR ROLLBACK` ended the transaction: sqlx, which began it, rolls
                            // it back on this error and must find one to roll back.
                            conn.execute_batch("BEGIN").map_err(direct::writing)?;
                        }
                        changed += written.map_err(direct::writing)?;
                    }
                    Ok(changed as u64)
                })
                .await;
        }
        let head = format!("INSERT INTO {} ({}) ", spec.table, spec.columns.join(", "));
        let tail = conflict_clause(spec, update_only, self.backend);
        let Tx::Postgres(tx) = self.tx().await? else { unreachable!("the backend is PostgreSQL") };
        let changed = unnest::insert(&head, rows, &tail)?.build().execute(&mut **tx).await?.rows_affected();
        self.counts.entry(kind).or_default().updated += changed;
        Ok(())
    }

    /// The open transaction, once the batch written behind is done.
    async fn tx(&mut self) -> Result<&mut Tx, StoreError> {
        self.settle().await?;
        self.tx.as_mut().ok_or_else(transaction_ended)
    }

    /// Takes the SQLite transaction and its writer turn, once the batch written behind is done.
    async fn take_sqlite(&mut self) -> Result<(direct::SqlxTransaction, OwnedMutexGuard<()>), StoreError> {
        self.settle().await?;
        match self.tx.take() {
            Some(Tx::Sqlite { tx, _turn }) => Ok((tx, _turn)),
            other => {
                self.tx = other;
                Err(transaction_ended())
            }
        }
    }

    /// Runs `work` through rusqlite on the SQLite transaction's connection, on the blocking
    /// pool ([`direct::within`]); the writer turn stays here meanwhile.
    async fn on_sqlite<T, F>(&mut self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, _turn) = self.take_sqlite().await?;
        let (tx, out) = direct::within(tx, work).await?;
        self.tx = Some(Tx::Sqlite { tx, _turn });
        Ok(out)
    }

    /// Starts writing a batch of `kind` through rusqlite ([`direct::within`]) and returns:
    /// the next batch is read, resolved and made into rows while SQLite writes this one, on
    /// the other core. The rows it changed are counted when it is done ([`Writer::settle`]);
    /// until then anything that needs the transaction waits for it.
    async fn write_behind<F>(&mut self, kind: Kind, work: F) -> Result<(), StoreError>
    where
        F: FnOnce(&rusqlite::Connection) -> Result<u64, StoreError> + Send + 'static,
    {
        let (tx, turn) = self.take_sqlite().await?;
        // The turn goes with the transaction: a writer dropped meanwhile keeps it until the
        // batch is done and the transaction rolled back.
        let write = tokio::spawn(async move { (direct::within(tx, work).await, turn) });
        self.behind = Some(Behind { kind, write });
        Ok(())
    }

    /// Waits for the batch written behind, counts what it changed and takes the transaction
    /// back; its error, if it failed (the transaction is then rolled back).
    async fn settle(&mut self) -> Result<(), StoreError> {
        let Some(Behind { kind, write }) = self.behind.take() else { return Ok(()) };
        let (written, _turn) = write.await.map_err(|e| {
            StoreError::Other(anyhow::Error::new(e).context("a batch written to the SQLite database stopped"))
        })?;
        let (tx, changed) = written?;
        self.tx = Some(Tx::Sqlite { tx, _turn });
        self.counts.entry(kind).or_default().updated += changed;
        Ok(())
    }

    /// Writes what is buffered, then commits, or rolls back when a row was rejected or
    /// `commit` is false (a dry run). Returns the counts per kind, or every problem found.
    pub async fn finish(mut self, commit: bool) -> Result<WriteOutcome, StoreError> {
        for kind in Kind::ALL {
            self.flush(kind).await?;
        }
        self.settle().await?;
        let mut counts = Vec::new();
        if !self.has_errors() {
            self.restore_indexes().await?;
            // Reports see the new answers as soon as the transaction commits.
            let tx = self.tx.as_mut().ok_or_else(transaction_ended)?;
            refresh_cells(tx, &self.touched).await?;
            for kind in Kind::ALL {
                let Some(mut c) = self.counts.get(&kind).copied() else { continue };
                let before = self.before.get(&kind).copied().unwrap_or(0);
                let after = self.count_rows(kind).await?;
                c.inserted = u64::try_from(after - before).unwrap_or(0);
                // `updated` held rows inserted or changed until now.
                c.updated = c.updated.saturating_sub(c.inserted);
                c.unchanged = c.rows - c.inserted - c.updated;
                counts.push((kind, c));
            }
        }
        let mut tx = self.tx.take().ok_or_else(transaction_ended)?;
        if self.has_errors() {
            tx.rollback().await?;
            return Ok(WriteOutcome::Rejected { errors: self.errors, total: self.error_count });
        }
        if commit {
            tx.bump_data_version().await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(WriteOutcome::Written { counts, committed: commit })
    }
}

/// A SQLite batch being written on the blocking pool, and the transaction and writer turn it
/// hands back.
struct Behind {
    /// What it writes.
    kind: Kind,
    write: tokio::task::JoinHandle<(Written, OwnedMutexGuard<()>)>,
}

/// The transaction and the rows changed, or the error that rolled the transaction back.
type Written = Result<(direct::SqlxTransaction, u64), StoreError>;

/// The error of a writer whose transaction an earlier error rolled back.
fn transaction_ended() -> StoreError {
    StoreError::Other(anyhow::anyhow!(
        "the write's transaction was rolled back after an earlier error: nothing was stored"
    ))
}

/// How a write ended.
#[derive(Debug)]
pub enum WriteOutcome {
    /// Everything was valid.
    Written {
        /// Per kind, what was inserted, updated and left unchanged.
        counts: Vec<(Kind, KindCounts)>,
        /// False for a dry run (rolled back).
        committed: bool,
    },
    /// Some rows were bad: nothing was stored.
    Rejected {
        /// The problems, up to the writer's limit.
        errors: Vec<RowError>,
        /// How many problems there were in all.
        total: u64,
    },
}

/// `ON CONFLICT ... DO UPDATE SET ... WHERE <something changed>`: the WHERE makes a
/// re-import of the same file a true no-op (no row rewritten, `updated_at` untouched).
fn conflict_clause(spec: &TableSpec, only: Option<&[&'static str]>, backend: Backend) -> String {
    let t = spec.table;
    let updatable: Vec<&str> = spec
        .columns
        .iter()
        .copied()
        .filter(|c| !spec.conflict.contains(c))
        .filter(|c| only.is_none_or(|cols| cols.contains(c)))
        .collect();
    let target = spec.conflict.join(", ");
    if updatable.is_empty() {
        return format!(" ON CONFLICT ({target}) DO NOTHING");
    }
    let mut sets = Vec::new();
    let mut changed = Vec::new();
    for c in &updatable {
        if *c == "attributes" && spec.has_attributes {
            // Custom attributes from another file are kept: new ones merge over old ones.
            let merged = match backend {
                Backend::Sqlite => format!("json_patch({t}.attributes, excluded.attributes)"),
                Backend::Postgres => format!("({t}.attributes::jsonb || excluded.attributes::jsonb)"),
            };
            match backend {
                Backend::Sqlite => {
                    sets.push(format!("attributes = {merged}"));
                    changed.push(format!("{merged} IS DISTINCT FROM {t}.attributes"));
                }
                Backend::Postgres => {
                    sets.push(format!("attributes = {merged}::text"));
                    changed.push(format!("{merged} IS DISTINCT FROM {t}.attributes::jsonb"));
                }
            }
        } else {
            sets.push(format!("{c} = excluded.{c}"));
            changed.push(format!("{t}.{c} IS DISTINCT FROM excluded.{c}"));
        }
    }
    if spec.touches_updated_at {
        sets.push(match backend {
            // The transaction's stamp, bound with the row (see `Writer::upsert`).
            Backend::Sqlite => "updated_at = excluded.updated_at".to_string(),
            Backend::Postgres => "updated_at = now()".to_string(),
        });
    }
    format!(" ON CONFLICT ({target}) DO UPDATE SET {} WHERE {}", sets.join(", "), changed.join(" OR "))
}
