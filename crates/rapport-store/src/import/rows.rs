//! The rows of a file after its header, each read, checked (UTF-8, control characters, the
//! number of fields) and parsed into a record, in batches that the import writes while the
//! next one is read.

use std::io::Read;

use super::headers::Columns;
use super::parse::{RowError, parse_row};
use crate::kind::Kind;
use crate::record::Record;

/// One row of the file, read.
// Nearly every row is a record: boxing it to shrink the rare rejection would cost an
// allocation a row.
#[allow(clippy::large_enum_variant)]
pub(super) enum Row {
    /// A valid record, read at this line.
    Record(u64, Record),
    /// The row's problems.
    Rejected(Vec<RowError>),
}

/// Rows between two yields while a batch is read beside a write (see [`Rows::next_batch`]).
const ROWS_PER_YIELD: usize = 64;

/// Reads the rows of a file whose header was read already.
pub(super) struct Rows<'h, R: Read> {
    csv: csv::Reader<R>,
    record: csv::ByteRecord,
    cells: Vec<String>,
    kind: Kind,
    header: &'h [String],
    cols: &'h Columns,
    /// Lines the csv reader's count is short (see [`Rows::new`]).
    crlf_shift: u64,
    /// Whether the file's lines end in a lone "\r".
    cr_only: bool,
    read: u64,
    done: bool,
}

impl<'h, R: Read> Rows<'h, R> {
    /// `crlf_shift` is 1 when the file's lines end in "\r\n": the csv reader consumes only
    /// the "\r" of one before handing back a record, so every later record starts a line early
    /// (rust-csv#395), and the lines named in errors are the editor's. A file whose lines end
    /// in a lone "\r" (Excel for Mac's "CSV (Macintosh)") has no "\n" to count: each row is
    /// then numbered by its record (right unless a quoted value spans lines).
    pub(super) fn new(
        csv: csv::Reader<R>,
        kind: Kind,
        header: &'h [String],
        cols: &'h Columns,
        crlf_shift: u64,
        cr_only: bool,
    ) -> Rows<'h, R> {
        Rows {
            csv,
            record: csv::ByteRecord::new(),
            cells: Vec::with_capacity(header.len()),
            kind,
            header,
            cols,
            crlf_shift,
            cr_only,
            read: 0,
            done: false,
        }
    }

    fn line_of(&self, p: Option<&csv::Position>) -> u64 {
        p.map_or(0, |p| if self.cr_only { p.record() + 1 } else { p.line() + self.crlf_shift })
    }

    /// Reads up to `n` rows, yielding to the runtime every few dozen so that a write awaited
    /// beside it (`tokio::join!`) goes on as soon as the database answers: the file is read
    /// and checked while the previous batch is written. `progress` hears the bytes read so
    /// far now and then. Empty at the end of the file.
    pub(super) async fn next_batch(&mut self, n: usize, progress: &mut (dyn FnMut(u64) + Send)) -> Vec<Row> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n && !self.done {
            for _ in 0..ROWS_PER_YIELD.min(n - out.len()) {
                match self.next_row(progress) {
                    Some(row) => out.push(row),
                    None => break,
                }
            }
            if !self.done {
                tokio::task::yield_now().await;
            }
        }
        out
    }

    /// The next row, or None at the end of the file (or after a row that cannot be read as
    /// CSV, which ends the reading: what follows it cannot be told apart).
    fn next_row(&mut self, progress: &mut (dyn FnMut(u64) + Send)) -> Option<Row> {
        if self.done {
            return None;
        }
        match self.csv.read_byte_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                return Some(Row::Rejected(vec![RowError {
                    line: self.line_of(e.position()),
                    column: None,
                    value: None,
                    message: format!("the row cannot be read as CSV ({e}): check its quotes"),
                }]));
            }
        }
        let line = self.line_of(self.record.position());
        self.read += 1;
        if self.read % 4096 == 0 {
            progress(self.record.position().map_or(0, |p| p.byte()));
        }
        if self.record.len() != self.header.len() {
            return Some(Row::Rejected(vec![RowError {
                line,
                column: None,
                value: None,
                message: format!(
                    "the row has {} fields but the header has {}: check for a missing or extra delimiter",
                    self.record.len(),
                    self.header.len()
                ),
            }]));
        }
        self.cells.clear();
        let mut cell_errors = Vec::new();
        for (i, field) in self.record.iter().enumerate() {
            match std::str::from_utf8(field) {
                Ok(s) => {
                    if let Some(c) = s.chars().find(|&c| forbidden_control(c)) {
                        cell_errors.push(RowError {
                            line,
                            column: Some(self.header[i].clone()),
                            value: Some(s.escape_debug().to_string()),
                            message: format!(
                                "holds the control character U+{:04X}, which no field may hold: remove it \
                                 (tabs and line breaks are fine)",
                                u32::from(c)
                            ),
                        });
                    }
                    self.cells.push(s.to_string());
                }
                Err(e) => {
                    cell_errors.push(RowError {
                        line,
                        column: Some(self.header[i].clone()),
                        value: Some(String::from_utf8_lossy(field).into_owned()),
                        message: format!(
                            "not valid UTF-8 (bad byte at position {}): save the file as UTF-8",
                            e.valid_up_to() + 1
                        ),
                    });
                    self.cells.push(String::new());
                }
            }
        }
        if !cell_errors.is_empty() {
            return Some(Row::Rejected(cell_errors));
        }
        Some(match parse_row(self.kind, self.cols, &self.cells, line) {
            Ok(record) => Row::Record(line, record),
            Err(errors) => Row::Rejected(errors),
        })
    }
}

/// A control character no field may hold: PostgreSQL stores no NUL, an SVG or XML export
/// cannot carry the others, and on a terminal they move the cursor. Tabs and line breaks
/// (in quoted comments) are text.
fn forbidden_control(c: char) -> bool {
    c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')
}
