//! Every report as a page (a sortable table with its notes) and as a CSV or XLSX download,
//! with the same filters as the dashboard.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use rapport_reports::{Format, Portfolio, ReportKind, ReportQuery, Value, build};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::authz::Need;
use crate::error::WebError;
use crate::pages::dashboard::account_href;
use crate::pages::view::{FilterOptions, Layout, ViewQuery, Viewer};
use crate::state::AppState;

/// The reports, as URLs name them, with a line on what each shows.
pub const REPORTS: [(&str, ReportKind, &str); 7] = [
    ("quadrants", ReportKind::Quadrants, "Every account on the loyalty x revenue matrix"),
    ("migration", ReportKind::Migration, "Accounts that changed quadrant between two waves"),
    ("nps", ReportKind::Nps, "NPS per segment, with counts and 90% intervals"),
    ("drivers", ReportKind::Drivers, "What drives loyalty in each vertical"),
    ("trends", ReportKind::Trends, "NPS across waves"),
    ("coverage", ReportKind::Coverage, "Who was asked, who answered, and the revenue they stand for"),
    ("loyalty-revenue", ReportKind::LoyaltyRevenue, "Loyalty change against revenue change per account"),
];

/// The most rows a report page shows; the downloads hold them all.
const PAGE_ROWS: usize = 500;

/// `?format=` of a report.
#[derive(Debug, Default, Deserialize)]
pub struct FormatQuery {
    format: Option<String>,
}

/// A cell as the page shows it.
pub struct Cell {
    /// The text.
    pub text: String,
    /// Right-aligned figure.
    pub numeric: bool,
    /// A link (account ids link to their page).
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    name: &'static str,
    about: &'static str,
    reports: &'static [(&'static str, ReportKind, &'static str)],
    view: ViewQuery,
    options: FilterOptions,
    query: String,
    title: String,
    columns: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
    notes: Vec<String>,
    shown: usize,
    total: usize,
}

fn cell(column: &str, v: &Value) -> Cell {
    let text = match v {
        Value::Money(m) => crate::pages::format::money(*m),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => String::new(),
        other => other.plain(),
    };
    let href = match (column, v) {
        ("account_id", Value::Text(id)) => Some(account_href(id)),
        _ => None,
    };
    Cell { text, numeric: v.is_number(), href }
}

/// GET /reports: the list of reports.
pub async fn index() -> axum::response::Redirect {
    axum::response::Redirect::to("/reports/quadrants")
}

/// GET /reports/{name}: a report as a page, or `?format=csv|xlsx` as a download.
pub async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Query(view): Query<ViewQuery>,
    Query(format): Query<FormatQuery>,
) -> Result<Response, WebError> {
    user.require(Need::Portfolio)?;
    let Some(&(name, kind, about)) = REPORTS.iter().find(|(n, _, _)| *n == name) else {
        let names: Vec<&str> = REPORTS.iter().map(|r| r.0).collect();
        return Err(WebError::NotFound(format!("There is no report '{name}'; the reports are {}", names.join(", "))));
    };
    let query = ReportQuery {
        wave: view.wave.clone(),
        // Migration and loyalty-revenue compare `from` with `wave`.
        to: view.wave.clone(),
        from: view.from.clone(),
        by: view.dimension().map_err(WebError::BadRequest)?,
        filter: user.scoped(view.filter()),
        ..ReportQuery::new(kind)
    };
    let report = build(&state.store, &state.cache, &query).await.map_err(WebError::from_report)?;
    let format = match format.format.as_deref() {
        None | Some("html") => None,
        Some(f) => match Format::parse(f) {
            Some(f @ (Format::Csv | Format::Xlsx | Format::Json)) => Some(f),
            _ => return Err(WebError::BadRequest(format!("'{f}' is not a download format: use csv or xlsx"))),
        },
    };
    if let Some(format) = format {
        let mut body = Vec::new();
        report.write(format, &mut body)?;
        let (ext, media) = format.file_type();
        let file = format!("rapport-{name}{}.{ext}", view.wave.as_deref().map_or(String::new(), |w| format!("-{w}")));
        // The file name is built from a wave name: keep only safe characters.
        let file: String =
            file.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
        return Ok((
            [
                (header::CONTENT_TYPE, media.to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
            ],
            body,
        )
            .into_response());
    }
    let p =
        Portfolio::load(&state.store, &state.cache, true, &Default::default()).await.map_err(WebError::from_report)?;
    let page = ReportPage {
        layout: Layout::new(&user, report.title.clone(), "reports"),
        name,
        about,
        reports: &REPORTS,
        options: FilterOptions::of(&Viewer::of(&user), &p.accounts, &p.waves),
        query: view.query_string(),
        view,
        title: report.title.clone(),
        rows: report
            .rows
            .iter()
            .take(PAGE_ROWS)
            .map(|r| report.columns.iter().zip(r).map(|(c, v)| cell(c, v)).collect())
            .collect(),
        columns: report.columns.clone(),
        shown: report.rows.len().min(PAGE_ROWS),
        total: report.rows.len(),
        notes: report.notes.clone(),
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?).into_response())
}
