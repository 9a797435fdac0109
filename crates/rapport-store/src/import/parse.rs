//! One row of a file into one typed record, with every problem in the row reported.

use std::collections::BTreeMap;

use rapport_core::account::{Account, Attributes, RelationshipStyle, parse_bool};
use rapport_core::contact::{Contact, Email, RoleLevel};
use rapport_core::date::{parse_date, parse_instant};
use rapport_core::money::Money;
use rapport_core::opportunity::{Opportunity, Outcome, Percent};
use rapport_core::period::Period;
use rapport_core::response::{Ltr, Response, parse_score};
use rapport_core::revenue::RevenueEntry;
use rapport_core::service_case::{CaseKind, Hours, ServiceCase};

use super::headers::Columns;
use crate::formula::unguard;
use crate::kind::Kind;
use crate::record::Record;

/// A problem with one cell (or one row) of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line as an editor shows it (the header is line 1).
    pub line: u64,
    /// The column's header as written in the file, when the problem is in one cell.
    pub column: Option<String>,
    /// The offending value, when there is one.
    pub value: Option<String>,
    /// What is wrong, and what to do.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(c) = &self.column {
            write!(f, ", column '{c}'")?;
        }
        if let Some(v) = &self.value {
            let shown: String = v.chars().take(80).collect();
            let ellipsis = if v.chars().count() > 80 { "..." } else { "" };
            write!(f, ", value {shown:?}{ellipsis}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Rated questions in a responses file take whole numbers in this range (1-5 ratings and
/// 0-10 scales both fit).
pub const DRIVER_RANGE: (u8, u8) = (0, 10);

/// Reads the cells of one row. `cells` are already valid UTF-8; `line` is the row's line.
pub struct RowReader<'a> {
    cols: &'a Columns,
    cells: &'a [String],
    line: u64,
    errors: Vec<RowError>,
}

impl<'a> RowReader<'a> {
    /// Starts reading a row.
    pub fn new(cols: &'a Columns, cells: &'a [String], line: u64) -> Self {
        RowReader { cols, cells, line, errors: Vec::new() }
    }

    fn raw(&self, field: &str) -> Option<&'a str> {
        let cells: &'a [String] = self.cells;
        let i = self.cols.index(field)?;
        let v = unguard(cells.get(i).map(String::as_str).unwrap_or(""));
        let v = v.trim();
        (!v.is_empty()).then_some(v)
    }

    fn fail(&mut self, field: &str, value: Option<&str>, message: String) {
        self.errors.push(RowError {
            line: self.line,
            column: Some(self.cols.header_of(field)),
            value: value.map(str::to_string),
            message,
        });
    }

    fn text(&mut self, field: &str) -> Option<String> {
        self.raw(field).map(str::to_string)
    }

    fn required(&mut self, field: &str) -> String {
        match self.raw(field) {
            Some(v) => v.to_string(),
            None => {
                self.fail(field, None, format!("'{field}' is required and is empty"));
                String::new()
            }
        }
    }

    fn parsed<T, E: std::fmt::Display>(&mut self, field: &str, parse: impl FnOnce(&str) -> Result<T, E>) -> Option<T> {
        let v = self.raw(field)?;
        match parse(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.fail(field, Some(v), e.to_string());
                None
            }
        }
    }

    fn choice<T>(&mut self, field: &str, parse: impl FnOnce(&str) -> Option<T>, allowed: &str) -> Option<T> {
        self.parsed(field, |v| parse(v).ok_or_else(|| format!("expected one of: {allowed}")))
    }

    fn money(&mut self, field: &str) -> Option<Money> {
        self.parsed(field, Money::parse)
    }

    fn boolean(&mut self, field: &str) -> Option<bool> {
        self.choice(field, parse_bool, "true, false")
    }

    fn attributes(&self) -> Attributes {
        let mut attrs = BTreeMap::new();
        for (name, i) in &self.cols.extra {
            let v = unguard(self.cells.get(*i).map(String::as_str).unwrap_or(""));
            if !v.trim().is_empty() {
                attrs.insert(name.clone(), v.to_string());
            }
        }
        attrs
    }

    fn finish<T>(self, value: T) -> Result<T, Vec<RowError>> {
        if self.errors.is_empty() { Ok(value) } else { Err(self.errors) }
    }
}

/// Parses one row of a file of `kind` into a record.
pub fn parse_row(kind: Kind, cols: &Columns, cells: &[String], line: u64) -> Result<Record, Vec<RowError>> {
    let mut r = RowReader::new(cols, cells, line);
    match kind {
        Kind::Accounts => {
            let account_id = r.required("account_id");
            let name = r.required("name");
            // The canonical owner_email column must hold an address; CRM exports put the
            // owner's name under "Account Owner", which is kept as written.
            let email = |r: &mut RowReader<'_>, column: &str| {
                if cols.is_canonical(column) {
                    r.parsed(column, Email::parse).map(|e| e.to_string())
                } else {
                    r.text(column)
                }
            };
            let owner_email = email(&mut r, "owner_email");
            let sponsor_email = email(&mut r, "sponsor_email");
            let account = Account {
                account_id,
                name,
                vertical: r.text("vertical"),
                region: r.text("region"),
                owner_email,
                billed_revenue: r.money("billed_revenue"),
                potential_revenue: r.money("potential_revenue"),
                cost_of_sales: r.money("cost_of_sales"),
                payment_days: r.parsed("payment_days", |v| match v.parse::<i32>() {
                    Ok(d) if (0..=3650).contains(&d) => Ok(d),
                    _ => Err("expected a whole number of days from 0 to 3650"),
                }),
                relationship_style: r.choice(
                    "relationship_style",
                    RelationshipStyle::parse,
                    "relationship, transaction",
                ),
                strategic: r.boolean("strategic"),
                sponsor_email,
                attributes: r.attributes(),
            };
            r.finish(Record::Account(account))
        }
        Kind::Contacts => {
            let contact_id = r.required("contact_id");
            let account_id = r.required("account_id");
            let name = match cols.first_last {
                Some((f, l)) => {
                    let part = |i: usize| unguard(cells.get(i).map(String::as_str).unwrap_or("")).trim().to_string();
                    let full = format!("{} {}", part(f), part(l)).trim().to_string();
                    if full.is_empty() {
                        r.errors.push(RowError {
                            line,
                            column: Some("First Name, Last Name".into()),
                            value: None,
                            message: "the contact has no name: fill First Name or Last Name".into(),
                        });
                    }
                    full
                }
                None => r.required("name"),
            };
            let contact = Contact {
                contact_id,
                account_id,
                name,
                title: r.text("title"),
                role: r.choice("role", RoleLevel::parse, "executive, manager, user"),
                email: r.parsed("email", Email::parse),
                phone: r.text("phone"),
                language: r.text("language").map(|l| l.trim().to_ascii_lowercase()),
                opted_out: r.boolean("opted_out").unwrap_or(false),
                attributes: r.attributes(),
            };
            r.finish(Record::Contact(contact))
        }
        Kind::Revenue => {
            let account_id = r.required("account_id");
            let period = r.parsed("period", Period::parse);
            if period.is_none() && r.raw("period").is_none() {
                r.fail("period", None, "'period' is required and is empty".into());
            }
            let entry = RevenueEntry {
                account_id,
                period: period.unwrap_or(Period::Month { year: 1970, month: 1 }),
                billed: r.money("billed"),
                booked: r.money("booked"),
            };
            r.finish(Record::Revenue(entry))
        }
        Kind::Opportunities => {
            let opp = Opportunity {
                opportunity_id: r.required("opportunity_id"),
                account_id: r.required("account_id"),
                amount: r.money("amount"),
                stage: r.text("stage"),
                outcome: r.choice("outcome", Outcome::parse, "open, won, lost"),
                discount: r.parsed("discount_pct", Percent::parse),
                opened_on: r.parsed("opened_on", parse_date),
                closed_on: r.parsed("closed_on", parse_date),
            };
            r.finish(Record::Opportunity(opp))
        }
        Kind::ServiceCases => {
            let case = ServiceCase {
                case_id: r.required("case_id"),
                account_id: r.required("account_id"),
                kind: r.choice("kind", CaseKind::parse, "exception, service_request, order_change, complaint, other"),
                opened_on: r.parsed("opened_on", parse_date),
                closed_on: r.parsed("closed_on", parse_date),
                effort: r.parsed("effort_hours", Hours::parse),
                billable: r.boolean("billable"),
            };
            r.finish(Record::ServiceCase(case))
        }
        Kind::Responses => {
            let contact_id = r.required("contact_id");
            let wave = r.required("wave");
            let ltr = r.parsed("ltr", Ltr::parse);
            if ltr.is_none() && r.raw("ltr").is_none() {
                r.fail("ltr", None, "'ltr' is required and is empty: give the 0-10 likelihood to recommend".into());
            }
            let submitted_at = r.parsed("submitted_at", parse_instant);
            let mut scores = BTreeMap::new();
            for (name, i) in &cols.extra {
                let v = unguard(cells.get(*i).map(String::as_str).unwrap_or("")).trim();
                if v.is_empty() {
                    continue;
                }
                match parse_score(v, DRIVER_RANGE.0, DRIVER_RANGE.1) {
                    Ok(s) => {
                        scores.insert(super::headers::normalize(name), s);
                    }
                    Err(e) => r.errors.push(RowError {
                        line,
                        column: Some(name.clone()),
                        value: Some(v.to_string()),
                        message: format!("{e} (rated questions are whole numbers)"),
                    }),
                }
            }
            // An answer given without a time is dated at the start of its wave when the wave
            // is named like a period (2026-Q3), so that re-importing the file finds it again.
            let undated = || match Period::parse(&wave) {
                Ok(p) => p.first_day().midnight().assume_utc(),
                Err(_) => time::OffsetDateTime::UNIX_EPOCH,
            };
            let submitted_at = submitted_at.unwrap_or_else(undated);
            let response = Response {
                contact_id,
                wave,
                submitted_at,
                ltr: ltr.unwrap_or(Ltr::new(0).expect("0 is a score")),
                comment: r.text("comment"),
                scores,
            };
            r.finish(Record::Response(response))
        }
    }
}
