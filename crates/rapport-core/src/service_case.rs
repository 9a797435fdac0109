//! Service cases: the effort each account takes (the squeaky wheel's oil).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

/// What kind of service work a case was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// A product exception: something made or priced outside the standard.
    Exception,
    /// A request for service.
    ServiceRequest,
    /// A change to an order already placed.
    OrderChange,
    /// A complaint.
    Complaint,
    /// Anything else.
    Other,
}

impl CaseKind {
    /// Parses the canonical names; spaces and dashes count as underscores.
    pub fn parse(text: &str) -> Option<CaseKind> {
        match text.trim().to_ascii_lowercase().replace([' ', '-'], "_").as_str() {
            "exception" | "product_exception" => Some(CaseKind::Exception),
            "service_request" => Some(CaseKind::ServiceRequest),
            "order_change" => Some(CaseKind::OrderChange),
            "complaint" => Some(CaseKind::Complaint),
            "other" => Some(CaseKind::Other),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Exception => "exception",
            CaseKind::ServiceRequest => "service_request",
            CaseKind::OrderChange => "order_change",
            CaseKind::Complaint => "complaint",
            CaseKind::Other => "other",
        }
    }
}

impl fmt::Display for CaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Hours of effort in hundredths (150 = 1.5 h), exact so that sums per account add up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hours(pub i64);

/// Why a text is not a number of hours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a number of hours: write a non-negative decimal up to 100,000, such as 1.5")]
pub struct HoursError(pub String);

impl Hours {
    /// Parses a non-negative decimal with up to two places.
    pub fn parse(text: &str) -> Result<Hours, HoursError> {
        match crate::money::Money::parse(text) {
            // A case of more than 100,000 hours (eleven years) is a typing slip.
            Ok(m) if (0..=10_000_000).contains(&m.0) => Ok(Hours(m.0)),
            _ => Err(HoursError(text.to_string())),
        }
    }

    /// As a float, for ratios shown to people.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::money::Money(self.0).fmt(f)
    }
}

/// One service case at an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCase {
    /// The service desk's id.
    pub case_id: String,
    /// The account's CRM id.
    pub account_id: String,
    /// What kind of work it was.
    pub kind: Option<CaseKind>,
    /// When it was opened.
    pub opened_on: Option<Date>,
    /// When it was closed (None while open).
    pub closed_on: Option<Date>,
    /// Effort spent on it.
    pub effort: Option<Hours>,
    /// Whether the customer paid for the work (unpaid work is value given away).
    pub billable: Option<bool>,
}
