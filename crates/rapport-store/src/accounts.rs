//! What the account page reads about one account: who answered and what they said, its
//! contacts, revenue history, opportunities and service cases; and what every account's
//! respondents said in a wave (the comments report).

use std::collections::{BTreeMap, HashSet};

use rapport_core::contact::RoleLevel;

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;

/// One contact's latest answer in a wave.
#[derive(Debug, Clone, PartialEq)]
pub struct Respondent {
    /// The response (what an action plan item links to).
    pub response_id: i64,
    /// The contact's name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Role level.
    pub role: Option<RoleLevel>,
    /// Likelihood to recommend, 0-10.
    pub ltr: u8,
    /// The comment, as written.
    pub comment: Option<String>,
    /// The day it was given (YYYY-MM-DD, UTC).
    pub submitted_on: String,
    /// Driver ratings by question key.
    pub scores: BTreeMap<String, u8>,
}

/// A comment: one contact's latest answer in a wave, when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Verbatim {
    /// The account (its id in the database).
    pub account_id: i64,
    /// The contact's name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Role level.
    pub role: Option<RoleLevel>,
    /// Likelihood to recommend, 0-10.
    pub ltr: u8,
    /// The comment, as written.
    pub comment: String,
    /// The day it was given (YYYY-MM-DD, UTC).
    pub submitted_on: String,
}

/// A contact, for relationship breadth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactSummary {
    /// Name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Role level.
    pub role: Option<RoleLevel>,
    /// Opted out of surveys.
    pub opted_out: bool,
}

/// One period's revenue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenuePoint {
    /// The period (2026-Q3 or 2026-07).
    pub period: String,
    /// Billed, in cents.
    pub billed: Option<i64>,
    /// Booked, in cents.
    pub booked: Option<i64>,
}

/// An opportunity, as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityRow {
    /// Its CRM id.
    pub external_id: String,
    /// Amount in cents.
    pub amount: Option<i64>,
    /// Stage.
    pub stage: Option<String>,
    /// open, won or lost.
    pub outcome: Option<String>,
    /// Discount in hundredths of a percent.
    pub discount_bp: Option<i64>,
    /// Opened (YYYY-MM-DD).
    pub opened_on: Option<String>,
    /// Closed (YYYY-MM-DD).
    pub closed_on: Option<String>,
}

/// A service case, as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCaseRow {
    /// Its id in the service system.
    pub external_id: String,
    /// exception, service_request, order_change, complaint or other.
    pub kind: Option<String>,
    /// Opened (YYYY-MM-DD).
    pub opened_on: Option<String>,
    /// Closed (YYYY-MM-DD).
    pub closed_on: Option<String>,
    /// Effort in hundredths of an hour.
    pub effort_centihours: Option<i64>,
}

impl Store {
    /// The latest answer of each contact of the account in the wave, lowest score first
    /// (detractors lead the account report).
    pub async fn respondents(&self, account_id: i64, wave_id: i64) -> Result<Vec<Respondent>, StoreError> {
        let sql = "SELECT r.contact_id, r.id, c.name, c.title, c.role, CAST(r.ltr AS BIGINT), r.comment, \
                   substr(CAST(r.submitted_at AS TEXT), 1, 10), r.scores FROM responses r \
                   JOIN contacts c ON c.id = r.contact_id WHERE r.account_id = $1 AND r.wave_id = $2 \
                   ORDER BY r.contact_id, r.submitted_at DESC, r.id DESC";
        type Row = (i64, i64, String, Option<String>, Option<String>, i64, Option<String>, String, String);
        let rows: Vec<Row> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(account_id).bind(wave_id).fetch_all(pool).await?);
        let mut seen = HashSet::new();
        let mut out: Vec<Respondent> = rows
            .into_iter()
            .filter(|row| seen.insert(row.0))
            .map(|(_, response_id, name, title, role, ltr, comment, submitted_on, scores)| Respondent {
                response_id,
                name,
                title,
                role: role.as_deref().and_then(RoleLevel::parse),
                ltr: u8::try_from(ltr).unwrap_or(0),
                comment,
                submitted_on,
                // Scores are written by Rapport as a JSON object of small integers.
                scores: serde_json::from_str(&scores).unwrap_or_default(),
            })
            .collect();
        out.sort_by(|a, b| (a.ltr, &a.name).cmp(&(b.ltr, &b.name)));
        Ok(out)
    }

    /// The comments of a wave: each contact's latest answer there (the one reports count),
    /// where it has a comment; by account, then contact.
    pub async fn wave_comments(&self, wave_id: i64) -> Result<Vec<Verbatim>, StoreError> {
        // A later answer of the same contact (by time, then id) replaces this one, comment or
        // not; the unique (wave, contact, time) index finds it.
        let sql = "SELECT r.account_id, c.name, c.title, c.role, CAST(r.ltr AS BIGINT), r.comment, \
                   substr(CAST(r.submitted_at AS TEXT), 1, 10) FROM responses r \
                   JOIN contacts c ON c.id = r.contact_id \
                   WHERE r.wave_id = $1 AND r.comment IS NOT NULL AND TRIM(r.comment) <> '' \
                   AND NOT EXISTS (SELECT 1 FROM responses l WHERE l.wave_id = r.wave_id \
                       AND l.contact_id = r.contact_id \
                       AND (l.submitted_at > r.submitted_at OR (l.submitted_at = r.submitted_at AND l.id > r.id))) \
                   ORDER BY r.account_id, r.contact_id";
        type Row = (i64, String, Option<String>, Option<String>, i64, String, String);
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(sql).bind(wave_id).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(account_id, name, title, role, ltr, comment, submitted_on)| Verbatim {
                account_id,
                name,
                title,
                role: role.as_deref().and_then(RoleLevel::parse),
                ltr: u8::try_from(ltr).unwrap_or(0),
                comment,
                submitted_on,
            })
            .collect())
    }

    /// Every contact of the account, executives first.
    pub async fn contacts_of(&self, account_id: i64) -> Result<Vec<ContactSummary>, StoreError> {
        let sql = "SELECT name, title, role, opted_out FROM contacts WHERE account_id = $1 ORDER BY name";
        let rows: Vec<(String, Option<String>, Option<String>, bool)> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?);
        let mut out: Vec<ContactSummary> = rows
            .into_iter()
            .map(|(name, title, role, opted_out)| ContactSummary {
                name,
                title,
                role: role.as_deref().and_then(RoleLevel::parse),
                opted_out,
            })
            .collect();
        let rank = |r: Option<RoleLevel>| match r {
            Some(RoleLevel::Executive) => 0,
            Some(RoleLevel::Manager) => 1,
            Some(RoleLevel::User) => 2,
            None => 3,
        };
        out.sort_by_key(|c| rank(c.role));
        Ok(out)
    }

    /// The account's revenue per period, in period order.
    pub async fn revenue_of(&self, account_id: i64) -> Result<Vec<RevenuePoint>, StoreError> {
        let sql = "SELECT period, billed, booked FROM revenue WHERE account_id = $1 ORDER BY period";
        let rows: Vec<(String, Option<i64>, Option<i64>)> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(period, billed, booked)| RevenuePoint { period, billed, booked }).collect())
    }

    /// The account's opportunities, newest first.
    pub async fn opportunities_of(&self, account_id: i64) -> Result<Vec<OpportunityRow>, StoreError> {
        let sql = "SELECT external_id, amount, stage, outcome, CAST(discount_bp AS BIGINT), CAST(opened_on AS TEXT), \
                   CAST(closed_on AS TEXT) FROM opportunities WHERE account_id = $1 \
                   ORDER BY opened_on DESC, external_id";
        type Row = (String, Option<i64>, Option<String>, Option<String>, Option<i64>, Option<String>, Option<String>);
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(external_id, amount, stage, outcome, discount_bp, opened_on, closed_on)| OpportunityRow {
                external_id,
                amount,
                stage,
                outcome,
                discount_bp,
                opened_on,
                closed_on,
            })
            .collect())
    }

    /// The account's service cases, newest first.
    pub async fn service_cases_of(&self, account_id: i64) -> Result<Vec<ServiceCaseRow>, StoreError> {
        let sql = "SELECT external_id, kind, CAST(opened_on AS TEXT), CAST(closed_on AS TEXT), effort_centihours \
                   FROM service_cases WHERE account_id = $1 ORDER BY opened_on DESC, external_id";
        type Row = (String, Option<String>, Option<String>, Option<String>, Option<i64>);
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(external_id, kind, opened_on, closed_on, effort_centihours)| ServiceCaseRow {
                external_id,
                kind,
                opened_on,
                closed_on,
                effort_centihours,
            })
            .collect())
    }
}
