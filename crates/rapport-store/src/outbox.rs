//! The outbox: notifications by email and webhook deliveries, queued in the transaction that
//! decides them (an alert raised, a task escalated) and run by any `rapport serve` process.
//!
//! A message is claimed by one atomic `UPDATE ... RETURNING` (on PostgreSQL over rows locked
//! with `FOR UPDATE SKIP LOCKED`), so two processes never run it at once. Unlike invitations,
//! which go out at most once, these go out at least once: a message whose process died while
//! sending it (its lease expired) is queued again, with the same key, which the email's
//! Message-ID and the webhook's `X-Rapport-Delivery` header carry so that the receiver can
//! tell a repeat. Only the messages in flight at the moment of a crash can repeat.

use std::collections::{BTreeSet, HashSet};

use sqlx::QueryBuilder;
use time::{Duration, OffsetDateTime};

use crate::error::StoreError;
use crate::jobs::QueueCounts;
use crate::on_pool;
use crate::store::Store;
use crate::tx::{Tx, on_tx, on_writer};

/// How a message goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// By email to a user (the recipient is the address).
    Email,
    /// As a signed HTTP POST to a webhook (the recipient is its URL).
    Webhook,
}

impl Delivery {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Email => "email",
            Delivery::Webhook => "webhook",
        }
    }

    fn parse(name: &str) -> Delivery {
        if name == "webhook" { Delivery::Webhook } else { Delivery::Email }
    }
}

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// What it is about, unique: queueing the same key again adds nothing.
    pub key: String,
    /// How it goes out.
    pub delivery: Delivery,
    /// The webhook, for webhook deliveries.
    pub webhook_id: Option<i64>,
    /// The email address or the webhook's URL.
    pub recipient: String,
    /// The email's subject, or the webhook event's type.
    pub subject: String,
    /// The email's text, or the event's JSON.
    pub body: String,
}

/// A claimed message, or one in the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxEntry {
    /// Its id.
    pub id: i64,
    /// Its unique key.
    pub key: String,
    /// email or webhook.
    pub kind: String,
    /// The webhook, for webhook deliveries.
    pub webhook_id: Option<i64>,
    /// The email address or the webhook's URL.
    pub recipient: String,
    /// The subject or the event type.
    pub subject: String,
    /// The text or JSON.
    pub body: String,
    /// queued, running, done or failed.
    pub status: String,
    /// Attempts so far, the current one included.
    pub attempts: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The HTTP status the webhook answered last.
    pub last_status: Option<i32>,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// When it was delivered or given up.
    pub finished_at: Option<OffsetDateTime>,
}

impl OutboxEntry {
    /// How it goes out.
    pub fn delivery(&self) -> Delivery {
        Delivery::parse(&self.kind)
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Delivered (with the webhook's HTTP status).
    Delivered {
        /// The HTTP status, for webhooks.
        status: Option<u16>,
    },
    /// Not delivered; try again at `at`.
    Retry {
        /// What went wrong.
        error: String,
        /// The HTTP status, when there was one.
        status: Option<u16>,
        /// When to try again.
        at: OffsetDateTime,
    },
    /// Not delivered, and never will be.
    Failed {
        /// What went wrong.
        error: String,
        /// The HTTP status, when there was one.
        status: Option<u16>,
    },
}

const COLUMNS: &str = "id, key, kind, webhook_id, recipient, subject, body, status, attempts, last_error, last_status, \
                       created_at, finished_at";

/// Queues `messages` in an open transaction; those whose key is queued already are skipped.
pub(crate) async fn enqueue_in(tx: &mut Tx, messages: &[Message], now: OffsetDateTime) -> Result<u64, StoreError> {
    // The events were decided under webhooks read ahead of the answers they follow up (the
    // scanner's are up to a second old): one removed since wants no more events, its queued
    // ones went with it, and queueing one would fail the whole batch on its foreign key.
    let standing = standing_webhooks(tx, messages).await?;
    let messages: Vec<&Message> =
        messages.iter().filter(|m| m.webhook_id.is_none_or(|id| standing.contains(&id))).collect();
    let mut added = 0;
    // A few statements for a whole batch: the follow-up scanner queues hundreds at once, and
    // each statement is a round trip that holds the database's one writer.
    for chunk in messages.chunks(ENQUEUE_CHUNK) {
        added += on_tx!(tx, |t| {
            let mut qb =
                QueryBuilder::new("INSERT INTO outbox (key, kind, webhook_id, recipient, subject, body, run_at) ");
            qb.push_values(chunk, |mut b, m| {
                b.push_bind(&m.key)
                    .push_bind(m.delivery.as_str())
                    .push_bind(m.webhook_id)
                    .push_bind(&m.recipient)
                    .push_bind(&m.subject)
                    .push_bind(&m.body)
                    .push_bind(now);
            });
            qb.push(" ON CONFLICT (key) DO NOTHING");
            qb.build().execute(&mut **t).await?.rows_affected()
        });
    }
    Ok(added)
}

/// The webhooks `messages` are for that are still there, kept so until the transaction ends
/// (on PostgreSQL a removal waits for it; on SQLite the transaction is the only writer).
async fn standing_webhooks(tx: &mut Tx, messages: &[Message]) -> Result<HashSet<i64>, StoreError> {
    let ids: BTreeSet<i64> = messages.iter().filter_map(|m| m.webhook_id).collect();
    let mut standing = HashSet::with_capacity(ids.len());
    let read = match tx {
        Tx::Sqlite { .. } => "SELECT id FROM webhooks WHERE id = $1",
        Tx::Postgres(_) => "SELECT id FROM webhooks WHERE id = $1 FOR KEY SHARE",
    };
    // One keyed read a webhook: a batch names a handful at most.
    for id in ids {
        standing.extend(on_tx!(tx, |t| sqlx::query_scalar::<_, i64>(read).bind(id).fetch_optional(&mut **t).await?));
    }
    Ok(standing)
}

/// Messages per insert statement (7 values each, well under both backends' bind limits).
const ENQUEUE_CHUNK: usize = 500;

impl Store {
    /// Queues `messages`; returns how many were new.
    pub async fn enqueue(&self, messages: &[Message], now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let n = enqueue_in(&mut tx, messages, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Claims up to `limit` due messages that go out by one of `deliveries`, for `lease`.
    pub async fn claim_outbox(
        &self,
        deliveries: &[Delivery],
        now: OffsetDateTime,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let lock = if self.backend() == crate::Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let kinds = deliveries.iter().map(|d| format!("'{}'", d.as_str())).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "UPDATE outbox SET status = 'running', attempts = attempts + 1, locked_until = $2 WHERE id IN \
             (SELECT id FROM outbox WHERE status = 'queued' AND run_at <= $1 AND kind IN ({kinds}) \
             ORDER BY run_at, id LIMIT $3{lock}) RETURNING {COLUMNS}"
        );
        let mut rows: Vec<OutboxEntry> = on_writer!(self, |conn| sqlx::query_as(&sql)
            .bind(now)
            .bind(now + lease)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?);
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Records how an attempt at message `id` ended.
    pub async fn finish_outbox(&self, id: i64, attempt: &Attempt, now: OffsetDateTime) -> Result<(), StoreError> {
        let (status, error, http, run_at, finished) = match attempt {
            Attempt::Delivered { status } => ("done", None, *status, None, Some(now)),
            Attempt::Retry { error, status, at } => ("queued", Some(error.as_str()), *status, Some(*at), None),
            Attempt::Failed { error, status } => ("failed", Some(error.as_str()), *status, None, Some(now)),
        };
        let sql = "UPDATE outbox SET status = $2, last_error = $3, last_status = $4, run_at = COALESCE($5, run_at), \
                   finished_at = $6, locked_until = NULL WHERE id = $1";
        on_writer!(self, |conn| sqlx::query(sql)
            .bind(id)
            .bind(status)
            .bind(error)
            .bind(http.map(i32::from))
            .bind(run_at)
            .bind(finished)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Queues again the messages whose process stopped while sending them (lease expired).
    /// Returns how many.
    pub async fn requeue_abandoned_outbox(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let sql = "UPDATE outbox SET status = 'queued', locked_until = NULL, run_at = $1, \
                   last_error = 'interrupted while sending (the process stopped): sent again' \
                   WHERE status = 'running' AND locked_until < $1";
        Ok(on_writer!(self, |conn| sqlx::query(sql).bind(now).execute(&mut *conn).await?.rows_affected()))
    }

    /// The delivery log, newest first: messages by `delivery` (all when None), for one webhook
    /// when given, before id `before`.
    pub async fn outbox_log(
        &self,
        delivery: Option<Delivery>,
        webhook_id: Option<i64>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR webhook_id = $2) \
             AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(delivery.map(Delivery::as_str))
            .bind(webhook_id)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Messages by status, for metrics and the settings page.
    pub async fn outbox_counts(&self) -> Result<QueueCounts, StoreError> {
        let rows: Vec<(String, i64)> =
            on_pool!(self, |pool| sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status")
                .fetch_all(pool)
                .await?);
        Ok(QueueCounts::from_rows(rows))
    }
}
