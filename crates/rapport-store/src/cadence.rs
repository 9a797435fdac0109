//! The cadence's settings, and opening a cycle once whichever process gets there first.

use rapport_core::cadence::Cadence;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::on_pool;
use crate::outbox::{Message, enqueue_in};
use crate::store::Store;
use crate::tasks::{NewTask, TaskError, add_task_in};
use crate::tx::{Tx, on_tx, on_writer};

/// The settings name of the cadence.
const CADENCE: &str = "cadence";

fn json(c: &Cadence) -> Result<String, StoreError> {
    serde_json::to_string(c).map_err(|e| StoreError::Other(e.into()))
}

impl Store {
    /// The portfolio's cadence, if one is set.
    pub async fn cadence(&self) -> Result<Option<Cadence>, StoreError> {
        let sql = "SELECT value FROM settings WHERE name = $1";
        let value: Option<String> =
            on_pool!(self, |pool| sqlx::query_scalar(sql).bind(CADENCE).fetch_optional(pool).await?);
        value
            .map(|v| {
                serde_json::from_str(&v)
                    .map_err(|e| StoreError::Other(anyhow::anyhow!("the stored cadence cannot be read: {e}")))
            })
            .transpose()
    }

    /// Sets the cadence (checked by the caller), or removes it (None): no more cycles start.
    pub async fn save_cadence(
        &self,
        cadence: Option<&Cadence>,
        by: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        match cadence {
            Some(c) => {
                let sql = "INSERT INTO settings (name, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                           ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, \
                           updated_by = excluded.updated_by";
                let value = json(c)?;
                on_writer!(self, |conn| sqlx::query(sql)
                    .bind(CADENCE)
                    .bind(&value)
                    .bind(now)
                    .bind(by)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected());
            }
            None => {
                on_writer!(self, |conn| sqlx::query("DELETE FROM settings WHERE name = $1")
                    .bind(CADENCE)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected());
            }
        }
        Ok(())
    }

    /// Opens a cycle: moves the cadence from `current` to `next` (its next start), adds the
    /// review meetings and queues the messages, in one transaction. False, and nothing done,
    /// when the cadence is no longer `current` (another process opened the cycle, or someone
    /// changed it).
    pub async fn open_cycle(
        &self,
        current: &Cadence,
        next: &Cadence,
        reviews: &[NewTask],
        messages: &[Message],
        now: OffsetDateTime,
    ) -> Result<bool, TaskError> {
        let mut tx = Tx::begin(self).await?;
        let sql = "UPDATE settings SET value = $2, updated_at = $3 WHERE name = $4 AND value = $1";
        let moved = on_tx!(&mut tx, |t| sqlx::query(sql)
            .bind(json(current)?)
            .bind(json(next)?)
            .bind(now)
            .bind(CADENCE)
            .execute(&mut **t)
            .await
            .map_err(StoreError::from)?
            .rows_affected());
        if moved == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        for review in reviews {
            if let Err(e) = add_task_in(&mut tx, review, None, now).await {
                tx.rollback().await?;
                return Err(e);
            }
        }
        enqueue_in(&mut tx, messages, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
