//! The store's one error type: the rest of the app never matches on a `sqlx::Error`.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write.
    #[error("conflicts with existing data ({constraint})")]
    Conflict {
        /// The constraint's name, or the database's message when it gives none.
        constraint: String,
    },
    /// The database URL names no backend Rapport knows.
    #[error("unsupported database URL '{0}': use sqlite://FILE (e.g. sqlite://rapport.db) or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// Anything else, with its context chain.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() || db.is_foreign_key_violation() => {
                StoreError::Conflict {
                    constraint: db.constraint().map_or_else(|| db.message().to_string(), str::to_string),
                }
            }
            other => StoreError::Other(anyhow::Error::new(other)),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Other(anyhow::Error::new(err).context("applying database migrations"))
    }
}
