//! `rapport analytics rebuild` on PostgreSQL: each part's stored cells and answers are read
//! through binary COPY ([`crate::copy_out`]) on a connection of its own, two parts at a time,
//! then sorted and folded on a thread of their own, while the transaction writes the cells
//! that differ.
//!
//! Why this shape: the server's side of a COPY runs on one core and costs per value sent.
//! Measured in `psql` at 100,000 accounts (2.5M answers, BENCHMARKS.md): the answers joined
//! with their contacts' role levels and sorted by (wave, account, contact), as the fold needs
//! them, took 4.2 s; the answers alone, unsorted, 1.6 s, and in two halves at once 1.1 s; the
//! role levels alone 0.35 s. So the server sends each part's answers as it finds them, the
//! role levels come once beside them, and each part is sorted here, in memory.

use std::sync::Arc;

use futures_util::FutureExt;
use rapport_core::contact::RoleLevel;
use sqlx::PgPool;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::super::kept::KeptCells;
use super::super::{Cell, RebuildSummary, copied_loyalty, lock_portfolio, named, planned_rows, put_cells};
use super::{AT_ONCE, Accounts, AnswerAt, PartAnswers, Roles, part_count, split, summary};
use crate::copy_out;
use crate::error::StoreError;
use crate::store::Store;
use crate::tx::Tx;

/// Recomputes every cell from the answers and corrects the stored cells that differ, in one
/// transaction of `store`, whose pool is `pool`.
pub(in crate::analytics) async fn on_postgres(store: &Store, pool: &PgPool) -> Result<RebuildSummary, StoreError> {
    let mut tx = Tx::begin(store).await?;
    lock_portfolio(&mut tx).await?;
    // Read through the pool while writing through the transaction: with the portfolio locked,
    // no writer changes a contact's role level, a cell or an answer until this commits, so
    // each read is exact.
    let (parts, room) = parts(pool).await?;
    let reading = tokio::spawn(read_roles(pool.clone()));
    let roles = async move {
        match reading.await {
            Ok(read) => read.map(Arc::new).map_err(|e| format!("{e:#}")),
            Err(e) => Err(format!("reading the contacts' role levels stopped: {e}")),
        }
    }
    .boxed()
    .shared();
    let (send, mut receive) = mpsc::channel::<Vec<Cell>>(4);
    let (reads, folds) = (Arc::new(Semaphore::new(AT_ONCE)), Arc::new(Semaphore::new(AT_ONCE)));
    let mut workers = JoinSet::new();
    for accounts in parts {
        let (pool, roles, send) = (pool.clone(), roles.clone(), send.clone());
        let (reads, folds) = (reads.clone(), folds.clone());
        workers.spawn(async move {
            let reading = reads.acquire_owned().await.map_err(|e| StoreError::Other(e.into()))?;
            let (kept, answers) = read_part(&pool, accounts, room).await?;
            // The next part's read starts on the server while this one is folded here; a part
            // read waits for its turn to fold before it lets the next read start, so at most
            // twice AT_ONCE parts are held at once.
            let _folding = folds.acquire_owned().await.map_err(|e| StoreError::Other(e.into()))?;
            drop(reading);
            let roles = roles.await.map_err(|e| StoreError::Other(anyhow::anyhow!(e)))?;
            let send = move |cells| {
                send.blocking_send(cells)
                    .map_err(|_| StoreError::Other(anyhow::anyhow!("the rebuild stopped writing its cells")))
            };
            ended(tokio::task::spawn_blocking(move || answers.fold(&roles, kept, send)).await)?
        });
    }
    drop(send);
    // Should a write fail, the parts still running are stopped (dropping `workers` aborts
    // them, and their sends fail).
    while let Some(cells) = receive.recv().await {
        put_cells(&mut tx, &cells).await?;
    }
    let mut found = Vec::new();
    while let Some(part) = workers.join_next().await {
        found.push(ended(part)??);
    }
    let unmatched: Vec<_> = found.iter().flat_map(|part| &part.unmatched).collect();
    let Tx::Postgres(t) = &mut tx else { unreachable!("a transaction of a PostgreSQL store") };
    for chunk in unmatched.chunks(5_000) {
        let column = |f: fn(&(i64, i64, String)) -> i64| chunk.iter().map(|k| f(k)).collect::<Vec<i64>>();
        let roles: Vec<&str> = chunk.iter().map(|k| k.2.as_str()).collect();
        sqlx::query(
            "DELETE FROM wave_account_stats s USING unnest($1::bigint[], $2::bigint[], $3::text[]) \
             AS k (wave_id, account_id, role) \
             WHERE s.wave_id = k.wave_id AND s.account_id = k.account_id AND s.role = k.role",
        )
        .bind(column(|k| k.0))
        .bind(column(|k| k.1))
        .bind(roles)
        .execute(&mut **t)
        .await?;
    }
    let summary = summary(&found);
    tx.bump_data_version().await?;
    tx.commit().await?;
    if summary.corrected > 0 {
        // Every cell rewritten leaves a dead row (up to 1M at 100,000 accounts), which every
        // report would scan past until autovacuum came round: the key driver analysis took
        // 5.2 s instead of 0.8 s after three full rebuilds. Clean them up now, outside the
        // transaction (VACUUM cannot run in one).
        sqlx::raw_sql("VACUUM (ANALYZE) wave_account_stats").execute(pool).await?;
    }
    Ok(summary)
}

/// What a task of the rebuild returned; a panic in it is passed on.
fn ended<T>(task: Result<T, tokio::task::JoinError>) -> Result<T, StoreError> {
    match task {
        Ok(value) => Ok(value),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(StoreError::Other(anyhow::anyhow!("a part of the rebuild was cancelled: {e}"))),
    }
}

/// The parts of the accounts, at least two (one per reader at once) and more when the answers
/// are many, and the room each will need; sized from the planner's counts (no scan).
async fn parts(pool: &PgPool) -> Result<(Vec<Accounts>, Room), StoreError> {
    let ids: (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MIN(id), MAX(id) FROM accounts").fetch_one(pool).await?;
    let answers = planned_rows(pool, "responses").await?;
    let parts = split(ids, part_count(answers));
    // A tenth more: parts are about equal, not equal.
    let share = |rows: usize| rows / parts.len().max(1) * 11 / 10;
    let room = Room { cells: share(planned_rows(pool, "wave_account_stats").await?), answers: share(answers) };
    Ok((parts, room))
}

/// `WHERE` the account is among `accounts`, for a COPY (which takes no parameters: the ids are
/// numbers, written in). The open ends are left out rather than written as the extreme ids.
fn among(accounts: Accounts) -> String {
    match accounts {
        (i64::MIN, i64::MAX) => "TRUE".to_string(),
        (i64::MIN, last) => format!("account_id <= {last}"),
        (first, i64::MAX) => format!("account_id >= {first}"),
        (first, last) => format!("account_id BETWEEN {first} AND {last}"),
    }
}

/// Each contact's role level.
async fn read_roles(pool: PgPool) -> Result<Roles, StoreError> {
    let mut contacts = Vec::with_capacity(planned_rows(&pool, "contacts").await?);
    copy_out::copy_rows(&pool, "SELECT id, role FROM contacts", |r| {
        contacts.push((r.int8_not_null(0)?, r.text(1)?.and_then(RoleLevel::parse)));
        Ok(())
    })
    .await?;
    Ok(Roles::new(contacts))
}

/// About how many cells and answers each part will hold, from the planner's counts (see
/// [`PartAnswers::with_capacity`]).
#[derive(Clone, Copy)]
struct Room {
    cells: usize,
    answers: usize,
}

/// A part's stored cells and answers.
async fn read_part(pool: &PgPool, accounts: Accounts, room: Room) -> Result<(KeptCells, PartAnswers), StoreError> {
    let among = among(accounts);
    let mut kept = KeptCells::with_capacity(room.cells);
    let columns = "wave_id, account_id, role, promoters, passives, detractors, ltr_sum, ltr_sumsq, drivers";
    copy_out::copy_rows(pool, &format!("SELECT {columns} FROM wave_account_stats WHERE {among}"), |r| {
        let (wave, account, role) = (r.int8_not_null(0)?, r.int8_not_null(1)?, r.text_not_null(2)?);
        kept.insert(wave, account, role, copied_loyalty(r, 3)?, r.bytes_not_null(8)?);
        Ok(())
    })
    .await?;
    let mut answers = PartAnswers::with_capacity(room.answers);
    let sql = format!("SELECT wave_id, account_id, contact_id, submitted_at, ltr, scores FROM responses WHERE {among}");
    copy_out::copy_rows(pool, &sql, |r| {
        let (wave_id, account_id, contact_id) = (r.int8_not_null(0)?, r.int8_not_null(1)?, r.int8_not_null(2)?);
        let submitted_at = r.timestamptz_not_null(3)?;
        let ltr =
            r.int4(4)?.ok_or_else(|| anyhow::anyhow!("{} has no LTR", named(contact_id, wave_id, submitted_at)))?;
        let answer = AnswerAt { wave_id, account_id, contact_id, submitted_at, ltr, ratings_end: 0 };
        answers.push(answer, r.text_not_null(5)?)?;
        Ok(())
    })
    .await?;
    Ok((kept, answers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_selected_without_writing_the_extreme_ids() {
        assert_eq!(among((i64::MIN, i64::MAX)), "TRUE");
        assert_eq!(among((i64::MIN, 50)), "account_id <= 50");
        assert_eq!(among((51, i64::MAX)), "account_id >= 51");
        assert_eq!(among((51, 80)), "account_id BETWEEN 51 AND 80");
    }
}
