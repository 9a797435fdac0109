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

use super::{AnswerFollowUp, NewAlert, PendingAnswer, RaisedAlert, split_alerts, task_description};
use crate::analytics::in_place::AnswerContact;
use crate::error::StoreError;
use crate::invitations::NewAnswer;
use crate::outbox::Message;

/// The answers of `stored` that wait for the alert rules at `now` (see
/// [`super::FOLLOWED_UP_WITHIN`]), in the order stored.
pub(crate) fn waiting<'a>(stored: &[(i64, &'a NewAnswer)], now: OffsetDateTime) -> Vec<(i64, &'a NewAnswer)> {
    stored.iter().copied().filter(|(_, a)| a.submitted_at >= now - super::FOLLOWED_UP_WITHIN).collect()
}

/// Leaves the answers of `waiting` (just stored in `tx`, each with its response id) to the
/// follow-up scanner: their inbox rows, which a trigger writes on every other connection.
pub(crate) fn leave_to_scanner(tx: &Transaction<'_>, waiting: &[(i64, &NewAnswer)]) -> Result<(), StoreError> {
    let mut put = tx.prepare_cached("INSERT INTO response_inbox (response_id) VALUES (?1)").map_err(writing)?;
    for &(response_id, _) in waiting {
        put.execute([response_id]).map_err(writing)?;
    }
    Ok(())
}

/// Follows up the answers of `waiting`, just stored in `tx` (each with its response id), as
/// [`super::follow_up_in`] does. `contacts` are the answering contacts as the batch read them.
pub(crate) fn follow_up(
    tx: &Transaction<'_>,
    waiting: &[(i64, &NewAnswer)],
    contacts: &HashMap<i64, AnswerContact>,
    follow_up: &AnswerFollowUp,
    now: OffsetDateTime,
) -> Result<Vec<RaisedAlert>, StoreError> {
    let mut accounts = Accounts::new(tx)?;
    let pending = pending(tx, waiting, contacts, &mut accounts)?;
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
        let r = raise(tx, &mut accounts, a, follow_up.deadline(), now)?;
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
    Ok(raised)
}

/// The answers of `waiting` as the alert rules read them, in the order stored. Built from what
/// the batch has read rather than read back through the inbox: the answer, its contact, its
/// account (once per account) and its wave (once per wave).
fn pending(
    tx: &Transaction<'_>,
    waiting: &[(i64, &NewAnswer)],
    contacts: &HashMap<i64, AnswerContact>,
    accounts: &mut Accounts<'_>,
) -> Result<Vec<PendingAnswer>, StoreError> {
    let mut wave_name = tx.prepare_cached("SELECT name FROM waves WHERE id = ?1").map_err(writing)?;
    let mut waves: HashMap<i64, String> = HashMap::new();
    let mut pending = Vec::with_capacity(waiting.len());
    for &(response_id, a) in waiting {
        let (Some(contact), Some(account)) = (contacts.get(&a.contact_id), accounts.get(a.account_id)?) else {
            return Err(gone(format_args!("the contact or account of answer {response_id}")));
        };
        let (account_external_id, account_name) = (account.external_id.clone(), account.name.clone());
        if let std::collections::hash_map::Entry::Vacant(wave) = waves.entry(a.wave_id) {
            wave.insert(wave_name.query_row([a.wave_id], |row| row.get(0)).map_err(writing)?);
        }
        pending.push(PendingAnswer {
            response_id,
            account_id: a.account_id,
            account_external_id,
            account_name,
            wave_id: a.wave_id,
            wave_name: waves[&a.wave_id].clone(),
            contact_id: a.contact_id,
            contact_external_id: contact.external_id.clone(),
            contact_name: contact.name.clone(),
            ltr: i32::from(a.ltr),
            comment: a.comment.clone(),
            scores: a.scores.clone(),
            submitted_at: a.submitted_at,
        });
    }
    Ok(pending)
}

/// An account as the follow-up names it.
struct Account {
    external_id: String,
    name: String,
    owner_email: Option<String>,
}

/// The accounts of a batch, each read once.
struct Accounts<'t> {
    read: rusqlite::CachedStatement<'t>,
    known: HashMap<i64, Option<Account>>,
}

impl<'t> Accounts<'t> {
    fn new(tx: &'t Transaction<'_>) -> Result<Accounts<'t>, StoreError> {
        let read =
            tx.prepare_cached("SELECT external_id, name, owner_email FROM accounts WHERE id = ?1").map_err(writing)?;
        Ok(Accounts { read, known: HashMap::new() })
    }

    /// The account `id`, None when there is none.
    fn get(&mut self, id: i64) -> Result<Option<&Account>, StoreError> {
        if !self.known.contains_key(&id) {
            let found = self
                .read
                .query_row([id], |row| {
                    Ok(Account { external_id: row.get(0)?, name: row.get(1)?, owner_email: row.get(2)? })
                })
                .optional()
                .map_err(writing)?;
            self.known.insert(id, found);
        }
        Ok(self.known[&id].as_ref())
    }
}

/// A row the follow-up needs that is not there (the batch read it in this transaction, so
/// this is a bug, not a race).
fn gone(what: std::fmt::Arguments<'_>) -> StoreError {
    StoreError::Other(anyhow::anyhow!("following up a batch of answers: {what} was not found"))
}

/// Raises `alert` (its key not raised before, as read in this transaction) with its task.
fn raise(
    tx: &Transaction<'_>,
    accounts: &mut Accounts<'_>,
    alert: &NewAlert,
    deadline: Duration,
    now: OffsetDateTime,
) -> Result<RaisedAlert, StoreError> {
    let stamp = time(now)?;
    let due_at = now + deadline;
    let alert_id = insert(
        tx,
        "INSERT INTO alerts (key, kind, account_id, wave_id, response_id, detail, raised_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            alert.key,
            alert.kind.as_str(),
            alert.account_id,
            alert.wave_id,
            alert.response_id,
            alert.detail,
            stamp
        ],
    )?;
    let Some(account) = accounts.get(alert.account_id)? else {
        return Err(gone(format_args!("the account of alert {}", alert.key)));
    };
    let (account_external_id, account_name) = (account.external_id.clone(), account.name.clone());
    let owner_email = account.owner_email.clone().filter(|o| !o.trim().is_empty());
    let task_id = insert(
        tx,
        "INSERT INTO tasks (account_id, alert_id, description, function, owner_email, due_at, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            alert.account_id,
            alert_id,
            task_description(alert),
            Function::Sales.as_str(),
            owner_email,
            time(due_at)?,
            stamp
        ],
    )?;
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

/// Runs `sql`, an insert of one row, and returns the row's id. Read with `last_insert_rowid`,
/// not `RETURNING`: SQLite gathers a statement's returned rows in a temporary table of their
/// own, opened and closed each time, which made the two inserts of an alert a sixth of an
/// answer batch's time (BENCHMARKS.md, issue 4).
fn insert(tx: &Transaction<'_>, sql: &str, values: impl rusqlite::Params) -> Result<i64, StoreError> {
    tx.prepare_cached(sql).map_err(writing)?.execute(values).map_err(writing)?;
    Ok(tx.last_insert_rowid())
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
    // The webhooks were read up to a second ago; one removed since wants no more events (its
    // queued ones went with it), and nothing else checks it here (foreign keys are left to
    // the writer on this connection).
    let mut webhook_stands = tx.prepare_cached("SELECT 1 FROM webhooks WHERE id = ?1").map_err(writing)?;
    let mut webhooks: HashMap<i64, bool> = HashMap::new();
    let run_at = time(now)?;
    for m in messages {
        if let Some(id) = m.webhook_id {
            let stands = match webhooks.get(&id) {
                Some(&stands) => stands,
                None => *webhooks.entry(id).or_insert(webhook_stands.exists([id]).map_err(writing)?),
            };
            if !stands {
                continue;
            }
        }
        put.execute(params![m.key, m.delivery.as_str(), m.webhook_id, m.recipient, m.subject, m.body, run_at])
            .map_err(writing)?;
    }
    Ok(())
}

/// A time as Rapport stores it on SQLite (as sqlx writes it: RFC 3339).
pub(crate) fn time(at: OffsetDateTime) -> Result<String, StoreError> {
    at.format(&Rfc3339).map_err(|e| StoreError::Other(anyhow::Error::new(e).context("writing a time")))
}

fn writing(err: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::Error::new(err).context("following up a batch of answers in the SQLite database"))
}
