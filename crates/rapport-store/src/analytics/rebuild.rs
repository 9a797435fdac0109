//! `rapport analytics rebuild` on SQLite: every cell recomputed from every answer, and the
//! stored cells that differ corrected ([`super::kept`]), in one transaction on the store's
//! rusqlite connection ([`crate::direct::OwnConnection`]).
//!
//! The answers are read and the cells written on one connection, each statement prepared
//! once and stepped in place. Through sqlx, every one of millions of answers read and cells
//! written crossed to sqlx's connection thread and back (about 5 µs a row, BENCHMARKS.md):
//! at 100,000 accounts that was most of a minute. The fold is the one the general path uses
//! ([`super::Folder`]), so the cells are the same.

use rusqlite::{Transaction, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::in_place::{CELL_VALUES, put_cell};
use super::increment::{CELL_INSERT, CELL_UPSERT};
use super::kept::KeptCells;
use super::{ANSWER_COLUMNS, AnswerRow, Cell, Folder, INSERT_CHUNK, RebuildSummary, row_loyalty};
use crate::error::StoreError;
use crate::store::SQLITE_PRAGMAS;
use crate::tx::BUMP_DATA_VERSION;

/// Recomputes every cell from the answers and corrects the stored cells that differ, in `tx`.
pub(super) fn in_place(tx: &Transaction<'_>) -> Result<RebuildSummary, StoreError> {
    // A rebuild that corrects every cell (the first after migration 0014, which emptied their
    // driver sums) dirties about 500 MB of cell pages at 100,000 accounts. With the usual
    // 64 MB cache SQLite spills them into the WAL before the commit, and then every page it
    // reads through the file mapping is first looked up among those frames (`walFindFrame`
    // was a fifth of the time). A 512 MB cache keeps them until the commit, and reading
    // through that cache instead of the mapping keeps the process's memory at half of what
    // the mapping took: 23.3 s and 1.35 GB became 18.9 s and 0.71 GB (BENCHMARKS.md).
    tx.execute_batch("PRAGMA cache_size = -524288; PRAGMA mmap_size = 0").map_err(writing)?;
    let out = rebuild(tx);
    let usual: String = SQLITE_PRAGMAS
        .iter()
        .filter(|(name, _)| ["cache_size", "mmap_size"].contains(name))
        .map(|(name, value)| format!("PRAGMA {name} = {value};"))
        .collect();
    tx.execute_batch(&usual).map_err(writing)?;
    out
}

fn rebuild(tx: &Transaction<'_>) -> Result<RebuildSummary, StoreError> {
    let mut kept = kept_cells(tx)?;
    let mut read = tx
        .prepare(&format!("SELECT {ANSWER_COLUMNS} ORDER BY r.wave_id, r.account_id, r.contact_id"))
        .map_err(writing)?;
    let mut rows = read.query([]).map_err(writing)?;
    let mut put = tx.prepare(&format!("{CELL_INSERT} VALUES {CELL_VALUES}{CELL_UPSERT}")).map_err(writing)?;
    let mut write = |cells: Vec<Cell>| {
        for c in kept.changed(cells)? {
            put_cell(&mut put, c.wave_id, c.account_id, c.role, &c.stats).map_err(writing)?;
        }
        Ok::<_, StoreError>(())
    };
    let mut folder = Folder::default();
    let (mut answers, mut cells) = (0u64, 0u64);
    while let Some(row) = rows.next().map_err(writing)? {
        answers += 1;
        folder.push(answer(row)?)?;
        if folder.done.len() >= INSERT_CHUNK {
            let ready = std::mem::take(&mut folder.done);
            cells += ready.len() as u64;
            write(ready)?;
        }
    }
    let rest = folder.finish()?;
    cells += rest.len() as u64;
    write(rest)?;
    let written = kept.written;
    let unmatched = kept.unmatched();
    let mut delete = tx
        .prepare("DELETE FROM wave_account_stats WHERE wave_id = ?1 AND account_id = ?2 AND role = ?3")
        .map_err(writing)?;
    for (wave_id, account_id, role) in &unmatched {
        delete.execute(params![wave_id, account_id, role]).map_err(writing)?;
    }
    tx.execute(BUMP_DATA_VERSION, []).map_err(writing)?;
    Ok(RebuildSummary { answers, cells, corrected: written + unmatched.len() as u64 })
}

/// Every stored cell, to compare with the recomputed ones.
fn kept_cells(tx: &Transaction<'_>) -> Result<KeptCells, StoreError> {
    let count: i64 = tx.query_row("SELECT COUNT(*) FROM wave_account_stats", [], |r| r.get(0)).map_err(writing)?;
    let mut kept = KeptCells::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut read = tx
        .prepare(
            "SELECT wave_id, account_id, role, promoters, passives, detractors, ltr_sum, ltr_sumsq, drivers \
             FROM wave_account_stats",
        )
        .map_err(writing)?;
    let mut rows = read.query([]).map_err(writing)?;
    while let Some(r) = rows.next().map_err(writing)? {
        let loyalty = row_loyalty(r, 3).map_err(writing)?;
        let role = r.get_ref(2).and_then(|v| Ok(v.as_str()?)).map_err(writing)?;
        let drivers = r.get_ref(8).and_then(|v| Ok(v.as_blob()?)).map_err(writing)?;
        kept.insert(r.get(0).map_err(writing)?, r.get(1).map_err(writing)?, role, loyalty, drivers);
    }
    Ok(kept)
}

/// One answer row of [`ANSWER_COLUMNS`].
fn answer(row: &rusqlite::Row<'_>) -> Result<AnswerRow, StoreError> {
    let id: i64 = row.get(0).map_err(writing)?;
    let at = row.get_ref(5).map_err(writing)?.as_str().map_err(|e| writing(e.into()))?;
    // Rapport writes every time in RFC 3339 (sqlx's encoding, and the answer path's).
    let submitted_at = OffsetDateTime::parse(at, &Rfc3339).map_err(|e| {
        StoreError::Other(anyhow::Error::new(e).context(format!(
            "answer {id} has the submitted_at '{at}', which is not an RFC 3339 time such as \
             2026-07-01T12:00:00Z: correct it in the database, then rebuild"
        )))
    })?;
    Ok(AnswerRow {
        id,
        wave_id: row.get(1).map_err(writing)?,
        account_id: row.get(2).map_err(writing)?,
        contact_id: row.get(3).map_err(writing)?,
        role: row.get(4).map_err(writing)?,
        submitted_at,
        ltr: row.get(6).map_err(writing)?,
        scores: row.get(7).map_err(writing)?,
    })
}

fn writing(err: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::Error::new(err).context("rebuilding the analytics of the SQLite database"))
}

#[cfg(test)]
mod tests {
    use crate::Kind;
    use crate::import::{ImportOptions, import_reader};
    use crate::store::Store;

    #[tokio::test]
    async fn a_rebuild_that_meets_a_time_it_cannot_read_names_the_answer_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("rapport.db").display())).await.unwrap();
        for (kind, csv) in [
            (Kind::Accounts, "account_id,name\nA1,Northwind Logistics\n"),
            (Kind::Contacts, "contact_id,account_id,name,role\nC1,A1,Ana Ruiz,executive\nC2,A1,Tom Lee,user\n"),
            (
                Kind::Responses,
                "contact_id,wave,submitted_at,ltr,delivery\nC1,2026-Q3,2026-08-01T12:00:00Z,9,5\n\
                 C1,2026-Q3,2026-08-02T12:00:00.5Z,6,2\nC2,2026-Q3,2026-08-01,10,\n",
            ),
        ] {
            import_reader(&store, kind, csv.as_bytes(), ImportOptions::default(), &mut |_| {}).await.unwrap();
        }
        let kept = store.dump_analytics().await.unwrap();
        let summary = store.rebuild_analytics().await.unwrap();
        assert_eq!((summary.answers, summary.cells), (3, 2), "three answers; one cell per role level");
        assert_eq!(store.dump_analytics().await.unwrap(), kept, "the rebuild equals what imports kept");
        // The writing connection goes back to its usual cache and mapping for the answers.
        let Store::Sqlite(db) = &store else { unreachable!("a sqlite:// URL opens SQLite") };
        let settings = crate::direct::write(db, |tx| {
            let read = |name: &str| tx.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
            Ok((read("cache_size").unwrap(), read("mmap_size").unwrap()))
        })
        .await
        .unwrap();
        // (SQLite caps the mapping at the size it was built with, 2 GB here.)
        assert!(settings.0 == -65536 && settings.1 > 0, "{settings:?}");

        sqlx::query("UPDATE responses SET submitted_at = 'yesterday' WHERE ltr = 10")
            .execute(db.readers())
            .await
            .unwrap();
        let err = store.rebuild_analytics().await.unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("submitted_at 'yesterday'") && message.contains("RFC 3339"), "{message}");
        assert_eq!(store.dump_analytics().await.unwrap(), kept, "a failed rebuild leaves every cell as it was");
    }
}
