//! Sales opportunities: the flow of new business from each account.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::money::Money;

/// Where an opportunity ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Still being worked.
    Open,
    /// Closed and won.
    Won,
    /// Closed and lost.
    Lost,
}

impl Outcome {
    /// Parses "open", "won" or "lost" (and "closed won"/"closed lost" as CRMs write them).
    pub fn parse(text: &str) -> Option<Outcome> {
        match text.trim().to_ascii_lowercase().replace(['_', '-'], " ").as_str() {
            "open" => Some(Outcome::Open),
            "won" | "closed won" => Some(Outcome::Won),
            "lost" | "closed lost" => Some(Outcome::Lost),
            _ => None,
        }
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Open => "open",
            Outcome::Won => "won",
            Outcome::Lost => "lost",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A discount in hundredths of a percent (1250 = 12.50 %), exact like money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Percent(pub i32);

/// Why a text is not a percentage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a percentage between 0 and 100: write e.g. 12.5 (to two decimals, no % sign needed)")]
pub struct PercentError(pub String);

impl Percent {
    /// Parses "12", "12.5", "12.50 %" into hundredths of a percent, 0 to 100.
    pub fn parse(text: &str) -> Result<Percent, PercentError> {
        let s = text.trim().trim_end_matches('%').trim_end();
        let m = crate::money::Money::parse(s).map_err(|_| PercentError(text.to_string()))?;
        if !(0..=10_000).contains(&m.0) {
            return Err(PercentError(text.to_string()));
        }
        Ok(Percent(m.0 as i32))
    }

    /// As a float percentage, for averages shown to people.
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::money::Money(i64::from(self.0)).fmt(f)
    }
}

/// A sales opportunity at an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opportunity {
    /// The CRM id of the opportunity.
    pub opportunity_id: String,
    /// The account's CRM id.
    pub account_id: String,
    /// Deal value.
    pub amount: Option<Money>,
    /// The CRM's stage name, kept as written.
    pub stage: Option<String>,
    /// Open, won or lost.
    pub outcome: Option<Outcome>,
    /// Discount given (or asked for).
    pub discount: Option<Percent>,
    /// When it was opened.
    pub opened_on: Option<Date>,
    /// When it was closed.
    pub closed_on: Option<Date>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_discounts_parse_as_crms_write_them() {
        assert_eq!(Outcome::parse("Closed Won"), Some(Outcome::Won));
        assert_eq!(Outcome::parse("closed_lost"), Some(Outcome::Lost));
        assert_eq!(Percent::parse("12.5 %"), Ok(Percent(1250)));
        assert_eq!(Percent(1250).to_string(), "12.50");
        assert!(Percent::parse("101").is_err());
        assert!(Percent::parse("-1").is_err());
    }
}
