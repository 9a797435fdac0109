//! Alert rules: which answers and which account movements need a fast follow-up.
//!
//! Two rules look at one answer (a detractor, a comment with a watch word) and two at an
//! account's figures between waves (NPS falling by N points or more, entering the Problem
//! quadrant). The rules are one document the portfolio edits; every alert they raise opens a
//! follow-up task for the account owner with the rules' deadline.

use serde::{Deserialize, Serialize};

use crate::loyalty::LoyaltyClass;

/// What raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// An answer with likelihood to recommend 0-6.
    Detractor,
    /// A comment containing one of the watch words.
    WatchWords,
    /// An account's NPS fell by the rule's points or more between two waves.
    NpsDrop,
    /// An account entered the Problem quadrant.
    Problem,
}

impl AlertKind {
    /// Every kind, in the order views list them.
    pub const ALL: [AlertKind; 4] =
        [AlertKind::Detractor, AlertKind::WatchWords, AlertKind::NpsDrop, AlertKind::Problem];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Detractor => "detractor",
            AlertKind::WatchWords => "watch_words",
            AlertKind::NpsDrop => "nps_drop",
            AlertKind::Problem => "problem",
        }
    }

    /// The kind with this stored name.
    pub fn parse(name: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// How views name it.
    pub fn label(self) -> &'static str {
        match self {
            AlertKind::Detractor => "Detractor answer",
            AlertKind::WatchWords => "Watch words in a comment",
            AlertKind::NpsDrop => "NPS fell",
            AlertKind::Problem => "Entered Problem",
        }
    }
}

/// The alert rules of a portfolio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertRules {
    /// Alert on every detractor answer (LTR 0-6).
    pub detractor: bool,
    /// Alert when an account's NPS falls by at least this many points between two waves
    /// (both measured on at least the minimum number of answers); None: never.
    pub nps_drop: Option<u32>,
    /// Alert when an account enters the Problem quadrant (low loyalty, high revenue).
    pub problem: bool,
    /// Alert on a comment containing any of these words or phrases (whole words, any case).
    pub watch_words: Vec<String>,
    /// Hours the account owner has to follow up before the task is overdue and escalates.
    pub deadline_hours: u32,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules {
            detractor: true,
            nps_drop: Some(20),
            problem: true,
            watch_words: ["cancel", "terminate", "switch", "competitor", "disappointed", "unacceptable"]
                .map(String::from)
                .to_vec(),
            deadline_hours: 48,
        }
    }
}

/// Why a set of alert rules cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// The deadline is out of range.
    #[error("the follow-up deadline must be between 1 and 720 hours (30 days), not {0}")]
    Deadline(u32),
    /// The NPS drop is out of range.
    #[error("the NPS drop must be between 1 and 200 points, not {0}")]
    NpsDrop(u32),
    /// A watch word is empty or too long.
    #[error("watch word {position} {why}")]
    WatchWord {
        /// 1-based position in the list.
        position: usize,
        /// What is wrong.
        why: &'static str,
    },
}

/// The most watch words a portfolio keeps: a longer list alerts on everything.
pub const MAX_WATCH_WORDS: usize = 100;

impl AlertRules {
    /// Checks the rules, and tidies the watch words (trimmed, lower case, no repeats).
    pub fn validate(mut self) -> Result<AlertRules, RulesError> {
        if !(1..=720).contains(&self.deadline_hours) {
            return Err(RulesError::Deadline(self.deadline_hours));
        }
        if let Some(points) = self.nps_drop.filter(|p| !(1..=200).contains(p)) {
            return Err(RulesError::NpsDrop(points));
        }
        if self.watch_words.len() > MAX_WATCH_WORDS {
            return Err(RulesError::WatchWord { position: MAX_WATCH_WORDS + 1, why: "is one too many (100 at most)" });
        }
        let mut words: Vec<String> = Vec::with_capacity(self.watch_words.len());
        for (i, word) in self.watch_words.iter().enumerate() {
            let word = word.trim().to_lowercase();
            if word.is_empty() {
                return Err(RulesError::WatchWord { position: i + 1, why: "is empty" });
            }
            if word.chars().count() > 60 {
                return Err(RulesError::WatchWord { position: i + 1, why: "is longer than 60 characters" });
            }
            if !words.contains(&word) {
                words.push(word);
            }
        }
        self.watch_words = words;
        Ok(self)
    }

    /// Why one answer needs a follow-up, if it does: the first kind (detractor before watch
    /// words) and every reason, as one alert, so that the owner hears of the answer once.
    pub fn check_answer(&self, ltr: u8, comment: Option<&str>) -> Option<(AlertKind, String)> {
        let mut kind = None;
        let mut reasons = Vec::new();
        if self.detractor && LoyaltyClass::of(ltr) == LoyaltyClass::Detractor {
            kind = Some(AlertKind::Detractor);
            reasons.push(format!("likelihood to recommend {ltr} (a detractor)"));
        }
        let found = comment.map(|c| self.watch_words_in(c)).unwrap_or_default();
        if !found.is_empty() {
            kind.get_or_insert(AlertKind::WatchWords);
            reasons.push(format!("the comment mentions {}", found.join(", ")));
        }
        kind.map(|k| (k, reasons.join("; ")))
    }

    /// The watch words `comment` contains as whole words, whatever their case.
    pub fn watch_words_in(&self, comment: &str) -> Vec<&str> {
        let text = comment.to_lowercase();
        self.watch_words.iter().map(String::as_str).filter(|w| contains_word(&text, w)).collect()
    }

    /// Whether an account's NPS fell far enough between two waves to alert.
    pub fn nps_fell(&self, before: f64, after: f64) -> bool {
        self.nps_drop.is_some_and(|points| before - after >= f64::from(points))
    }
}

/// Whether `word` occurs in `text` with no letter or digit right before or after it, so that
/// "switch" finds "we may switch." but not "switchboard".
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> AlertRules {
        AlertRules::default()
    }

    #[test]
    fn a_detractor_answer_raises_one_alert_with_every_reason() {
        let (kind, why) = rules().check_answer(3, Some("We will SWITCH to a competitor.")).unwrap();
        assert_eq!(kind, AlertKind::Detractor);
        assert_eq!(why, "likelihood to recommend 3 (a detractor); the comment mentions switch, competitor");
        assert_eq!(rules().check_answer(6, None).unwrap().0, AlertKind::Detractor);
    }

    #[test]
    fn passives_and_promoters_alert_only_on_watch_words() {
        assert_eq!(rules().check_answer(7, Some("Fine overall")), None);
        assert_eq!(rules().check_answer(10, None), None);
        let (kind, why) = rules().check_answer(9, Some("Great, but billing is unacceptable")).unwrap();
        assert_eq!((kind, why.as_str()), (AlertKind::WatchWords, "the comment mentions unacceptable"));
    }

    #[test]
    fn watch_words_match_whole_words_in_any_case() {
        let r = rules();
        assert_eq!(r.watch_words_in("Our switchboard works"), Vec::<&str>::new());
        assert_eq!(r.watch_words_in("we might (switch)"), vec!["switch"]);
        assert_eq!(r.watch_words_in("CANCEL"), vec!["cancel"]);
        assert_eq!(r.watch_words_in("cancelled"), Vec::<&str>::new());
        let phrases = AlertRules { watch_words: vec!["Price Increase".into()], ..rules() }.validate().unwrap();
        assert_eq!(phrases.watch_words_in("after the price increase, we left"), vec!["price increase"]);
        assert_eq!(phrases.watch_words_in("über price increase!"), vec!["price increase"]);
    }

    #[test]
    fn switched_off_rules_raise_nothing() {
        let off = AlertRules { detractor: false, watch_words: vec![], nps_drop: None, ..rules() };
        assert_eq!(off.check_answer(0, Some("cancel")), None);
        assert!(!off.nps_fell(80.0, -100.0));
    }

    #[test]
    fn an_nps_drop_alerts_at_the_threshold_and_beyond() {
        let r = rules();
        assert!(r.nps_fell(50.0, 30.0));
        assert!(r.nps_fell(50.0, -10.0));
        assert!(!r.nps_fell(50.0, 30.1));
        assert!(!r.nps_fell(30.0, 50.0));
    }

    #[test]
    fn rules_are_checked_and_tidied() {
        assert_eq!(AlertRules { deadline_hours: 0, ..rules() }.validate(), Err(RulesError::Deadline(0)));
        assert_eq!(AlertRules { nps_drop: Some(0), ..rules() }.validate(), Err(RulesError::NpsDrop(0)));
        let blank = AlertRules { watch_words: vec!["ok".into(), "  ".into()], ..rules() }.validate();
        assert_eq!(blank.unwrap_err().to_string(), "watch word 2 is empty");
        let tidy = AlertRules { watch_words: vec![" Cancel ".into(), "cancel".into()], ..rules() }.validate().unwrap();
        assert_eq!(tidy.watch_words, vec!["cancel"]);
    }

    #[test]
    fn rules_read_from_json_with_defaults_for_what_is_left_out() {
        let r: AlertRules = serde_json::from_str(r#"{"deadline_hours": 24}"#).unwrap();
        assert_eq!(r, AlertRules { deadline_hours: 24, ..rules() });
        assert!(serde_json::from_str::<AlertRules>(r#"{"deadline": 24}"#).is_err());
    }
}
