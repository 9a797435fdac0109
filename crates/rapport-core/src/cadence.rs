//! The cadence: the program repeats monthly or quarterly (DOMAIN.md, step 7). Each cycle
//! starts a wave, reminds those who have not answered, books a review meeting for every
//! sponsored account after the wave closes, and opens with the status of the previous
//! cycle's actions.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};

/// How often the program repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CyclePeriod {
    /// Every month.
    Monthly,
    /// Every quarter.
    Quarterly,
}

impl CyclePeriod {
    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            CyclePeriod::Monthly => "monthly",
            CyclePeriod::Quarterly => "quarterly",
        }
    }

    /// The period with this name.
    pub fn parse(name: &str) -> Option<CyclePeriod> {
        match name.trim().to_ascii_lowercase().as_str() {
            "monthly" | "month" => Some(CyclePeriod::Monthly),
            "quarterly" | "quarter" => Some(CyclePeriod::Quarterly),
            _ => None,
        }
    }

    fn months(self) -> u8 {
        match self {
            CyclePeriod::Monthly => 1,
            CyclePeriod::Quarterly => 3,
        }
    }
}

/// A portfolio's cadence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cadence {
    /// Monthly or quarterly.
    pub period: CyclePeriod,
    /// The day the next cycle starts (its wave opens).
    pub next_start: Date,
    /// The survey each wave asks.
    pub survey: String,
    /// Days each wave takes answers.
    pub wave_days: u32,
    /// Days without an answer before a reminder.
    pub remind_after_days: u32,
    /// Reminders at most.
    pub max_reminders: u32,
    /// Days after a wave closes by which each sponsored account's review meeting is held.
    pub review_within_days: u32,
}

/// Why a cadence cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CadenceError {
    /// A wave must take answers for at least a day and end before the next cycle.
    #[error("a wave takes answers for 1 to {max} days in a {period} cycle, not {days}")]
    WaveDays {
        /// Asked.
        days: u32,
        /// The most that fits.
        max: u32,
        /// The cycle.
        period: &'static str,
    },
    /// Reminders out of range.
    #[error("remind after 1 to 30 days, at most 5 times (not after {after} days, {max} times)")]
    Reminders {
        /// Days.
        after: u32,
        /// Times.
        max: u32,
    },
    /// Review deadline out of range.
    #[error("review meetings are held 1 to 90 days after a wave closes, not {0}")]
    Review(u32),
    /// No survey named.
    #[error("name the survey each wave asks")]
    Survey,
    /// The first day is outside Rapport's calendar.
    #[error("the next cycle starts in {0}, outside the years Rapport works with ({first} to {last}): check the year", first = crate::date::YEARS.start(), last = crate::date::YEARS.end())]
    Start(i32),
}

impl Cadence {
    /// Checks the cadence.
    pub fn validate(self) -> Result<Cadence, CadenceError> {
        let max = u32::from(self.period.months()) * 28 - 1;
        if !(1..=max).contains(&self.wave_days) {
            return Err(CadenceError::WaveDays { days: self.wave_days, max, period: self.period.as_str() });
        }
        if !(1..=30).contains(&self.remind_after_days) || self.max_reminders > 5 {
            return Err(CadenceError::Reminders { after: self.remind_after_days, max: self.max_reminders });
        }
        if !(1..=90).contains(&self.review_within_days) {
            return Err(CadenceError::Review(self.review_within_days));
        }
        if self.survey.trim().is_empty() {
            return Err(CadenceError::Survey);
        }
        // Its cycles are counted forward from here, a few months at a time.
        if !crate::date::YEARS.contains(&self.next_start.year()) {
            return Err(CadenceError::Start(self.next_start.year()));
        }
        Ok(self)
    }

    /// The cycle that starts on `start`: its wave's name, first and last day, and the day its
    /// reviews are due.
    pub fn cycle(&self, start: Date) -> Cycle {
        let closes = start + Duration::days(i64::from(self.wave_days) - 1);
        Cycle {
            wave: wave_name(self.period, start),
            opens: start,
            closes,
            reviews_due: closes + Duration::days(i64::from(self.review_within_days)),
            next_start: add_months(start, i32::from(self.period.months())),
            previous_start: add_months(start, -i32::from(self.period.months())),
        }
    }
}

/// One cycle of the program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// Its wave's name: 2027-Q1, or 2027-01 for a monthly cycle.
    pub wave: String,
    /// The wave's first day.
    pub opens: Date,
    /// The wave's last day.
    pub closes: Date,
    /// The day review meetings are due.
    pub reviews_due: Date,
    /// The day the next cycle starts.
    pub next_start: Date,
    /// The day the previous cycle started (its actions are reported when this one opens).
    pub previous_start: Date,
}

/// The wave name of the cycle starting on `start`.
pub fn wave_name(period: CyclePeriod, start: Date) -> String {
    match period {
        CyclePeriod::Quarterly => format!("{}-Q{}", start.year(), (u8::from(start.month()) - 1) / 3 + 1),
        CyclePeriod::Monthly => format!("{}-{:02}", start.year(), u8::from(start.month())),
    }
}

/// The same day `months` later (earlier when negative), or the month's last day when it has
/// fewer days.
pub fn add_months(date: Date, months: i32) -> Date {
    let index = date.year() * 12 + i32::from(u8::from(date.month()) - 1) + months;
    let year = index.div_euclid(12);
    let month = Month::try_from((index.rem_euclid(12) + 1) as u8).expect("a month 1-12");
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, date.day().min(last)).expect("a valid day")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn quarterly() -> Cadence {
        Cadence {
            period: CyclePeriod::Quarterly,
            next_start: date!(2027 - 01 - 11),
            survey: "B2B relationship survey".into(),
            wave_days: 21,
            remind_after_days: 7,
            max_reminders: 1,
            review_within_days: 30,
        }
    }

    #[test]
    fn a_quarterly_cycle_names_its_wave_and_books_reviews_after_it_closes() {
        let c = quarterly().cycle(date!(2027 - 01 - 11));
        assert_eq!(c.wave, "2027-Q1");
        assert_eq!((c.opens, c.closes), (date!(2027 - 01 - 11), date!(2027 - 01 - 31)));
        assert_eq!(c.reviews_due, date!(2027 - 03 - 02));
        assert_eq!((c.next_start, c.previous_start), (date!(2027 - 04 - 11), date!(2026 - 10 - 11)));
        assert_eq!(quarterly().cycle(date!(2027 - 11 - 15)).next_start, date!(2028 - 02 - 15));
    }

    #[test]
    fn a_monthly_cycle_is_named_by_its_month_and_keeps_month_ends() {
        assert_eq!(wave_name(CyclePeriod::Monthly, date!(2027 - 03 - 01)), "2027-03");
        assert_eq!(add_months(date!(2027 - 01 - 31), 1), date!(2027 - 02 - 28));
        assert_eq!(add_months(date!(2028 - 01 - 31), 1), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2027 - 12 - 05), 1), date!(2028 - 01 - 05));
        assert_eq!(add_months(date!(2027 - 01 - 05), -1), date!(2026 - 12 - 05));
    }

    #[test]
    fn a_cadence_is_checked() {
        let monthly = Cadence { period: CyclePeriod::Monthly, wave_days: 40, ..quarterly() };
        assert_eq!(
            monthly.validate().unwrap_err().to_string(),
            "a wave takes answers for 1 to 27 days in a monthly cycle, not 40"
        );
        assert!(Cadence { review_within_days: 0, ..quarterly() }.validate().is_err());
        assert!(Cadence { survey: " ".into(), ..quarterly() }.validate().is_err());
        let far = Cadence { next_start: date!(9999 - 12 - 01), ..quarterly() };
        assert!(far.validate().unwrap_err().to_string().contains("starts in 9999, outside the years"));
        assert!(quarterly().validate().is_ok());
        assert_eq!(CyclePeriod::parse("Quarterly"), Some(CyclePeriod::Quarterly));
    }
}
