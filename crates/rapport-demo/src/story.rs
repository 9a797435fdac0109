//! The stories planted in the demo: accounts whose data tells one of the tales the
//! product exists to spot, so every screen has something to show.

use std::fmt;

/// What a planted account is there to demonstrate.
///
/// Each story sits at a fixed index among the first 30 accounts (so every demo size has
/// them) and is then sprinkled over about 2% of the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Story {
    /// Loyal in 2026-Q1 (NPS high), falling every wave, revenue declining: ends a Problem.
    Sours,
    /// Starts low (Decision or Growth), loyalty and revenue rising: ends in Emulate.
    Grows,
    /// High revenue, one contact who answers every wave: a "little r" relationship.
    SingleThreadedKeyAccount,
    /// Low revenue, heavy unpaid service effort, many exceptions and order changes, pays
    /// in 90+ days.
    SqueakyWheel,
    /// Answered in 2026-Q1 and Q2, silent since, and no recent opportunities: at risk.
    Neglected,
    /// Loyalty falling while its executives are detractors.
    ExecutivesDetract,
    /// Carries a hostile value (markup, a spreadsheet formula, quotes) in its name or in
    /// a comment: pages and exports must show it as inert text.
    Hostile,
}

impl Story {
    /// Every story, in the order they are planted.
    pub const ALL: [Story; 7] = [
        Story::Sours,
        Story::Grows,
        Story::SingleThreadedKeyAccount,
        Story::SqueakyWheel,
        Story::Neglected,
        Story::ExecutivesDetract,
        Story::Hostile,
    ];

    /// The stories sprinkled beyond the first 30 accounts: all but [`Story::Hostile`], the
    /// last of [`Story::ALL`] (hostile values are planted only at the head).
    pub(crate) const SPRINKLED: &[Story] = match Story::ALL.split_last() {
        Some((_, rest)) => rest,
        None => &[],
    };

    /// The canonical name (snake_case).
    pub fn as_str(self) -> &'static str {
        match self {
            Story::Sours => "sours",
            Story::Grows => "grows",
            Story::SingleThreadedKeyAccount => "single_threaded_key_account",
            Story::SqueakyWheel => "squeaky_wheel",
            Story::Neglected => "neglected",
            Story::ExecutivesDetract => "executives_detract",
            Story::Hostile => "hostile",
        }
    }

    /// One sentence for a demo guide: what to look for.
    pub fn describe(self) -> &'static str {
        match self {
            Story::Sours => "NPS high in 2026-Q1 and falling every wave while revenue declines; ends a Problem.",
            Story::Grows => "Loyalty and revenue rising wave after wave; moves into Emulate.",
            Story::SingleThreadedKeyAccount => "A top-revenue account that rests on one contact.",
            Story::SqueakyWheel => "Little revenue, a lot of unpaid service effort, slow to pay.",
            Story::Neglected => "No answers in the last two waves and no recent opportunities.",
            Story::ExecutivesDetract => "Loyalty falling, with its executives among the detractors.",
            Story::Hostile => "A name or comment that must render as inert text.",
        }
    }
}

impl fmt::Display for Story {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
