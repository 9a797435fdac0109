//! Numbers as pages show them: money with thousands separators, NPS with one decimal and a
//! sign, percentages; "–" for no value.

use rapport_core::money::Money;

/// No value.
pub const NONE: &str = "–";

/// Money in whole units with thousands separators: "$1,234,568".
pub fn money(m: Money) -> String {
    m.grouped().to_string()
}

/// Money that may be missing.
pub fn money_opt(cents: Option<i64>) -> String {
    cents.map_or_else(|| NONE.to_string(), |c| money(Money(c)))
}

/// An NPS: "+42.5", "-3.0", "0.0".
pub fn nps(v: Option<f64>) -> String {
    match v {
        Some(x) if x > 0.0 => format!("+{x:.1}"),
        Some(x) => format!("{x:.1}"),
        None => NONE.to_string(),
    }
}

/// A change in NPS points: "▲ 4.2", "▼ 3.0", "no change".
pub fn delta(v: Option<f64>) -> String {
    match v {
        Some(x) if x >= 0.05 => format!("▲ {x:.1}"),
        Some(x) if x <= -0.05 => format!("▼ {:.1}", -x),
        Some(_) => "no change".to_string(),
        None => NONE.to_string(),
    }
}

/// A share as a percentage: "37.5%".
pub fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| NONE.to_string(), |s| format!("{:.1}%", s * 100.0))
}

/// A report column's name as a table heading: "billed_revenue" reads "Billed revenue",
/// "effort_pct" "Effort %", "nps" "NPS". Files and the API keep the names themselves, which the
/// heading shows on hover.
pub fn heading(column: &str) -> String {
    let words: Vec<&str> = column
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "id" => "ID",
            "nps" => "NPS",
            "ltr" => "LTR",
            "pct" => "%",
            "ci90" => "90% CI",
            w => w,
        })
        .collect();
    let text = words.join(" ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(money(Money(123_456_789)), "$1,234,568");
        assert_eq!(money(Money(-50_000)), "-$500");
        assert_eq!(money(Money::ZERO), "$0");
        assert_eq!(nps(Some(42.46)), "+42.5");
        assert_eq!(nps(Some(-3.0)), "-3.0");
        assert_eq!(nps(None), NONE);
        assert_eq!(delta(Some(-3.04)), "▼ 3.0");
        assert_eq!(delta(Some(0.01)), "no change");
        assert_eq!(percent(Some(0.375)), "37.5%");
    }

    #[test]
    fn report_columns_read_as_headings() {
        assert_eq!(heading("billed_revenue"), "Billed revenue");
        assert_eq!(heading("account_id"), "Account ID");
        assert_eq!(heading("effort_pct"), "Effort %");
        assert_eq!(heading("nps"), "NPS");
        assert_eq!(heading("ci90_low"), "90% CI low");
        assert_eq!(heading("name"), "Name");
    }
}
