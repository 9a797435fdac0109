//! Backups of an SQLite database, taken while Rapport runs: `VACUUM INTO` writes a consistent,
//! compact copy of the database as of one moment, without stopping readers or writers.
//! PostgreSQL is backed up with its own tools (pg_dump / pg_restore; see the README).

use std::path::Path;

use crate::error::StoreError;
use crate::store::Store;

impl Store {
    /// Writes a consistent copy of the whole database to `path`, which must not exist yet.
    pub async fn backup_to(&self, path: &Path) -> Result<(), StoreError> {
        let Store::Sqlite(db) = self else {
            return Err(StoreError::Other(anyhow::anyhow!(
                "rapport backup copies SQLite databases; back up PostgreSQL with pg_dump (see the README, Operations)"
            )));
        };
        if path.exists() {
            return Err(StoreError::Other(anyhow::anyhow!(
                "{} exists already: name a new file, so that no earlier backup is overwritten",
                path.display()
            )));
        }
        let target = path.to_str().ok_or_else(|| {
            StoreError::Other(anyhow::anyhow!("{} is not a UTF-8 path: pick a plainer name", path.display()))
        })?;
        sqlx::query("VACUUM INTO $1").bind(target).execute(db.readers()).await?;
        Ok(())
    }
}

/// Replaces the SQLite database at `target` with the backup at `backup`, which is left as it
/// was. The backup is checked first (it must be a Rapport database), copied beside the target,
/// brought up to this version's schema, and only then moved over the target in one rename, so
/// a failure at any step leaves the target untouched. Stop every `rapport serve` using the
/// target before restoring.
pub async fn restore_sqlite(backup: &Path, target: &Path) -> Result<(), StoreError> {
    let other = |msg: String| StoreError::Other(anyhow::anyhow!(msg));
    if !backup.is_file() {
        return Err(other(format!("there is no backup file {}", backup.display())));
    }
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(backup).read_only(true);
    let mut conn = sqlx::ConnectOptions::connect(&options)
        .await
        .map_err(|e| other(format!("{} cannot be opened as an SQLite database: {e}", backup.display())))?;
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('accounts', '_sqlx_migrations')",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| other(format!("{} is not a Rapport backup: {e}", backup.display())))?;
    sqlx::Connection::close(conn).await?;
    if tables != 2 {
        return Err(other(format!("{} is not a Rapport backup (no accounts or migrations table)", backup.display())));
    }
    let staged = target.with_extension("restoring");
    let _ = std::fs::remove_file(&staged);
    std::fs::copy(backup, &staged)
        .map_err(|e| other(format!("copying {} beside {}: {e}", backup.display(), target.display())))?;
    let url = format!("sqlite://{}", staged.display());
    let store = Store::connect(&url).await?;
    // One file: fold the write-ahead log in before the move.
    if let Store::Sqlite(db) = &store {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(db.readers()).await?;
    }
    store.close().await;
    for suffix in ["-wal", "-shm"] {
        let mut side = target.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(side));
        let mut staged_side = staged.as_os_str().to_owned();
        staged_side.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(staged_side));
    }
    std::fs::rename(&staged, target).map_err(|e| other(format!("moving the restored database into place: {e}")))?;
    Ok(())
}
