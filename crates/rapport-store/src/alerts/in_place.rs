//! New answers settled on SQLite in place: the whole transaction (the answers waiting, the
//! alerts they raise with their tasks, the messages queued, the answers taken off the list)
//! runs through rusqlite on the store's writing connection ([`crate::direct::OwnConnection`]),
//! its statements prepared once and kept.
//!
//! Why: the follow-up scanner settles hundreds of answers a transaction while answers wait for
//! the database's one writer. Through sqlx that transaction was a read of the waiting answers
//! on a pooled connection, then some ten multi-row statements each a round trip to sqlx's
//! connection thread, binding every value into an allocation of its own: 6.8 ms for 200
//! answers under the answer benchmark, as long as storing them (BENCHMARKS.md, issue 4). The
//! statements do what the general path's do ([`super::raise_in`], [`crate::outbox::enqueue_in`]),
//! row by row. An answer whose stored time is not in the form Rapport writes makes the batch
//! go to the general path, which reads any form.

use std::collections::{HashMap, HashSet};

use rapport_core::task::Function;
use rusqlite::{OptionalExtension, Transaction, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{AnswerRules, NewAlert, PENDING_ANSWERS, PendingAnswer, RaisedAlert, Settled};
use crate::direct;
use crate::error::StoreError;
use crate::outbox::Message;
use crate::store::SqliteDb;

/// Settles up to `limit` waiting answers with `rules` in one durable transaction; None (and
/// nothing written) when the general path must do it.
pub(super) async fn settle(
    db: &SqliteDb,
    limit: i64,
    rules: std::sync::Arc<dyn AnswerRules>,
    now: OffsetDateTime,
) -> Result<Option<Settled>, StoreError> {
    direct::write(db, move |tx| settle_in(tx, limit, rules.as_ref(), now)).await
}

fn settle_in(
    tx: &Transaction<'_>,
    limit: i64,
    rules: &dyn AnswerRules,
    now: OffsetDateTime,
) -> Result<Option<Settled>, StoreError> {
    let Some(pending) = waiting(tx, limit)? else { return Ok(None) };
    if pending.is_empty() {
        return Ok(Some(Settled::default()));
    }
    let mut alerts = Vec::new();
    let mut events = Vec::new();
    for a in &pending {
        alerts.extend(rules.alert(a));
        events.extend(rules.events(a));
    }
    let now_text = stamp(now)?;
    let raised = raise(tx, &alerts, now + rules.deadline(), now, &now_text)?;
    let by_id: HashMap<i64, &PendingAnswer> = pending.iter().map(|a| (a.response_id, a)).collect();
    let messages: Vec<Message> = raised
        .iter()
        .flat_map(|r| rules.raised(r, r.response_id.and_then(|id| by_id.get(&id).copied())))
        .collect();
    enqueue(tx, &messages, &now_text)?;
    enqueue(tx, &events, &now_text)?;
    let mut done = tx.prepare_cached("DELETE FROM response_inbox WHERE response_id = ?1").map_err(writing)?;
    for a in &pending {
        done.execute([a.response_id]).map_err(writing)?;
    }
    Ok(Some(Settled { answers: pending.len() as u64, raised }))
}

fn writing(err: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::Error::new(err).context("settling new answers in the SQLite database"))
}

/// A time as Rapport stores it (what sqlx writes for one).
fn stamp(at: OffsetDateTime) -> Result<String, StoreError> {
    at.format(&Rfc3339).map_err(|e| StoreError::Other(anyhow::Error::new(e).context("writing a time")))
}

/// The answers waiting, oldest first, as [`crate::Store::pending_answers`] reads them; None
/// when a stored time is not in the form Rapport writes.
fn waiting(tx: &Transaction<'_>, limit: i64) -> Result<Option<Vec<PendingAnswer>>, StoreError> {
    let mut read = tx.prepare_cached(PENDING_ANSWERS).map_err(writing)?;
    let mut rows = read.query([limit]).map_err(writing)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(writing)? {
        let Ok(submitted_at) = OffsetDateTime::parse(row.get_ref(11).map_err(writing)?.as_str().unwrap_or(""), &Rfc3339)
        else {
            return Ok(None);
        };
        out.push(PendingAnswer {
            response_id: row.get(0).map_err(writing)?,
            account_id: row.get(1).map_err(writing)?,
            account_external_id: row.get(2).map_err(writing)?,
            account_name: row.get(3).map_err(writing)?,
            wave_id: row.get(4).map_err(writing)?,
            wave_name: row.get(5).map_err(writing)?,
            contact_external_id: row.get(6).map_err(writing)?,
            contact_name: row.get(7).map_err(writing)?,
            ltr: row.get(8).map_err(writing)?,
            comment: row.get(9).map_err(writing)?,
            scores: row.get(10).map_err(writing)?,
            submitted_at,
        });
    }
    Ok(Some(out))
}

/// Raises `alerts` as [`super::raise_in`] does: each new key an alert, its task for the
/// account owner due at `due_at`, and the link to its answer; a key raised before is left
/// alone. Returns those raised now, in the order given.
fn raise(
    tx: &Transaction<'_>,
    alerts: &[NewAlert],
    due_at: OffsetDateTime,
    now: OffsetDateTime,
    now_text: &str,
) -> Result<Vec<RaisedAlert>, StoreError> {
    let mut insert_alert = tx
        .prepare_cached(
            "INSERT INTO alerts (key, kind, account_id, wave_id, response_id, detail, raised_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key) DO NOTHING RETURNING id",
        )
        .map_err(writing)?;
    let mut read_account =
        tx.prepare_cached("SELECT external_id, name, owner_email FROM accounts WHERE id = ?1").map_err(writing)?;
    let mut insert_task = tx
        .prepare_cached(
            "INSERT INTO tasks (account_id, alert_id, description, function, owner_email, due_at, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )
        .map_err(writing)?;
    let mut link =
        tx.prepare_cached("INSERT INTO task_responses (task_id, response_id) VALUES (?1, ?2)").map_err(writing)?;
    let due_text = stamp(due_at)?;
    let mut accounts: HashMap<i64, (String, String, Option<String>)> = HashMap::new();
    let mut seen = HashSet::new();
    let mut raised = Vec::new();
    for a in alerts.iter().filter(|a| seen.insert(a.key.as_str())) {
        let alert_id: Option<i64> = insert_alert
            .query_row(
                params![a.key, a.kind.as_str(), a.account_id, a.wave_id, a.response_id, a.detail, now_text],
                |row| row.get(0),
            )
            .optional()
            .map_err(writing)?;
        let Some(alert_id) = alert_id else { continue };
        if !accounts.contains_key(&a.account_id) {
            let account: Option<(String, String, Option<String>)> = read_account
                .query_row([a.account_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()
                .map_err(writing)?;
            let (external_id, name, owner) = account.ok_or_else(|| {
                StoreError::Other(anyhow::anyhow!("alert {} names account {}, which does not exist", a.key, a.account_id))
            })?;
            accounts.insert(a.account_id, (external_id, name, owner.filter(|o| !o.trim().is_empty())));
        }
        let (external_id, name, owner) = accounts[&a.account_id].clone();
        let task_id: i64 = insert_task
            .query_row(
                params![
                    a.account_id,
                    alert_id,
                    format!("Follow up: {}", a.detail),
                    Function::Sales.as_str(),
                    owner,
                    due_text,
                    now_text
                ],
                |row| row.get(0),
            )
            .map_err(writing)?;
        if let Some(response_id) = a.response_id {
            link.execute([task_id, response_id]).map_err(writing)?;
        }
        raised.push(RaisedAlert {
            alert_id,
            task_id,
            kind: a.kind,
            detail: a.detail.clone(),
            account_id: a.account_id,
            account_external_id: external_id,
            account_name: name,
            owner_email: owner,
            due_at,
            raised_at: now,
            response_id: a.response_id,
        });
    }
    Ok(raised)
}

/// Queues `messages` as [`crate::outbox::enqueue_in`] does (a key queued before adds nothing).
fn enqueue(tx: &Transaction<'_>, messages: &[Message], now_text: &str) -> Result<(), StoreError> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO outbox (key, kind, webhook_id, recipient, subject, body, run_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (key) DO NOTHING",
        )
        .map_err(writing)?;
    for m in messages {
        insert
            .execute(params![m.key, m.delivery.as_str(), m.webhook_id, m.recipient, m.subject, m.body, now_text])
            .map_err(writing)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rapport_core::alert::AlertKind;
    use time::Duration;

    use super::*;
    use crate::Kind;
    use crate::import::{ImportOptions, import_reader};
    use crate::store::Store;

    /// An alert for each answer, and nothing else.
    struct EveryAnswer;

    impl AnswerRules for EveryAnswer {
        fn alert(&self, a: &PendingAnswer) -> Option<NewAlert> {
            Some(NewAlert {
                key: format!("answer:{}", a.response_id),
                kind: AlertKind::Detractor,
                account_id: a.account_id,
                wave_id: Some(a.wave_id),
                response_id: Some(a.response_id),
                detail: a.comment.clone().unwrap_or_default(),
            })
        }
        fn events(&self, _: &PendingAnswer) -> Vec<Message> {
            Vec::new()
        }
        fn raised(&self, _: &RaisedAlert, _: Option<&PendingAnswer>) -> Vec<Message> {
            Vec::new()
        }
        fn deadline(&self) -> Duration {
            Duration::hours(24)
        }
    }

    #[tokio::test]
    async fn an_answer_whose_time_is_stored_in_another_form_is_settled_by_the_general_path() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("rapport.db").display())).await.unwrap();
        let now = OffsetDateTime::now_utc();
        let answers = format!("contact_id,wave,submitted_at,ltr,comment\nC1,2026-Q4,{},3,Too slow\n", stamp(now).unwrap());
        for (kind, csv) in [
            (Kind::Accounts, "account_id,name,owner_email\nA1,Northwind Logistics,ana@rapport.example\n"),
            (Kind::Contacts, "contact_id,account_id,name\nC1,A1,Ana Ruiz\n"),
            (Kind::Responses, answers.as_str()),
        ] {
            import_reader(&store, kind, csv.as_bytes(), ImportOptions::default(), &mut |_| {}).await.unwrap();
        }
        let Store::Sqlite(db) = &store else { unreachable!("a sqlite:// URL opens SQLite") };
        // As SQL written by hand stores it.
        sqlx::query("UPDATE responses SET submitted_at = strftime('%Y-%m-%d %H:%M:%f', 'now')")
            .execute(db.readers())
            .await
            .unwrap();

        assert_eq!(settle(db, 10, Arc::new(EveryAnswer), now).await.unwrap(), None, "declined, nothing written");
        assert_eq!(store.pending_answers(10).await.unwrap().len(), 1);
        let settled = store.settle_pending(10, Arc::new(EveryAnswer), now).await.unwrap();
        assert_eq!((settled.answers, settled.raised.len()), (1, 1));
        assert_eq!(settled.raised[0].detail, "Too slow");
        assert!(store.pending_answers(10).await.unwrap().is_empty());
    }
}
