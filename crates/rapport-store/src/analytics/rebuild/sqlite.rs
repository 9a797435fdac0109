//! `rapport analytics rebuild` on SQLite, in one transaction on the store's rusqlite
//! connection ([`crate::direct::OwnConnection`]); two readers take the parts in turn, each on
//! a rusqlite connection of its own, while the transaction's connection reads the contacts'
//! role levels. The statements are rusqlite's, prepared once and stepped
//! in place: through sqlx every row crossed to sqlx's connection thread and back (about 5 µs
//! a row), most of a minute at 100,000 accounts.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use rapport_core::contact::RoleLevel;
use rusqlite::{Transaction, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::super::in_place::{CELL_VALUES, put_cell};
use super::super::increment::{CELL_INSERT, CELL_UPSERT};
use super::super::kept::KeptCells;
use super::super::{Cell, RebuildSummary, row_loyalty};
use super::{AT_ONCE, Accounts, AnswerAt, Found, PartAnswers, Roles, part_count, split, summary};
use crate::direct;
use crate::error::StoreError;
use crate::store::SQLITE_PRAGMAS;
use crate::tx::BUMP_DATA_VERSION;

/// Recomputes every cell from the answers and corrects the stored cells that differ, in `tx`,
/// the store's writing transaction on `file`.
pub(in crate::analytics) fn in_place(tx: &Transaction<'_>, file: &Path) -> Result<RebuildSummary, StoreError> {
    // A rebuild that corrects every cell (the first after migration 0014, which emptied their
    // driver sums) dirties about 500 MB of cell pages at 100,000 accounts. With the usual
    // 64 MB cache SQLite spills them into the WAL before the commit, and then every page it
    // reads through the file mapping is first looked up among those frames (`walFindFrame`
    // was a fifth of the time). A 512 MB cache keeps them until the commit, and reading
    // through that cache instead of the mapping keeps the process's memory at half of what
    // the mapping took: 23.3 s and 1.35 GB became 18.9 s and 0.71 GB (BENCHMARKS.md).
    tx.execute_batch("PRAGMA cache_size = -524288; PRAGMA mmap_size = 0").map_err(writing)?;
    let out = rebuild(tx, file);
    // Back to this connection's own settings (the answer writer's smaller cache), not only
    // the defaults of every connection.
    let usual: String = SQLITE_PRAGMAS
        .iter()
        .chain(crate::direct::ANSWER_WRITER)
        .filter(|(name, _)| ["cache_size", "mmap_size"].contains(name))
        .map(|(name, value)| format!("PRAGMA {name} = {value};"))
        .collect();
    tx.execute_batch(&usual).map_err(writing)?;
    out
}

fn rebuild(tx: &Transaction<'_>, file: &Path) -> Result<RebuildSummary, StoreError> {
    let ids: (Option<i64>, Option<i64>) =
        tx.query_row("SELECT MIN(id), MAX(id) FROM accounts", [], |r| Ok((r.get(0)?, r.get(1)?))).map_err(writing)?;
    let answers = answers_room(tx)?;
    let parts = split(ids, part_count(answers));
    let room = answers / parts.len() * 11 / 10;
    in_parts(tx, file, parts, room)
}

/// [`rebuild`] with the accounts in `parts`, each of about `room` answers.
fn in_parts(
    tx: &Transaction<'_>,
    file: &Path,
    parts: Vec<Accounts>,
    room: usize,
) -> Result<RebuildSummary, StoreError> {
    let parts = Mutex::new(parts.into_iter());
    let mut put = tx.prepare(&format!("{CELL_INSERT} VALUES {CELL_VALUES}{CELL_UPSERT}")).map_err(writing)?;
    // A few chunks in flight at most: when every cell differs, memory stays flat.
    let (send, receive) = sync_channel::<Vec<Cell>>(4);
    let (written, outcomes) = std::thread::scope(|scope| {
        let mut hand_over = Vec::new();
        let workers: Vec<_> = (0..AT_ONCE)
            .map(|_| {
                let send = send.clone();
                let (give, roles) = sync_channel::<Arc<Roles>>(1);
                hand_over.push(give);
                let parts = &parts;
                scope.spawn(move || reader(file, parts, room, &roles, &send))
            })
            .collect();
        drop(send);
        // The role levels are read here while the readers read their first parts' answers.
        // Should this fail, the readers stop when they ask for them.
        let mut written = read_roles(tx).map(|roles| {
            let roles = Arc::new(roles);
            for give in &hand_over {
                // A reader that has stopped already has its own error to tell.
                let _ = give.send(roles.clone());
            }
        });
        drop(hand_over);
        if written.is_ok() {
            for cells in &receive {
                written = cells
                    .iter()
                    .try_for_each(|c| {
                        put_cell(&mut put, (c.wave_id, c.account_id, c.role), c.loyalty, &c.drivers).map(drop)
                    })
                    .map_err(writing);
                if written.is_err() {
                    break;
                }
            }
        }
        // Should a write fail, the readers stop at their next chunk (their sends fail).
        drop(receive);
        let outcomes: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
        (written, outcomes)
    });
    written?;
    let mut found = Vec::new();
    for outcome in outcomes {
        found.extend(outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
    }
    let mut delete = tx
        .prepare("DELETE FROM wave_account_stats WHERE wave_id = ?1 AND account_id = ?2 AND role = ?3")
        .map_err(writing)?;
    for (wave_id, account_id, role) in found.iter().flat_map(|part| &part.unmatched) {
        delete.execute(params![wave_id, account_id, role]).map_err(writing)?;
    }
    tx.execute(BUMP_DATA_VERSION, []).map_err(writing)?;
    Ok(summary(&found))
}

/// About how many answers there are, without counting them (a scan): ids are handed out in
/// turn, so the span of the answers' ids is a close upper bound.
fn answers_room(tx: &Transaction<'_>) -> Result<usize, StoreError> {
    let span: i64 =
        tx.query_row("SELECT COALESCE(MAX(id) - MIN(id) + 1, 0) FROM responses", [], |r| r.get(0)).map_err(writing)?;
    Ok(usize::try_from(span).unwrap_or(0))
}

/// Each contact's role level.
fn read_roles(tx: &Transaction<'_>) -> Result<Roles, StoreError> {
    let mut read = tx.prepare("SELECT id, role FROM contacts").map_err(writing)?;
    let contacts = read
        .query_map([], |r| Ok((r.get(0)?, r.get_ref(1)?.as_str_or_null()?.and_then(RoleLevel::parse))))
        .map_err(writing)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(writing)?;
    Ok(Roles::new(contacts))
}

/// Takes parts from `parts` until none is left, on a reading connection of its own to `file`:
/// recomputes each part's cells from its answers and sends those that differ from the stored
/// ones to `send`. `roles` hands over the contacts' role levels once they are read.
fn reader(
    file: &Path,
    parts: &Mutex<impl Iterator<Item = Accounts>>,
    room: usize,
    roles: &Receiver<Arc<Roles>>,
    send: &SyncSender<Vec<Cell>>,
) -> Result<Vec<Found>, StoreError> {
    // Read through the page cache. A mapping was a sixth faster, but each reader's mapping
    // counts the pages it reads in the process's memory: 1.97 GB instead of 0.38 GB at
    // 100,000 accounts.
    let mut conn = direct::open(file, direct::THROUGH_PAGE_CACHE).map_err(writing)?;
    let mut levels: Option<Arc<Roles>> = None;
    let mut found = Vec::new();
    loop {
        let next =
            parts.lock().map_err(|_| StoreError::Other(anyhow::anyhow!("a reader of the rebuild failed")))?.next();
        let Some(accounts) = next else { return Ok(found) };
        // One snapshot for the stored cells and the answers. The writing transaction holds the
        // write lock, so this is the state the rebuild started from: nothing commits meanwhile.
        let snapshot = conn.transaction().map_err(writing)?;
        let kept = kept_cells(&snapshot, accounts)?;
        let answers = read_answers(&snapshot, accounts, room)?;
        drop(snapshot);
        if levels.is_none() {
            levels = Some(roles.recv().map_err(|_| {
                StoreError::Other(anyhow::anyhow!("the rebuild stopped before the contacts' role levels were read"))
            })?);
        }
        let roles = levels.as_deref().unwrap_or_else(|| unreachable!("set just above"));
        let send = |cells: Vec<Cell>| {
            send.send(cells).map_err(|_| StoreError::Other(anyhow::anyhow!("the rebuild stopped writing its cells")))
        };
        found.push(answers.fold(roles, kept, send)?);
    }
}

/// The answers of `accounts`, in the order they are stored. Through the (wave, account) index,
/// in the order the fold needs, every answer cost a lookup of its row and another of its
/// contact: 1.7 s for half the answers at 100,000 accounts in the sqlite3 shell, against
/// 0.55 s for this scan and 0.18 s for every contact's role level (BENCHMARKS.md, issue 3).
fn read_answers(tx: &Transaction<'_>, (first, last): Accounts, room: usize) -> Result<PartAnswers, StoreError> {
    let mut answers = PartAnswers::with_capacity(room);
    let mut read = tx
        .prepare(
            "SELECT wave_id, account_id, contact_id, submitted_at, ltr, scores \
             FROM responses NOT INDEXED WHERE account_id BETWEEN ?1 AND ?2",
        )
        .map_err(writing)?;
    let mut rows = read.query(params![first, last]).map_err(writing)?;
    while let Some(row) = rows.next().map_err(writing)? {
        let text = |i: usize| row.get_ref(i).and_then(|v| Ok(v.as_str()?)).map_err(writing);
        let (wave_id, contact_id): (i64, i64) = (row.get(0).map_err(writing)?, row.get(2).map_err(writing)?);
        let at = text(3)?;
        // Rapport writes every time in RFC 3339 (sqlx's encoding, and the answer path's).
        let submitted_at = OffsetDateTime::parse(at, &Rfc3339).map_err(|e| {
            StoreError::Other(anyhow::Error::new(e).context(format!(
                "the answer of contact {contact_id} in wave {wave_id} has the submitted_at '{at}', which \
                 is not an RFC 3339 time such as 2026-07-01T12:00:00Z: correct it in the database, \
                 then rebuild"
            )))
        })?;
        let answer = AnswerAt {
            wave_id,
            account_id: row.get(1).map_err(writing)?,
            contact_id,
            submitted_at,
            ltr: row.get(4).map_err(writing)?,
            ratings_end: 0,
        };
        answers.push(answer, text(5)?)?;
    }
    Ok(answers)
}

/// The stored cells of `accounts`, to compare with the recomputed ones.
fn kept_cells(tx: &Transaction<'_>, (first, last): Accounts) -> Result<KeptCells, StoreError> {
    const OF_ACCOUNTS: &str = "FROM wave_account_stats WHERE account_id BETWEEN ?1 AND ?2";
    let count: i64 =
        tx.query_row(&format!("SELECT COUNT(*) {OF_ACCOUNTS}"), params![first, last], |r| r.get(0)).map_err(writing)?;
    let mut kept = KeptCells::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut read = tx
        .prepare(&format!(
            "SELECT wave_id, account_id, role, promoters, passives, detractors, ltr_sum, ltr_sumsq, drivers \
             {OF_ACCOUNTS}"
        ))
        .map_err(writing)?;
    let mut rows = read.query(params![first, last]).map_err(writing)?;
    while let Some(r) = rows.next().map_err(writing)? {
        let loyalty = row_loyalty(r, 3).map_err(writing)?;
        let role = r.get_ref(2).and_then(|v| Ok(v.as_str()?)).map_err(writing)?;
        let drivers = r.get_ref(8).and_then(|v| Ok(v.as_blob()?)).map_err(writing)?;
        kept.insert(r.get(0).map_err(writing)?, r.get(1).map_err(writing)?, role, loyalty, drivers);
    }
    Ok(kept)
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
        assert!(settings.0 == -4096 && settings.1 > 0, "{settings:?}");

        sqlx::query("UPDATE responses SET submitted_at = 'yesterday' WHERE ltr = 10")
            .execute(db.readers())
            .await
            .unwrap();
        let err = store.rebuild_analytics().await.unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("submitted_at 'yesterday'") && message.contains("RFC 3339"), "{message}");
        assert_eq!(store.dump_analytics().await.unwrap(), kept, "a failed rebuild leaves every cell as it was");
    }

    #[tokio::test]
    async fn more_parts_than_readers_are_each_read_once_and_give_the_same_cells() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rapport.db");
        let store = Store::connect(&format!("sqlite://{}", file.display())).await.unwrap();
        let accounts: String = (1..=9).map(|i| format!("A{i},Account {i}\n")).collect();
        let contacts: String = (1..=9).map(|i| format!("C{i},A{i},Contact {i},user\n")).collect();
        let answers: String =
            (1..=9).map(|i| format!("C{i},2026-Q3,2026-08-0{i},{},{}\n", i % 11, i % 5 + 1)).collect();
        for (kind, csv) in [
            (Kind::Accounts, format!("account_id,name\n{accounts}")),
            (Kind::Contacts, format!("contact_id,account_id,name,role\n{contacts}")),
            (Kind::Responses, format!("contact_id,wave,submitted_at,ltr,delivery\n{answers}")),
        ] {
            import_reader(&store, kind, csv.as_bytes(), ImportOptions::default(), &mut |_| {}).await.unwrap();
        }
        let kept = store.dump_analytics().await.unwrap();
        let Store::Sqlite(db) = &store else { unreachable!("a sqlite:// URL opens SQLite") };
        // Corrupt one cell, then rebuild in five parts with two readers.
        sqlx::query("UPDATE wave_account_stats SET promoters = promoters + 7 WHERE rowid = (SELECT MAX(rowid) FROM wave_account_stats)")
            .execute(db.readers())
            .await
            .unwrap();
        let summary = crate::direct::write(db, move |tx| {
            let ids: (i64, i64) =
                tx.query_row("SELECT MIN(id), MAX(id) FROM accounts", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
            let parts = super::split((Some(ids.0), Some(ids.1)), 5);
            assert_eq!(parts.len(), 5);
            super::in_parts(tx, &file, parts, 4)
        })
        .await
        .unwrap();
        assert_eq!(
            (summary.answers, summary.cells, summary.corrected),
            (9, 9, 1),
            "every answer once; the one bad cell"
        );
        assert_eq!(store.dump_analytics().await.unwrap(), kept);
    }
}
