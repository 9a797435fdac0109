//! The survey waves of the demo year: quarterly, 2026-Q1 to 2026-Q4.

use time::Date;
use time::macros::date;

/// "Today" in the demo: the Q4 wave is open and answers so far are dated before this day.
pub const TODAY: Date = date!(2026 - 11 - 24);

/// A survey wave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoWave {
    /// The wave's name, e.g. "2026-Q1" (the `wave` of every response).
    pub name: String,
    /// First day invitations go out.
    pub opens_on: Date,
    /// Last day answers are taken.
    pub closes_on: Date,
}

/// (name, opens on, closes on) of each wave, oldest first.
pub(crate) const WAVES: [(&str, Date, Date); 4] = [
    ("2026-Q1", date!(2026 - 01 - 12), date!(2026 - 02 - 13)),
    ("2026-Q2", date!(2026 - 04 - 13), date!(2026 - 05 - 15)),
    ("2026-Q3", date!(2026 - 07 - 13), date!(2026 - 08 - 14)),
    ("2026-Q4", date!(2026 - 10 - 12), date!(2026 - 12 - 11)),
];

/// The four quarterly waves of 2026, oldest first. The last is still open on [`TODAY`].
pub fn waves() -> Vec<DemoWave> {
    WAVES.iter().map(|&(name, opens_on, closes_on)| DemoWave { name: name.to_string(), opens_on, closes_on }).collect()
}

/// The last day a response of wave `w` can be dated: its close, or yesterday if still open.
pub(crate) fn last_answer_day(w: usize) -> Date {
    let closes = WAVES[w].2;
    if closes >= TODAY { TODAY.previous_day().expect("TODAY is not the first day of time") } else { closes }
}
