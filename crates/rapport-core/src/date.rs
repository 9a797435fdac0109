//! Calendar dates and instants as they arrive in files: ISO dates and RFC 3339 times, UTC.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// Why a text is not a date or a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not YYYY-MM-DD, or not a real day.
    #[error("'{0}' is not a date: write YYYY-MM-DD, e.g. 2026-03-31")]
    Date(String),
    /// Neither RFC 3339 nor a date.
    #[error("'{0}' is not a time: write RFC 3339 (2026-03-31T14:05:00Z) or a date (2026-03-31)")]
    Instant(String),
    /// A real day, but outside the years Rapport works with.
    #[error("'{0}' is outside the years Rapport works with ({first} to {last}): check the year", first = YEARS.start(), last = YEARS.end())]
    OutOfRange(String),
}

/// The years a date may fall in. Every date Rapport is given is a day of business (a wave, a
/// meeting, an answer, a deal), and arithmetic on one (a wave's closing day, a task's due day)
/// must never leave the calendar: a year like 9999 is a typing slip, refused where it is read.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2199;

const ISO_DATE: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// Parses an ISO calendar date.
pub fn parse_date(text: &str) -> Result<Date, DateError> {
    let date = Date::parse(text.trim(), ISO_DATE).map_err(|_| DateError::Date(text.to_string()))?;
    if YEARS.contains(&date.year()) { Ok(date) } else { Err(DateError::OutOfRange(text.to_string())) }
}

/// Formats a date as YYYY-MM-DD.
pub fn format_date(date: Date) -> String {
    date.format(ISO_DATE).expect("a Date always formats")
}

/// Parses an RFC 3339 time (any offset, normalised to UTC) or a bare date (midnight UTC).
pub fn parse_instant(text: &str) -> Result<OffsetDateTime, DateError> {
    let s = text.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return match t.checked_to_offset(UtcOffset::UTC) {
            Some(utc) if YEARS.contains(&utc.year()) => Ok(utc),
            _ => Err(DateError::OutOfRange(text.to_string())),
        };
    }
    match parse_date(s) {
        Ok(d) => Ok(d.midnight().assume_utc()),
        Err(DateError::OutOfRange(_)) => Err(DateError::OutOfRange(text.to_string())),
        Err(_) => Err(DateError::Instant(text.to_string())),
    }
}

/// Formats a time as RFC 3339 in UTC ("2026-03-31T14:05:00Z").
pub fn format_instant(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC).format(&Rfc3339).expect("a UTC time always formats as RFC 3339")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_instants_normalise_to_utc() {
        assert_eq!(format_date(parse_date("2026-02-28").unwrap()), "2026-02-28");
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("31/03/2026").is_err());
        assert_eq!(format_instant(parse_instant("2026-03-31T16:05:00+02:00").unwrap()), "2026-03-31T14:05:00Z");
        assert_eq!(format_instant(parse_instant("2026-03-31").unwrap()), "2026-03-31T00:00:00Z");
        assert!(parse_instant("yesterday").is_err());
    }

    #[test]
    fn a_year_outside_rapports_calendar_is_refused_not_a_panic_later() {
        for date in ["9999-12-31", "1899-12-31", "0001-01-01"] {
            assert_eq!(parse_date(date), Err(DateError::OutOfRange(date.into())));
        }
        assert_eq!(parse_date("2199-12-31").unwrap().year(), 2199);
        for time in ["9999-12-31T23:30:00-01:00", "0000-01-01T00:30:00+01:00", "2200-01-01T00:00:00Z", "9999-12-31"] {
            assert_eq!(parse_instant(time), Err(DateError::OutOfRange(time.into())), "{time}");
        }
        assert!(DateError::OutOfRange("9999-12-31".into()).to_string().contains("1900 to 2199"));
    }
}
