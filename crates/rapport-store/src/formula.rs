//! Spreadsheet formula neutralisation for exported cells, reversed on import.
//!
//! A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a
//! formula by Excel, LibreOffice and Google Sheets (CSV injection). Exports prefix such a
//! text cell with a single quote, which spreadsheets show as text; import removes exactly
//! one such quote. A value that itself starts with a quote before a formula character gets
//! one more quote, so every value round-trips exactly.

use std::borrow::Cow;

fn starts_like_formula(text: &str) -> bool {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => true,
        Some(b'\'') => starts_like_formula(&text[1..]),
        _ => false,
    }
}

/// The cell to write for a text value.
pub fn guard(text: &str) -> Cow<'_, str> {
    if starts_like_formula(text) { Cow::Owned(format!("'{text}")) } else { Cow::Borrowed(text) }
}

/// The value an imported cell stands for.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if starts_like_formula(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_round_trip() {
        for (value, cell) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+SUM(A1:A9)", "'+SUM(A1:A9)"),
            ("-2+3", "'-2+3"),
            ("@cmd", "'@cmd"),
            ("'=x", "''=x"),
            ("'plain", "'plain"),
            ("plain", "plain"),
            ("", ""),
        ] {
            assert_eq!(guard(value), cell, "{value}");
            assert_eq!(unguard(cell), value, "{cell}");
        }
    }
}
