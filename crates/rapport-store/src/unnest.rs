//! Bulk writes on PostgreSQL: a batch of rows bound as one array per column,
//! `INSERT INTO t (a, b) SELECT * FROM unnest($1::bigint[], $2::text[]) ...`.
//!
//! A multi-row `VALUES` list binds every value separately: a 5,000-row batch of contacts is
//! 35,000 parameters that PostgreSQL parses, plans and type-checks one by one, and it was
//! most of an import's time (2.9x the COPY-and-upsert floor, BENCHMARKS.md). Arrays are a
//! handful of parameters whatever the batch size, so the statement costs what the rows cost.
//! The same statement takes the same `ON CONFLICT` tail as the `VALUES` form.

use sqlx::{Postgres, QueryBuilder};
use time::{Date, OffsetDateTime};

use crate::error::StoreError;
use crate::record::SqlValue;

/// One column of a batch, in the array type PostgreSQL takes it as.
enum Column {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
    Date(Vec<Option<Date>>),
    Time(Vec<Option<OffsetDateTime>>),
    Bytes(Vec<Option<Vec<u8>>>),
}

impl Column {
    /// An empty column of the type of `first`.
    fn like(first: &SqlValue, rows: usize) -> Column {
        match first {
            SqlValue::Int(_) => Column::Int(Vec::with_capacity(rows)),
            SqlValue::Text(_) => Column::Text(Vec::with_capacity(rows)),
            SqlValue::Bool(_) => Column::Bool(Vec::with_capacity(rows)),
            SqlValue::Date(_) => Column::Date(Vec::with_capacity(rows)),
            SqlValue::Time(_) => Column::Time(Vec::with_capacity(rows)),
            SqlValue::Bytes(_) => Column::Bytes(Vec::with_capacity(rows)),
        }
    }

    /// Adds a value; false when it is not of the column's type.
    fn push(&mut self, value: SqlValue) -> bool {
        match (self, value) {
            (Column::Int(c), SqlValue::Int(v)) => c.push(v),
            (Column::Text(c), SqlValue::Text(v)) => c.push(v),
            (Column::Bool(c), SqlValue::Bool(v)) => c.push(v),
            (Column::Date(c), SqlValue::Date(v)) => c.push(v),
            (Column::Time(c), SqlValue::Time(v)) => c.push(v),
            (Column::Bytes(c), SqlValue::Bytes(v)) => c.push(v),
            _ => return false,
        }
        true
    }

    /// Binds the column with its array type.
    fn bind(self, qb: &mut QueryBuilder<'static, Postgres>) {
        match self {
            Column::Int(c) => qb.push_bind(c).push("::bigint[]"),
            Column::Text(c) => qb.push_bind(c).push("::text[]"),
            Column::Bool(c) => qb.push_bind(c).push("::boolean[]"),
            Column::Date(c) => qb.push_bind(c).push("::date[]"),
            Column::Time(c) => qb.push_bind(c).push("::timestamptz[]"),
            Column::Bytes(c) => qb.push_bind(c).push("::bytea[]"),
        };
    }
}

/// `{head} SELECT * FROM unnest(...) {tail}` over `rows`, each holding the same types in the
/// same order (the columns `head` names). `head` is `INSERT INTO t (a, b)`; PostgreSQL casts
/// each array's elements to its column's type as it would a bound value (bigint to integer).
pub(crate) fn insert(
    head: &str,
    rows: Vec<Vec<SqlValue>>,
    tail: &str,
) -> Result<QueryBuilder<'static, Postgres>, StoreError> {
    let width = rows.first().map_or(0, Vec::len);
    let mut columns: Vec<Column> = match rows.first() {
        Some(first) => first.iter().map(|v| Column::like(v, rows.len())).collect(),
        None => Vec::new(),
    };
    for (i, row) in rows.into_iter().enumerate() {
        if row.len() != width {
            return Err(anyhow::anyhow!("internal: row {i} of a batch has {} values, not {width}", row.len()).into());
        }
        for (column, value) in columns.iter_mut().zip(row) {
            if !column.push(value) {
                return Err(anyhow::anyhow!("internal: row {i} of a batch mixes value types in one column").into());
            }
        }
    }
    let mut qb = QueryBuilder::new(format!("{head} SELECT * FROM unnest("));
    for (i, column) in columns.into_iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        column.bind(&mut qb);
    }
    qb.push(")");
    qb.push(tail);
    Ok(qb)
}
