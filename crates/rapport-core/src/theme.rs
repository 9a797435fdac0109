//! Themes of verbatim comments: which experience a comment is about, so that comments are
//! read by theme as well as by account (DOMAIN.md, step 4), and the themes that detractors
//! write about stand out.
//!
//! The themes are the experience drivers of the built-in B2B relationship survey (product,
//! delivery, support, value, brand, promise), each found by the words customers use for it,
//! in English and German (the survey's languages). A comment can touch several themes; one
//! that uses none of their words is "other". Word lists, not a model: every tag can be
//! explained by the word that made it, and the lists are easy to read and to extend.

use crate::loyalty::LoyaltyCounts;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

/// A theme: its key (a driver's key where it is one) and the words that show it.
#[derive(Debug, PartialEq, Eq)]
pub struct Theme {
    /// As reports name it: `product`, `delivery`, ...
    pub key: &'static str,
    /// What it covers, in a few words.
    pub about: &'static str,
    /// Lower case, separated by `|`; a word ending in `*` is the start of a word ("deliver*"
    /// finds "deliveries"), any other a whole word or phrase.
    words: &'static str,
}

/// The themes comments are tagged with, in the order reports list them.
pub const THEMES: [Theme; 6] = [
    Theme {
        key: "product",
        about: "quality, defects, releases, features",
        words: "product*|quality|defect*|bug|bugs|release*|firmware|feature*|portal|software|equipment|reliab*|spec|\
                produkt*|qualität|fehler*|funktion*",
    },
    Theme {
        key: "delivery",
        about: "shipments, lead times, on time and complete",
        words: "deliver*|shipment*|shipping|shipped|late|lead time*|on time|backorder*|paperwork|\
                liefer*|versand|pünktlich*|verspät*",
    },
    Theme {
        key: "support",
        about: "support, tickets, help when needed",
        words: "support*|ticket*|helpdesk|help desk|service desk|customer care|outage*|called back|call back|\
                picks up|response time*|technician*|same problem|chatbot|hotline|kundendienst|störung*",
    },
    Theme {
        key: "value",
        about: "price, invoices, value for money",
        words: "price*|pricing|cost*|expensive|cheap*|invoice*|surcharge*|quote*|quoted|paying|discount*|\
                value for money|preis*|rechnung*|kosten|teuer*",
    },
    Theme {
        key: "brand",
        about: "the brand and its reputation",
        words: "brand*|reputation|logo|the name|your name|marke*|ruf",
    },
    Theme {
        key: "promise",
        about: "what sales and marketing promised",
        words: "promise*|promising|sold|told us|proposal*|commitment*|onboarding|expectation*|\
                versprech*|versproch*|zugesagt",
    },
];

/// The key of a comment that touches none of [`THEMES`].
pub const OTHER: &str = "other";

/// Every theme's key as reports name it, and then [`OTHER`].
pub fn keys() -> impl Iterator<Item = &'static str> {
    THEMES.iter().map(|t| t.key).chain([OTHER])
}

/// The key named `name` (any case, trimmed): one of [`keys`].
pub fn key_of(name: &str) -> Option<&'static str> {
    keys().find(|k| k.eq_ignore_ascii_case(name.trim()))
}

/// The themes `comment` touches, in [`THEMES`] order; empty when none (an "other" comment).
pub fn themes_of(comment: &str) -> Vec<&'static Theme> {
    // Every theme's words in one automaton, matched in one pass over the comment's words
    // joined by single spaces: a report tags hundreds of thousands of comments, and searching
    // for each word in turn was most of its time (BENCHMARKS.md, issue 3).
    static WORDS: LazyLock<(AhoCorasick, Vec<usize>)> = LazyLock::new(|| {
        let (patterns, themes): (Vec<String>, Vec<usize>) = THEMES
            .iter()
            .enumerate()
            .flat_map(|(i, theme)| theme.words.split('|').map(move |w| (w, i)))
            // Spaced as the joined words are: " deliver" starts a word, " late " is one.
            .map(|(w, i)| (w.strip_suffix('*').map_or_else(|| format!(" {w} "), |stem| format!(" {stem}")), i))
            .unzip();
        (AhoCorasick::new(patterns).expect("the themes' words make an automaton"), themes)
    });
    let (automaton, theme_of) = &*WORDS;
    let mut joined = String::with_capacity(comment.len() + 2);
    joined.push(' ');
    for word in comment.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        joined.extend(word.chars().flat_map(char::to_lowercase));
        joined.push(' ');
    }
    let mut found = [false; THEMES.len()];
    for m in automaton.find_overlapping_iter(&joined) {
        found[theme_of[m.pattern().as_usize()]] = true;
    }
    THEMES.iter().zip(found).filter(|(_, f)| *f).map(|(t, _)| t).collect()
}

/// The keys of the themes `comment` touches, or [`OTHER`].
pub fn theme_keys(comment: &str) -> Vec<&'static str> {
    let found: Vec<&'static str> = themes_of(comment).into_iter().map(|t| t.key).collect();
    if found.is_empty() { vec![OTHER] } else { found }
}

/// How a list of theme keys is written in a report's cell: "delivery; value".
const SEPARATOR: &str = "; ";

/// `keys` as a report's cell writes them.
pub fn joined(keys: &[&str]) -> String {
    keys.join(SEPARATOR)
}

/// The theme keys in a cell [`joined`] wrote (unknown names left out).
pub fn keys_in(cell: &str) -> Vec<&'static str> {
    cell.split(SEPARATOR).filter_map(key_of).collect()
}

/// How the comments on one theme score.
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeSummary {
    /// A theme's key, or [`OTHER`].
    pub key: &'static str,
    /// What it covers (the theme's [`Theme::about`]).
    pub about: &'static str,
    /// The scores (likelihood to recommend) of the comments on it.
    pub counts: LoyaltyCounts,
}

/// Per theme (then "other"), how many comments touch it and how those commenters score, from
/// each comment's score and theme keys ([`theme_keys`]); themes no comment touches are left
/// out. Most detractor comments first: where to act first.
pub fn summarize<'a>(tagged: impl IntoIterator<Item = (u8, &'a [&'static str])>) -> Vec<ThemeSummary> {
    let keys: Vec<&'static str> = keys().collect();
    let mut counts = vec![LoyaltyCounts::default(); keys.len()];
    for (ltr, themes) in tagged {
        for key in themes {
            if let Some(at) = keys.iter().position(|k| k == key) {
                counts[at].add(ltr);
            }
        }
    }
    let mut out: Vec<ThemeSummary> = keys
        .into_iter()
        .zip(counts)
        .filter(|(_, c)| !c.is_empty())
        .map(|(key, counts)| {
            let about = THEMES.iter().find(|t| t.key == key).map_or("no theme's words", |t| t.about);
            ThemeSummary { key, about, counts }
        })
        .collect();
    // Stable: ties keep the themes' order.
    out.sort_by_key(|t| std::cmp::Reverse(t.counts.detractors));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_is_tagged_with_every_theme_its_words_show() {
        assert_eq!(theme_keys("Three late shipments this quarter, our line stopped twice."), ["delivery"]);
        assert_eq!(theme_keys("Support tickets sit for days before anyone replies."), ["support"]);
        assert_eq!(theme_keys("Pricing went up 8% with no notice."), ["value"]);
        assert_eq!(theme_keys("The sales team promised a dedicated engineer."), ["promise"]);
        assert_eq!(
            theme_keys("The new release broke the portal, and support never called back."),
            ["product", "support"]
        );
        assert_eq!(theme_keys("Die Lieferzeit ist zu lang und die Rechnung falsch."), ["delivery", "value"]);
        assert_eq!(theme_keys("Response times vary a lot depending on who picks up."), ["support"]);
        assert_eq!(theme_keys("We chose you for the name. It hasn't lived up to it."), ["brand"]);
    }

    #[test]
    fn every_themes_words_are_lower_case_trimmed_and_none_empty() {
        // A word with a capital or a space at its end, or an empty one from "||", would never
        // match (or match everything).
        for theme in &THEMES {
            for word in theme.words.split('|') {
                let stem = word.strip_suffix('*').unwrap_or(word);
                assert!(
                    !stem.is_empty() && stem == stem.trim() && stem == stem.to_lowercase(),
                    "{}: {word:?}",
                    theme.key
                );
            }
        }
    }

    #[test]
    fn a_theme_is_named_by_its_key_in_any_case() {
        assert_eq!(key_of(" Delivery "), Some("delivery"));
        assert_eq!(key_of("other"), Some(OTHER));
        assert_eq!(key_of("deliveries"), None);
        assert_eq!(
            keys().collect::<Vec<_>>(),
            ["product", "delivery", "support", "value", "brand", "promise", "other"]
        );
    }

    #[test]
    fn a_cell_of_theme_keys_reads_back_as_written() {
        assert_eq!(joined(&["delivery", "value"]), "delivery; value");
        assert_eq!(keys_in("delivery; value"), ["delivery", "value"]);
        assert_eq!(keys_in(OTHER), [OTHER]);
    }

    #[test]
    fn words_count_whole_or_from_their_start_never_inside_another_word() {
        // "Lately" is not "late", "brandy" is not the brand (whole-word themes), "undelivered"
        // does not start with "deliver".
        assert_eq!(theme_keys("Lately the team has been great."), [OTHER]);
        assert_eq!(theme_keys("Undelivered? No, all good."), [OTHER]);
        assert_eq!(theme_keys("Your BRAND carries weight with our customers."), ["brand"]);
        // Words meet across any punctuation, once: "help-desk" is the help desk.
        assert_eq!(theme_keys("The help-desk... never called back!"), ["support"]);
        assert_eq!(theme_keys(""), [OTHER]);
    }

    #[test]
    fn the_summary_counts_each_commenter_once_per_theme_and_puts_the_most_detractors_first() {
        let comments = [
            (2, "Late again, and the invoice was wrong."),
            (3, "Partial shipments every time."),
            (9, "Deliveries are always on time."),
            (5, "Invoices are full of surcharges."),
            (10, "Great people."),
        ];
        let tagged: Vec<(u8, Vec<&str>)> = comments.iter().map(|(ltr, c)| (*ltr, theme_keys(c))).collect();
        let summary = summarize(tagged.iter().map(|(ltr, keys)| (*ltr, keys.as_slice())));
        let keys: Vec<&str> = summary.iter().map(|s| s.key).collect();
        assert_eq!(keys, ["delivery", "value", "other"]);
        let delivery = &summary[0].counts;
        assert_eq!((delivery.detractors, delivery.passives, delivery.promoters), (2, 0, 1));
        // 1 promoter and 2 detractors among 3: -33.3.
        assert!((delivery.nps().unwrap() + 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(summary[1].counts.n(), 2);
        assert_eq!(summary[2].counts.promoters, 1);
    }
}
