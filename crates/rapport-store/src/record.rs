//! One portfolio record of any kind, and how it maps onto its table.

use rapport_core::account::Account;
use rapport_core::contact::Contact;
use rapport_core::date::format_instant;
use rapport_core::opportunity::Opportunity;
use rapport_core::response::Response;
use rapport_core::revenue::RevenueEntry;
use rapport_core::service_case::ServiceCase;
use time::{Date, OffsetDateTime};

use crate::kind::Kind;

/// A record of any kind, as parsed from a file or generated for the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// An account.
    Account(Account),
    /// A contact.
    Contact(Contact),
    /// A revenue entry.
    Revenue(RevenueEntry),
    /// An opportunity.
    Opportunity(Opportunity),
    /// A service case.
    ServiceCase(ServiceCase),
    /// A survey answer.
    Response(Response),
}

impl Record {
    /// The kind of record.
    pub fn kind(&self) -> Kind {
        match self {
            Record::Account(_) => Kind::Accounts,
            Record::Contact(_) => Kind::Contacts,
            Record::Revenue(_) => Kind::Revenue,
            Record::Opportunity(_) => Kind::Opportunities,
            Record::ServiceCase(_) => Kind::ServiceCases,
            Record::Response(_) => Kind::Responses,
        }
    }

    /// What identifies the record: two rows of one file with the same key are duplicates.
    pub fn key(&self) -> String {
        match self {
            Record::Account(a) => a.account_id.clone(),
            Record::Contact(c) => c.contact_id.clone(),
            Record::Revenue(r) => format!("{}\u{1f}{}", r.account_id, r.period),
            Record::Opportunity(o) => o.opportunity_id.clone(),
            Record::ServiceCase(c) => c.case_id.clone(),
            Record::Response(r) => format!("{}\u{1f}{}\u{1f}{}", r.contact_id, r.wave, format_instant(r.submitted_at)),
        }
    }

    /// How the key is described in a duplicate error.
    pub fn key_description(&self) -> String {
        match self {
            Record::Account(a) => format!("account_id '{}'", a.account_id),
            Record::Contact(c) => format!("contact_id '{}'", c.contact_id),
            Record::Revenue(r) => format!("account_id '{}' and period {}", r.account_id, r.period),
            Record::Opportunity(o) => format!("opportunity_id '{}'", o.opportunity_id),
            Record::ServiceCase(c) => format!("case_id '{}'", c.case_id),
            Record::Response(r) => format!(
                "contact_id '{}', wave '{}' and submitted_at {}",
                r.contact_id,
                r.wave,
                format_instant(r.submitted_at)
            ),
        }
    }

    /// The account this record belongs to (its CRM id), for everything but accounts and
    /// responses (which reach their account through the contact).
    pub fn account_ref(&self) -> Option<&str> {
        match self {
            Record::Contact(c) => Some(&c.account_id),
            Record::Revenue(r) => Some(&r.account_id),
            Record::Opportunity(o) => Some(&o.account_id),
            Record::ServiceCase(c) => Some(&c.account_id),
            Record::Account(_) | Record::Response(_) => None,
        }
    }
}

/// A value bound into SQL, typed even when null (PostgreSQL needs the type of a NULL).
#[derive(Debug, Clone)]
pub enum SqlValue {
    /// A whole number (ids, cents, hundredths, flags stored as numbers).
    Int(Option<i64>),
    /// Text.
    Text(Option<String>),
    /// A boolean.
    Bool(Option<bool>),
    /// A calendar date.
    Date(Option<Date>),
    /// A UTC instant.
    Time(Option<OffsetDateTime>),
    /// Bytes (an analytics cell's packed driver sums).
    Bytes(Option<Vec<u8>>),
}

/// How one kind of record is stored.
pub struct TableSpec {
    /// The table.
    pub table: &'static str,
    /// Its columns, in the order [`values`] produces them.
    pub columns: &'static [&'static str],
    /// The unique key that makes an import an upsert.
    pub conflict: &'static [&'static str],
    /// Whether the table has an `updated_at` to touch when a row changes.
    pub touches_updated_at: bool,
    /// Whether the table has a JSON `attributes` column (merged, not replaced).
    pub has_attributes: bool,
}

/// The storage of each kind.
pub fn table_spec(kind: Kind) -> &'static TableSpec {
    match kind {
        Kind::Accounts => &TableSpec {
            table: "accounts",
            columns: &[
                "external_id",
                "name",
                "vertical",
                "region",
                "owner_email",
                "billed_revenue",
                "potential_revenue",
                "cost_of_sales",
                "payment_days",
                "relationship_style",
                "strategic",
                "sponsor_email",
                "attributes",
            ],
            conflict: &["external_id"],
            touches_updated_at: true,
            has_attributes: true,
        },
        Kind::Contacts => &TableSpec {
            table: "contacts",
            columns: &[
                "external_id",
                "account_id",
                "name",
                "title",
                "role",
                "email",
                "phone",
                "language",
                "opted_out",
                "attributes",
            ],
            conflict: &["external_id"],
            touches_updated_at: true,
            has_attributes: true,
        },
        Kind::Revenue => &TableSpec {
            table: "revenue",
            columns: &["account_id", "period", "billed", "booked"],
            conflict: &["account_id", "period"],
            touches_updated_at: false,
            has_attributes: false,
        },
        Kind::Opportunities => &TableSpec {
            table: "opportunities",
            columns: &[
                "external_id",
                "account_id",
                "amount",
                "stage",
                "outcome",
                "discount_bp",
                "opened_on",
                "closed_on",
            ],
            conflict: &["external_id"],
            touches_updated_at: false,
            has_attributes: false,
        },
        Kind::ServiceCases => &TableSpec {
            table: "service_cases",
            columns: &["external_id", "account_id", "kind", "opened_on", "closed_on", "effort_centihours", "billable"],
            conflict: &["external_id"],
            touches_updated_at: false,
            has_attributes: false,
        },
        Kind::Responses => &TableSpec {
            table: "responses",
            columns: &["wave_id", "contact_id", "account_id", "submitted_at", "ltr", "comment", "scores", "source"],
            conflict: &["wave_id", "contact_id", "submitted_at"],
            touches_updated_at: false,
            has_attributes: false,
        },
    }
}

/// The database column a file's canonical field is stored in.
pub fn column_of_field(kind: Kind, field: &str) -> &'static str {
    let spec = table_spec(kind);
    let mapped = match (kind, field) {
        (Kind::Accounts, "account_id") | (Kind::Contacts, "contact_id") => "external_id",
        (Kind::Opportunities, "opportunity_id") | (Kind::ServiceCases, "case_id") => "external_id",
        (Kind::Opportunities, "discount_pct") => "discount_bp",
        (Kind::ServiceCases, "effort_hours") => "effort_centihours",
        (_, f) => f,
    };
    spec.columns.iter().copied().find(|c| *c == mapped).unwrap_or("")
}

/// Ids resolved for a record before it is written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Resolved {
    /// The internal id of the record's account.
    pub account_id: i64,
    /// The internal id of the answering contact (responses).
    pub contact_id: i64,
    /// The internal id of the wave (responses).
    pub wave_id: i64,
}

fn text(s: &Option<String>) -> SqlValue {
    SqlValue::Text(s.clone())
}

/// The record's column values, in [`TableSpec::columns`] order.
pub fn values(record: &Record, ids: Resolved) -> Vec<SqlValue> {
    let attrs = |a: &rapport_core::account::Attributes| {
        SqlValue::Text(Some(serde_json::to_string(a).expect("string maps always serialise")))
    };
    match record {
        Record::Account(a) => vec![
            SqlValue::Text(Some(a.account_id.clone())),
            SqlValue::Text(Some(a.name.clone())),
            text(&a.vertical),
            text(&a.region),
            text(&a.owner_email),
            SqlValue::Int(a.billed_revenue.map(|m| m.0)),
            SqlValue::Int(a.potential_revenue.map(|m| m.0)),
            SqlValue::Int(a.cost_of_sales.map(|m| m.0)),
            SqlValue::Int(a.payment_days.map(i64::from)),
            SqlValue::Text(a.relationship_style.map(|s| s.as_str().to_string())),
            SqlValue::Bool(a.strategic),
            text(&a.sponsor_email),
            attrs(&a.attributes),
        ],
        Record::Contact(c) => vec![
            SqlValue::Text(Some(c.contact_id.clone())),
            SqlValue::Int(Some(ids.account_id)),
            SqlValue::Text(Some(c.name.clone())),
            text(&c.title),
            SqlValue::Text(c.role.map(|r| r.as_str().to_string())),
            SqlValue::Text(c.email.as_ref().map(|e| e.as_str().to_string())),
            text(&c.phone),
            text(&c.language),
            SqlValue::Bool(Some(c.opted_out)),
            attrs(&c.attributes),
        ],
        Record::Revenue(r) => vec![
            SqlValue::Int(Some(ids.account_id)),
            SqlValue::Text(Some(r.period.to_string())),
            SqlValue::Int(r.billed.map(|m| m.0)),
            SqlValue::Int(r.booked.map(|m| m.0)),
        ],
        Record::Opportunity(o) => vec![
            SqlValue::Text(Some(o.opportunity_id.clone())),
            SqlValue::Int(Some(ids.account_id)),
            SqlValue::Int(o.amount.map(|m| m.0)),
            text(&o.stage),
            SqlValue::Text(o.outcome.map(|x| x.as_str().to_string())),
            SqlValue::Int(o.discount.map(|p| i64::from(p.0))),
            SqlValue::Date(o.opened_on),
            SqlValue::Date(o.closed_on),
        ],
        Record::ServiceCase(c) => vec![
            SqlValue::Text(Some(c.case_id.clone())),
            SqlValue::Int(Some(ids.account_id)),
            SqlValue::Text(c.kind.map(|k| k.as_str().to_string())),
            SqlValue::Date(c.opened_on),
            SqlValue::Date(c.closed_on),
            SqlValue::Int(c.effort.map(|h| h.0)),
            SqlValue::Bool(c.billable),
        ],
        Record::Response(r) => vec![
            SqlValue::Int(Some(ids.wave_id)),
            SqlValue::Int(Some(ids.contact_id)),
            SqlValue::Int(Some(ids.account_id)),
            SqlValue::Time(Some(r.submitted_at)),
            SqlValue::Int(Some(i64::from(r.ltr.get()))),
            text(&r.comment),
            SqlValue::Text(Some(serde_json::to_string(&r.scores).expect("score maps always serialise"))),
            SqlValue::Text(Some("import".to_string())),
        ],
    }
}
