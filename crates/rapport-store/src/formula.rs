//! Spreadsheet formula neutralisation for exported cells, reversed on import.
//!
//! A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a
//! formula by Excel, LibreOffice and Google Sheets (CSV injection). Exports prefix such a
//! text cell with a single quote, which spreadsheets show as text; import removes exactly
//! one such quote. A value that itself starts with a quote before a formula character gets
//! one more quote, so every value round-trips exactly. An international phone number, which
//! starts with `+` but can run nothing, is written as it is.

use std::borrow::Cow;

fn starts_like_formula(text: &str) -> bool {
    match text.as_bytes().first() {
        // An international phone number ("+44 20 7946 0958") is left as it is: made of digits
        // and separators only, it can call nothing, and the tools that send by SMS or merge
        // mail read it as written.
        Some(b'+') if is_phone_number(text) => false,
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => true,
        Some(b'\'') => starts_like_formula(&text[1..]),
        _ => false,
    }
}

/// "+" and a digit, then only digits and the separators phone numbers are written with.
fn is_phone_number(text: &str) -> bool {
    let rest = &text.as_bytes()[1..];
    rest.first().is_some_and(u8::is_ascii_digit)
        && rest.iter().all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/'))
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
            ("+44 20 7946-0958", "+44 20 7946-0958"),
            ("+1 (555) 0199", "+1 (555) 0199"),
            ("+1+1", "'+1+1"),
            ("+1 555 x", "'+1 555 x"),
            ("+ 1", "'+ 1"),
            ("'+44 20", "'+44 20"),
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
