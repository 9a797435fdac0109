//! Lists and reports as downloads: CSV or XLSX (JSON for scripts), named after what they hold.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use rapport_reports::{Format, Report};
use serde::Deserialize;

use crate::error::WebError;

/// `?format=` of a page that can be downloaded.
#[derive(Debug, Default, Deserialize)]
pub struct FormatQuery {
    format: Option<String>,
}

/// The download asked for, `None` for the page itself.
pub fn download_format(q: &FormatQuery) -> Result<Option<Format>, WebError> {
    match q.format.as_deref() {
        None | Some("html") => Ok(None),
        Some(f) => match Format::parse(f) {
            Some(f @ (Format::Csv | Format::Xlsx | Format::Json)) => Ok(Some(f)),
            _ => Err(WebError::BadRequest(format!("'{f}' is not a download format: use csv, xlsx or json"))),
        },
    }
}

/// `report` as a file named `stem` plus the format's extension.
pub fn download(report: &Report, format: Format, stem: &str) -> Result<Response, WebError> {
    let mut body = Vec::new();
    report.write(format, &mut body)?;
    let (ext, media) = format.file_type();
    // The name comes from wave and account ids: keep only characters safe in a header and a
    // file system.
    let file: String = format!("{stem}.{ext}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, media.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(format: Option<&str>) -> Result<Option<Format>, WebError> {
        download_format(&FormatQuery { format: format.map(str::to_string) })
    }

    #[test]
    fn a_page_downloads_as_csv_xlsx_or_json_and_names_them_when_asked_for_another() {
        assert!(matches!(asked(None), Ok(None)));
        assert!(matches!(asked(Some("html")), Ok(None)));
        assert!(matches!(asked(Some("csv")), Ok(Some(Format::Csv))));
        assert!(matches!(asked(Some("xlsx")), Ok(Some(Format::Xlsx))));
        assert!(matches!(asked(Some("json")), Ok(Some(Format::Json))));
        assert!(matches!(asked(Some("table")), Err(WebError::BadRequest(_))));
        let Err(WebError::BadRequest(why)) = asked(Some("pdf")) else { panic!("a PDF download was not refused") };
        assert_eq!(why, "'pdf' is not a download format: use csv, xlsx or json");
    }
}
