//! `rapport backup FILE` and `rapport restore FILE` for the embedded SQLite database.

use std::path::{Path, PathBuf};

use anyhow::bail;
use rapport_store::Store;

/// `rapport backup` and `rapport restore`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The backup file (backup: a new file; restore: an earlier backup).
    pub file: PathBuf,
}

/// Runs `rapport backup`: a consistent copy while Rapport keeps running.
pub async fn backup(store: &Store, args: BackupArgs) -> anyhow::Result<()> {
    store.backup_to(&args.file).await?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    say!("Backed up to {} ({:.1} MB).", args.file.display(), size as f64 / 1e6);
    Ok(())
}

/// The file of an SQLite URL.
fn sqlite_file(url: &str) -> Option<&Path> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    Some(Path::new(rest.split('?').next().unwrap_or(rest)))
}

/// Runs `rapport restore`: replaces the configured database with a backup.
pub async fn restore(database_url: &str, args: BackupArgs) -> anyhow::Result<()> {
    let Some(target) = sqlite_file(database_url) else {
        bail!(
            "rapport restore replaces SQLite databases; restore PostgreSQL with pg_restore (see the README, Operations)"
        );
    };
    rapport_store::backup::restore_sqlite(&args.file, target).await?;
    say!("Restored {} from {}.", target.display(), args.file.display());
    Ok(())
}
