//! CSV import: a file is one transaction, validated row by row, streamed (memory stays
//! flat in the size of the file), upserted by external id.

mod headers;
mod parse;
mod rows;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

pub use headers::{Columns, normalize};
pub use parse::RowError;
use rows::{Row, Rows};

use crate::error::StoreError;
use crate::kind::Kind;
use crate::record::column_of_field;
use crate::store::Store;
use crate::writer::{KindCounts, WriteOutcome, Writer};

/// How to import.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Validate everything (including references to existing records) but store nothing.
    pub dry_run: bool,
    /// How many problems to list before only counting them.
    pub max_errors: usize,
    /// The delimiter, when the caller knows it (None: detected from the header line).
    pub delimiter: Option<u8>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions { dry_run: false, max_errors: 100, delimiter: None }
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The kind imported.
    pub kind: Kind,
    /// Rows read, inserted, updated, unchanged.
    pub counts: KindCounts,
    /// True when nothing was stored on purpose.
    pub dry_run: bool,
}

/// Why a file was not imported. Nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read at all.
    #[error("cannot read {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The header row cannot be used.
    #[error("{}", format_header_problems(.problems))]
    Header {
        /// Every problem with the header.
        problems: Vec<String>,
    },
    /// Some rows are bad.
    #[error("{}", format_row_errors(.errors, *.total))]
    Rows {
        /// The problems, up to the limit asked for.
        errors: Vec<RowError>,
        /// How many there were in all.
        total: u64,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn format_header_problems(problems: &[String]) -> String {
    let mut s = String::from("the header (line 1) cannot be used; nothing was imported:");
    for p in problems {
        s.push_str("\n  - ");
        s.push_str(p);
    }
    s
}

fn format_row_errors(errors: &[RowError], total: u64) -> String {
    let mut s = format!("{total} problem{} found; nothing was imported:", if total == 1 { "" } else { "s" });
    for e in errors {
        s.push_str("\n  - ");
        s.push_str(&e.to_string());
    }
    let shown = errors.len() as u64;
    if total > shown {
        s.push_str(&format!("\n  ... and {} more", total - shown));
    }
    s.push_str("\nCorrect the file and import it again (add --dry-run to check it without storing).");
    s
}

/// Imports a file. `progress` is called now and then with the bytes read so far.
pub async fn import_file(
    store: &Store,
    kind: Kind,
    path: &Path,
    options: ImportOptions,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<ImportSummary, ImportError> {
    let file =
        std::fs::File::open(path).map_err(|source| ImportError::Open { path: path.display().to_string(), source })?;
    import_reader(store, kind, file, options, progress).await
}

/// Picks the delimiter from the header line: the one of `,` `;` `\t` that occurs most
/// outside quotes (comma on a tie).
fn sniff_delimiter(head: &[u8]) -> u8 {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in &head[..line_end] {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], std::cmp::Reverse(i))).unwrap_or(0);
    if counts[best] == 0 { b',' } else { [b',', b';', b'\t'][best] }
}

/// Whether the first line ends in `\r\n`, as files saved on Windows and by Excel do.
fn ends_lines_with_crlf(head: &[u8]) -> bool {
    head.iter().position(|&b| b == b'\n').is_some_and(|i| i > 0 && head[i - 1] == b'\r')
}

/// Whether the file's lines end in "\r" alone (its first line does, and no "\n" is in sight).
fn ends_lines_with_cr_only(head: &[u8]) -> bool {
    head.contains(&b'\r') && !head.contains(&b'\n')
}

/// Imports CSV from any reader (UTF-8 with or without BOM; comma, semicolon or tab).
pub async fn import_reader<R: Read + Send>(
    store: &Store,
    kind: Kind,
    reader: R,
    options: ImportOptions,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<ImportSummary, ImportError> {
    let mut buffered = BufReader::with_capacity(1 << 16, reader);
    let head = buffered.fill_buf().map_err(|source| ImportError::Open { path: "input".into(), source })?;
    let delimiter = options.delimiter.unwrap_or_else(|| sniff_delimiter(head));
    let crlf_shift = u64::from(ends_lines_with_crlf(head));
    let cr_only = ends_lines_with_cr_only(head);
    let mut csv =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(buffered);

    let mut record = csv::ByteRecord::new();
    let header: Vec<String> = match csv.read_byte_record(&mut record) {
        Ok(true) => match record.iter().map(|f| std::str::from_utf8(f).map(str::to_string)).collect() {
            Ok(h) => h,
            Err(_) => {
                return Err(ImportError::Header {
                    problems: vec!["the header is not valid UTF-8: save the file as UTF-8 (CSV UTF-8 in Excel)".into()],
                });
            }
        },
        Ok(false) => {
            return Err(ImportError::Header { problems: vec!["the file is empty: expected a header row".into()] });
        }
        Err(e) => return Err(ImportError::Header { problems: vec![format!("the header cannot be read: {e}")] }),
    };
    let cols = Columns::resolve(kind, &header)
        .map_err(|problems| ImportError::Header { problems: problems.into_iter().map(|p| p.message).collect() })?;

    let mut writer = Writer::begin(store, options.max_errors).await?;
    writer.update_only(kind, updated_columns(kind, &cols));
    // One batch is written while the next is read: the database and the parsing each keep
    // a core busy (reading, checking and parsing is about a third of an import's work).
    let mut rows = Rows::new(csv, kind, &header, &cols, crlf_shift, cr_only);
    let batch_len = writer.batch_len();
    let mut batch = rows.next_batch(batch_len, progress).await;
    while !batch.is_empty() {
        let (written, next) = tokio::join!(write_rows(&mut writer, batch), rows.next_batch(batch_len, progress));
        written?;
        batch = next;
    }
    match writer.finish(!options.dry_run).await? {
        WriteOutcome::Written { counts, .. } => {
            let counts = counts.into_iter().find(|(k, _)| *k == kind).map(|(_, c)| c).unwrap_or_default();
            Ok(ImportSummary { kind, counts, dry_run: options.dry_run })
        }
        WriteOutcome::Rejected { errors, total } => Err(ImportError::Rows { errors, total }),
    }
}

/// Hands a batch of rows to the writer: records to store, problems to report.
async fn write_rows(writer: &mut Writer, batch: Vec<Row>) -> Result<(), StoreError> {
    for row in batch {
        match row {
            Row::Record(line, record) => writer.push(line, record).await?,
            Row::Rejected(errors) => writer.reject(errors),
        }
    }
    Ok(())
}

/// The database columns that a file's header gives values for.
fn updated_columns(kind: Kind, cols: &Columns) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = kind
        .canonical_headers()
        .iter()
        .filter(|f| cols.index(f).is_some() || (**f == "name" && cols.first_last.is_some()))
        .map(|f| column_of_field(kind, f))
        .filter(|c| !c.is_empty())
        .collect();
    if !cols.extra.is_empty() {
        out.push(if kind == Kind::Responses { "scores" } else { "attributes" });
    }
    if kind == Kind::Responses {
        out.push("account_id");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_is_detected_from_the_header() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1;2;3"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n1,2,3"), b';');
        assert_eq!(sniff_delimiter(b"\"x;y\",b,c\n"), b',');
        assert_eq!(sniff_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter(b"single\n"), b',');
    }
}
