//! Checkpoints beside the answer writer (SQLite).
//!
//! In WAL mode a commit appends the pages it changed to the `-wal` file, and a checkpoint
//! copies them back into the database file and syncs that file. SQLite runs one itself in
//! whichever connection's commit takes the WAL past 1,000 pages: under a flood of answers
//! that was the answer writer every ten batches or so, and the answers behind it waited for
//! the copy and the sync (8% of the writer's processor time, and the wait for the database
//! file's sync besides: BENCHMARKS.md, issue 4). The connection that writes the answer
//! batches ([`crate::direct::ANSWER_WRITER`]) leaves checkpoints to this task instead, which
//! runs them on a connection of its own after the writer's commits, at most every [`PAUSE`]:
//! a passive checkpoint copies what is committed while the writer goes on, and never holds
//! it up.
//!
//! Durability does not change: every commit is synced to the WAL before it returns, and a
//! checkpoint syncs the database file before the WAL's frames may be written over.
//!
//! A passive checkpoint never quite catches up with a writer that commits all the time, and
//! SQLite starts the WAL over from its beginning only when a write finds every frame copied.
//! So once the WAL holds more than [`RESTART_AT`] frames, the task checkpoints again in the
//! store's writer turn ([`crate::tx::writer_turn_of`]), with nothing being written: it copies
//! the frames left, and the next write starts the WAL over, which keeps the file's size
//! bounded. Before it takes the turn it copies what was committed during its last checkpoint,
//! again outside the turn, until only a few frames are left ([`LEFT_FOR_THE_TURN`]): the
//! answers behind the turn wait for those few and one sync, not for everything committed
//! meanwhile.

use std::path::Path;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::{Mutex, Notify};

use crate::direct::OwnConnection;
use crate::error::StoreError;

/// The least time between two checkpoints: the frames of a few dozen batches are copied at
/// once, each page once however often they changed it.
const PAUSE: Duration = Duration::from_millis(20);

/// The WAL's length, in frames of one page (64 MB of 4 KB pages), past which the next
/// checkpoint waits for the writer turn so that the WAL can start over.
const RESTART_AT: i64 = 16_384;

/// How many frames left uncopied are few enough to copy in the writer turn.
const LEFT_FOR_THE_TURN: i64 = 128;

/// The most passive checkpoints run to get down to [`LEFT_FOR_THE_TURN`] before the turn is
/// taken anyway (the writer may commit faster than they copy).
const CATCHING_UP: usize = 4;

/// The checkpoints of one database file, run by a task started at the first commit that
/// leaves them to it.
#[derive(Debug)]
pub(crate) struct Checkpoints {
    conn: Arc<OwnConnection>,
    wake: Arc<Notify>,
    started: OnceLock<()>,
    /// The writer turn of the file, which the checkpoint that lets the WAL start over takes.
    turn: Arc<Mutex<()>>,
    restart_at: i64,
}

impl Checkpoints {
    /// Checkpoints of `file`, whose writer turn is `turn`, on a connection of their own
    /// (opened on first use).
    pub(crate) fn new(file: &Path, turn: Arc<Mutex<()>>) -> Checkpoints {
        Checkpoints::restarting_at(file, turn, RESTART_AT)
    }

    /// Checkpoints of `file` that wait for the writer turn past `restart_at` frames.
    fn restarting_at(file: &Path, turn: Arc<Mutex<()>>, restart_at: i64) -> Checkpoints {
        let conn = Arc::new(OwnConnection::new(file, &[]));
        Checkpoints { conn, wake: Arc::new(Notify::new()), started: OnceLock::new(), turn, restart_at }
    }

    /// Says that a connection which leaves checkpoints to this task has committed (call
    /// from within the runtime).
    pub(crate) fn committed(&self) {
        self.started.get_or_init(|| {
            tokio::spawn(run(Arc::downgrade(&self.conn), self.wake.clone(), self.turn.clone(), self.restart_at));
        });
        self.wake.notify_one();
    }

    /// Closes the connection; the task ends.
    pub(crate) fn close(&self) {
        self.conn.close();
        self.wake.notify_one();
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        // The task finds its connection gone and ends.
        self.wake.notify_one();
    }
}

async fn run(conn: Weak<OwnConnection>, wake: Arc<Notify>, turn: Arc<Mutex<()>>, restart_at: i64) {
    loop {
        wake.notified().await;
        let Some(conn) = conn.upgrade() else { return };
        match checkpoint(&conn).await {
            Ok(Wal { frames, .. }) if frames > restart_at => {
                for _ in 0..CATCHING_UP {
                    match checkpoint(&conn).await {
                        Ok(wal) if wal.frames - wal.copied > LEFT_FOR_THE_TURN => {}
                        _ => break,
                    }
                }
                let _turn = turn.lock().await;
                if let Err(e) = checkpoint(&conn).await {
                    tracing::warn!(error = format!("{e:#}"), "a checkpoint of the SQLite database failed");
                }
            }
            Ok(_) => {}
            Err(_) if conn.is_closed() => return,
            // The next commit tries again; meanwhile SQLite's own checkpoints, which the
            // other connections still run, keep the WAL from growing without end.
            Err(e) => tracing::warn!(error = format!("{e:#}"), "a checkpoint of the SQLite database failed"),
        }
        drop(conn);
        tokio::time::sleep(PAUSE).await;
    }
}

/// The WAL as a checkpoint leaves it.
struct Wal {
    /// Its length, in frames.
    frames: i64,
    /// The frames copied into the database file so far.
    copied: i64,
}

/// A passive checkpoint on `conn`.
async fn checkpoint(conn: &Arc<OwnConnection>) -> Result<Wal, StoreError> {
    let conn = conn.clone();
    tokio::task::spawn_blocking(move || {
        conn.with(|c| {
            let wal = |row: &rusqlite::Row<'_>| Ok(Wal { frames: row.get(1)?, copied: row.get(2)? });
            c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], wal).map_err(|e| {
                StoreError::Other(anyhow::Error::new(e).context("checkpointing the SQLite database's WAL"))
            })
        })
    })
    .await
    .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("a checkpoint of the SQLite database stopped")))?
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, TransactionBehavior};

    use super::*;
    use crate::direct;
    use crate::tx::writer_turn_of;

    /// A new database file in WAL mode with a table of one page a row, and a connection that
    /// writes it as the answer writer's does: no checkpoints of its own.
    fn database(dir: &Path) -> (std::path::PathBuf, Connection) {
        let file = dir.join("rapport.db");
        Connection::open(&file)
            .unwrap()
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE pages (id INTEGER PRIMARY KEY, body BLOB)")
            .unwrap();
        let writer = direct::open(&file, direct::ANSWER_WRITER).unwrap();
        (file, writer)
    }

    /// Writes `rows` rows of about a page each in one transaction, in the writer turn, and
    /// says so to `checkpoints`.
    async fn commit(file: &Path, writer: &mut Connection, checkpoints: &Checkpoints, rows: usize) {
        let _turn = writer_turn_of(file).lock_owned().await;
        let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
        for _ in 0..rows {
            tx.execute("INSERT INTO pages (body) VALUES (randomblob(3500))", []).unwrap();
        }
        tx.commit().unwrap();
        checkpoints.committed();
    }

    /// The rows the database file holds by itself, without its WAL (None while a checkpoint
    /// is writing it).
    fn rows_in_the_file_alone(file: &Path, dir: &Path) -> Option<i64> {
        let copy = dir.join("copy.db");
        std::fs::copy(file, &copy).ok()?;
        Connection::open(&copy).ok()?.query_row("SELECT count(*) FROM pages", [], |r| r.get(0)).ok()
    }

    #[tokio::test]
    async fn what_the_writer_commits_reaches_the_database_file_though_it_never_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let (file, mut writer) = database(dir.path());
        let checkpoints = Checkpoints::new(&file, writer_turn_of(&file));
        commit(&file, &mut writer, &checkpoints, 50).await;
        assert_eq!(rows_in_the_file_alone(&file, dir.path()), Some(0), "a commit alone stays in the WAL");

        let started = std::time::Instant::now();
        while rows_in_the_file_alone(&file, dir.path()) != Some(50) {
            assert!(started.elapsed() < Duration::from_secs(10), "no checkpoint copied the commit");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        // Closed, the task ends and checkpoints no more.
        checkpoints.close();
        tokio::time::sleep(PAUSE * 3).await;
        commit(&file, &mut writer, &checkpoints, 10).await;
        tokio::time::sleep(PAUSE * 3).await;
        assert_eq!(rows_in_the_file_alone(&file, dir.path()), Some(50));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_that_never_stops_still_has_its_wal_start_over() {
        let dir = tempfile::tempdir().unwrap();
        let (file, mut writer) = database(dir.path());
        let checkpoints = Checkpoints::restarting_at(&file, writer_turn_of(&file), 200);
        // 20,000 pages, one commit after another with no pause for a passive checkpoint to
        // catch up: only a checkpoint in the writer turn lets the WAL start over.
        for _ in 0..1_000 {
            commit(&file, &mut writer, &checkpoints, 20).await;
        }
        let wal_pages = std::fs::metadata(dir.path().join("rapport.db-wal")).unwrap().len() / 4096;
        assert!(wal_pages < 10_000, "the WAL grew to {wal_pages} pages: it never started over");
    }
}
