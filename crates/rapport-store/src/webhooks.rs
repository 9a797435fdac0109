//! Webhooks: the URLs that receive events, each with the secret its deliveries are signed with.

use rapport_core::event::EventType;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::on_writer;

/// A webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// Its id.
    pub id: i64,
    /// Where events are posted.
    pub url: String,
    /// The HMAC-SHA256 key of the signature header.
    pub secret: String,
    /// The events it receives.
    pub events: Vec<EventType>,
    /// Whether it receives anything.
    pub active: bool,
    /// When it was added.
    pub created_at: OffsetDateTime,
}

impl Webhook {
    /// Whether it receives `event`.
    pub fn wants(&self, event: EventType) -> bool {
        self.active && self.events.contains(&event)
    }
}

type Row = (i64, String, String, String, bool, OffsetDateTime);

fn webhook((id, url, secret, events, active, created_at): Row) -> Webhook {
    // Stored lists were checked when saved; a name a later version dropped is skipped.
    let events = events.split(',').filter_map(EventType::parse).collect();
    Webhook { id, url, secret, events, active, created_at }
}

impl Store {
    /// Adds a webhook receiving `events`; returns its id.
    pub async fn add_webhook(&self, url: &str, secret: &str, events: &[EventType]) -> Result<i64, StoreError> {
        let events = events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",");
        let sql = "INSERT INTO webhooks (url, secret, events) VALUES ($1, $2, $3) RETURNING id";
        Ok(on_writer!(self, |conn| sqlx::query_scalar(sql)
            .bind(url)
            .bind(secret)
            .bind(&events)
            .fetch_one(&mut *conn)
            .await?))
    }

    /// Every webhook, oldest first.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let sql = "SELECT id, url, secret, events, active, created_at FROM webhooks ORDER BY id";
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(webhook).collect())
    }

    /// The webhook with this id.
    pub async fn find_webhook(&self, id: i64) -> Result<Option<Webhook>, StoreError> {
        let sql = "SELECT id, url, secret, events, active, created_at FROM webhooks WHERE id = $1";
        let row: Option<Row> = on_pool!(self, |pool| sqlx::query_as(sql).bind(id).fetch_optional(pool).await?);
        Ok(row.map(webhook))
    }

    /// Removes a webhook and its delivery log; false when there was none.
    pub async fn remove_webhook(&self, id: i64) -> Result<bool, StoreError> {
        let sql = "DELETE FROM webhooks WHERE id = $1";
        Ok(on_writer!(self, |conn| sqlx::query(sql).bind(id).execute(&mut *conn).await?.rows_affected()) > 0)
    }
}
