//! Counted nouns in the sentences Rapport writes: "1 answer", "3 answers".

/// `n` and the noun in the number it takes.
pub fn count<N: std::fmt::Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    let noun = if n == N::from(1) { one } else { many };
    format!("{n} {noun}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_takes_the_singular_and_every_other_number_the_plural() {
        assert_eq!(count(1u64, "answer", "answers"), "1 answer");
        assert_eq!(count(0u64, "answer", "answers"), "0 answers");
        assert_eq!(count(2usize, "person", "people"), "2 people");
    }
}
