//! Alerts: the rules, the answers waiting for them, and raising an alert, which opens its
//! follow-up task and queues its notifications in the same transaction, once per key.

pub(crate) mod in_place;

use std::collections::HashMap;

use rapport_core::alert::{AlertKind, AlertRules};
use rapport_core::task::Function;
use sqlx::QueryBuilder;
use time::{Duration, OffsetDateTime};

use crate::error::StoreError;
use crate::on_pool;
use crate::outbox::{Message, enqueue_in};
use crate::store::Store;
use crate::tx::{Tx, on_tx, on_writer};

/// The settings name of the alert rules.
const RULES: &str = "alert_rules";

/// An alert to raise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    /// What it is about, unique: e.g. `contact:42:wave:3` (a contact's answers in wave 3),
    /// `problem:7:3` (account 7 in wave 3).
    pub key: String,
    /// The rule that fired.
    pub kind: AlertKind,
    /// The account.
    pub account_id: i64,
    /// The wave, when it is about one.
    pub wave_id: Option<i64>,
    /// The answer, when it is about one.
    pub response_id: Option<i64>,
    /// Why, in words.
    pub detail: String,
}

/// An answer the follow-up scanner settles, with the follow-up it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledAnswer {
    /// The response.
    pub response_id: i64,
    /// The key of the alert its contact's answers in its wave raise (see [`NewAlert::key`]).
    pub follow_up: String,
}

/// An alert just raised, with the follow-up task it opened: what notifications are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaisedAlert {
    /// The alert.
    pub alert_id: i64,
    /// Its follow-up task.
    pub task_id: i64,
    /// The rule that fired.
    pub kind: AlertKind,
    /// Why.
    pub detail: String,
    /// The account (internal id).
    pub account_id: i64,
    /// The account's CRM id.
    pub account_external_id: String,
    /// The account's name.
    pub account_name: String,
    /// Who follows up: the account owner.
    pub owner_email: Option<String>,
    /// By when.
    pub due_at: OffsetDateTime,
    /// When it was raised.
    pub raised_at: OffsetDateTime,
    /// The answer it is about.
    pub response_id: Option<i64>,
}

/// Builds the messages (notification, webhook events) of a raised alert, inside the
/// transaction that raises it.
pub type Compose<'a> = &'a (dyn Fn(&RaisedAlert) -> Vec<Message> + Sync);

/// An answer waiting for the alert rules, with what alerts and events say about it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingAnswer {
    /// The response.
    pub response_id: i64,
    /// The account (internal id).
    pub account_id: i64,
    /// The account's CRM id.
    pub account_external_id: String,
    /// The account's name.
    pub account_name: String,
    /// The wave.
    pub wave_id: i64,
    /// The wave's name.
    pub wave_name: String,
    /// The contact (internal id).
    pub contact_id: i64,
    /// The contact's CRM id.
    pub contact_external_id: String,
    /// The contact's name.
    pub contact_name: String,
    /// Likelihood to recommend.
    pub ltr: i32,
    /// The comment.
    pub comment: Option<String>,
    /// The rated questions, as stored (a JSON object of key to score).
    pub scores: String,
    /// When it was given.
    pub submitted_at: OffsetDateTime,
}

/// How stored answers are followed up: the alert rules, and what is said when an answer
/// raises an alert or is stored. The web layer says it (it knows the links and the webhooks);
/// the store applies it on SQLite in the transaction that stores the answers, so that an
/// answer's alert, task and notification exist the moment its thank-you page is shown, and
/// to answers left waiting (see [`Store::record_answers`]).
pub struct AnswerFollowUp {
    /// The rules.
    pub rules: AlertRules,
    /// The messages of an alert an answer raised: the owner's notification, alert.raised events.
    pub raised: Box<SayRaised>,
    /// The events of an answer stored (response.submitted, to the webhooks that want it).
    pub stored: Box<SayStored>,
}

/// The messages of an alert raised, with the answer that raised it.
pub type SayRaised = dyn Fn(&RaisedAlert, Option<&PendingAnswer>) -> Vec<Message> + Send + Sync;
/// The events of an answer stored.
pub type SayStored = dyn Fn(&PendingAnswer) -> Vec<Message> + Send + Sync;

/// What the rules make of some answers, oldest first.
pub(crate) struct Decision {
    /// Every answer, with the follow-up it belongs to.
    pub settled: Vec<SettledAnswer>,
    /// The alerts of those the rules pick.
    pub alerts: Vec<NewAlert>,
    /// Their response.submitted events.
    pub events: Vec<Message>,
}

impl AnswerFollowUp {
    /// Applies the rules to `pending`: one follow-up per contact and wave (a second answer
    /// joins the first's task), an alert for each answer the rules pick.
    pub(crate) fn decide(&self, pending: &[PendingAnswer]) -> Decision {
        let mut decision = Decision { settled: Vec::new(), alerts: Vec::new(), events: Vec::new() };
        for a in pending {
            let follow_up = format!("contact:{}:wave:{}", a.contact_id, a.wave_id);
            let ltr = u8::try_from(a.ltr).unwrap_or(0);
            if let Some((kind, detail)) = self.rules.check_answer(ltr, a.comment.as_deref()) {
                decision.alerts.push(NewAlert {
                    key: follow_up.clone(),
                    kind,
                    account_id: a.account_id,
                    wave_id: Some(a.wave_id),
                    response_id: Some(a.response_id),
                    detail: format!("{} of {}: {detail}", a.contact_name, a.account_name),
                });
            }
            decision.settled.push(SettledAnswer { response_id: a.response_id, follow_up });
            decision.events.extend((self.stored)(a));
        }
        decision
    }

    /// How long the owner has to follow up.
    pub(crate) fn deadline(&self) -> Duration {
        Duration::hours(i64::from(self.rules.deadline_hours))
    }
}

/// The alerts of a batch to state again (their key was raised before: the latest answer of
/// the follow-up speaks for it) and to raise, in the order given. Of a key given more than
/// once, the last (the latest answer) counts.
pub(crate) fn split_alerts(
    alerts: &[NewAlert],
    raised_before: impl Fn(&str) -> bool,
) -> (Vec<&NewAlert>, Vec<&NewAlert>) {
    let mut latest: HashMap<&str, &NewAlert> = HashMap::new();
    for a in alerts {
        latest.insert(a.key.as_str(), a);
    }
    alerts.iter().filter(|a| std::ptr::eq(latest[a.key.as_str()], *a)).partition(|a| raised_before(&a.key))
}

/// The text of the follow-up task an alert opens.
pub(crate) fn task_description(alert: &NewAlert) -> String {
    format!("Follow up: {}", alert.detail)
}

/// The columns of an answer waiting for the alert rules ([`PendingAnswer`], in its order),
/// from the inbox `i` joined to its response `r`.
pub(crate) const PENDING_SELECT: &str = "SELECT r.id AS response_id, r.account_id, a.external_id AS account_external_id, \
     a.name AS account_name, r.wave_id, w.name AS wave_name, r.contact_id, c.external_id AS contact_external_id, \
     c.name AS contact_name, r.ltr, r.comment, r.scores, r.submitted_at \
     FROM response_inbox i JOIN responses r ON r.id = i.response_id \
     JOIN accounts a ON a.id = r.account_id JOIN contacts c ON c.id = r.contact_id \
     JOIN waves w ON w.id = r.wave_id";

/// How recent an answer must be to wait for the alert rules: one given earlier (an imported
/// history) raises nothing. The database's own triggers say the same when they put an answer
/// in the inbox (`responses_to_inbox`, migration 0012 on either database); the answer writer
/// on SQLite, which writes with triggers off, says it here ([`in_place`]).
pub(crate) const FOLLOWED_UP_WITHIN: time::Duration = time::Duration::days(30);

/// The answers of `response_ids` that wait for the alert rules (an answer given more than 30
/// days ago never does), oldest first.
pub(crate) async fn pending_in(tx: &mut Tx, response_ids: &[i64]) -> Result<Vec<PendingAnswer>, StoreError> {
    let mut pending = Vec::new();
    for chunk in response_ids.chunks(RAISE_CHUNK) {
        let found: Vec<PendingAnswer> = on_tx!(&mut *tx, |t| {
            let mut qb = QueryBuilder::new(PENDING_SELECT);
            qb.push(" WHERE i.response_id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY i.response_id");
            qb.build_query_as().fetch_all(&mut **t).await?
        });
        pending.extend(found);
    }
    Ok(pending)
}

/// Settles `pending` (read in `tx`) by `follow_up`, in `tx`: see [`Store::settle_answers`].
pub(crate) async fn follow_up_in(
    tx: &mut Tx,
    pending: &[PendingAnswer],
    follow_up: &AnswerFollowUp,
    now: OffsetDateTime,
) -> Result<Vec<RaisedAlert>, StoreError> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let d = follow_up.decide(pending);
    let by_id: HashMap<i64, &PendingAnswer> = pending.iter().map(|a| (a.response_id, a)).collect();
    let compose = |r: &RaisedAlert| (follow_up.raised)(r, r.response_id.and_then(|id| by_id.get(&id).copied()));
    settle_in(tx, &d.settled, &d.alerts, &d.events, follow_up.deadline(), now, &compose).await
}

/// An alert as lists show it, with its follow-up task.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertRow {
    /// Its id.
    pub id: i64,
    /// The rule that fired.
    pub kind: String,
    /// Why.
    pub detail: String,
    /// The account's CRM id.
    pub account_external_id: String,
    /// The account's name.
    pub account_name: String,
    /// The wave it is about.
    pub wave_name: Option<String>,
    /// The answer it is about.
    pub response_id: Option<i64>,
    /// When it was raised.
    pub raised_at: OffsetDateTime,
    /// Its follow-up task.
    pub task_id: Option<i64>,
    /// That task's status.
    pub task_status: Option<String>,
}

/// Which alerts a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only this rule.
    pub kind: Option<AlertKind>,
    /// Only this account (internal id).
    pub account_id: Option<i64>,
    /// Only accounts this person owns (an account manager's scope).
    pub owned_by: Option<String>,
    /// Only alerts with an id below this (the next page).
    pub before: Option<i64>,
}

/// An account's quadrant as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuadrantState {
    /// The quadrant's name.
    pub quadrant: String,
    /// How many moves were recorded.
    pub changes: i32,
}

/// An account placed on the matrix again, to record with what its move sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuadrantMove {
    /// The account.
    pub account_id: i64,
    /// The wave it was placed in.
    pub wave_id: i64,
    /// What it was seen in last (None: never seen before).
    pub from: Option<QuadrantState>,
    /// Where it is now.
    pub to: String,
    /// The events its move sends (queued only if the move is recorded).
    pub events: Vec<Message>,
    /// The alert its move raises (raised only if the move is recorded).
    pub alert: Option<NewAlert>,
}

/// What one run of the account rules recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MovesRecorded {
    /// The accounts whose move was recorded; the others were moved by another process since
    /// their `from` was read, and nothing of theirs was recorded.
    pub moved: Vec<i64>,
    /// The alerts raised now (an alert raised before is left alone).
    pub raised: Vec<RaisedAlert>,
}

/// Raises `alerts` in an open transaction: each alert, its task (for the account owner, due
/// after `deadline`), the link to its answer, and its messages. Returns those raised now:
/// an alert whose key was raised before is left alone. A handful of statements serve the
/// whole batch (the follow-up scanner raises hundreds at once while answers wait for the
/// database's one writer).
async fn raise_in(
    tx: &mut Tx,
    alerts: &[NewAlert],
    deadline: Duration,
    now: OffsetDateTime,
    compose: Compose<'_>,
) -> Result<Vec<RaisedAlert>, StoreError> {
    let mut raised = Vec::new();
    for chunk in alerts.chunks(RAISE_CHUNK) {
        raised.extend(raise_chunk(tx, chunk, deadline, now).await?);
    }
    let messages: Vec<Message> = raised.iter().flat_map(compose).collect();
    enqueue_in(tx, &messages, now).await?;
    Ok(raised)
}

/// Brings alerts raised before up to their latest answer: what it said, and which it was.
async fn restate(tx: &mut Tx, alerts: &[&NewAlert]) -> Result<(), StoreError> {
    on_tx!(tx, |t| {
        let mut qb = QueryBuilder::new("WITH v (restated_key, restated_kind, restated_detail, restated_response) AS (");
        qb.push_values(alerts, |mut b, a| {
            b.push_bind(&a.key).push_bind(a.kind.as_str()).push_bind(&a.detail).push_bind(a.response_id);
        });
        qb.push(
            ") UPDATE alerts SET kind = v.restated_kind, detail = v.restated_detail, response_id = v.restated_response \
             FROM v WHERE alerts.key = v.restated_key",
        );
        qb.build().execute(&mut **t).await?.rows_affected()
    });
    Ok(())
}

/// Settles answers in `tx`: see [`Store::settle_answers`].
async fn settle_in(
    tx: &mut Tx,
    answers: &[SettledAnswer],
    alerts: &[NewAlert],
    events: &[Message],
    deadline: Duration,
    now: OffsetDateTime,
    compose: Compose<'_>,
) -> Result<Vec<RaisedAlert>, StoreError> {
    let mut keys: Vec<&str> = answers.iter().map(|a| a.follow_up.as_str()).collect();
    keys.extend(alerts.iter().map(|a| a.key.as_str()));
    keys.sort_unstable();
    keys.dedup();
    let mut task_of: HashMap<String, i64> = HashMap::new();
    let mut raised_before = std::collections::HashSet::new();
    for chunk in keys.chunks(RAISE_CHUNK) {
        let found: Vec<(String, Option<i64>)> = on_tx!(&mut *tx, |t| {
            let mut qb = QueryBuilder::new(
                "SELECT al.key, t.id FROM alerts al LEFT JOIN tasks t ON t.alert_id = al.id WHERE al.key IN (",
            );
            let mut sep = qb.separated(", ");
            for key in chunk {
                sep.push_bind(*key);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(&mut **t).await?
        });
        for (key, task) in found {
            if let Some(task) = task {
                task_of.insert(key.clone(), task);
            }
            raised_before.insert(key);
        }
    }
    let (again, fresh) = split_alerts(alerts, |key| raised_before.contains(key));
    for chunk in again.chunks(RAISE_CHUNK) {
        restate(tx, chunk).await?;
    }
    let fresh: Vec<NewAlert> = fresh.into_iter().cloned().collect();
    let raised = raise_in(tx, &fresh, deadline, now, compose).await?;
    let key_of: HashMap<i64, &str> = answers.iter().map(|a| (a.response_id, a.follow_up.as_str())).collect();
    for r in &raised {
        if let Some(key) = r.response_id.and_then(|id| key_of.get(&id)) {
            task_of.insert((*key).to_string(), r.task_id);
        }
    }
    let links: Vec<(i64, i64)> =
        answers.iter().filter_map(|a| Some((*task_of.get(&a.follow_up)?, a.response_id))).collect();
    for chunk in links.chunks(RAISE_CHUNK) {
        on_tx!(&mut *tx, |t| {
            let mut qb = QueryBuilder::new("INSERT INTO task_responses (task_id, response_id) ");
            qb.push_values(chunk, |mut b, (task, response)| {
                b.push_bind(*task).push_bind(*response);
            });
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(&mut **t).await?.rows_affected()
        });
    }
    enqueue_in(tx, events, now).await?;
    for chunk in answers.chunks(RAISE_CHUNK) {
        on_tx!(&mut *tx, |t| {
            let mut qb = QueryBuilder::new("DELETE FROM response_inbox WHERE response_id IN (");
            let mut sep = qb.separated(", ");
            for a in chunk {
                sep.push_bind(a.response_id);
            }
            qb.push(")");
            qb.build().execute(&mut **t).await?.rows_affected()
        });
    }
    Ok(raised)
}

/// Alerts per statement (7 values each).
const RAISE_CHUNK: usize = 400;

async fn raise_chunk(
    tx: &mut Tx,
    alerts: &[NewAlert],
    deadline: Duration,
    now: OffsetDateTime,
) -> Result<Vec<RaisedAlert>, StoreError> {
    // A key given twice in one batch is one alert, as it would be in two.
    let mut seen = std::collections::HashSet::new();
    let alerts: Vec<&NewAlert> = alerts.iter().filter(|a| seen.insert(a.key.as_str())).collect();
    if alerts.is_empty() {
        return Ok(Vec::new());
    }
    let new: Vec<(i64, String)> = on_tx!(&mut *tx, |t| {
        let mut qb =
            QueryBuilder::new("INSERT INTO alerts (key, kind, account_id, wave_id, response_id, detail, raised_at) ");
        qb.push_values(&alerts, |mut b, a| {
            b.push_bind(&a.key)
                .push_bind(a.kind.as_str())
                .push_bind(a.account_id)
                .push_bind(a.wave_id)
                .push_bind(a.response_id)
                .push_bind(&a.detail)
                .push_bind(now);
        });
        qb.push(" ON CONFLICT (key) DO NOTHING RETURNING id, key");
        qb.build_query_as().fetch_all(&mut **t).await?
    });
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let ids: HashMap<&str, i64> = new.iter().map(|(id, key)| (key.as_str(), *id)).collect();
    // In the order given, which is the order their messages are queued in.
    let fresh: Vec<(i64, &NewAlert)> = alerts.iter().filter_map(|a| Some((*ids.get(a.key.as_str())?, *a))).collect();
    let mut account_ids: Vec<i64> = fresh.iter().map(|(_, a)| a.account_id).collect();
    account_ids.sort_unstable();
    account_ids.dedup();
    let accounts: Vec<(i64, String, String, Option<String>)> = on_tx!(&mut *tx, |t| {
        let mut qb = QueryBuilder::new("SELECT id, external_id, name, owner_email FROM accounts WHERE id IN (");
        let mut sep = qb.separated(", ");
        for id in &account_ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        qb.build_query_as().fetch_all(&mut **t).await?
    });
    let accounts: HashMap<i64, (String, String, Option<String>)> = accounts
        .into_iter()
        .map(|(id, external, name, owner)| (id, (external, name, owner.filter(|o| !o.trim().is_empty()))))
        .collect();
    let due_at = now + deadline;
    let tasks: Vec<(i64, i64)> = on_tx!(&mut *tx, |t| {
        let mut qb = QueryBuilder::new(
            "INSERT INTO tasks (account_id, alert_id, description, function, owner_email, due_at, created_at) ",
        );
        qb.push_values(&fresh, |mut b, (alert_id, a)| {
            b.push_bind(a.account_id)
                .push_bind(*alert_id)
                .push_bind(task_description(a))
                .push_bind(Function::Sales.as_str())
                .push_bind(accounts.get(&a.account_id).and_then(|(_, _, owner)| owner.clone()))
                .push_bind(due_at)
                .push_bind(now);
        });
        qb.push(" RETURNING id, alert_id");
        qb.build_query_as().fetch_all(&mut **t).await?
    });
    let task_of: HashMap<i64, i64> = tasks.into_iter().map(|(task, alert)| (alert, task)).collect();
    let mut raised = Vec::with_capacity(fresh.len());
    for (alert_id, a) in fresh {
        let (external_id, name, owner) = accounts.get(&a.account_id).cloned().ok_or_else(|| {
            StoreError::Other(anyhow::anyhow!("alert {} names account {}, which does not exist", a.key, a.account_id))
        })?;
        let task_id = *task_of
            .get(&alert_id)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("no follow-up task was made for alert {}", a.key)))?;
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
    let links: Vec<(i64, i64)> = raised.iter().filter_map(|r| Some((r.task_id, r.response_id?))).collect();
    if !links.is_empty() {
        on_tx!(&mut *tx, |t| {
            let mut qb = QueryBuilder::new("INSERT INTO task_responses (task_id, response_id) ");
            qb.push_values(&links, |mut b, (task, response)| {
                b.push_bind(*task).push_bind(*response);
            });
            qb.build().execute(&mut **t).await?.rows_affected()
        });
    }
    Ok(raised)
}

impl Store {
    /// The portfolio's alert rules (the defaults until someone saves them).
    pub async fn alert_rules(&self) -> Result<AlertRules, StoreError> {
        let sql = "SELECT value FROM settings WHERE name = $1";
        let value: Option<String> =
            on_pool!(self, |pool| sqlx::query_scalar(sql).bind(RULES).fetch_optional(pool).await?);
        match value {
            None => Ok(AlertRules::default()),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Other(anyhow::anyhow!("the stored alert rules cannot be read: {e}"))),
        }
    }

    /// Saves the alert rules (checked by the caller with [`AlertRules::validate`]).
    pub async fn save_alert_rules(
        &self,
        rules: &AlertRules,
        by: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(rules).map_err(|e| StoreError::Other(e.into()))?;
        let sql = "INSERT INTO settings (name, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, \
                   updated_by = excluded.updated_by";
        on_writer!(self, |conn| sqlx::query(sql)
            .bind(RULES)
            .bind(&json)
            .bind(now)
            .bind(by)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(())
    }

    /// A number the follow-up scanner keeps between runs (None until it is first set).
    pub async fn scanner_mark(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT value FROM settings WHERE name = $1";
        let value: Option<String> =
            on_pool!(self, |pool| sqlx::query_scalar(sql).bind(name).fetch_optional(pool).await?);
        Ok(value.and_then(|v| v.parse().ok()))
    }

    /// Sets a number the follow-up scanner keeps between runs.
    pub async fn set_scanner_mark(&self, name: &str, value: i64, now: OffsetDateTime) -> Result<(), StoreError> {
        let sql = "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
        on_writer!(self, |conn| sqlx::query(sql)
            .bind(name)
            .bind(value.to_string())
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Up to `limit` answers waiting for the alert rules, oldest first.
    pub async fn pending_answers(&self, limit: i64) -> Result<Vec<PendingAnswer>, StoreError> {
        let sql = format!("{PENDING_SELECT} ORDER BY i.response_id LIMIT $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql).bind(limit).fetch_all(pool).await?))
    }

    /// Settles answers taken from [`Store::pending_answers`] in one transaction: raises their
    /// `alerts` (each with its task and messages), queues their `events`, and takes them off
    /// the list. Returns the alerts raised now (not those raised before).
    ///
    /// Each answer names the follow-up it belongs to (the key its alert has, one per contact
    /// and wave). An answer whose follow-up was raised before, by an earlier answer, raises
    /// nothing new: it is linked to that alert's task, and when it trips the rules too, the
    /// alert says what the latest answer said. So a contact who corrects a score or adds to a
    /// comment gives the account owner one task, not two.
    pub async fn settle_answers(
        &self,
        answers: &[SettledAnswer],
        alerts: &[NewAlert],
        events: &[Message],
        deadline: Duration,
        now: OffsetDateTime,
        compose: Compose<'_>,
    ) -> Result<Vec<RaisedAlert>, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let raised = settle_in(&mut tx, answers, alerts, events, deadline, now, compose).await?;
        tx.commit().await?;
        Ok(raised)
    }

    /// Settles up to `limit` answers waiting for the alert rules (oldest first) by
    /// `follow_up`, in one transaction, as [`Store::settle_answers`] does: the follow-up
    /// scanner's work, for answers that an import or another process left waiting. Returns how
    /// many were settled and the alerts raised now.
    pub async fn follow_up_pending(
        &self,
        limit: i64,
        follow_up: &AnswerFollowUp,
        now: OffsetDateTime,
    ) -> Result<(usize, Vec<RaisedAlert>), StoreError> {
        // Read before the transaction: on SQLite the answers being stored wait for it.
        let pending = self.pending_answers(limit).await?;
        if pending.is_empty() {
            return Ok((0, Vec::new()));
        }
        let mut tx = Tx::begin(self).await?;
        let raised = follow_up_in(&mut tx, &pending, follow_up, now).await?;
        tx.commit().await?;
        Ok((pending.len(), raised))
    }

    /// Raises one alert with its task and messages; None when it was raised before.
    pub async fn raise_alert(
        &self,
        alert: &NewAlert,
        deadline: Duration,
        now: OffsetDateTime,
        compose: Compose<'_>,
    ) -> Result<Option<RaisedAlert>, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let raised = raise_in(&mut tx, std::slice::from_ref(alert), deadline, now, compose).await?;
        tx.commit().await?;
        Ok(raised.into_iter().next())
    }

    /// Alerts by `filter`, newest first, at most `limit`.
    pub async fn list_alerts(&self, filter: &AlertFilter, limit: i64) -> Result<Vec<AlertRow>, StoreError> {
        let sql = "SELECT al.id, al.kind, al.detail, a.external_id AS account_external_id, a.name AS account_name, \
                   w.name AS wave_name, al.response_id, al.raised_at, t.id AS task_id, t.status AS task_status \
                   FROM alerts al JOIN accounts a ON a.id = al.account_id LEFT JOIN waves w ON w.id = al.wave_id \
                   LEFT JOIN tasks t ON t.alert_id = al.id \
                   WHERE ($1 IS NULL OR al.kind = $1) AND ($2 IS NULL OR al.account_id = $2) \
                   AND ($3 IS NULL OR lower(a.owner_email) = lower($3)) AND ($4 IS NULL OR al.id < $4) \
                   ORDER BY al.id DESC LIMIT $5";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql)
            .bind(filter.kind.map(AlertKind::as_str))
            .bind(filter.account_id)
            .bind(filter.owned_by.as_deref())
            .bind(filter.before)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// When the latest answer of a wave was given.
    pub async fn last_answer_at(&self, wave_id: i64) -> Result<Option<OffsetDateTime>, StoreError> {
        let sql = "SELECT submitted_at FROM responses WHERE wave_id = $1 ORDER BY submitted_at DESC LIMIT 1";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql).bind(wave_id).fetch_optional(pool).await?))
    }

    /// Every account's quadrant as last seen.
    pub async fn quadrant_states(&self) -> Result<HashMap<i64, QuadrantState>, StoreError> {
        let sql = "SELECT account_id, quadrant, changes FROM account_quadrants";
        let rows: Vec<(i64, String, i32)> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(id, quadrant, changes)| (id, QuadrantState { quadrant, changes })).collect())
    }

    /// Records the account rules' findings: each account's new quadrant with the events and
    /// alert of its move, and `alerts` (about the waves, not a move). An account that another
    /// process moved since its `from` was read is left out, with its events and alert. A few
    /// statements per [`MOVES_PER_TX`] accounts or alerts, each part a transaction of its own
    /// (an account's move with what it sends): the rules place thousands of accounts while
    /// answers wait for the database's one writer, and a run in one transaction held it for
    /// 80 ms (BENCHMARKS.md, issue 4). A run cut short is finished by the next: a move
    /// recorded is seen, an alert raised is raised once.
    pub async fn move_quadrants(
        &self,
        moves: &[QuadrantMove],
        alerts: &[NewAlert],
        deadline: Duration,
        now: OffsetDateTime,
        compose: Compose<'_>,
    ) -> Result<MovesRecorded, StoreError> {
        let mut recorded = MovesRecorded::default();
        for part in moves.chunks(MOVES_PER_TX) {
            let r = self.record_moves(part, &[], deadline, now, compose).await?;
            recorded.moved.extend(r.moved);
            recorded.raised.extend(r.raised);
        }
        for part in alerts.chunks(MOVES_PER_TX) {
            recorded.raised.extend(self.record_moves(&[], part, deadline, now, compose).await?.raised);
        }
        Ok(recorded)
    }

    /// One part of [`Store::move_quadrants`], in one transaction.
    async fn record_moves(
        &self,
        moves: &[QuadrantMove],
        alerts: &[NewAlert],
        deadline: Duration,
        now: OffsetDateTime,
        compose: Compose<'_>,
    ) -> Result<MovesRecorded, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let (first, again): (Vec<&QuadrantMove>, Vec<&QuadrantMove>) = moves.iter().partition(|m| m.from.is_none());
        let mut moved = Vec::with_capacity(moves.len());
        if !first.is_empty() {
            moved.extend(first_seen(&mut tx, &first, now).await?);
        }
        if !again.is_empty() {
            moved.extend(seen_again(&mut tx, &again, now).await?);
        }
        let recorded: std::collections::HashSet<i64> = moved.iter().copied().collect();
        let mut events = Vec::new();
        let mut raise = Vec::new();
        for m in moves.iter().filter(|m| recorded.contains(&m.account_id)) {
            events.extend(m.events.iter().cloned());
            raise.extend(m.alert.iter().cloned());
        }
        raise.extend(alerts.iter().cloned());
        enqueue_in(&mut tx, &events, now).await?;
        let raised = raise_in(&mut tx, &raise, deadline, now, compose).await?;
        tx.commit().await?;
        Ok(MovesRecorded { moved, raised })
    }
}

/// Accounts or alerts per transaction of the account rules (one statement each, at most 5
/// values an account): about 2 ms of writing.
pub const MOVES_PER_TX: usize = 100;

/// Records the quadrant of accounts never seen before; returns those recorded (another
/// process may have seen one first).
async fn first_seen(tx: &mut Tx, moves: &[&QuadrantMove], now: OffsetDateTime) -> Result<Vec<i64>, StoreError> {
    Ok(on_tx!(tx, |t| {
        let mut qb =
            QueryBuilder::new("INSERT INTO account_quadrants (account_id, wave_id, quadrant, changes, changed_at) ");
        qb.push_values(moves, |mut b, m| {
            b.push_bind(m.account_id).push_bind(m.wave_id).push_bind(&m.to).push_bind(0_i32).push_bind(now);
        });
        qb.push(" ON CONFLICT (account_id) DO NOTHING RETURNING account_id");
        qb.build_query_scalar().fetch_all(&mut **t).await?
    }))
}

/// Records the new quadrant of accounts seen before, each only if no move was recorded since
/// it was read (its count of changes is still the same); returns those recorded.
async fn seen_again(tx: &mut Tx, moves: &[&QuadrantMove], now: OffsetDateTime) -> Result<Vec<i64>, StoreError> {
    Ok(on_tx!(tx, |t| {
        let mut qb = QueryBuilder::new("WITH v (moved_id, moved_wave, moved_to, read_changes) AS (");
        qb.push_values(moves, |mut b, m| {
            let changes = m.from.as_ref().map_or(0, |f| f.changes);
            b.push_bind(m.account_id).push_bind(m.wave_id).push_bind(&m.to).push_bind(changes);
        });
        qb.push(
            ") UPDATE account_quadrants SET wave_id = v.moved_wave, quadrant = v.moved_to, \
             changes = account_quadrants.changes + 1, changed_at = ",
        );
        qb.push_bind(now).push(
            " FROM v WHERE account_quadrants.account_id = v.moved_id \
             AND account_quadrants.changes = v.read_changes RETURNING account_quadrants.account_id",
        );
        qb.build_query_scalar().fetch_all(&mut **t).await?
    }))
}
