//! Exact money: integer minor units (cents), never a float.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An amount of money in minor units (hundredths) of the portfolio's currency.
///
/// Every amount in Rapport is one of these: billed and potential revenue, cost of sales,
/// opportunity amounts. Sums stay exact at any portfolio size (an `i64` of cents holds
/// ±92 quadrillion), and parsing rejects anything that is not a plain decimal so that a
/// CRM export's "1.234,56" never silently becomes a different number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(pub i64);

/// Why a text is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a plain decimal number.
    #[error(
        "'{0}' is not an amount: write a plain decimal such as 1234.56 (no thousands separators, `.` for decimals)"
    )]
    Malformed(String),
    /// More than two decimals would need rounding.
    #[error("'{0}' has more than two decimals: amounts are kept to the cent")]
    TooPrecise(String),
    /// Beyond the largest amount Rapport keeps.
    #[error("'{0}' is too large an amount: Rapport keeps amounts up to 10,000,000,000,000 (ten trillion) either way")]
    Overflow(String),
}

impl Money {
    /// The largest amount, either way, that Rapport reads: ten trillion. Far beyond any one
    /// account's revenue or deal, and small enough that the totals of a portfolio (900,000
    /// such amounts) and SQL's sums over them stay within 64 bits.
    pub const LARGEST: Money = Money(1_000_000_000_000_000);

    /// Zero.
    pub const ZERO: Money = Money(0);

    /// Builds an amount from whole units (e.g. dollars).
    pub const fn from_units(units: i64) -> Money {
        Money(units * 100)
    }

    /// The amount in minor units.
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// The amount as a float, for charts and correlations only (never for sums).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// The amount rounded to whole units (half away from zero) with thousands grouped:
    /// "$1,234,568", "-$70". Pages, report notes and reasons write amounts this way; files
    /// keep the exact [`Display`](fmt::Display) form that import reads back.
    pub fn grouped(self) -> Grouped {
        Grouped(self)
    }

    /// Parses a plain decimal ("1234", "-12.5", "0.07"); a leading '+' and surrounding
    /// spaces are accepted.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let s = text.trim();
        let malformed = || MoneyError::Malformed(text.to_string());
        let (negative, digits) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(malformed());
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        if digits.ends_with('.') && frac.is_empty() && whole.is_empty() {
            return Err(malformed());
        }
        let frac_trimmed = frac.trim_end_matches('0');
        if frac_trimmed.len() > 2 {
            return Err(MoneyError::TooPrecise(text.to_string()));
        }
        let overflow = || MoneyError::Overflow(text.to_string());
        let whole_value: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| overflow())? };
        let mut cents_part: i64 = 0;
        for (i, b) in frac_trimmed.bytes().enumerate() {
            cents_part += i64::from(b - b'0') * if i == 0 { 10 } else { 1 };
        }
        let total = whole_value
            .checked_mul(100)
            .and_then(|v| v.checked_add(cents_part))
            .filter(|&v| v <= Money::LARGEST.0)
            .ok_or_else(overflow)?;
        Ok(Money(if negative { -total } else { total }))
    }
}

/// An amount as people read it in a sentence or on a page: whole units, thousands grouped,
/// "$1,234,568" (see [`Money::grouped`]).
#[derive(Clone, Copy, Debug)]
pub struct Grouped(Money);

impl fmt::Display for Grouped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cents = self.0.0.unsigned_abs();
        let digits = ((cents + 50) / 100).to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 2);
        if self.0.0 < 0 && digits != "0" {
            out.push('-');
        }
        out.push('$');
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        f.pad(&out)
    }
}

impl fmt::Display for Money {
    /// Plain decimal with two places and no separators: "1234.50", "-0.07".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    /// Saturating: no total of amounts Rapport accepts comes near the limit (see
    /// [`Money::LARGEST`]), and one that did must not wrap to a negative figure.
    fn add(self, rhs: Money) -> Money {
        Money(self.0.saturating_add(rhs.0))
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    /// Saturating, as [`Money`]'s addition is.
    fn sub(self, rhs: Money) -> Money {
        Money(self.0.saturating_sub(rhs.0))
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |total, m| total + m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_decimals_to_the_cent() {
        assert_eq!(Money::parse("1234"), Ok(Money(123_400)));
        assert_eq!(Money::parse("1234.5"), Ok(Money(123_450)));
        assert_eq!(Money::parse("1234.56"), Ok(Money(123_456)));
        assert_eq!(Money::parse(" -0.07 "), Ok(Money(-7)));
        assert_eq!(Money::parse("+3"), Ok(Money(300)));
        assert_eq!(Money::parse(".5"), Ok(Money(50)));
        assert_eq!(Money::parse("7."), Ok(Money(700)));
        assert_eq!(Money::parse("10.500"), Ok(Money(1050)));
    }

    #[test]
    fn rejects_what_a_spreadsheet_would_guess_at() {
        for bad in ["", "-", ".", "1,234.56", "1.234,56", "12e3", "$12", "NaN", "1 000", "--1"] {
            assert!(matches!(Money::parse(bad), Err(MoneyError::Malformed(_))), "{bad}");
        }
        assert!(matches!(Money::parse("1.005"), Err(MoneyError::TooPrecise(_))));
        assert!(matches!(Money::parse("99999999999999999999"), Err(MoneyError::Overflow(_))));
        assert_eq!(Money::parse("10000000000000"), Ok(Money::LARGEST));
        assert_eq!(Money::parse("-10000000000000.00"), Ok(Money(-Money::LARGEST.0)));
        assert!(matches!(Money::parse("10000000000000.01"), Err(MoneyError::Overflow(_))));
        assert!(matches!(Money::parse("50000000000000000"), Err(MoneyError::Overflow(_))));
        assert_eq!(Money(i64::MAX) + Money(1), Money(i64::MAX), "a total saturates rather than wraps");
    }

    #[test]
    fn grouped_reads_as_whole_units_with_thousands_separated() {
        assert_eq!(Money(293_507_700).grouped().to_string(), "$2,935,077");
        assert_eq!(Money(123_456_789).grouped().to_string(), "$1,234,568");
        assert_eq!(Money(99_950).grouped().to_string(), "$1,000");
        assert_eq!(Money(-7_049).grouped().to_string(), "-$70");
        assert_eq!(Money(-49).grouped().to_string(), "$0");
        assert_eq!(Money(0).grouped().to_string(), "$0");
        assert_eq!(Money::LARGEST.grouped().to_string(), "$10,000,000,000,000");
        assert_eq!(format!("{:>8}", Money(12_300).grouped()), "    $123");
    }

    #[test]
    fn displays_as_it_parses() {
        for (cents, text) in [(0, "0.00"), (7, "0.07"), (-7, "-0.07"), (123_450, "1234.50")] {
            assert_eq!(Money(cents).to_string(), text);
            assert_eq!(Money::parse(text), Ok(Money(cents)));
        }
    }
}
