//! Survey answers: the loyalty question, driver ratings and a comment.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A likelihood-to-recommend score, 0 to 10.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ltr(u8);

/// Why a text is not a score.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a score: expected a whole number from {min} to {max}")]
pub struct ScoreError {
    /// What was given.
    pub text: String,
    /// Lowest allowed.
    pub min: u8,
    /// Highest allowed.
    pub max: u8,
}

/// Parses a whole-number score within `min..=max` (e.g. "7", " 10 ").
pub fn parse_score(text: &str, min: u8, max: u8) -> Result<u8, ScoreError> {
    let err = || ScoreError { text: text.to_string(), min, max };
    let v: u8 = text.trim().parse().map_err(|_| err())?;
    if (min..=max).contains(&v) { Ok(v) } else { Err(err()) }
}

impl Ltr {
    /// A score, checked to be 0-10.
    pub fn new(score: u8) -> Option<Ltr> {
        (score <= 10).then_some(Ltr(score))
    }

    /// Parses "0" to "10".
    pub fn parse(text: &str) -> Result<Ltr, ScoreError> {
        parse_score(text, 0, 10).map(Ltr)
    }

    /// The score.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// One contact's answer in one wave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The contact's CRM id.
    pub contact_id: String,
    /// The wave's name, e.g. 2026-Q3.
    pub wave: String,
    /// When the answer was given (UTC).
    pub submitted_at: OffsetDateTime,
    /// Likelihood to recommend.
    pub ltr: Ltr,
    /// Free comment, as written.
    pub comment: Option<String>,
    /// Driver ratings by question key (brand, delivery, support, ...).
    pub scores: BTreeMap<String, u8>,
}
