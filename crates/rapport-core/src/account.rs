//! The accounts of the portfolio, as the CRM and finance know them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// Custom attributes: columns of an import that Rapport has no field for, kept by header.
pub type Attributes = BTreeMap<String, String>;

/// How an account buys (DOMAIN.md, step 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipStyle {
    /// Buys solutions, values support and direction; switching is costly.
    Relationship,
    /// Buys on price, conformance, delivery and availability; switches easily.
    Transaction,
}

impl RelationshipStyle {
    /// Parses "relationship" or "transaction", in any case.
    pub fn parse(text: &str) -> Option<RelationshipStyle> {
        match text.trim().to_ascii_lowercase().as_str() {
            "relationship" => Some(RelationshipStyle::Relationship),
            "transaction" | "transactional" => Some(RelationshipStyle::Transaction),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            RelationshipStyle::Relationship => "relationship",
            RelationshipStyle::Transaction => "transaction",
        }
    }
}

impl fmt::Display for RelationshipStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An account: one business customer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The id the CRM gives it; the key of every import.
    pub account_id: String,
    /// The company name.
    pub name: String,
    /// Vertical market (industry).
    pub vertical: Option<String>,
    /// Sales region.
    pub region: Option<String>,
    /// Email of the account manager who owns it.
    pub owner_email: Option<String>,
    /// Revenue billed over the current year.
    pub billed_revenue: Option<Money>,
    /// Booked but not yet paid, plus open pipeline: the bubble on the matrix.
    pub potential_revenue: Option<Money>,
    /// Cost of sales over the current year.
    pub cost_of_sales: Option<Money>,
    /// Average days the account takes to pay an invoice.
    pub payment_days: Option<i32>,
    /// Relationship or transaction buyer, when stated.
    pub relationship_style: Option<RelationshipStyle>,
    /// A strategic name for the company.
    pub strategic: Option<bool>,
    /// The executive who sponsors the account (a user's email), when one does.
    pub sponsor_email: Option<String>,
    /// Columns of the import with no field of their own.
    pub attributes: Attributes,
}

/// Parses the usual spellings of a yes/no cell.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_and_flags_parse_in_any_case() {
        assert_eq!(RelationshipStyle::parse(" Relationship "), Some(RelationshipStyle::Relationship));
        assert_eq!(RelationshipStyle::parse("TRANSACTION"), Some(RelationshipStyle::Transaction));
        assert_eq!(RelationshipStyle::parse("both"), None);
        assert_eq!(parse_bool("Yes"), Some(true));
        assert_eq!(parse_bool("FALSE"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }
}
