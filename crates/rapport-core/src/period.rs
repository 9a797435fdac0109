//! Revenue periods: a month (2026-03) or a quarter (2026-Q1).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A revenue period, as finance reports it.
///
/// Months and quarters may be mixed in one portfolio; they order by their first day, a
/// quarter before the months inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Period {
    /// A calendar month, 1-12.
    Month { year: i32, month: u8 },
    /// A calendar quarter, 1-4.
    Quarter { year: i32, quarter: u8 },
}

/// Why a text is not a period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a period: write a month as YYYY-MM (2026-03) or a quarter as YYYY-Qn (2026-Q1)")]
pub struct PeriodError(pub String);

impl Period {
    /// Parses "YYYY-MM" or "YYYY-Qn" (the Q in either case).
    pub fn parse(text: &str) -> Result<Period, PeriodError> {
        let err = || PeriodError(text.to_string());
        let s = text.trim();
        let (y, rest) = s.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let year: i32 = y.parse().map_err(|_| err())?;
        if let Some(q) = rest.strip_prefix(['Q', 'q']) {
            let quarter: u8 = q.parse().map_err(|_| err())?;
            if q.len() != 1 || !(1..=4).contains(&quarter) {
                return Err(err());
            }
            return Ok(Period::Quarter { year, quarter });
        }
        if rest.len() != 2 || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let month: u8 = rest.parse().map_err(|_| err())?;
        if !(1..=12).contains(&month) {
            return Err(err());
        }
        Ok(Period::Month { year, month })
    }

    /// The year the period falls in.
    pub fn year(self) -> i32 {
        match self {
            Period::Month { year, .. } | Period::Quarter { year, .. } => year,
        }
    }

    /// The quarter (1-4) the period falls in.
    pub fn quarter(self) -> u8 {
        match self {
            Period::Month { month, .. } => (month - 1) / 3 + 1,
            Period::Quarter { quarter, .. } => quarter,
        }
    }

    /// The first day of the period.
    pub fn first_day(self) -> time::Date {
        let (year, month, _) = self.sort_key();
        let month = time::Month::try_from(month).expect("periods hold months 1-12");
        time::Date::from_calendar_date(year, month, 1).expect("the first of a month always exists")
    }

    fn sort_key(self) -> (i32, u8, u8) {
        match self {
            Period::Month { year, month } => (year, month, 1),
            Period::Quarter { year, quarter } => (year, (quarter - 1) * 3 + 1, 0),
        }
    }
}

impl Ord for Period {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
        }
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Period::parse(&value)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_months_and_quarters() {
        assert_eq!(Period::parse("2026-03"), Ok(Period::Month { year: 2026, month: 3 }));
        assert_eq!(Period::parse("2026-q4"), Ok(Period::Quarter { year: 2026, quarter: 4 }));
        assert_eq!(Period::parse("2026-Q4").unwrap().to_string(), "2026-Q4");
        for bad in ["2026", "2026-13", "2026-00", "2026-Q5", "2026-Q0", "26-01", "2026-3", "2026/03", "2026-Q12"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn orders_quarters_before_their_months() {
        let mut v = ["2026-02", "2026-Q1", "2025-12", "2026-Q2", "2026-01"].map(|p| Period::parse(p).unwrap());
        v.sort();
        let s: Vec<String> = v.iter().map(|p| p.to_string()).collect();
        assert_eq!(s, ["2025-12", "2026-Q1", "2026-01", "2026-02", "2026-Q2"]);
    }
}
