//! A report's rows, written as a readable table, as CSV, JSON or an XLSX workbook.

use std::io::Write;

use rapport_core::money::Money;
use rapport_store::formula::guard;
use rust_xlsxwriter::{Format as XlsxFormat, Workbook, XlsxError};

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for a terminal, with notes.
    Table,
    /// Comma-separated, numbers as plain decimals with `.`, text cells formula-guarded.
    Csv,
    /// An object with the columns, rows as objects, and the notes.
    Json,
    /// A workbook: numbers as numbers, the header row frozen, text cells formula-guarded, the
    /// notes on a second sheet.
    Xlsx,
}

impl Format {
    /// Every format, by name.
    pub const ALL: [(&'static str, Format); 4] =
        [("table", Format::Table), ("csv", Format::Csv), ("json", Format::Json), ("xlsx", Format::Xlsx)];

    /// The format named `name` (table, csv, json, xlsx).
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.iter().find(|(n, _)| n.eq_ignore_ascii_case(name.trim())).map(|(_, f)| *f)
    }

    /// The file extension and media type of a download in this format.
    pub fn file_type(self) -> (&'static str, &'static str) {
        match self {
            Format::Table => ("txt", "text/plain; charset=utf-8"),
            Format::Csv => ("csv", "text/csv; charset=utf-8"),
            Format::Json => ("json", "application/json"),
            Format::Xlsx => ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text (names, ids, segments).
    Text(String),
    /// A count.
    Int(i64),
    /// A figure with a number of decimals (NPS with 1, correlations with 3, ...).
    Num(f64, usize),
    /// Money, to the cent.
    Money(Money),
    /// A flag.
    Bool(bool),
    /// No value (an unsurveyed account's NPS, a correlation that cannot be computed).
    Empty,
}

impl Value {
    /// A figure that may be missing.
    pub fn num(v: Option<f64>, decimals: usize) -> Value {
        v.map_or(Value::Empty, |x| Value::Num(x, decimals))
    }

    /// The value as plain text: numbers as plain decimals with `.`, empty for no value.
    pub fn plain(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Num(x, d) => format!("{x:.d$}"),
            Value::Money(m) => m.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Empty => String::new(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Value::Text(s) => serde_json::Value::String(s.clone()),
            Value::Int(i) => serde_json::Value::from(*i),
            // Rounded as the other formats show it, so the three agree.
            Value::Num(x, d) => {
                format!("{x:.d$}").parse::<f64>().map_or(serde_json::Value::Null, serde_json::Value::from)
            }
            Value::Money(m) => format!("{m}").parse::<f64>().map_or(serde_json::Value::Null, serde_json::Value::from),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Empty => serde_json::Value::Null,
        }
    }

    /// Whether it is a figure (right-aligned in tables).
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Num(..) | Value::Money(_))
    }
}

/// A finished report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// What it shows, e.g. "Quadrants, wave 2026-Q4".
    pub title: String,
    /// Column names (the CSV header).
    pub columns: Vec<&'static str>,
    /// The rows, one value per column.
    pub rows: Vec<Vec<Value>>,
    /// Lines under the table (thresholds used, what a flag means); in JSON as "notes".
    pub notes: Vec<String>,
}

impl Report {
    /// Writes the report.
    pub fn write(&self, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
        match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&self.columns)?;
                for row in &self.rows {
                    w.write_record(row.iter().map(|v| match v {
                        Value::Text(s) => guard(s).into_owned(),
                        other => other.plain(),
                    }))?;
                }
                w.flush()?;
            }
            Format::Json => {
                let rows: Vec<serde_json::Map<String, serde_json::Value>> = self
                    .rows
                    .iter()
                    .map(|row| self.columns.iter().zip(row).map(|(c, v)| (c.to_string(), v.json())).collect())
                    .collect();
                let doc = serde_json::json!({ "title": self.title, "columns": self.columns, "rows": rows, "notes": self.notes });
                serde_json::to_writer_pretty(&mut *out, &doc)?;
                writeln!(out)?;
            }
            Format::Table => self.write_table(out)?,
            Format::Xlsx => out.write_all(&self.xlsx()?)?,
        }
        Ok(())
    }

    fn xlsx(&self) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let header = XlsxFormat::new().set_bold().set_background_color("#E8ECF1");
        let money = XlsxFormat::new().set_num_format("#,##0.00");
        let decimals: Vec<XlsxFormat> = (0..=4)
            .map(|d| XlsxFormat::new().set_num_format(format!("0.{}", "0".repeat(d)).trim_end_matches('.')))
            .collect();
        let sheet = book.add_worksheet();
        sheet.set_name("Report")?;
        for (c, name) in self.columns.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *name, &header)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, v) in row.iter().enumerate() {
                let c = c as u16;
                match v {
                    Value::Text(t) => sheet.write_string(r, c, guard(t).as_ref()).map(|_| ())?,
                    Value::Int(i) => sheet.write_number(r, c, *i as f64).map(|_| ())?,
                    Value::Num(x, d) => sheet.write_number_with_format(r, c, *x, &decimals[(*d).min(4)]).map(|_| ())?,
                    Value::Money(m) => {
                        sheet.write_number_with_format(r, c, m.cents() as f64 / 100.0, &money).map(|_| ())?
                    }
                    Value::Bool(b) => sheet.write_boolean(r, c, *b).map(|_| ())?,
                    Value::Empty => (),
                }
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofit();
        let notes = book.add_worksheet();
        notes.set_name("Notes")?;
        notes.write_string_with_format(0, 0, guard(&self.title).as_ref(), &header)?;
        for (i, note) in self.notes.iter().enumerate() {
            notes.write_string(i as u32 + 1, 0, guard(note).as_ref())?;
        }
        book.save_to_buffer()
    }

    fn write_table(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let cells: Vec<Vec<String>> = self.rows.iter().map(|r| r.iter().map(table_text).collect()).collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                cells.iter().map(|r| r[i].chars().count()).chain([self.columns[i].chars().count()]).max().unwrap_or(0)
            })
            .collect();
        let numeric: Vec<bool> = (0..self.columns.len()).map(|i| self.rows.iter().any(|r| r[i].is_number())).collect();
        writeln!(out, "{}", terminal_text(&self.title))?;
        let line = |out: &mut dyn Write, texts: &[String]| -> std::io::Result<()> {
            let parts: Vec<String> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let pad = widths[i].saturating_sub(t.chars().count());
                    if numeric[i] { format!("{}{t}", " ".repeat(pad)) } else { format!("{t}{}", " ".repeat(pad)) }
                })
                .collect();
            writeln!(out, "{}", parts.join("  ").trim_end())
        };
        line(out, &self.columns.iter().map(|c| c.to_string()).collect::<Vec<_>>())?;
        line(out, &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>())?;
        for row in &cells {
            line(out, row)?;
        }
        if self.rows.is_empty() {
            writeln!(out, "(no rows)")?;
        }
        for note in &self.notes {
            writeln!(out, "{}", terminal_text(note))?;
        }
        Ok(())
    }
}

/// A cell for the terminal: control characters shown escaped so a hostile name cannot move
/// the cursor or clear the screen, and long text cut.
fn table_text(v: &Value) -> String {
    let text = match v {
        Value::Money(m) => group_thousands(&m.to_string()),
        other => other.plain(),
    };
    let clean = terminal_text(&text);
    if clean.chars().count() > 40 { format!("{}…", clean.chars().take(39).collect::<String>()) } else { clean }
}

/// Text for the terminal with its control characters shown escaped: a title or a note names
/// segments, and a segment is named by whatever a file held.
fn terminal_text(text: &str) -> String {
    text.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

/// "1234567.50" as "1,234,567.50", for reading (CSV and JSON keep plain decimals).
fn group_thousands(plain: &str) -> String {
    let (sign, digits) = plain.strip_prefix('-').map_or(("", plain), |d| ("-", d));
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if frac.is_empty() { format!("{sign}{out}") } else { format!("{sign}{out}.{frac}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            title: "t".into(),
            columns: vec!["name", "nps", "billed"],
            rows: vec![
                vec![Value::Text("=HYPERLINK(\"x\")".into()), Value::Num(33.333, 1), Value::Money(Money(123_456_789))],
                vec![Value::Text("Acme\u{1b}[2J".into()), Value::Empty, Value::Money(Money(-5))],
            ],
            notes: vec!["note".into(), "Top driver in \u{1b}]0;pwned\u{7}".into()],
        }
    }

    fn render(format: Format) -> String {
        let mut out = Vec::new();
        sample().write(format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_has_plain_numbers_and_inert_formulas() {
        assert_eq!(
            render(Format::Csv),
            "name,nps,billed\n\"'=HYPERLINK(\"\"x\"\")\",33.3,1234567.89\nAcme\u{1b}[2J,,-0.05\n"
        );
    }

    #[test]
    fn json_has_numbers_and_nulls() {
        let v: serde_json::Value = serde_json::from_str(&render(Format::Json)).unwrap();
        assert_eq!(v["rows"][0]["nps"], serde_json::json!(33.3));
        assert_eq!(v["rows"][0]["billed"], serde_json::json!(1234567.89));
        assert_eq!(v["rows"][1]["nps"], serde_json::Value::Null);
        assert_eq!(v["notes"][0], "note");
    }

    #[test]
    fn tables_align_numbers_right_and_escape_control_characters() {
        let t = render(Format::Table);
        assert!(t.contains("1,234,567.89"), "{t}");
        assert!(t.contains("Acme\\u{1b}[2J"), "{t}");
        assert!(t.contains(" 33.3"), "{t}");
        assert!(t.ends_with("note\nTop driver in \\u{1b}]0;pwned\\u{7}\n"), "notes too: {t}");
        assert!(!t.contains('\u{1b}'), "{t}");
    }
}
