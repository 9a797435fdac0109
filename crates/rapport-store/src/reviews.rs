//! Review meetings: what was said, recorded after the meeting, and the outcomes that become
//! the account's next action plan items, in one transaction.

use time::{Date, OffsetDateTime};

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tasks::{NewTask, TaskError, add_task_in};
use crate::tx::{Tx, on_tx};

/// A review meeting to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReview {
    /// The account.
    pub account_id: i64,
    /// The day it was held.
    pub held_on: Date,
    /// What was said.
    pub notes: String,
    /// Who recorded it.
    pub recorded_by: Option<String>,
    /// The outcomes: each becomes an action plan item of the account.
    pub actions: Vec<NewTask>,
}

/// A recorded review meeting.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Review {
    /// Its id.
    pub id: i64,
    /// The day it was held.
    pub held_on: Date,
    /// What was said.
    pub notes: String,
    /// Who recorded it.
    pub recorded_by: Option<String>,
    /// When.
    pub recorded_at: OffsetDateTime,
}

impl Store {
    /// Records a review meeting and turns its outcomes into tasks; nothing is stored when one
    /// of them is refused. Returns the review's id.
    pub async fn record_review(&self, review: &NewReview, now: OffsetDateTime) -> Result<i64, TaskError> {
        let mut tx = Tx::begin(self).await?;
        let sql = "INSERT INTO reviews (account_id, held_on, notes, recorded_by, recorded_at) \
                   VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let id: i64 = on_tx!(&mut tx, |t| sqlx::query_scalar(sql)
            .bind(review.account_id)
            .bind(review.held_on)
            .bind(&review.notes)
            .bind(&review.recorded_by)
            .bind(now)
            .fetch_one(&mut **t)
            .await
            .map_err(StoreError::from)?);
        for action in &review.actions {
            if let Err(e) = add_task_in(&mut tx, action, Some(id), now).await {
                tx.rollback().await?;
                return Err(e);
            }
        }
        // A meeting is a touch the risk report's neglect must see.
        tx.bump_data_version().await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The account's review meetings, the latest first.
    pub async fn reviews_of(&self, account_id: i64) -> Result<Vec<Review>, StoreError> {
        let sql = "SELECT id, held_on, notes, recorded_by, recorded_at FROM reviews WHERE account_id = $1 \
                   ORDER BY held_on DESC, id DESC";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?))
    }
}
