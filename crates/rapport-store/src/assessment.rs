//! What the portfolio assessment reads: each account's activity (revenue history, and its
//! opportunities and service cases summed per month by the database), the last time anyone
//! was in touch, how many people answered in recent waves, and the versioned definition.

use std::collections::HashMap;

use rapport_core::assessment::{Activity, CaseMonth, Definition, Month, OpportunityMonth};
use rapport_core::money::Money;
use rapport_core::opportunity::Outcome;
use rapport_core::period::Period;
use rapport_core::service_case::{CaseKind, Hours};
use time::{Date, OffsetDateTime};

use crate::error::StoreError;
use crate::on_pool;
use crate::store::{Backend, Store};
use crate::tx::{Tx, on_tx};

/// One version of the assessment definition.
#[derive(Debug, Clone, PartialEq)]
pub struct DefinitionVersion {
    /// 1, 2, ...; 0 is the built-in default (never stored).
    pub version: i64,
    /// The definition.
    pub definition: Definition,
    /// Who changed it (None: the built-in default, or the command line without a user).
    pub changed_by: Option<String>,
    /// When (None: the built-in default).
    pub changed_at: Option<OffsetDateTime>,
    /// Why.
    pub reason: String,
}

impl DefinitionVersion {
    /// The built-in default, version 0.
    pub fn built_in() -> DefinitionVersion {
        DefinitionVersion {
            version: 0,
            definition: Definition::default(),
            changed_by: None,
            changed_at: None,
            reason: "the built-in default".to_string(),
        }
    }
}

type VersionRow = (i64, String, Option<String>, OffsetDateTime, String);

fn version_of(row: VersionRow) -> Result<DefinitionVersion, StoreError> {
    let (version, text, changed_by, changed_at, reason) = row;
    let definition = serde_json::from_str::<Definition>(&text).map_err(|e| {
        StoreError::Other(anyhow::anyhow!("assessment definition version {version} cannot be read: {e}"))
    })?;
    Ok(DefinitionVersion { version, definition, changed_by, changed_at: Some(changed_at), reason })
}

/// Why a definition could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveDefinitionError {
    /// Someone saved another version since this one was read.
    #[error(
        "the definition changed since you opened it (now version {current}, you edited version {edited}): reload it and make your change again"
    )]
    Stale {
        /// The version now current.
        current: i64,
        /// The version the edit started from.
        edited: i64,
    },
    /// No reason given.
    #[error("say why the definition changes: the reason is kept with the version")]
    NoReason,
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// The current definition: the highest stored version, else the built-in default.
    pub async fn assessment_definition(&self) -> Result<DefinitionVersion, StoreError> {
        let sql = "SELECT version, definition, changed_by, changed_at, reason FROM assessment_definitions \
                   ORDER BY version DESC LIMIT 1";
        let row: Option<VersionRow> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_optional(pool).await?);
        row.map_or_else(|| Ok(DefinitionVersion::built_in()), version_of)
    }

    /// Every version, the latest first, ending with the built-in default.
    pub async fn assessment_history(&self) -> Result<Vec<DefinitionVersion>, StoreError> {
        let sql = "SELECT version, definition, changed_by, changed_at, reason FROM assessment_definitions \
                   ORDER BY version DESC";
        let rows: Vec<VersionRow> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        let mut out = rows.into_iter().map(version_of).collect::<Result<Vec<_>, _>>()?;
        out.push(DefinitionVersion::built_in());
        Ok(out)
    }

    /// One version (0: the built-in default).
    pub async fn assessment_version(&self, version: i64) -> Result<DefinitionVersion, StoreError> {
        if version == 0 {
            return Ok(DefinitionVersion::built_in());
        }
        let sql = "SELECT version, definition, changed_by, changed_at, reason FROM assessment_definitions \
                   WHERE version = $1";
        let row: VersionRow = on_pool!(self, |pool| sqlx::query_as(sql).bind(version).fetch_one(pool).await?);
        version_of(row)
    }

    /// Saves `definition` (checked by the caller) as the version after `edited`, and returns
    /// it. Refused when another version was saved since `edited` was read, so no one's change
    /// is silently overwritten.
    pub async fn save_assessment_definition(
        &self,
        definition: &Definition,
        edited: i64,
        by: Option<&str>,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<i64, SaveDefinitionError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(SaveDefinitionError::NoReason);
        }
        let text = serde_json::to_string(definition).map_err(|e| StoreError::Other(e.into()))?;
        let mut tx = Tx::begin(self).await?;
        let current: Option<i64> =
            on_tx!(&mut tx, |t| sqlx::query_scalar("SELECT MAX(version) FROM assessment_definitions")
                .fetch_one(&mut **t)
                .await
                .map_err(StoreError::from)?);
        let current = current.unwrap_or(0);
        if current != edited {
            tx.rollback().await?;
            return Err(SaveDefinitionError::Stale { current, edited });
        }
        let version = current + 1;
        let sql = "INSERT INTO assessment_definitions (version, definition, changed_by, changed_at, reason) \
                   VALUES ($1, $2, $3, $4, $5)";
        let inserted = on_tx!(&mut tx, |t| sqlx::query(sql)
            .bind(version)
            .bind(&text)
            .bind(by)
            .bind(now)
            .bind(reason)
            .execute(&mut **t)
            .await
            .map(|r| r.rows_affected()));
        match inserted {
            Ok(_) => {}
            // Two saves from the same version: the other one won the primary key.
            Err(e) => {
                tx.rollback().await?;
                return match StoreError::from(e) {
                    StoreError::Conflict { .. } => Err(SaveDefinitionError::Stale { current: version, edited }),
                    other => Err(other.into()),
                };
            }
        }
        tx.bump_data_version().await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Every account's activity, keyed by internal account id: revenue entries, and
    /// opportunities and service cases summed per month opened (records without an opening
    /// date are left out: they belong to no window).
    pub async fn assessment_activity(&self) -> Result<HashMap<i64, Activity>, StoreError> {
        let (month, days, billable) = match self.backend() {
            Backend::Sqlite => (
                "substr(opened_on, 1, 7)",
                "CAST(julianday(closed_on) - julianday(opened_on) AS INTEGER)",
                "CASE WHEN billable = 1 THEN 1 ELSE 0 END",
            ),
            Backend::Postgres => {
                ("to_char(opened_on, 'YYYY-MM')", "(closed_on - opened_on)", "CASE WHEN billable THEN 1 ELSE 0 END")
            }
        };
        let mut out: HashMap<i64, Activity> = HashMap::new();

        let sql = "SELECT account_id, period, billed FROM revenue WHERE billed IS NOT NULL";
        let rows: Vec<(i64, String, i64)> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        for (account, period, billed) in rows {
            let period = Period::parse(&period)
                .map_err(|e| StoreError::Other(anyhow::anyhow!("revenue of account {account}: {e}")))?;
            out.entry(account).or_default().revenue.push((period, Money(billed)));
        }

        let sql = format!(
            "SELECT account_id, {month}, outcome, COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT), \
             CAST(COALESCE(SUM(discount_bp), 0) AS BIGINT), COUNT(discount_bp) \
             FROM opportunities WHERE opened_on IS NOT NULL GROUP BY account_id, {month}, outcome"
        );
        type OppRow = (i64, String, Option<String>, i64, i64, i64, i64);
        let rows: Vec<OppRow> = on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
        for (account, m, outcome, count, amount, discount_sum, discounted) in rows {
            let Some(month) = Month::parse(&m) else { continue };
            out.entry(account).or_default().opportunities.push(OpportunityMonth {
                month,
                outcome: outcome.as_deref().and_then(Outcome::parse),
                count: count.max(0) as u64,
                amount: Money(amount),
                discount_sum,
                discounted: discounted.max(0) as u64,
            });
        }

        let sql = format!(
            "SELECT account_id, {month}, kind, {billable}, COUNT(*), CAST(COALESCE(SUM(effort_centihours), 0) AS BIGINT), \
             COUNT(closed_on), CAST(COALESCE(SUM({days}), 0) AS BIGINT) \
             FROM service_cases WHERE opened_on IS NOT NULL GROUP BY account_id, {month}, kind, {billable}"
        );
        type CaseRow = (i64, String, Option<String>, i32, i64, i64, i64, i64);
        let rows: Vec<CaseRow> = on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
        for (account, m, kind, billable, count, effort, resolved, resolve_days) in rows {
            let Some(month) = Month::parse(&m) else { continue };
            out.entry(account).or_default().cases.push(CaseMonth {
                month,
                kind: kind.as_deref().and_then(CaseKind::parse),
                billable: billable == 1,
                count: count.max(0) as u64,
                effort: Hours(effort),
                resolved: resolved.max(0) as u64,
                resolve_days,
            });
        }
        Ok(out)
    }

    /// The last day anyone was in touch with each account: its latest answer, follow-up or
    /// plan item opened or closed, review meeting, or opportunity opened.
    pub async fn last_touches(&self) -> Result<HashMap<i64, Date>, StoreError> {
        let mut out: HashMap<i64, Date> = HashMap::new();
        let mut touch = |account: i64, day: Date| {
            let e = out.entry(account).or_insert(day);
            *e = (*e).max(day);
        };
        let stamps = [
            "SELECT account_id, MAX(submitted_at) FROM responses GROUP BY account_id",
            "SELECT account_id, MAX(created_at) FROM tasks GROUP BY account_id",
            "SELECT account_id, MAX(closed_at) FROM tasks WHERE closed_at IS NOT NULL GROUP BY account_id",
        ];
        for sql in stamps {
            let rows: Vec<(i64, Option<OffsetDateTime>)> =
                on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
            rows.into_iter().filter_map(|(a, t)| Some((a, t?.date()))).for_each(|(a, d)| touch(a, d));
        }
        let days = [
            "SELECT account_id, MAX(held_on) FROM reviews GROUP BY account_id",
            "SELECT account_id, MAX(opened_on) FROM opportunities WHERE opened_on IS NOT NULL GROUP BY account_id",
        ];
        for sql in days {
            let rows: Vec<(i64, Option<Date>)> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
            rows.into_iter().filter_map(|(a, d)| Some((a, d?))).for_each(|(a, d)| touch(a, d));
        }
        Ok(out)
    }

    /// Per account, the distinct people who answered in these waves and the distinct role
    /// levels among them: how broad the relationship is across recent waves.
    pub async fn engagement(&self, wave_ids: &[i64]) -> Result<HashMap<i64, (u64, u64)>, StoreError> {
        if wave_ids.is_empty() {
            return Ok(HashMap::new());
        }
        // Internal ids only: integers, never text from a request.
        let list = wave_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT r.account_id, COUNT(DISTINCT r.contact_id), COUNT(DISTINCT c.role) \
             FROM responses r JOIN contacts c ON c.id = r.contact_id WHERE r.wave_id IN ({list}) \
             GROUP BY r.account_id"
        );
        let rows: Vec<(i64, i64, i64)> = on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(a, people, levels)| (a, (people.max(0) as u64, levels.max(0) as u64))).collect())
    }
}
