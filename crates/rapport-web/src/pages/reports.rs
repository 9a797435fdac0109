//! Every report as a page (a sortable table with its notes) and as a CSV or XLSX download,
//! with the same filters as the dashboard.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use rapport_core::drivers::key_drivers;
use rapport_core::migration::Direction;
use rapport_core::quadrant::Quadrant;
use rapport_core::segment::Dimension;
use rapport_core::theme;
use rapport_reports::{Portfolio, Report, ReportKind, ReportQuery, Value, build_cached};

use crate::auth::CurrentUser;
use crate::authz::Need;
use crate::chart::bars::{self, Bar, BarChart};
use crate::chart::priority::{self, DriverPoint, PriorityChart};
use crate::error::WebError;
use crate::pages::dashboard::account_href;
use crate::pages::download::{FormatQuery, download, download_format};
use crate::pages::view::{FilterOptions, Layout, ViewQuery, Viewer};
use crate::state::AppState;

/// The most rows a report page shows; the downloads hold them all.
const PAGE_ROWS: usize = 500;

/// A cell as the page shows it.
pub struct Cell {
    /// The text.
    pub text: String,
    /// Right-aligned figure.
    pub numeric: bool,
    /// A link (account ids link to their page).
    pub href: Option<String>,
}

/// One cell of the migration matrix.
pub struct GridCell {
    /// Accounts that moved from the row's quadrant to the column's.
    pub count: u64,
    /// "same", "better" (toward Emulate), "worse", "side" or "none" (unsurveyed involved).
    pub class: &'static str,
}

/// The migration matrix between two waves.
pub struct MigrationGrid {
    /// The earlier wave.
    pub from: String,
    /// The later wave.
    pub to: String,
    /// Quadrant names, in row and column order.
    pub labels: Vec<&'static str>,
    /// (row label, cells).
    pub rows: Vec<(&'static str, Vec<GridCell>)>,
    /// Billed revenue that moved into Problem.
    pub into_problem: String,
}

/// What a report page draws above its table.
pub enum Visual {
    /// Nothing: the table says it all.
    Nothing,
    /// NPS per segment (or per theme: what the second field names) as bars.
    Nps(BarChart, &'static str),
    /// The migration matrix.
    Migration(MigrationGrid),
    /// Importance vs performance of the drivers, one chart per segment.
    Drivers(Vec<(String, PriorityChart)>),
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    visual: Visual,
    name: &'static str,
    about: &'static str,
    reports: Vec<(&'static str, &'static str)>,
    assessment: bool,
    view: ViewQuery,
    options: Arc<FilterOptions>,
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
        // "problem" in files, "Problem" on the page, as the matrix names it.
        Value::Text(q) if column == "quadrant" => {
            Quadrant::parse(q).map_or_else(|| q.clone(), |q| q.label().to_string())
        }
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
    Query(mut view): Query<ViewQuery>,
    Query(format): Query<FormatQuery>,
) -> Result<Response, WebError> {
    user.require(Need::Portfolio)?;
    let Some(kind) = ReportKind::parse(&name) else {
        return Err(WebError::NotFound(ReportKind::unknown(&name)));
    };
    let compare = match view.compare.as_deref() {
        Some(v) => Some(v.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
            WebError::BadRequest(format!(
                "Compare with version '{v}': give a version number (see the definition's history)"
            ))
        })?),
        None => None,
    };
    view.window_fields = kind.is_assessment();
    view.compare_field = kind == ReportKind::Ideal;
    view.theme_field = kind == ReportKind::Comments;
    let query = ReportQuery {
        wave: view.wave.clone(),
        // Migration and loyalty-revenue compare `from` with `wave`.
        to: view.wave.clone(),
        from: view.from.clone(),
        by: view.dimension().map_err(WebError::BadRequest)?,
        filter: user.scoped(view.filter()),
        since: view.since.clone(),
        until: view.until.clone(),
        compare,
        // The tabs carry the theme to the other reports, which have none.
        theme: view.theme.clone().filter(|_| kind == ReportKind::Comments),
        ..ReportQuery::new(kind)
    };
    let report = build_cached(&state.store, &state.cache, &query).await.map_err(WebError::from_report)?;
    if let Some(format) = download_format(&format)? {
        let detail = format!("{} {}", format.file_type().0, view.query_string());
        state.audit(Some(&user.0.email), "export", kind.as_str(), detail.trim()).await?;
        let stem =
            format!("rapport-{}{}", kind.as_str(), view.wave.as_deref().map_or(String::new(), |w| format!("-{w}")));
        return download(&report, format, &stem);
    }
    let visual = visual(&state, kind, &query, &report).await.map_err(WebError::from_report)?;
    let page = ReportPage {
        visual,
        layout: Layout::new(&user, report.title.clone(), if kind.is_assessment() { "assessment" } else { "reports" }),
        // The loyalty reports and the assessment reports each have their own tabs.
        reports: ReportKind::ALL
            .iter()
            .filter(|k| k.is_assessment() == kind.is_assessment())
            .map(|k| (k.as_str(), k.about()))
            .collect(),
        assessment: kind.is_assessment(),
        name: kind.as_str(),
        about: kind.about(),
        options: FilterOptions::cached(&state, &Viewer::of(&user)).await?,
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

/// The chart or matrix a report page shows above its table.
async fn visual(state: &AppState, kind: ReportKind, query: &ReportQuery, report: &Report) -> anyhow::Result<Visual> {
    let (store, cache) = (&state.store, &state.cache);
    Ok(match kind {
        ReportKind::Nps => {
            let column = |name: &str| report.columns.iter().position(|c| *c == name);
            let (Some(seg), Some(n), Some(nps), Some(lo), Some(hi)) =
                (column("segment"), column("responses"), column("nps"), column("ci90_low"), column("ci90_high"))
            else {
                return Ok(Visual::Nothing);
            };
            let number = |v: &Value| match v {
                Value::Num(x, _) => Some(*x),
                Value::Int(i) => Some(*i as f64),
                _ => None,
            };
            let bars: Vec<Bar> = report
                .rows
                .iter()
                .filter_map(|r| {
                    Some(Bar {
                        label: r[seg].plain(),
                        nps: number(&r[nps])?,
                        interval: number(&r[lo]).zip(number(&r[hi])),
                        n: number(&r[n]).unwrap_or(0.0) as u64,
                    })
                })
                .take(40)
                .collect();
            if bars.is_empty() { Visual::Nothing } else { Visual::Nps(bars::layout(&bars, 760.0), "segment") }
        }
        ReportKind::Comments => {
            // NPS among the commenters on each theme, from the scores and themes of every
            // comment in the view (the report narrowed to one theme lists only its rows).
            let everything = ReportQuery { theme: None, ..query.clone() };
            let report = &*build_cached(store, cache, &everything).await?;
            let column = |name: &str| report.columns.iter().position(|c| *c == name);
            let (Some(ltr), Some(themes)) = (column("ltr"), column("themes")) else {
                return Ok(Visual::Nothing);
            };
            let tagged: Vec<(u8, Vec<&'static str>)> = report
                .rows
                .iter()
                .filter_map(|r| match (&r[ltr], &r[themes]) {
                    (Value::Int(l), Value::Text(t)) => Some((u8::try_from(*l).ok()?, theme::keys_in(t))),
                    _ => None,
                })
                .collect();
            let bars: Vec<Bar> = theme::summarize(tagged.iter().map(|(l, keys)| (*l, keys.as_slice())))
                .iter()
                .filter_map(|t| {
                    Some(Bar {
                        label: t.key.to_string(),
                        nps: t.counts.nps()?,
                        interval: t.counts.nps_ci90().map(|i| (i.low, i.high)),
                        n: t.counts.n(),
                    })
                })
                .collect();
            if bars.is_empty() { Visual::Nothing } else { Visual::Nps(bars::layout(&bars, 760.0), "theme") }
        }
        ReportKind::Migration => {
            let p = Portfolio::load(store, cache, true, &query.filter).await?;
            let c = p.compare(store, cache, query).await?;
            let rows = Quadrant::ALL
                .iter()
                .map(|&from| {
                    let cells = Quadrant::ALL
                        .iter()
                        .map(|&to| GridCell {
                            count: c.migration.count(from, to),
                            class: if from == to {
                                "same"
                            } else {
                                match Direction::of(from, to) {
                                    Some(Direction::TowardEmulate) => "better",
                                    Some(Direction::AwayFromEmulate) => "worse",
                                    Some(Direction::Sideways) => "side",
                                    None => "none",
                                }
                            },
                        })
                        .collect();
                    (from.label(), cells)
                })
                .collect();
            Visual::Migration(MigrationGrid {
                from: c.from.name.clone(),
                to: c.to.name.clone(),
                labels: Quadrant::ALL.iter().map(|q| q.label()).collect(),
                rows,
                into_problem: crate::pages::format::money(c.migration.billed_into_problem),
            })
        }
        ReportKind::Drivers => {
            let p = Portfolio::load(store, cache, false, &query.filter).await?;
            let wave = p.wave(query.wave.as_deref())?;
            let stats = p.driver_stats(store, cache, wave.id, query.by.unwrap_or(Dimension::Vertical)).await?;
            let charts = stats
                .iter()
                .filter_map(|(segment, s)| {
                    let points: Vec<DriverPoint> = key_drivers(s, query.min_answers)
                        .into_iter()
                        .filter_map(|d| Some(DriverPoint { importance: d.importance?, mean: d.mean?, name: d.driver }))
                        .collect();
                    (!points.is_empty()).then(|| (segment.clone(), priority::layout(&points, 340.0, 240.0)))
                })
                .take(24)
                .collect::<Vec<_>>();
            if charts.is_empty() { Visual::Nothing } else { Visual::Drivers(charts) }
        }
        _ => Visual::Nothing,
    })
}
