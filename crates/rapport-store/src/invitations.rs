//! Invitations: one per contact per wave, each with its own secret (the personal link), the
//! language the contact reads, how it is delivered and what became of it; and the answers
//! given through them, stored with the analytics cells in one transaction.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, LazyLock};

use rand::RngCore;
use rand::rngs::OsRng;
use rapport_core::answer::Answers;
use rapport_core::contact::RoleLevel;
use rapport_core::survey::Survey;
use rusqlite::OptionalExtension;
use sqlx::QueryBuilder;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime};

use crate::alerts::{AnswerFollowUp, follow_up_in, pending_in};
use crate::analytics::in_place::{self, InPlace};
use crate::analytics::{CellAnswer, add_answers, refresh_cells};
use crate::direct;
use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::surveys::SurveyVersion;
use crate::tx::{Tx, on_tx, on_writer};
use crate::waves::WaveStatus;

/// How an invitation reaches its contact: by email when the contact has an address, else by
/// SMS when they have a phone number, else only as a personal link handed out another way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    /// An email with the personal link.
    Email,
    /// A text message with the personal link.
    Sms,
    /// Only the link, for sending from another tool.
    Link,
}

impl Channel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Link => "link",
        }
    }

    /// The channel stored as `text` (a link for anything else).
    pub fn parse(text: &str) -> Channel {
        match text {
            "email" => Channel::Email,
            "sms" => Channel::Sms,
            _ => Channel::Link,
        }
    }
}

/// Which contacts a new wave invites.
#[derive(Debug, Clone)]
pub struct WavePlan<'a> {
    /// The wave's name, e.g. 2026-Q4.
    pub name: &'a str,
    /// The survey version it asks.
    pub survey: &'a SurveyVersion,
    /// First day of answers.
    pub opens_on: Date,
    /// Last day of answers.
    pub closes_on: Date,
    /// Only the contacts of these accounts (internal ids); `None` for every account.
    pub accounts: Option<&'a [i64]>,
    /// Only contacts at these levels; empty for every level.
    pub roles: &'a [RoleLevel],
    /// Leave out contacts invited to or answering another wave in the last this many days.
    pub exclude_days: u32,
    /// The selection in words, kept with the wave.
    pub selection: &'a str,
    /// Now.
    pub now: OffsetDateTime,
}

/// What creating a wave did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaveCreated {
    /// The new wave's id.
    pub wave_id: i64,
    /// Invitations made, per channel.
    pub invited: BTreeMap<&'static str, u64>,
    /// Contacts left out because they opted out or unsubscribed.
    pub opted_out: u64,
    /// Contacts left out because they were surveyed within the exclusion window.
    pub recent: u64,
}

impl WaveCreated {
    /// Invitations made, all channels.
    pub fn total(&self) -> u64 {
        self.invited.values().sum()
    }
}

/// Which of a wave's invitations to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct InvitationFilter<'a> {
    /// Only those at accounts this person owns (an email).
    pub owner: Option<&'a str>,
    /// Only this delivery status: pending, sent, failed or bounced.
    pub status: Option<&'a str>,
    /// Only those answered (true) or not (false).
    pub answered: Option<bool>,
}

/// An invitation with what the response page and messages need.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invitation {
    /// Its id (the first part of the personal link).
    pub id: i64,
    /// The secret part of the personal link: compare it in constant time.
    pub secret: String,
    /// The wave.
    pub wave_id: i64,
    /// The wave's name.
    pub wave_name: String,
    /// draft, open or closed.
    pub wave_status: String,
    /// Last day of answers.
    pub closes_on: Option<Date>,
    /// The survey version the wave asks.
    pub survey_version_id: Option<i64>,
    /// The contact.
    pub contact_id: i64,
    /// Their name.
    pub contact_name: String,
    /// Their email address.
    pub email: Option<String>,
    /// Their phone number.
    pub phone: Option<String>,
    /// Their account.
    pub account_id: i64,
    /// The account's name.
    pub account_name: String,
    /// The account's id in the CRM.
    pub account_external_id: String,
    /// The language they read the survey in.
    pub language: String,
    /// How it is delivered: email, sms or link.
    pub channel: String,
    /// pending, sent, failed or bounced.
    pub status: String,
    /// Partial answers saved to finish later.
    pub draft: Option<String>,
    /// When they last answered.
    pub answered_at: Option<OffsetDateTime>,
}

impl Invitation {
    /// The wave's state.
    pub fn wave_status(&self) -> WaveStatus {
        WaveStatus::parse(&self.wave_status).unwrap_or(WaveStatus::Closed)
    }

    /// Whether the wave takes answers at `now`: open, and not past its last day.
    pub fn accepts_answers(&self, now: OffsetDateTime) -> bool {
        self.wave_status().accepts_answers(self.closes_on, now)
    }

    /// How it is delivered.
    pub fn channel(&self) -> Channel {
        Channel::parse(&self.channel)
    }
}

const INVITATION_COLUMNS: &str = "i.id, i.secret, i.wave_id, w.name AS wave_name, w.status AS wave_status, w.closes_on, \
     w.survey_version_id, i.contact_id, c.name AS contact_name, c.email, c.phone, c.account_id, a.name AS account_name, \
     a.external_id AS account_external_id, i.language, i.channel, i.status, i.draft, i.answered_at \
     FROM invitations i JOIN waves w ON w.id = i.wave_id JOIN contacts c ON c.id = i.contact_id \
     JOIN accounts a ON a.id = c.account_id";

impl Invitation {
    /// A row of `SELECT {INVITATION_COLUMNS}` read through rusqlite, column by column in that
    /// order, its date and time as sqlx writes them (`2026-12-31`, RFC 3339).
    fn from_rusqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Invitation> {
        let unreadable = |i: usize, what: &str, value: &str| {
            rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Text,
                format!("'{value}' is not {what}").into(),
            )
        };
        let closes_on = match row.get_ref(5)?.as_str_or_null()? {
            None => None,
            Some(day) => Some(
                Date::parse(day, time::macros::format_description!("[year]-[month]-[day]"))
                    .map_err(|_| unreadable(5, "a date such as 2026-12-31", day))?,
            ),
        };
        let answered_at = match row.get_ref(18)?.as_str_or_null()? {
            None => None,
            Some(at) => Some(OffsetDateTime::parse(at, &Rfc3339).map_err(|_| unreadable(18, "an RFC 3339 time", at))?),
        };
        Ok(Invitation {
            id: row.get(0)?,
            secret: row.get(1)?,
            wave_id: row.get(2)?,
            wave_name: row.get(3)?,
            wave_status: row.get(4)?,
            closes_on,
            survey_version_id: row.get(6)?,
            contact_id: row.get(7)?,
            contact_name: row.get(8)?,
            email: row.get(9)?,
            phone: row.get(10)?,
            account_id: row.get(11)?,
            account_name: row.get(12)?,
            account_external_id: row.get(13)?,
            language: row.get(14)?,
            channel: row.get(15)?,
            status: row.get(16)?,
            draft: row.get(17)?,
            answered_at,
        })
    }
}

fn looking_up(err: rusqlite::Error) -> StoreError {
    StoreError::Other(anyhow::Error::new(err).context("looking personal links up in the SQLite database"))
}

/// A contact a new wave may invite.
#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    email: Option<String>,
    phone: Option<String>,
    language: Option<String>,
    role: Option<String>,
    account_id: i64,
    left_out: i32,
    last_invited: Option<OffsetDateTime>,
    last_answered: Option<OffsetDateTime>,
}

/// Invitations written per statement.
const INSERT_CHUNK: usize = 500;

/// A new invitation secret: 160 random bits from the operating system, hex-encoded.
pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Answers written per statement (ten values each).
const ANSWER_CHUNK: usize = 100;
/// The columns an answer given through a survey is stored with, in the order of its values.
pub(crate) const RESPONSE_COLUMNS: &str =
    "wave_id, contact_id, account_id, invitation_id, submitted_at, ltr, comment, scores, source, answers";

/// Invitations per lookup statement.
const INVITATION_CHUNK: usize = 500;

/// An answer ready to store: read from the form and checked against its survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAnswer {
    /// The invitation it came through.
    pub invitation_id: i64,
    /// Its wave.
    pub wave_id: i64,
    /// The contact who gave it.
    pub contact_id: i64,
    /// Their account.
    pub account_id: i64,
    /// When.
    pub submitted_at: OffsetDateTime,
    /// Likelihood to recommend.
    pub ltr: u8,
    /// The comment reports show.
    pub comment: Option<String>,
    /// The driver ratings, as JSON.
    pub scores: String,
    /// Every answer, as JSON.
    pub answers: String,
}

impl NewAnswer {
    /// The answer `answers` given through `invitation` at `now`; it must rate LTR.
    pub fn new(
        invitation: &Invitation,
        survey: &Survey,
        answers: &Answers,
        now: OffsetDateTime,
    ) -> Result<NewAnswer, StoreError> {
        let ltr = answers
            .ltr()
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("an answer needs the likelihood to recommend")))?;
        Ok(NewAnswer {
            invitation_id: invitation.id,
            wave_id: invitation.wave_id,
            contact_id: invitation.contact_id,
            account_id: invitation.account_id,
            submitted_at: now,
            ltr: ltr.get(),
            comment: answers.comment().map(str::to_string),
            scores: to_json(&answers.scores(survey))?,
            answers: to_json(answers)?,
        })
    }
}

/// The time each invitation of `batch` was answered: that of its latest answer. Compared as
/// times here, not in SQL, where SQLite would compare the stored text (in which `12:00:00Z`
/// sorts after `12:00:00.5Z`).
pub(crate) fn answered_at(batch: &[NewAnswer]) -> BTreeMap<i64, OffsetDateTime> {
    let mut answered: BTreeMap<i64, OffsetDateTime> = BTreeMap::new();
    for a in batch {
        let at = answered.entry(a.invitation_id).or_insert(a.submitted_at);
        *at = (*at).max(a.submitted_at);
    }
    answered
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(e.into()))
}

/// Per-wave delivery and answer counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaveProgress {
    /// Invitations made.
    pub invited: u64,
    /// Delivered to the mail server or SMS gateway.
    pub sent: u64,
    /// Delivery failed.
    pub failed: u64,
    /// Bounced after delivery.
    pub bounced: u64,
    /// Opened the survey page.
    pub opened: u64,
    /// Answered (at least once).
    pub answered: u64,
    /// Saved a partial answer and have not finished.
    pub partial: u64,
}

/// How response rates are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateBy {
    /// Per account.
    Account,
    /// Per account owner.
    Owner,
}

/// Invited and answered in one group.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResponseRate {
    /// The account's CRM id, or the owner's email.
    pub key: String,
    /// The account's name, or the owner's email.
    pub name: String,
    /// Invitations.
    pub invited: i64,
    /// Invitations answered.
    pub answered: i64,
}

impl ResponseRate {
    /// Answered per invited, in percent.
    pub fn percent(&self) -> f64 {
        if self.invited == 0 { 0.0 } else { 100.0 * self.answered as f64 / self.invited as f64 }
    }
}

impl Store {
    /// Creates the wave and one invitation per selected contact, in one transaction. Contacts
    /// who opted out or unsubscribed, and those surveyed in the last `exclude_days`, are left
    /// out and counted.
    pub async fn create_wave(&self, plan: &WavePlan<'_>) -> Result<WaveCreated, StoreError> {
        let mut tx = Tx::begin(self).await?;
        let exists: Option<i64> = on_tx!(&mut tx, |t| sqlx::query_scalar("SELECT id FROM waves WHERE name = $1")
            .bind(plan.name)
            .fetch_optional(&mut **t)
            .await?);
        if exists.is_some() {
            tx.rollback().await?;
            return Err(StoreError::Other(anyhow::anyhow!(
                "a wave named '{}' already exists: choose another name (e.g. the next quarter)",
                plan.name
            )));
        }
        let wave_id: i64 = on_tx!(&mut tx, |t| sqlx::query_scalar(
            "INSERT INTO waves (name, survey_version_id, opens_on, closes_on, status, exclude_days, selection) \
             VALUES ($1, $2, $3, $4, 'draft', $5, $6) RETURNING id"
        )
        .bind(plan.name)
        .bind(plan.survey.id)
        .bind(plan.opens_on)
        .bind(plan.closes_on)
        .bind(i64::from(plan.exclude_days))
        .bind(plan.selection)
        .fetch_one(&mut **t)
        .await?);
        let sql = "SELECT c.id, c.email, c.phone, c.language, c.role, c.account_id, \
                   CASE WHEN c.opted_out OR c.unsubscribed_at IS NOT NULL THEN 1 ELSE 0 END AS left_out, \
                   (SELECT MAX(i.created_at) FROM invitations i WHERE i.contact_id = c.id) AS last_invited, \
                   (SELECT MAX(r.submitted_at) FROM responses r WHERE r.contact_id = c.id) AS last_answered \
                   FROM contacts c ORDER BY c.account_id, c.id";
        let candidates: Vec<Candidate> = on_tx!(&mut tx, |t| sqlx::query_as(sql).fetch_all(&mut **t).await?);
        let accounts: Option<HashSet<i64>> = plan.accounts.map(|a| a.iter().copied().collect());
        let cutoff = plan.now - Duration::days(i64::from(plan.exclude_days));
        let mut created = WaveCreated { wave_id, ..WaveCreated::default() };
        let mut rows = Vec::new();
        for c in candidates {
            if accounts.as_ref().is_some_and(|a| !a.contains(&c.account_id)) {
                continue;
            }
            let role = c.role.as_deref().and_then(RoleLevel::parse);
            if !plan.roles.is_empty() && !role.is_some_and(|r| plan.roles.contains(&r)) {
                continue;
            }
            if c.left_out != 0 {
                created.opted_out += 1;
                continue;
            }
            if plan.exclude_days > 0 && c.last_invited.max(c.last_answered).is_some_and(|t| t >= cutoff) {
                created.recent += 1;
                continue;
            }
            let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
            let channel = if present(&c.email) {
                Channel::Email
            } else if present(&c.phone) {
                Channel::Sms
            } else {
                Channel::Link
            };
            *created.invited.entry(channel.as_str()).or_default() += 1;
            let language = plan.survey.survey.language_for(c.language.as_deref()).to_string();
            rows.push((c.id, new_secret(), language, channel));
        }
        for chunk in rows.chunks(INSERT_CHUNK) {
            on_tx!(&mut tx, |t| {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO invitations (wave_id, contact_id, secret, language, channel, created_at) ",
                );
                qb.push_values(chunk, |mut b, (contact, secret, language, channel)| {
                    b.push_bind(wave_id)
                        .push_bind(*contact)
                        .push_bind(secret)
                        .push_bind(language)
                        .push_bind(channel.as_str())
                        .push_bind(plan.now);
                });
                qb.build().execute(&mut **t).await?;
            });
        }
        tx.bump_data_version().await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Sets a wave's status: `open` starts taking answers, `closed` stops (and records when).
    pub async fn set_wave_status(
        &self,
        wave_id: i64,
        status: WaveStatus,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let closed_at = (status == WaveStatus::Closed).then_some(now);
        let sql = "UPDATE waves SET status = $2, closed_at = COALESCE($3, closed_at) WHERE id = $1";
        let mut tx = Tx::begin(self).await?;
        let done = on_tx!(&mut tx, |t| sqlx::query(sql)
            .bind(wave_id)
            .bind(status.as_str())
            .bind(closed_at)
            .execute(&mut **t)
            .await?
            .rows_affected());
        if done == 0 {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        }
        tx.bump_data_version().await?;
        tx.commit().await
    }

    /// The wave named `name`: its id, status and survey version (None for imported waves).
    pub async fn wave_by_name(&self, name: &str) -> Result<Option<(i64, WaveStatus, Option<i64>)>, StoreError> {
        let sql = "SELECT id, status, survey_version_id FROM waves WHERE name = $1";
        let row: Option<(i64, String, Option<i64>)> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(name).fetch_optional(pool).await?);
        Ok(row.map(|(id, status, version)| (id, WaveStatus::parse(&status).unwrap_or(WaveStatus::Closed), version)))
    }

    /// The invitation with this id (the caller checks the secret).
    pub async fn invitation(&self, id: i64) -> Result<Option<Invitation>, StoreError> {
        let sql = format!("SELECT {INVITATION_COLUMNS} WHERE i.id = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// The invitations with these ids (those that exist), in no particular order: the
    /// response pages look up the links that arrive together at once. On SQLite the keyed
    /// reads run in place on the calling thread, a few microseconds each ([`direct::lookup`]):
    /// ask for a batch, not thousands.
    pub async fn invitations(&self, ids: &[i64]) -> Result<Vec<Invitation>, StoreError> {
        let pool = match self {
            // On SQLite each link is read by its key through one statement kept prepared, in
            // place, on one of rusqlite's own lookup connections: through sqlx the batch was a
            // statement prepared anew for each number of links and a round trip to its
            // connection's thread, which every answer waited for (BENCHMARKS.md, issue 4).
            Store::Sqlite(db) => {
                // The statement's text made once: every answer comes this way.
                static BY_ID: LazyLock<String> =
                    LazyLock::new(|| format!("SELECT {INVITATION_COLUMNS} WHERE i.id = ?1"));
                return direct::lookup(db, |conn| {
                    let mut read = conn.prepare_cached(&BY_ID).map_err(looking_up)?;
                    let mut found = Vec::with_capacity(ids.len());
                    for &id in ids {
                        if let Some(invitation) =
                            read.query_row([id], Invitation::from_rusqlite).optional().map_err(looking_up)?
                        {
                            found.push(invitation);
                        }
                    }
                    Ok(found)
                });
            }
            Store::Postgres(pool) => pool,
        };
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(INVITATION_CHUNK) {
            let mut qb = QueryBuilder::new(format!("SELECT {INVITATION_COLUMNS} WHERE i.id IN ("));
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(")");
            found.extend(qb.build_query_as::<Invitation>().fetch_all(pool).await?);
        }
        Ok(found)
    }

    /// A wave's invitations, by account and contact name, from `after` (an invitation id
    /// order is not kept: pages of `limit` by id).
    pub async fn wave_invitations(&self, wave_id: i64, after: i64, limit: i64) -> Result<Vec<Invitation>, StoreError> {
        let sql = format!("SELECT {INVITATION_COLUMNS} WHERE i.wave_id = $1 AND i.id > $2 ORDER BY i.id LIMIT $3");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql).bind(wave_id).bind(after).bind(limit).fetch_all(pool).await?))
    }

    /// A page of a wave's invitations after id `after`, by id, narrowed in the database: to
    /// the accounts `owner` owns (an account manager's view), to a delivery `status`, and to
    /// those answered or not.
    pub async fn wave_invitations_where(
        &self,
        wave_id: i64,
        filter: &InvitationFilter<'_>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Invitation>, StoreError> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} WHERE i.wave_id = $1 AND i.id > $2 \
             AND ($3 IS NULL OR LOWER(TRIM(a.owner_email)) = LOWER(TRIM($3))) AND ($4 IS NULL OR i.status = $4) \
             AND ($5 IS NULL OR (i.answered_at IS NOT NULL) = $5) ORDER BY i.id LIMIT $6"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(wave_id)
            .bind(after)
            .bind(filter.owner)
            .bind(filter.status)
            .bind(filter.answered)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Records the first time the survey page was opened.
    pub async fn mark_opened(&self, invitation_id: i64, now: OffsetDateTime) -> Result<(), StoreError> {
        let sql = "UPDATE invitations SET opened_at = $2 WHERE id = $1 AND opened_at IS NULL";
        on_writer!(self, |conn| sqlx::query(sql)
            .bind(invitation_id)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Keeps partial answers to finish later.
    pub async fn save_draft(&self, invitation_id: i64, answers: &Answers) -> Result<(), StoreError> {
        let json = serde_json::to_string(answers).map_err(|e| StoreError::Other(e.into()))?;
        let sql = "UPDATE invitations SET draft = $2 WHERE id = $1";
        on_writer!(self, |conn| sqlx::query(sql)
            .bind(invitation_id)
            .bind(json)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Stores an answer given through `invitation` (see [`Store::record_answers`]).
    pub async fn record_answer(
        &self,
        invitation: &Invitation,
        survey: &Survey,
        answers: &Answers,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.record_answers(&[NewAnswer::new(invitation, survey, answers, now)?], None).await
    }

    /// Stores answers in one transaction, committed before this returns: for each, a new
    /// response row (an earlier answer of the same contact is kept as history; reports read
    /// the latest) and its invitation marked answered with its draft cleared; and each counted
    /// in its analytics cell by difference (its contact's previous answer out, the new one in:
    /// see [`crate::analytics`]). One transaction for the answers that arrive together is what
    /// makes durable answers fast (one sync to disk for all).
    ///
    /// With `follow_up`, on SQLite, the answers are followed up in the same transaction (their
    /// alerts, tasks, notifications and events: see [`crate::alerts::AnswerFollowUp`]): the
    /// database has one writer, and a second transaction for them would only wait for this
    /// one or hold up the next. On PostgreSQL, and without `follow_up`, they wait for the
    /// follow-up scanner, whose transaction PostgreSQL runs beside the answers' (settling them
    /// here cost a fifth of the answers a second: BENCHMARKS.md, issue 4).
    pub async fn record_answers(
        &self,
        batch: &[NewAnswer],
        follow_up: Option<&Arc<AnswerFollowUp>>,
    ) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        if let Store::Sqlite(db) = self {
            // The common case in one go on SQLite; what it declines is stored below.
            if in_place::record_answers(db, batch.to_vec(), follow_up.cloned()).await? == InPlace::Stored {
                return Ok(());
            }
        }
        self.record_answers_in_general(batch, follow_up).await
    }

    /// [`Store::record_answers`] from a thread of the caller's own that may block, which has
    /// entered `runtime` (never one of its async workers). On SQLite the batch's transaction
    /// runs right here, with no hand-over to the blocking pool and back; what it declines, and
    /// every batch on PostgreSQL, goes the general way, waited for on this thread. The answer
    /// writer of the response page stores its batches so, one after another: each hand-over
    /// cost a batch 15% of its time with both cores busy (BENCHMARKS.md, issue 4).
    pub fn record_answers_here(
        &self,
        runtime: &tokio::runtime::Handle,
        batch: &[NewAnswer],
        follow_up: Option<&Arc<AnswerFollowUp>>,
    ) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        if let Store::Sqlite(db) = self {
            if in_place::record_answers_here(db, batch, follow_up.map(|f| &**f))? == InPlace::Stored {
                return Ok(());
            }
        }
        runtime.block_on(self.record_answers_in_general(batch, follow_up))
    }

    /// The general way of [`Store::record_answers`], through sqlx, on either database.
    async fn record_answers_in_general(
        &self,
        batch: &[NewAnswer],
        follow_up: Option<&Arc<AnswerFollowUp>>,
    ) -> Result<(), StoreError> {
        let mut tx = Tx::begin(self).await?;
        // Counted before they are stored: each contact's previous answer is still the latest.
        let counted: Vec<CellAnswer<'_>> = batch.iter().map(CellAnswer::of).collect();
        let stale = add_answers(&mut tx, &counted).await?;
        let mut response_ids = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(ANSWER_CHUNK) {
            let ids: Vec<i64> = on_tx!(&mut tx, |t| {
                let mut qb = QueryBuilder::new(format!("INSERT INTO responses ({RESPONSE_COLUMNS}) "));
                qb.push_values(chunk, |mut b, a| {
                    b.push_bind(a.wave_id)
                        .push_bind(a.contact_id)
                        .push_bind(a.account_id)
                        .push_bind(a.invitation_id)
                        .push_bind(a.submitted_at)
                        .push_bind(i32::from(a.ltr))
                        .push_bind(a.comment.as_deref())
                        .push_bind(a.scores.as_str())
                        .push_bind("survey")
                        .push_bind(a.answers.as_str());
                });
                qb.push(" RETURNING id");
                qb.build_query_scalar().fetch_all(&mut **t).await?
            });
            response_ids.extend(ids);
        }
        let answered: Vec<(i64, OffsetDateTime)> = answered_at(batch).into_iter().collect();
        for chunk in answered.chunks(ANSWER_CHUNK) {
            on_tx!(&mut tx, |t| {
                // One statement per chunk: each invitation gets its own answer's time.
                let mut qb = QueryBuilder::new("WITH answered (id, at) AS (");
                qb.push_values(chunk, |mut b, (invitation, at)| {
                    b.push_bind(*invitation).push_bind(*at);
                });
                qb.push(
                    ") UPDATE invitations SET draft = NULL, \
                     answered_at = (SELECT at FROM answered WHERE answered.id = invitations.id), \
                     opened_at = COALESCE(opened_at, (SELECT at FROM answered WHERE answered.id = invitations.id)) \
                     WHERE id IN (SELECT id FROM answered)",
                );
                qb.build().execute(&mut **t).await?.rows_affected()
            });
        }
        if !stale.is_empty() {
            refresh_cells(&mut tx, &stale).await?;
        }
        if let (Some(follow_up), true) = (follow_up, self.follows_up_as_it_stores()) {
            let pending = pending_in(&mut tx, &response_ids).await?;
            follow_up_in(&mut tx, &pending, follow_up, OffsetDateTime::now_utc()).await?;
        }
        tx.bump_data_version().await?;
        tx.commit().await
    }

    /// Whether [`Store::record_answers`] follows answers up in their own transaction (SQLite,
    /// one writer), rather than leaving them to the follow-up scanner (PostgreSQL): see there.
    pub fn follows_up_as_it_stores(&self) -> bool {
        matches!(self, Store::Sqlite(_))
    }

    /// The latest answer given through an invitation (the answers' JSON form), to show again.
    pub async fn latest_answer(&self, invitation_id: i64) -> Result<Option<Answers>, StoreError> {
        let sql = "SELECT answers FROM responses WHERE invitation_id = $1 AND answers IS NOT NULL \
                   ORDER BY submitted_at DESC, id DESC LIMIT 1";
        let json: Option<String> =
            on_pool!(self, |pool| sqlx::query_scalar(sql).bind(invitation_id).fetch_optional(pool).await?);
        json.map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Other(e.into()))).transpose()
    }

    /// How many answers an invitation has given (the first and every update).
    pub async fn answer_count(&self, invitation_id: i64) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM responses WHERE invitation_id = $1";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql).bind(invitation_id).fetch_one(pool).await?))
    }

    /// Delivery and answer counts for a wave.
    pub async fn wave_progress(&self, wave_id: i64) -> Result<WaveProgress, StoreError> {
        let sql = "SELECT COUNT(*), \
                   COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN status = 'bounced' THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN opened_at IS NOT NULL THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN draft IS NOT NULL AND answered_at IS NULL THEN 1 ELSE 0 END), 0) \
                   FROM invitations WHERE wave_id = $1";
        let row: (i64, i64, i64, i64, i64, i64, i64) =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(wave_id).fetch_one(pool).await?);
        let u = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(WaveProgress {
            invited: u(row.0),
            sent: u(row.1),
            failed: u(row.2),
            bounced: u(row.3),
            opened: u(row.4),
            answered: u(row.5),
            partial: u(row.6),
        })
    }

    /// Invited and answered per account (`by` = account) or per account owner, in a wave, the
    /// lowest response rate first, at most `limit` rows; only accounts of `owned_by` when set.
    pub async fn response_rates(
        &self,
        wave_id: i64,
        by: RateBy,
        owned_by: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ResponseRate>, StoreError> {
        let (key, name) = match by {
            RateBy::Account => ("a.external_id", "a.name"),
            RateBy::Owner => ("COALESCE(a.owner_email, '')", "COALESCE(a.owner_email, '')"),
        };
        let sql = format!(
            "SELECT {key} AS key, MIN({name}) AS name, COUNT(*) AS invited, \
             COALESCE(SUM(CASE WHEN i.answered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS answered \
             FROM invitations i JOIN contacts c ON c.id = i.contact_id JOIN accounts a ON a.id = c.account_id \
             WHERE i.wave_id = $1 AND ($2 IS NULL OR LOWER(a.owner_email) = LOWER($2)) \
             GROUP BY {key} ORDER BY CAST(COALESCE(SUM(CASE WHEN i.answered_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS REAL) / COUNT(*), {key} \
             LIMIT $3"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql).bind(wave_id).bind(owned_by).bind(limit).fetch_all(pool).await?))
    }

    /// Records that mail to each `(email, reason)` bounced (as the mail provider reported it
    /// after sending): the wave's invitations to that address are marked bounced with the
    /// reason, so that no reminder follows and the wave's status shows it. One transaction for
    /// the whole report: all of it is recorded, or none. Returns how many were marked for each.
    pub async fn mark_bounced(&self, wave_id: i64, reported: &[(String, String)]) -> Result<Vec<u64>, StoreError> {
        let sql = "UPDATE invitations SET status = 'bounced', last_error = $3 WHERE wave_id = $1 \
                   AND channel = 'email' AND contact_id IN (SELECT id FROM contacts WHERE LOWER(email) = LOWER($2))";
        let mut tx = Tx::begin(self).await?;
        let mut marked = Vec::with_capacity(reported.len());
        for (email, reason) in reported {
            // No address holds a control character (and PostgreSQL takes no NUL): it is no one's.
            if email.chars().any(char::is_control) {
                marked.push(0);
                continue;
            }
            marked.push(on_tx!(&mut tx, |t| sqlx::query(sql)
                .bind(wave_id)
                .bind(email.trim())
                .bind(reason)
                .execute(&mut **t)
                .await?
                .rows_affected()));
        }
        tx.commit().await?;
        Ok(marked)
    }

    /// The invitations of a wave whose delivery failed or bounced: contact, address and reason.
    pub async fn failed_invitations(
        &self,
        wave_id: i64,
        limit: i64,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let sql = "SELECT c.name, COALESCE(c.email, c.phone, ''), COALESCE(i.last_error, '') FROM invitations i \
                   JOIN contacts c ON c.id = i.contact_id WHERE i.wave_id = $1 AND i.status IN ('failed', 'bounced') \
                   ORDER BY i.id LIMIT $2";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).bind(wave_id).bind(limit).fetch_all(pool).await?))
    }

    /// Marks a contact unsubscribed: later waves leave them out, whatever a re-import says, and
    /// nothing more of the waves under way goes to them (invitations not yet out, reminders).
    pub async fn unsubscribe(&self, contact_id: i64, now: OffsetDateTime) -> Result<(), StoreError> {
        let sql = "UPDATE contacts SET unsubscribed_at = COALESCE(unsubscribed_at, $2) WHERE id = $1";
        on_writer!(self, |conn| sqlx::query(sql).bind(contact_id).bind(now).execute(&mut *conn).await?.rows_affected());
        Ok(())
    }

    /// Whether a message may go to the contact: false once they unsubscribed or opted out (or
    /// the contact is gone).
    pub async fn may_contact(&self, contact_id: i64) -> Result<bool, StoreError> {
        let sql = "SELECT unsubscribed_at IS NULL AND opted_out = false FROM contacts WHERE id = $1";
        let may: Option<bool> =
            on_pool!(self, |pool| sqlx::query_scalar(sql).bind(contact_id).fetch_optional(pool).await?);
        Ok(may.unwrap_or(false))
    }
}
