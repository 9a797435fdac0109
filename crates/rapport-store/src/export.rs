//! CSV export: canonical headers, custom attributes as extra columns, formula cells
//! neutralised; what is exported imports back to exactly the same data.

use std::collections::BTreeSet;
use std::io::Write;

use futures_util::TryStreamExt;
use rapport_core::date::{format_date, format_instant};
use rapport_core::money::Money;
use rapport_core::opportunity::Percent;
use rapport_core::service_case::Hours;
use time::{Date, OffsetDateTime};

use crate::error::StoreError;
use crate::formula::guard;
use crate::kind::Kind;
use crate::on_pool;
use crate::portfolio::{ACCOUNT_COLUMNS, AccountRow};
use crate::store::Store;

#[derive(sqlx::FromRow)]
struct ContactRow {
    external_id: String,
    account: String,
    name: String,
    title: Option<String>,
    role: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    language: Option<String>,
    opted_out: bool,
    attributes: String,
}

#[derive(sqlx::FromRow)]
struct RevenueRow {
    account: String,
    period: String,
    billed: Option<i64>,
    booked: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct OpportunityRow {
    external_id: String,
    account: String,
    amount: Option<i64>,
    stage: Option<String>,
    outcome: Option<String>,
    discount_bp: Option<i32>,
    opened_on: Option<Date>,
    closed_on: Option<Date>,
}

#[derive(sqlx::FromRow)]
struct CaseRow {
    external_id: String,
    account: String,
    kind: Option<String>,
    opened_on: Option<Date>,
    closed_on: Option<Date>,
    effort_centihours: Option<i64>,
    billable: Option<bool>,
}

#[derive(sqlx::FromRow)]
struct ResponseRow {
    contact: String,
    wave: String,
    submitted_at: OffsetDateTime,
    ltr: i32,
    comment: Option<String>,
    scores: String,
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(|s| guard(s).into_owned()).unwrap_or_default()
}

fn money(v: Option<i64>) -> String {
    v.map(|c| Money(c).to_string()).unwrap_or_default()
}

fn date(v: Option<Date>) -> String {
    v.map(format_date).unwrap_or_default()
}

fn flag(v: Option<bool>) -> String {
    v.map(|b| b.to_string()).unwrap_or_default()
}

/// A stored JSON object (custom attributes, or rated questions).
fn parse_json_map(json: &str) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Other(anyhow::Error::new(e).context("reading stored JSON")))
}

/// The header row: the canonical columns, then one per key, guarded as cells are (a custom
/// attribute is named by whatever header its file had).
fn header(canonical: &[String], keys: &[String]) -> Vec<String> {
    canonical.iter().cloned().chain(keys.iter().map(|k| guard(k).into_owned())).collect()
}

/// The keys of every JSON object in a column (custom attributes, or rated questions), sorted.
async fn json_keys(store: &Store, sql: &str) -> Result<Vec<String>, StoreError> {
    let mut keys = BTreeSet::new();
    on_pool!(store, |pool| {
        let mut rows = sqlx::query_scalar::<_, String>(sql).fetch(pool);
        while let Some(json) = rows.try_next().await? {
            keys.extend(parse_json_map(&json)?.into_iter().map(|(k, _)| k));
        }
    });
    Ok(keys.into_iter().collect())
}

fn json_cells(json: &str, keys: &[String]) -> Result<Vec<String>, StoreError> {
    let map = parse_json_map(json)?;
    Ok(keys
        .iter()
        .map(|k| match map.get(k) {
            Some(serde_json::Value::String(s)) => guard(s).into_owned(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        })
        .collect())
}

fn csv_error(e: csv::Error) -> StoreError {
    StoreError::Other(anyhow::Error::new(e).context("writing the CSV file"))
}

/// Writes every record of `kind` as CSV; returns how many rows were written.
pub async fn export_csv<W: Write>(store: &Store, kind: Kind, out: W) -> Result<u64, StoreError> {
    let mut w = csv::WriterBuilder::new().from_writer(out);
    let mut n: u64 = 0;
    let canonical: Vec<String> = kind.canonical_headers().iter().map(|s| s.to_string()).collect();
    macro_rules! stream {
        ($row:ty, $sql:expr, |$r:ident| $cells:expr) => {
            on_pool!(store, |pool| {
                let mut rows = sqlx::query_as::<_, $row>($sql).fetch(pool);
                while let Some($r) = rows.try_next().await? {
                    let cells: Vec<String> = $cells;
                    w.write_record(&cells).map_err(csv_error)?;
                    n += 1;
                }
            })
        };
    }
    match kind {
        Kind::Accounts => {
            let sql = format!("SELECT {ACCOUNT_COLUMNS}, attributes FROM accounts ORDER BY external_id");
            let keys = json_keys(store, "SELECT attributes FROM accounts WHERE attributes <> '{}'").await?;
            w.write_record(header(&canonical, &keys)).map_err(csv_error)?;
            stream!(AccountRow, &sql, |r| {
                let mut c = vec![
                    guard(&r.external_id).into_owned(),
                    guard(&r.name).into_owned(),
                    text(&r.vertical),
                    text(&r.region),
                    text(&r.owner_email),
                    money(r.billed_revenue),
                    money(r.potential_revenue),
                    money(r.cost_of_sales),
                    r.payment_days.map(|d| d.to_string()).unwrap_or_default(),
                    r.relationship_style.clone().unwrap_or_default(),
                    flag(r.strategic),
                    text(&r.sponsor_email),
                ];
                c.extend(json_cells(&r.attributes, &keys)?);
                c
            });
        }
        Kind::Contacts => {
            let keys = json_keys(store, "SELECT attributes FROM contacts WHERE attributes <> '{}'").await?;
            w.write_record(header(&canonical, &keys)).map_err(csv_error)?;
            stream!(
                ContactRow,
                "SELECT c.external_id, a.external_id AS account, c.name, c.title, c.role, c.email, c.phone, c.language, \
                 c.opted_out, c.attributes \
                 FROM contacts c JOIN accounts a ON a.id = c.account_id ORDER BY c.external_id",
                |r| {
                    let mut c = vec![
                        guard(&r.external_id).into_owned(),
                        guard(&r.account).into_owned(),
                        guard(&r.name).into_owned(),
                        text(&r.title),
                        r.role.clone().unwrap_or_default(),
                        text(&r.email),
                        text(&r.phone),
                        text(&r.language),
                        flag(Some(r.opted_out)),
                    ];
                    c.extend(json_cells(&r.attributes, &keys)?);
                    c
                }
            );
        }
        Kind::Revenue => {
            w.write_record(&canonical).map_err(csv_error)?;
            stream!(
                RevenueRow,
                "SELECT a.external_id AS account, r.period, r.billed, r.booked FROM revenue r \
                 JOIN accounts a ON a.id = r.account_id ORDER BY a.external_id, r.period",
                |r| vec![guard(&r.account).into_owned(), r.period.clone(), money(r.billed), money(r.booked)]
            );
        }
        Kind::Opportunities => {
            w.write_record(&canonical).map_err(csv_error)?;
            stream!(
                OpportunityRow,
                "SELECT o.external_id, a.external_id AS account, o.amount, o.stage, o.outcome, o.discount_bp, \
                 o.opened_on, o.closed_on FROM opportunities o JOIN accounts a ON a.id = o.account_id ORDER BY o.external_id",
                |r| vec![
                    guard(&r.external_id).into_owned(),
                    guard(&r.account).into_owned(),
                    money(r.amount),
                    text(&r.stage),
                    r.outcome.clone().unwrap_or_default(),
                    r.discount_bp.map(|p| Percent(p).to_string()).unwrap_or_default(),
                    date(r.opened_on),
                    date(r.closed_on),
                ]
            );
        }
        Kind::ServiceCases => {
            w.write_record(&canonical).map_err(csv_error)?;
            stream!(
                CaseRow,
                "SELECT s.external_id, a.external_id AS account, s.kind, s.opened_on, s.closed_on, s.effort_centihours, \
                 s.billable FROM service_cases s JOIN accounts a ON a.id = s.account_id ORDER BY s.external_id",
                |r| vec![
                    guard(&r.external_id).into_owned(),
                    guard(&r.account).into_owned(),
                    r.kind.clone().unwrap_or_default(),
                    date(r.opened_on),
                    date(r.closed_on),
                    r.effort_centihours.map(|h| Hours(h).to_string()).unwrap_or_default(),
                    flag(r.billable),
                ]
            );
        }
        Kind::Responses => {
            let keys = json_keys(store, "SELECT scores FROM responses WHERE scores <> '{}'").await?;
            w.write_record(header(&canonical, &keys)).map_err(csv_error)?;
            stream!(
                ResponseRow,
                "SELECT c.external_id AS contact, w.name AS wave, r.submitted_at, r.ltr, r.comment, r.scores \
                 FROM responses r JOIN contacts c ON c.id = r.contact_id JOIN waves w ON w.id = r.wave_id \
                 ORDER BY w.name, c.external_id, r.submitted_at, r.id",
                |r| {
                    let mut c = vec![
                        guard(&r.contact).into_owned(),
                        guard(&r.wave).into_owned(),
                        format_instant(r.submitted_at),
                        r.ltr.to_string(),
                        text(&r.comment),
                    ];
                    c.extend(json_cells(&r.scores, &keys)?);
                    c
                }
            );
        }
    }
    w.flush().map_err(|e| StoreError::Other(anyhow::Error::new(e).context("writing the CSV file")))?;
    Ok(n)
}
