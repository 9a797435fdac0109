//! Closing the loop in the background: the cadence's cycles opened, the alert rules applied to
//! new answers and to each account's figures, overdue tasks escalated, and the outbox
//! (notifications by email, webhook events) delivered.
//!
//! Every `rapport serve` process runs this; any number may run on one PostgreSQL. What is
//! decided is written with unique keys in the transaction that decides it, so two processes
//! deciding the same thing write it once; what is sent is claimed by one process at a time,
//! and a message whose process died mid-send is sent again with the same delivery id.

mod accounts;
mod cadence;
pub mod messages;
pub mod webhook;

use std::sync::Arc;

use rapport_core::alert::AlertRules;
use rapport_core::event::EventType;
use rapport_store::Store;
use rapport_store::alerts::{AnswerFollowUp, PendingAnswer, RaisedAlert};
use rapport_store::outbox::{Attempt, Delivery, OutboxEntry};
use rapport_store::report_cache::ReportCache;
use rapport_store::webhooks::Webhook;
use time::{Duration, OffsetDateTime};

use crate::delivery::{Failure, Mailer};

/// Answers left waiting settled per transaction: an import's, and on PostgreSQL the response
/// page's (on SQLite those are followed up as they are stored: see [`answer_follow_up`]). On
/// SQLite an answer being stored waits for its writer turn behind such a batch.
const ANSWER_BATCH: i64 = 200;
/// Messages claimed at a time: few, so that a process that dies leaves little to repeat.
const CLAIM: i64 = 5;
/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i32 = 8;

/// How long things take: the defaults suit production; tests shorten them.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long a process may hold a claimed message before another takes it over.
    pub lease: Duration,
    /// The pause after the first failed attempt; it doubles after each further one.
    pub retry_base: Duration,
    /// The longest pause between attempts.
    pub retry_cap: Duration,
    /// How often the loop looks for work.
    pub tick: std::time::Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            lease: Duration::minutes(2),
            retry_base: Duration::seconds(30),
            retry_cap: Duration::hours(1),
            tick: std::time::Duration::from_secs(2),
        }
    }
}

impl Timing {
    /// The pause before the next attempt after `attempts` failed: base x 2^(attempts-1), capped.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = attempts.clamp(1, 20) - 1;
        (self.retry_base * 2_i32.pow(doublings as u32)).min(self.retry_cap)
    }
}

/// How stored answers are followed up under `rules`: what the owner's notification and the
/// webhook events say, with links to `public_url`. The answer writer applies it as it stores
/// each batch on SQLite, and the scanner to answers left waiting.
pub fn answer_follow_up(rules: AlertRules, hooks: Vec<Webhook>, public_url: &str) -> AnswerFollowUp {
    let hooks = Arc::new(hooks);
    let public_url = public_url.trim_end_matches('/').to_string();
    let raised_hooks = hooks.clone();
    AnswerFollowUp {
        rules,
        raised: Box::new(move |r: &RaisedAlert, answer: Option<&PendingAnswer>| {
            messages::alert_raised(r, answer, &raised_hooks, &public_url)
        }),
        stored: Box::new(move |a: &PendingAnswer| {
            let id = format!("response:{}", a.response_id);
            messages::events(&hooks, EventType::ResponseSubmitted, &id, a.submitted_at, || messages::response_data(a))
        }),
    }
}

/// What one scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanSummary {
    /// Answers the rules looked at.
    pub answers: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Accounts that moved quadrant.
    pub moves: u64,
    /// Overdue tasks escalated.
    pub escalations: u64,
    /// The wave a new cycle of the cadence started.
    pub cycle: Option<String>,
}

/// The follow-up work of one process.
#[derive(Clone)]
pub struct FollowUp {
    store: Store,
    cache: ReportCache,
    mailer: Option<Arc<Mailer>>,
    http: reqwest::Client,
    public_url: String,
    timing: Timing,
}

impl FollowUp {
    /// Follow-up work on `store`, reading reports through `cache`, emailing through `mailer`
    /// (notifications wait in the outbox for a process that has one), with links to
    /// `public_url`.
    pub fn new(store: Store, cache: ReportCache, mailer: Option<Mailer>, public_url: &str) -> FollowUp {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with rustls");
        FollowUp {
            store,
            cache,
            mailer: mailer.map(Arc::new),
            http,
            public_url: public_url.trim_end_matches('/').to_string(),
            timing: Timing::default(),
        }
    }

    /// The same with other timing.
    pub fn with_timing(mut self, timing: Timing) -> FollowUp {
        self.timing = timing;
        self
    }

    /// Opens the cadence's next cycle when it is due, applies the alert rules to new answers
    /// and to every account's figures, and escalates overdue tasks.
    pub async fn scan(&self, now: OffsetDateTime) -> anyhow::Result<ScanSummary> {
        let rules = self.store.alert_rules().await?;
        let hooks = self.store.list_webhooks().await?;
        let mut summary = ScanSummary { cycle: cadence::run(self, now).await?, ..ScanSummary::default() };
        loop {
            let (answers, alerts) = self.settle_answers(&rules, &hooks, now).await?;
            summary.answers += answers;
            summary.alerts += alerts;
            if answers < ANSWER_BATCH as u64 {
                break;
            }
        }
        let (moves, alerts) = accounts::check(self, &rules, &hooks, now).await?;
        summary.moves += moves;
        summary.alerts += alerts;
        summary.escalations = self.escalate(&hooks, now).await?;
        Ok(summary)
    }

    /// One batch of answers left waiting (an import's, or those a writer without the rules
    /// stored): alerts for those the rules pick, response.submitted for all.
    async fn settle_answers(
        &self,
        rules: &AlertRules,
        hooks: &[Webhook],
        now: OffsetDateTime,
    ) -> anyhow::Result<(u64, u64)> {
        let follow_up = answer_follow_up(rules.clone(), hooks.to_vec(), &self.public_url);
        let (settled, raised) = self.store.follow_up_pending(ANSWER_BATCH, &follow_up, now).await?;
        Ok((settled as u64, raised.len() as u64))
    }

    /// Escalates open tasks past due, once each.
    async fn escalate(&self, hooks: &[Webhook], now: OffsetDateTime) -> anyhow::Result<u64> {
        let mut escalated = 0;
        for e in self.store.due_escalations(now, 500).await? {
            let messages = messages::task_overdue(&e, hooks, &self.public_url, now);
            if self.store.escalate_task(e.task.id, e.recipient(), &messages, now).await? {
                escalated += 1;
            }
        }
        Ok(escalated)
    }

    /// Delivers the due messages of the outbox (those by email only with a mail server), after
    /// taking back those a stopped process left. Returns how many attempts were made.
    pub async fn deliver_due(&self) -> anyhow::Result<u64> {
        self.store.requeue_abandoned_outbox(OffsetDateTime::now_utc()).await?;
        let mut kinds = vec![Delivery::Webhook];
        if self.mailer.is_some() {
            kinds.push(Delivery::Email);
        }
        let mut ran = 0;
        loop {
            let now = OffsetDateTime::now_utc();
            let claimed = self.store.claim_outbox(&kinds, now, self.timing.lease, CLAIM).await?;
            if claimed.is_empty() {
                return Ok(ran);
            }
            for entry in claimed {
                let attempt = self.attempt(&entry).await;
                metrics::counter!("rapport_outbox_attempts_total", "kind" => entry.delivery().as_str(), "outcome" => match attempt {
                    Attempt::Delivered { .. } => "delivered",
                    Attempt::Retry { .. } => "retry",
                    Attempt::Failed { .. } => "failed",
                })
                .increment(1);
                self.store.finish_outbox(entry.id, &attempt, OffsetDateTime::now_utc()).await?;
                ran += 1;
            }
        }
    }

    async fn attempt(&self, entry: &OutboxEntry) -> Attempt {
        let now = OffsetDateTime::now_utc();
        let result = match entry.delivery() {
            Delivery::Webhook => self.post(entry, now).await,
            Delivery::Email => match &self.mailer {
                Some(mailer) => {
                    let id = format!("<outbox-{}@rapport.invalid>", entry.id);
                    // Within the lease, or another process would take the message over while
                    // this one still sends it (see `delivery::send_limit`). A notice cut off is
                    // tried again, with the same Message-ID.
                    let limit = crate::delivery::send_limit(self.timing.lease);
                    let send = mailer.send_notice(&entry.recipient, &entry.subject, &entry.body, &id);
                    match tokio::time::timeout(limit, send).await {
                        Ok(Ok(())) => Ok(None),
                        Ok(Err(Failure::Transient(e))) => Err((e, None, false)),
                        Ok(Err(Failure::Permanent(e))) => Err((e, None, true)),
                        Err(_) => Err((
                            format!("the mail server did not finish within {} s", limit.as_secs_f64()),
                            None,
                            false,
                        )),
                    }
                }
                None => Err(("this server has no mail server to send it".to_string(), None, false)),
            },
        };
        match result {
            Ok(status) => Attempt::Delivered { status },
            Err((error, status, true)) => Attempt::Failed { error, status },
            Err((error, status, false)) if entry.attempts >= MAX_ATTEMPTS => {
                Attempt::Failed { error: format!("gave up after {} attempts: {error}", entry.attempts), status }
            }
            Err((error, status, false)) => {
                Attempt::Retry { error, status, at: now + self.timing.backoff(entry.attempts) }
            }
        }
    }

    /// Posts a webhook delivery: Ok(status), or Err((why, status, permanent)).
    async fn post(&self, entry: &OutboxEntry, now: OffsetDateTime) -> Result<Option<u16>, (String, Option<u16>, bool)> {
        let hook = match entry.webhook_id {
            Some(id) => self.store.find_webhook(id).await.map_err(|e| (format!("{e:#}"), None, false))?,
            None => None,
        };
        let Some(hook) = hook.filter(|h| h.active) else {
            return Err(("the webhook was removed or switched off".to_string(), None, true));
        };
        webhook::post(&self.http, &hook.url, &hook.secret, &entry.subject, &entry.key, &entry.body, now)
            .await
            .map(Some)
            .map_err(|e| match e {
                webhook::PostError::Transient(why, status) => (why, status, false),
                webhook::PostError::Permanent(why, status) => (why, status, true),
            })
    }

    /// Runs scans and deliveries until `shutdown` resolves; a delivery in progress finishes.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.scan(OffsetDateTime::now_utc()).await {
                Ok(s) if s != ScanSummary::default() => tracing::info!(
                    answers = s.answers,
                    alerts = s.alerts,
                    moves = s.moves,
                    escalations = s.escalations,
                    cycle = s.cycle.as_deref().unwrap_or(""),
                    "follow-up scan"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = format!("{e:#}"), "the follow-up scan failed"),
            }
            if let Err(e) = self.deliver_due().await {
                tracing::warn!(error = format!("{e:#}"), "delivering the outbox failed");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.timing.tick) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let t = Timing::default();
        assert_eq!(t.backoff(1), Duration::seconds(30));
        assert_eq!(t.backoff(2), Duration::seconds(60));
        assert_eq!(t.backoff(4), Duration::seconds(240));
        assert_eq!(t.backoff(12), Duration::hours(1));
    }
}
