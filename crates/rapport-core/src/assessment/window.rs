//! The window an assessment covers: whole calendar quarters, first to last inclusive.

use std::fmt;

use time::Date;

use crate::period::{Period, PeriodError};

/// A calendar quarter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    /// The year.
    pub year: i32,
    /// 1-4.
    pub quarter: u8,
}

impl Quarter {
    /// The quarter a day falls in.
    pub fn of(day: Date) -> Quarter {
        Quarter { year: day.year(), quarter: (u8::from(day.month()) - 1) / 3 + 1 }
    }

    /// The quarter a period (month or quarter) falls in.
    pub fn of_period(period: Period) -> Quarter {
        Quarter { year: period.year(), quarter: period.quarter() }
    }

    fn ordinal(self) -> i64 {
        i64::from(self.year) * 4 + i64::from(self.quarter) - 1
    }

    fn from_ordinal(n: i64) -> Quarter {
        Quarter { year: n.div_euclid(4) as i32, quarter: n.rem_euclid(4) as u8 + 1 }
    }

    /// The quarter `n` quarters later (earlier when negative).
    pub fn plus(self, n: i64) -> Quarter {
        Quarter::from_ordinal(self.ordinal() + n)
    }

    /// As a period.
    pub fn period(self) -> Period {
        Period::Quarter { year: self.year, quarter: self.quarter }
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-Q{}", self.year, self.quarter)
    }
}

/// Why a window was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// A bound is not a period.
    #[error(transparent)]
    Period(#[from] PeriodError),
    /// The window runs backwards.
    #[error("the window starts at {first} but ends at {last}, before it: the first quarter must come before the last")]
    Backwards {
        /// The first quarter asked for.
        first: Quarter,
        /// The last quarter asked for.
        last: Quarter,
    },
    /// Longer than the history anyone keeps.
    #[error("a window of {0} quarters is longer than 40 (ten years): choose a shorter one")]
    TooLong(i64),
}

/// Whole quarters, `first` to `last` inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// The first quarter.
    pub first: Quarter,
    /// The last quarter.
    pub last: Quarter,
}

impl Window {
    /// The four quarters ending with the one `today` falls in: the default window.
    pub fn year_to(today: Date) -> Window {
        let last = Quarter::of(today);
        Window { first: last.plus(-3), last }
    }

    /// A window from two periods (months or quarters; a month stands for its quarter), either
    /// missing bound taken from the default window ending `today`.
    pub fn parse(since: Option<&str>, until: Option<&str>, today: Date) -> Result<Window, WindowError> {
        let default = Window::year_to(today);
        let bound = |text: Option<&str>, fallback: Quarter| -> Result<Quarter, WindowError> {
            Ok(match text {
                Some(t) => Quarter::of_period(Period::parse(t)?),
                None => fallback,
            })
        };
        let last = bound(until, default.last)?;
        // A window given only its end runs the four quarters up to it.
        let first = bound(since, if until.is_some() { last.plus(-3) } else { default.first })?;
        let window = Window { first, last };
        if last < first {
            return Err(WindowError::Backwards { first, last });
        }
        if window.len() > 40 {
            return Err(WindowError::TooLong(window.len() as i64));
        }
        Ok(window)
    }

    /// How many quarters it holds.
    pub fn len(&self) -> usize {
        (self.last.ordinal() - self.first.ordinal() + 1).max(0) as usize
    }

    /// Always false: a window holds at least one quarter.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its quarters, oldest first.
    pub fn quarters(&self) -> impl Iterator<Item = Quarter> + '_ {
        (self.first.ordinal()..=self.last.ordinal()).map(Quarter::from_ordinal)
    }

    /// Whether a quarter is inside.
    pub fn contains(&self, quarter: Quarter) -> bool {
        self.first <= quarter && quarter <= self.last
    }

    /// The window of the same length just before this one: what "once brought more" and
    /// "revenue falling" compare with.
    pub fn previous(&self) -> Window {
        let n = self.len() as i64;
        Window { first: self.first.plus(-n), last: self.last.plus(-n) }
    }

    /// The later half of the window (the middle quarter of an odd window goes to neither
    /// half): trends compare it with [`Window::earlier_half`].
    pub fn later_half(&self) -> Window {
        let half = (self.len() / 2) as i64;
        Window { first: self.last.plus(1 - half.max(1)), last: self.last }
    }

    /// The earlier half of the window.
    pub fn earlier_half(&self) -> Window {
        let half = (self.len() / 2) as i64;
        Window { first: self.first, last: self.first.plus(half.max(1) - 1) }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last { write!(f, "{}", self.first) } else { write!(f, "{} to {}", self.first, self.last) }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn q(year: i32, quarter: u8) -> Quarter {
        Quarter { year, quarter }
    }

    #[test]
    fn the_default_window_is_the_four_quarters_up_to_today() {
        let w = Window::year_to(date!(2026 - 11 - 24));
        assert_eq!((w.first, w.last), (q(2026, 1), q(2026, 4)));
        let w = Window::year_to(date!(2026 - 02 - 01));
        assert_eq!((w.first, w.last), (q(2025, 2), q(2026, 1)));
        assert_eq!(w.to_string(), "2025-Q2 to 2026-Q1");
    }

    #[test]
    fn bounds_are_periods_and_a_month_stands_for_its_quarter() {
        let today = date!(2026 - 11 - 24);
        let w = Window::parse(Some("2025-02"), Some("2025-Q4"), today).unwrap();
        assert_eq!((w.first, w.last, w.len()), (q(2025, 1), q(2025, 4), 4));
        let w = Window::parse(None, Some("2025-Q2"), today).unwrap();
        assert_eq!((w.first, w.last), (q(2024, 3), q(2025, 2)));
        assert!(matches!(Window::parse(Some("2026-Q3"), Some("2026-Q1"), today), Err(WindowError::Backwards { .. })));
        assert!(matches!(Window::parse(Some("last year"), None, today), Err(WindowError::Period(_))));
        assert!(matches!(Window::parse(Some("2000-Q1"), None, today), Err(WindowError::TooLong(_))));
    }

    #[test]
    fn halves_and_the_previous_window() {
        let w = Window { first: q(2025, 3), last: q(2026, 2) };
        assert_eq!(w.previous(), Window { first: q(2024, 3), last: q(2025, 2) });
        assert_eq!(w.earlier_half(), Window { first: q(2025, 3), last: q(2025, 4) });
        assert_eq!(w.later_half(), Window { first: q(2026, 1), last: q(2026, 2) });
        let odd = Window { first: q(2026, 1), last: q(2026, 3) };
        assert_eq!(odd.earlier_half(), Window { first: q(2026, 1), last: q(2026, 1) });
        assert_eq!(odd.later_half(), Window { first: q(2026, 3), last: q(2026, 3) });
        let one = Window { first: q(2026, 1), last: q(2026, 1) };
        assert_eq!((one.earlier_half(), one.later_half()), (one, one));
        assert_eq!(q(2026, 1).plus(-1), q(2025, 4));
        assert_eq!(w.quarters().count(), 4);
    }
}
