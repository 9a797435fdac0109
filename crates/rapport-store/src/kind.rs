//! The kinds of records that come in and go out as files.

use std::fmt;

/// A kind of portfolio record, as named on the command line (`rapport import contacts ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Accounts (companies).
    Accounts,
    /// Contacts at accounts.
    Contacts,
    /// Revenue per account and period.
    Revenue,
    /// Sales opportunities.
    Opportunities,
    /// Service cases.
    ServiceCases,
    /// Survey answers.
    Responses,
}

impl Kind {
    /// Every kind, in the order a full load must follow (referenced before referencing).
    pub const ALL: [Kind; 6] =
        [Kind::Accounts, Kind::Contacts, Kind::Revenue, Kind::Opportunities, Kind::ServiceCases, Kind::Responses];

    /// The name used on the command line and in file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Accounts => "accounts",
            Kind::Contacts => "contacts",
            Kind::Revenue => "revenue",
            Kind::Opportunities => "opportunities",
            Kind::ServiceCases => "service-cases",
            Kind::Responses => "responses",
        }
    }

    /// Parses a kind's name (`service_cases` is accepted too).
    pub fn parse(text: &str) -> Option<Kind> {
        let t = text.trim().to_ascii_lowercase().replace('_', "-");
        Kind::ALL.into_iter().find(|k| k.as_str() == t)
    }

    /// The header line an export writes and an import understands without aliases.
    pub fn canonical_headers(self) -> &'static [&'static str] {
        match self {
            Kind::Accounts => &[
                "account_id",
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
            ],
            Kind::Contacts => {
                &["contact_id", "account_id", "name", "title", "role", "email", "phone", "language", "opted_out"]
            }
            Kind::Revenue => &["account_id", "period", "billed", "booked"],
            Kind::Opportunities => &[
                "opportunity_id",
                "account_id",
                "amount",
                "stage",
                "outcome",
                "discount_pct",
                "opened_on",
                "closed_on",
            ],
            Kind::ServiceCases => {
                &["case_id", "account_id", "kind", "opened_on", "closed_on", "effort_hours", "billable"]
            }
            Kind::Responses => &["contact_id", "wave", "submitted_at", "ltr", "comment"],
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
