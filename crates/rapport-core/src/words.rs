//! Words in the sentences Rapport writes ("1 answer", "3 answers") and in those it reads
//! (a watch word or a theme's word in a comment).

/// `n` and the noun in the number it takes.
pub fn count<N: std::fmt::Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    let noun = if n == N::from(1) { one } else { many };
    format!("{n} {noun}")
}

/// Whether `word` occurs in `text` with no letter or digit right before or after it, so that
/// "switch" finds "we may switch." but not "switchboard". Both in lower case.
pub fn contains_word(text: &str, word: &str) -> bool {
    occurs(text, word, true)
}

/// Whether a word of `text` starts with `stem`, so that "deliver" finds "deliveries" but not
/// "undelivered". Both in lower case.
pub fn contains_word_start(text: &str, stem: &str) -> bool {
    occurs(text, stem, false)
}

fn occurs(text: &str, word: &str, whole: bool) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let starts_a_word = !text[..at].chars().next_back().is_some_and(char::is_alphanumeric);
        let ends_a_word = !text[at + word.len()..].chars().next().is_some_and(char::is_alphanumeric);
        starts_a_word && (ends_a_word || !whole)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_is_found_whole_and_a_stem_at_the_start_of_a_word() {
        assert!(contains_word("we may switch.", "switch"));
        assert!(!contains_word("the switchboard", "switch"));
        assert!(contains_word_start("three late deliveries", "deliver"));
        assert!(!contains_word_start("undelivered goods", "deliver"));
        assert!(contains_word_start("die lieferzeit", "liefer"));
        assert!(contains_word_start("our lead times went up", "lead time"));
    }

    #[test]
    fn one_takes_the_singular_and_every_other_number_the_plural() {
        assert_eq!(count(1u64, "answer", "answers"), "1 answer");
        assert_eq!(count(0u64, "answer", "answers"), "0 answers");
        assert_eq!(count(2usize, "person", "people"), "2 people");
    }
}
