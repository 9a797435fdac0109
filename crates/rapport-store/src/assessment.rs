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

/// Who answered at an account, from the analytics cells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountBreadth {
    /// Contacts who answered in the latest wave.
    pub respondents: u64,
    /// Their distinct role levels.
    pub levels: u64,
    /// Executives among the latest wave's detractors.
    pub executive_detractors: u64,
    /// The most contacts who answered in any one of the recent waves.
    pub engaged_people: u64,
    /// Distinct role levels that answered across the recent waves.
    pub engaged_levels: u64,
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
        let bad = |what: &str, account: i64, entry: &str| {
            StoreError::Other(anyhow::anyhow!("the {what} of account {account}: cannot read '{entry}'"))
        };

        let inner = "SELECT account_id, period AS p, billed AS b FROM revenue WHERE billed IS NOT NULL";
        for (account, entries) in self.packed(inner, &["p", "b"]).await? {
            let revenue = &mut out.entry(account).or_default().revenue;
            for entry in entries.split(';') {
                let parsed = match entry.split(',').collect::<Vec<_>>()[..] {
                    [p, b] => Period::parse(p).ok().zip(b.parse().ok()),
                    _ => None,
                };
                let (period, billed) = parsed.ok_or_else(|| bad("revenue", account, entry))?;
                revenue.push((period, Money(billed)));
            }
        }

        let inner = format!(
            "SELECT account_id, {month} AS m, outcome AS o, COUNT(*) AS c, COALESCE(SUM(amount), 0) AS a, \
             COALESCE(SUM(discount_bp), 0) AS ds, COUNT(discount_bp) AS dn \
             FROM opportunities WHERE opened_on IS NOT NULL GROUP BY account_id, {month}, outcome"
        );
        for (account, entries) in self.packed(&inner, &["m", "o", "c", "a", "ds", "dn"]).await? {
            let opportunities = &mut out.entry(account).or_default().opportunities;
            for entry in entries.split(';') {
                let parsed = match entry.split(',').collect::<Vec<_>>()[..] {
                    [m, o, c, a, ds, dn] => (|| {
                        Some(OpportunityMonth {
                            month: Month::parse(m)?,
                            outcome: Outcome::parse(o),
                            count: c.parse().ok()?,
                            amount: Money(a.parse().ok()?),
                            discount_sum: ds.parse().ok()?,
                            discounted: dn.parse().ok()?,
                        })
                    })(),
                    _ => None,
                };
                opportunities.push(parsed.ok_or_else(|| bad("opportunities", account, entry))?);
            }
        }

        let inner = format!(
            "SELECT account_id, {month} AS m, kind AS k, {billable} AS b, COUNT(*) AS c, \
             COALESCE(SUM(effort_centihours), 0) AS e, COUNT(closed_on) AS r, COALESCE(SUM({days}), 0) AS d \
             FROM service_cases WHERE opened_on IS NOT NULL GROUP BY account_id, {month}, kind, {billable}"
        );
        for (account, entries) in self.packed(&inner, &["m", "k", "b", "c", "e", "r", "d"]).await? {
            let cases = &mut out.entry(account).or_default().cases;
            for entry in entries.split(';') {
                let parsed = match entry.split(',').collect::<Vec<_>>()[..] {
                    [m, k, b, c, e, r, d] => (|| {
                        Some(CaseMonth {
                            month: Month::parse(m)?,
                            kind: CaseKind::parse(k),
                            billable: b == "1",
                            count: c.parse().ok()?,
                            effort: Hours(e.parse().ok()?),
                            resolved: r.parse().ok()?,
                            resolve_days: d.parse().ok()?,
                        })
                    })(),
                    _ => None,
                };
                cases.push(parsed.ok_or_else(|| bad("service cases", account, entry))?);
            }
        }
        Ok(out)
    }

    /// The rows of `inner` (which has an `account_id` column) packed into one text per
    /// account: `fields` comma-separated (NULL as empty), rows separated by `;`. Fetching rows
    /// one by one is what costs at this size, not the bytes: one row per account is several
    /// times faster than one per month and kind. The fields must not hold `,` or `;`.
    async fn packed(&self, inner: &str, fields: &[&str]) -> Result<Vec<(i64, String)>, StoreError> {
        let aggregate = match self.backend() {
            Backend::Sqlite => "group_concat",
            Backend::Postgres => "string_agg",
        };
        let joined =
            fields.iter().map(|f| format!("COALESCE(CAST({f} AS TEXT), '')")).collect::<Vec<_>>().join(" || ',' || ");
        let sql = format!("SELECT account_id, {aggregate}({joined}, ';') FROM ({inner}) g GROUP BY account_id");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await?))
    }

    /// The last day anyone was in touch with each account: its latest answer, follow-up or
    /// plan item opened or closed, review meeting, or opportunity opened.
    pub async fn last_touches(&self) -> Result<HashMap<i64, Date>, StoreError> {
        // One day text per source, in UTC; the latest per account, in one pass.
        let (stamp, day) = match self.backend() {
            Backend::Sqlite => ("substr({}, 1, 10)", "{}"),
            Backend::Postgres => ("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD')", "to_char({}, 'YYYY-MM-DD')"),
        };
        let of = |pattern: &str, column: &str| pattern.replace("{}", column);
        let sql = format!(
            "SELECT account_id, MAX(d) FROM ( \
               SELECT account_id, {} AS d FROM responses \
               UNION ALL SELECT account_id, {} FROM tasks \
               UNION ALL SELECT account_id, {} FROM tasks WHERE closed_at IS NOT NULL \
               UNION ALL SELECT account_id, {} FROM reviews \
               UNION ALL SELECT account_id, {} FROM opportunities WHERE opened_on IS NOT NULL \
             ) touches GROUP BY account_id",
            of(stamp, "submitted_at"),
            of(stamp, "created_at"),
            of(stamp, "closed_at"),
            of(day, "held_on"),
            of(day, "opened_on"),
        );
        let rows: Vec<(i64, Option<String>)> = on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let mut out = HashMap::with_capacity(rows.len());
        for (account, day) in rows {
            let Some(day) = day else { continue };
            let date = Date::parse(&day, &format).map_err(|e| {
                StoreError::Other(anyhow::anyhow!("the last touch of account {account}: '{day}' is not a day: {e}"))
            })?;
            out.insert(account, date);
        }
        Ok(out)
    }

    /// Per account, who answered, from the analytics cells (no scan of answers): in the
    /// `latest` wave, the respondents, their role levels and the executives among its
    /// detractors; across the `recent` waves, the most people who answered in any one of them
    /// and every role level that answered.
    pub async fn breadth_by_account(
        &self,
        latest: i64,
        recent: &[i64],
    ) -> Result<HashMap<i64, AccountBreadth>, StoreError> {
        let mut waves = recent.to_vec();
        waves.push(latest);
        waves.sort_unstable();
        waves.dedup();
        // Internal ids only: integers, never text from a request.
        let list = waves.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let n = "(promoters + passives + detractors)";
        let recent_list = recent.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let in_recent = if recent.is_empty() { "0 = 1".to_string() } else { format!("wave_id IN ({recent_list})") };
        // Per (wave, account) first, in the primary key's order; then per account.
        let sql = format!(
            "SELECT account_id, \
               CAST(SUM(CASE WHEN wave_id = {latest} THEN people ELSE 0 END) AS BIGINT), \
               CAST(SUM(CASE WHEN wave_id = {latest} THEN levels ELSE 0 END) AS BIGINT), \
               CAST(SUM(CASE WHEN wave_id = {latest} THEN exec_detractors ELSE 0 END) AS BIGINT), \
               CAST(MAX(CASE WHEN {in_recent} THEN people ELSE 0 END) AS BIGINT), \
               CAST(MAX(CASE WHEN {in_recent} THEN e ELSE 0 END) + MAX(CASE WHEN {in_recent} THEN m ELSE 0 END) \
                    + MAX(CASE WHEN {in_recent} THEN u ELSE 0 END) AS BIGINT) \
             FROM (SELECT wave_id, account_id, SUM({n}) AS people, \
                     SUM(CASE WHEN role <> 'none' AND {n} > 0 THEN 1 ELSE 0 END) AS levels, \
                     SUM(CASE WHEN role = 'executive' THEN detractors ELSE 0 END) AS exec_detractors, \
                     MAX(CASE WHEN role = 'executive' AND {n} > 0 THEN 1 ELSE 0 END) AS e, \
                     MAX(CASE WHEN role = 'manager' AND {n} > 0 THEN 1 ELSE 0 END) AS m, \
                     MAX(CASE WHEN role = 'user' AND {n} > 0 THEN 1 ELSE 0 END) AS u \
                   FROM wave_account_stats WHERE wave_id IN ({list}) GROUP BY wave_id, account_id) per_wave \
             GROUP BY account_id"
        );
        let rows: Vec<(i64, i64, i64, i64, i64, i64)> =
            on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
        let count = |v: i64| v.max(0) as u64;
        let out = rows
            .into_iter()
            .map(|(account, respondents, levels, executive_detractors, engaged_people, engaged_levels)| {
                let b = AccountBreadth {
                    respondents: count(respondents),
                    levels: count(levels),
                    executive_detractors: count(executive_detractors),
                    engaged_people: count(engaged_people),
                    engaged_levels: count(engaged_levels),
                };
                (account, b)
            })
            .collect();
        Ok(out)
    }
}
