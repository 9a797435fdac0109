//! The follow-up of a batch of answers on SQLite, in the answer batch's own transaction
//! ([`crate::analytics::in_place`]), through rusqlite: the same decision and the same rows as
//! [`super::follow_up_in`] (alerts raised once per key, stated again by a later answer, their
//! tasks, the links from tasks to answers, the outbox), with statements prepared once.
//!
//! Why a second way of writing these: left to the follow-up scanner, every answer went into
//! the inbox and out again, was read back through a five-table join, and was settled in a
//! transaction of its own that held the database's one writer while the answers behind it
//! waited. That cost about a quarter of the answers a second and put p99 over 10 ms
//! (BENCHMARKS.md, issue 4); here the rows are written beside the answer, on pages the batch
//! has already touched, with no round trip and no second commit.

use std::collections::{HashMap, HashSet};

use rapport_core::task::Function;
use rusqlite::{OptionalExtension, Transaction, params};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{AnswerFollowUp, NewAlert, PENDING_SELECT, PendingAnswer, RaisedAlert, split_alerts, task_description};
use crate::error::StoreError;
use crate::outbox::Message;

/// Follows up the answers just stored as `response_ids` in `tx` (those an inbox row waits
/// for: answers older than 30 days raise nothing), as [`super::follow_up_in`] does.
pub(crate) fn follow_up(
    tx: &Transaction<'_>,
    response_ids: &[i64],
    follow_up: &AnswerFollowUp,
    now: OffsetDateTime,
) -> Result<Vec<RaisedAlert>, StoreError> {
    let pending = pending(tx, response_ids)?;
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let d = follow_up.decide(&pending);
    let mut find = tx
        .prepare_cached("SELECT al.id, t.id FROM alerts al LEFT JOIN tasks t ON t.alert_id = al.id WHERE al.key = ?1")
        .map_err(writing)?;
    let mut task_of: HashMap<&str, i64> = HashMap::new();
    let mut raised_before: HashSet<&str> = HashSet::new();
    for key in d.settled.iter().map(|a| a.follow_up.as_str()).chain(d.alerts.iter().map(|a| a.key.as_str())) {
        if raised_before.contains(key) {
            continue;
        }
        let found: Option<Option<i64>> = find.query_row([key], |row| row.get(1)).optional().map_err(writing)?;
        if let Some(task) = found {
            raised_before.insert(key);
            if let Some(task) = task {
                task_of.insert(key, task);
            }
        }
    }
    let (again, fresh) = split_alerts(&d.alerts, |key| raised_before.contains(key));
    let mut restate = tx
        .prepare_cached("UPDATE alerts SET kind = ?2, detail = ?3, response_id = ?4 WHERE key = ?1")
        .map_err(writing)?;
    for a in again {
        restate.execute(params![a.key, a.kind.as_str(), a.detail, a.response_id]).map_err(writing)?;
    }
    let by_id: HashMap<i64, &PendingAnswer> = pending.iter().map(|a| (a.response_id, a)).collect();
    let mut messages = Vec::new();
    let mut raised = Vec::with_capacity(fresh.len());
    for a in fresh {
        let r = raise(tx, a, follow_up.deadline(), now)?;
        task_of.insert(a.key.as_str(), r.task_id);
        messages.extend((follow_up.raised)(&r, r.response_id.and_then(|id| by_id.get(&id).copied())));
        raised.push(r);
    }
    let mut link = tx
        .prepare_cached("INSERT INTO task_responses (task_id, response_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
        .map_err(writing)?;
    for a in &d.settled {
        if let Some(task) = task_of.get(a.follow_up.as_str()) {
            link.execute([*task, a.response_id]).map_err(writing)?;
        }
    }
    enqueue(tx, messages.iter().chain(&d.events), now)?;
    let mut done = tx.prepare_cached("DELETE FROM response_inbox WHERE response_id = ?1").map_err(writing)?;
    for a in &d.settled {
        done.execute([a.response_id]).map_err(writing)?;
    }
    Ok(raised)
}

/// The answers of `response_ids` that wait for the alert rules, oldest first.
fn pending(tx: &Transaction<'_>, response_ids: &[i64]) -> Result<Vec<PendingAnswer>, StoreError> {
    let mut read = tx.prepare_cached(&format!("{PENDING_SELECT} WHERE i.response_id = ?1")).map_err(writing)?;
    let mut pending = Vec::with_capacity(response_ids.len());
    for id in response_ids {
        let row = read
            .query_row([id], |row| {
                let at: String = row.get(12)?;
                let submitted_at = OffsetDateTime::parse(&at, &Rfc3339).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(12, rusqlite::types::Type::Text, Box::new(e))
                })?;
                Ok(PendingAnswer {
                    response_id: row.get(0)?,
                    account_id: row.get(1)?,
                    account_external_id: row.get(2)?,
                    account_name: row.get(3)?,
                    wave_id: row.get(4)?,
                    wave_name: row.get(5)?,
                    contact_id: row.get(6)?,
                    contact_external_id: row.get(7)?,
                    contact_name: row.get(8)?,
                    ltr: row.get(9)?,
                    comment: row.get(10)?,
                    scores: row.get(11)?,
                    submitted_at,
                })
            })
            .optional()
            .map_err(writing)?;
        pending.extend(row);
    }
    Ok(pending)
}

/// Raises `alert` (its key not raised before, as read in this transaction) with its task.
fn raise(
    tx: &Transaction<'_>,
    alert: &NewAlert,
    deadline: Duration,
    now: OffsetDateTime,
) -> Result<RaisedAlert, StoreError> {
    let stamp = time(now)?;
    let due_at = now + deadline;
    let alert_id: i64 = tx
        .prepare_cached(
            "INSERT INTO alerts (key, kind, account_id, wave_id, response_id, detail, raised_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )
        .map_err(writing)?
        .query_row(
            params![
                alert.key,
                alert.kind.as_str(),
                alert.account_id,
                alert.wave_id,
                alert.response_id,
                alert.detail,
                stamp
            ],
            |row| row.get(0),
        )
        .map_err(writing)?;
    let (account_external_id, account_name, owner): (String, String, Option<String>) = tx
        .prepare_cached("SELECT external_id, name, owner_email FROM accounts WHERE id = ?1")
        .map_err(writing)?
        .query_row([alert.account_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .map_err(writing)?;
    let owner_email = owner.filter(|o| !o.trim().is_empty());
    let task_id: i64 = tx
        .prepare_cached(
            "INSERT INTO tasks (account_id, alert_id, description, function, owner_email, due_at, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )
        .map_err(writing)?
        .query_row(
            params![
                alert.account_id,
                alert_id,
                task_description(alert),
                Function::Sales.as_str(),
                owner_email,
                time(due_at)?,
                stamp
            ],
            |row| row.get(0),
        )
        .map_err(writing)?;
    Ok(RaisedAlert {
        alert_id,
        task_id,
        kind: alert.kind,
        detail: alert.detail.clone(),
        account_id: alert.account_id,
        account_external_id,
        account_name,
        owner_email,
        due_at,
        raised_at: now,
        response_id: alert.response_id,
    })
}

/// Queues `messages` (a key queued before is left alone), as [`crate::outbox`] does.
fn enqueue<'a>(
    tx: &Transaction<'_>,
    messages: impl Iterator<Item = &'a Message>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let mut put = tx
        .prepare_cached(
            "INSERT INTO outbox (key, kind, webhook_id, recipient, subject, body, run_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key) DO NOTHING",
        )
        .map_err(writing)?;
    let run_at = time(now)?;
    for m in messages {
        put.execute(params![m.key, m.delivery.as_str(), m.webhook_id, m.recipient, m.subject, m.body, run_at])
            .map_err(writing)?;
    }
    Ok(())
}

/// A time as Rapport stores it on SQLite (as sqlx writes it: RFC 3339).
fn time(at: OffsetDateTime) -> Result<String, StoreError> {
    at.format(&Rfc3339).map_err(|e| StoreError::Other(anyhow::Error::new(e).context("writing a time")))
}

fn writing(err: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::Error::new(err).context("following up a batch of answers in the SQLite database"))
}
