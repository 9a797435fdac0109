//! Open links: one per wave, or per account in a wave, for meetings, kiosks and print. The
//! respondent says who they are (company and email): the answer goes to the matching contact,
//! through an invitation made on the spot, or is kept unmatched for review.

use rapport_core::answer::Answers;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::invitations::{Invitation, new_secret};
use crate::on_pool;
use crate::store::Store;
use crate::tx::{Tx, on_tx, on_writer};
use crate::waves::WaveStatus;

/// An open link with what its page needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenLink {
    /// Its id (the first part of the link).
    pub id: i64,
    /// The secret part: compare it in constant time.
    pub secret: String,
    /// The wave.
    pub wave_id: i64,
    /// The wave's name.
    pub wave_name: String,
    /// draft, open or closed.
    pub wave_status: String,
    /// Last day of answers.
    pub closes_on: Option<time::Date>,
    /// The survey version the wave asks.
    pub survey_version_id: Option<i64>,
    /// The account the link is for (None: any account of the wave).
    pub account_id: Option<i64>,
    /// That account's name.
    pub account_name: Option<String>,
}

impl OpenLink {
    /// Whether the wave takes answers at `now`: open, and not past its last day.
    pub fn accepts_answers(&self, now: OffsetDateTime) -> bool {
        WaveStatus::parse(&self.wave_status).is_some_and(|s| s.accepts_answers(self.closes_on, now))
    }
}

const LINK_COLUMNS: &str = "l.id, l.secret, l.wave_id, w.name AS wave_name, w.status AS wave_status, w.closes_on, \
     w.survey_version_id, l.account_id, a.name AS account_name \
     FROM open_links l JOIN waves w ON w.id = l.wave_id LEFT JOIN accounts a ON a.id = l.account_id";

/// An answer through an open link that matched no contact.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UnmatchedAnswer {
    /// Its id.
    pub id: i64,
    /// The company the respondent named.
    pub company: String,
    /// Their email.
    pub email: String,
    /// Their name, when given.
    pub name: Option<String>,
    /// Likelihood to recommend.
    pub ltr: i32,
    /// When.
    pub submitted_at: OffsetDateTime,
}

/// An unmatched answer as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredUnmatched {
    /// Its id.
    pub id: i64,
    /// The wave.
    pub wave_id: i64,
    /// The language it was given in.
    pub language: String,
    /// When.
    pub submitted_at: OffsetDateTime,
    /// The answers, as JSON.
    pub answers: String,
}

/// Who answered through an open link, as they said.
#[derive(Debug, Clone, Copy)]
pub struct Respondent<'a> {
    /// Their company.
    pub company: &'a str,
    /// Their email.
    pub email: &'a str,
    /// Their name, when given.
    pub name: Option<&'a str>,
    /// The language they read the survey in.
    pub language: &'a str,
}

/// A contact an open-link answer belongs to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MatchedContact {
    /// The contact.
    pub contact_id: i64,
    /// Their account.
    pub account_id: i64,
}

impl Store {
    /// The wave's open link (for one account, or for the whole wave), made on first use.
    pub async fn open_link(&self, wave_id: i64, account_id: Option<i64>) -> Result<OpenLink, StoreError> {
        let find = format!(
            "SELECT {LINK_COLUMNS} WHERE l.wave_id = $1 AND (l.account_id = $2 OR (l.account_id IS NULL AND $2 IS NULL)) \
             ORDER BY l.id LIMIT 1"
        );
        let existing: Option<OpenLink> =
            on_pool!(self, |pool| sqlx::query_as(&find).bind(wave_id).bind(account_id).fetch_optional(pool).await?);
        if let Some(link) = existing {
            return Ok(link);
        }
        let sql = "INSERT INTO open_links (wave_id, account_id, secret) VALUES ($1, $2, $3) RETURNING id";
        let id: i64 = on_writer!(self, |conn| sqlx::query_scalar(sql)
            .bind(wave_id)
            .bind(account_id)
            .bind(new_secret())
            .fetch_one(&mut *conn)
            .await?);
        self.open_link_by_id(id).await?.ok_or(StoreError::NotFound)
    }

    /// The open link with this id (the caller checks the secret).
    pub async fn open_link_by_id(&self, id: i64) -> Result<Option<OpenLink>, StoreError> {
        let sql = format!("SELECT {LINK_COLUMNS} WHERE l.id = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// The contact with this email (ignoring case), at `account_id` when given.
    pub async fn contact_by_email(
        &self,
        email: &str,
        account_id: Option<i64>,
    ) -> Result<Option<MatchedContact>, StoreError> {
        let sql = "SELECT id AS contact_id, account_id FROM contacts WHERE LOWER(email) = LOWER($1) \
                   AND ($2 IS NULL OR account_id = $2) ORDER BY id LIMIT 1";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).bind(email.trim()).bind(account_id).fetch_optional(pool).await?))
    }

    /// The contact's invitation in the wave, made now (as a link, in `language`) when they
    /// were not invited.
    pub async fn invitation_for(
        &self,
        wave_id: i64,
        contact_id: i64,
        language: &str,
        now: OffsetDateTime,
    ) -> Result<Invitation, StoreError> {
        let sql = "INSERT INTO invitations (wave_id, contact_id, secret, language, channel, created_at) \
                   VALUES ($1, $2, $3, $4, 'link', $5) ON CONFLICT (wave_id, contact_id) DO NOTHING";
        on_writer!(self, |conn| sqlx::query(sql)
            .bind(wave_id)
            .bind(contact_id)
            .bind(new_secret())
            .bind(language)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        let id: i64 = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT id FROM invitations WHERE wave_id = $1 AND contact_id = $2"
        )
        .bind(wave_id)
        .bind(contact_id)
        .fetch_one(pool)
        .await?);
        self.invitation(id).await?.ok_or(StoreError::NotFound)
    }

    /// Keeps an open-link answer that matched no contact, for review.
    pub async fn record_unmatched(
        &self,
        link: &OpenLink,
        who: &Respondent<'_>,
        answers: &Answers,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let ltr = answers
            .ltr()
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("an answer needs the likelihood to recommend")))?;
        let json = serde_json::to_string(answers).map_err(|e| StoreError::Other(e.into()))?;
        let mut tx = Tx::begin(self).await?;
        let id: i64 = on_tx!(&mut tx, |t| {
            sqlx::query_scalar(
            "INSERT INTO unmatched_answers (wave_id, open_link_id, company, email, name, language, submitted_at, ltr, \
             answers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"
        )
        .bind(link.wave_id)
        .bind(link.id)
        .bind(who.company)
        .bind(who.email)
        .bind(who.name)
        .bind(who.language)
        .bind(now)
        .bind(i32::from(ltr.get()))
        .bind(&json)
        .fetch_one(&mut **t)
        .await?
        });
        tx.commit().await?;
        Ok(id)
    }

    /// The unmatched open-link answers of a wave, newest first, at most `limit`.
    pub async fn unmatched_answers(&self, wave_id: i64, limit: i64) -> Result<Vec<UnmatchedAnswer>, StoreError> {
        let sql = "SELECT id, company, email, name, ltr, submitted_at FROM unmatched_answers WHERE wave_id = $1 \
                   ORDER BY submitted_at DESC, id DESC LIMIT $2";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).bind(wave_id).bind(limit).fetch_all(pool).await?))
    }

    /// One unmatched answer as stored: its wave, the language it was given in, when, and the
    /// answers (JSON), to file it under a contact.
    pub async fn unmatched_answer(&self, id: i64) -> Result<Option<StoredUnmatched>, StoreError> {
        let sql = "SELECT id, wave_id, language, submitted_at, answers FROM unmatched_answers WHERE id = $1";
        Ok(on_pool!(self, |pool| sqlx::query_as(sql).bind(id).fetch_optional(pool).await?))
    }

    /// Removes an unmatched answer once it has been filed under a contact. Returns whether it
    /// was there.
    pub async fn forget_unmatched(&self, id: i64) -> Result<bool, StoreError> {
        let sql = "DELETE FROM unmatched_answers WHERE id = $1";
        Ok(on_writer!(self, |conn| sqlx::query(sql).bind(id).execute(&mut *conn).await?.rows_affected()) == 1)
    }
}
