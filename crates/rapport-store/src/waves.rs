//! Survey waves: one round of the relationship survey (e.g. 2026-Q4).

use time::Date;

use crate::error::StoreError;
use crate::store::Store;
use crate::tx::{Tx, on_tx};

/// Whether a wave is being prepared, collecting answers, or finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaveStatus {
    /// Being prepared: nothing sent.
    Draft,
    /// Collecting answers.
    Open,
    /// Finished: no more answers.
    Closed,
}

impl WaveStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            WaveStatus::Draft => "draft",
            WaveStatus::Open => "open",
            WaveStatus::Closed => "closed",
        }
    }

    /// Whether a wave in this state, with this last day, takes answers at `now`: open, and not
    /// past its last day (the whole day, UTC).
    pub fn accepts_answers(self, closes_on: Option<time::Date>, now: time::OffsetDateTime) -> bool {
        self == WaveStatus::Open && closes_on.is_none_or(|last| now.date() <= last)
    }

    /// The status stored as `text`.
    pub fn parse(text: &str) -> Option<WaveStatus> {
        [WaveStatus::Draft, WaveStatus::Open, WaveStatus::Closed].into_iter().find(|s| s.as_str() == text)
    }
}

impl Store {
    /// Creates the wave, or updates its dates and status. Returns its id.
    pub async fn upsert_wave(
        &self,
        name: &str,
        opens_on: Option<Date>,
        closes_on: Option<Date>,
        status: WaveStatus,
    ) -> Result<i64, StoreError> {
        let sql = "INSERT INTO waves (name, opens_on, closes_on, status) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (name) DO UPDATE SET opens_on = excluded.opens_on, closes_on = excluded.closes_on, \
                   status = excluded.status RETURNING id";
        let mut tx = Tx::begin(self).await?;
        let id = on_tx!(&mut tx, |t| sqlx::query_scalar(sql)
            .bind(name)
            .bind(opens_on)
            .bind(closes_on)
            .bind(status.as_str())
            .fetch_one(&mut **t)
            .await?);
        tx.bump_data_version().await?;
        tx.commit().await?;
        Ok(id)
    }
}
