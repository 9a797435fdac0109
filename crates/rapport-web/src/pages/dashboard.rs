//! The portfolio dashboard: headline NPS and its trend, response rate, the loyalty x revenue
//! matrix as a bubble chart with the four quadrant lists and their strategies, revenue at
//! risk, and the biggest movers since the previous wave.

use rapport_core::words::count;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use rapport_core::loyalty::{LoyaltyCounts, LoyaltySummary};
use rapport_core::money::Money;
use rapport_core::quadrant::{Matrix, Quadrant};
use rapport_reports::{Portfolio, ReportKind, ReportQuery};

use crate::auth::CurrentUser;
use crate::authz::Need;
use crate::chart::bubble::{self, Bubble, BubbleChart};
use crate::chart::line::{self, LineChart, NPS_COLOUR, Series};
use crate::error::WebError;
use crate::pages::format;
use crate::pages::view::{FilterOptions, Layout, ViewQuery, Viewer};
use crate::state::AppState;

/// How many accounts each quadrant list shows on the dashboard (the report lists them all).
const LIST_LENGTH: usize = 6;
/// How many movers each way.
const MOVERS: usize = 5;
/// The most bubbles the matrix draws: beyond a few hundred a chart no longer reads, and the
/// page must stay light. The biggest accounts (by billed or potential revenue) are drawn;
/// filters bring the others in.
pub const MAX_BUBBLES: usize = 500;

/// An account in a list.
pub struct AccountLink {
    /// Its page.
    pub href: String,
    /// Its name.
    pub name: String,
    /// NPS in the wave.
    pub nps: String,
    /// Billed revenue.
    pub billed: String,
    /// Whether its NPS rests on fewer answers than the minimum.
    pub low_sample: bool,
}

/// One quadrant's box.
pub struct QuadrantBox {
    /// Its name.
    pub label: &'static str,
    /// CSS class.
    pub class: &'static str,
    /// Accounts in it.
    pub accounts: u64,
    /// Their billed revenue.
    pub billed: String,
    /// Their potential revenue.
    pub potential: String,
    /// What to do with them.
    pub strategy: &'static str,
    /// The biggest accounts by billed revenue.
    pub top: Vec<AccountLink>,
}

/// An account the viewing executive sponsors.
pub struct Sponsored {
    /// Its page.
    pub href: String,
    /// Its name.
    pub name: String,
    /// Quadrant in the wave.
    pub quadrant: &'static str,
    /// CSS class of the quadrant.
    pub class: &'static str,
    /// NPS in the wave.
    pub nps: String,
    /// Billed revenue.
    pub billed: String,
}

/// An account whose loyalty moved most.
pub struct Mover {
    /// Its page.
    pub href: String,
    /// Its name.
    pub name: String,
    /// NPS change.
    pub change: String,
    /// Quadrant before and now.
    pub from: &'static str,
    /// Quadrant now.
    pub to: &'static str,
}

#[cfg(test)]
mod tests {
    use super::short_label;

    #[test]
    fn bubble_labels_are_short_but_tell_sister_accounts_apart() {
        assert_eq!(short_label("Acme"), "Acme");
        assert_eq!(short_label("Vertex Gas & Electric Inc."), "Vertex Gas &…");
        assert_eq!(short_label("Vertex Industries B.V."), "Vertex Indust…");
        assert_eq!(short_label("Ünïcödé Grüße GmbH"), "Ünïcödé Grüße…");
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    layout: Layout,
    data: Arc<DashboardData>,
}

// The template reads the figures as its own fields.
impl Deref for DashboardPage {
    type Target = DashboardData;

    fn deref(&self) -> &DashboardData {
        &self.data
    }
}

/// Everything the dashboard shows but the frame around it: computed once per view and viewer
/// scope while the data is unchanged, then shared by every request for that view.
pub struct DashboardData {
    view: ViewQuery,
    options: FilterOptions,
    query: String,
    wave: String,
    previous: Option<String>,
    nps: String,
    nps_detail: String,
    nps_change: String,
    response_rate: String,
    response_detail: String,
    at_risk: String,
    at_risk_detail: String,
    thresholds: String,
    trend: LineChart,
    chart: BubbleChart,
    quadrants: Vec<QuadrantBox>,
    unsurveyed: u64,
    sponsored: Option<Vec<Sponsored>>,
    drawn: usize,
    surveyed: u64,
    falls: Vec<Mover>,
    rises: Vec<Mover>,
}

#[derive(Template)]
#[template(path = "empty.html")]
struct EmptyPage {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "matrix.svg", escape = "html")]
struct MatrixSvg {
    chart: BubbleChart,
}

/// The link to an account's page.
pub fn account_href(account_id: &str) -> String {
    format!("/accounts/{}", percent_encoding::utf8_percent_encode(account_id, crate::URL_SAFE))
}

/// A bubble's label: the name's first 13 characters and "…", so that two accounts of one
/// group ("Vertex Gas", "Vertex Industries") stay distinguishable.
fn short_label(name: &str) -> String {
    const MAX: usize = 14;
    if name.chars().count() <= MAX {
        return name.to_string();
    }
    let cut: String = name.chars().take(MAX - 1).collect();
    format!("{}…", cut.trim_end())
}

/// A quadrant's colour (the stylesheet's, for charts that leave the page).
fn quadrant_colour(quadrant: Quadrant) -> &'static str {
    match quadrant {
        Quadrant::Emulate => "#2f9e6a",
        Quadrant::Problem => "#d64545",
        Quadrant::Growth => "#3b7dd8",
        Quadrant::Decision => "#c9962b",
        Quadrant::Unsurveyed => "#8a96a6",
    }
}

/// The CSS classes of a bubble: its quadrant, and "sponsored" for an executive's own accounts.
fn bubble_class(quadrant: Quadrant, sponsored: bool) -> &'static str {
    match (quadrant, sponsored) {
        (Quadrant::Emulate, true) => "emulate sponsored",
        (Quadrant::Problem, true) => "problem sponsored",
        (Quadrant::Growth, true) => "growth sponsored",
        (Quadrant::Decision, true) => "decision sponsored",
        (q, _) => q.as_str(),
    }
}

fn sum_counts(matrix: &Matrix<usize>) -> LoyaltyCounts {
    let mut total = LoyaltyCounts::default();
    for pl in &matrix.placements {
        total.merge(&pl.loyalty.counts);
    }
    total
}

/// The bubble chart of a placed wave.
fn bubble_chart(viewer: &Viewer, p: &Portfolio, matrix: &Matrix<usize>) -> BubbleChart {
    let mut surveyed: Vec<_> = matrix.placements.iter().filter(|pl| pl.quadrant != Quadrant::Unsurveyed).collect();
    if surveyed.len() > MAX_BUBBLES {
        surveyed.sort_by_key(|pl| std::cmp::Reverse(pl.billed.max(pl.potential)));
        surveyed.truncate(MAX_BUBBLES);
    }
    let bubbles: Vec<Bubble> = surveyed
        .into_iter()
        .map(|pl| {
            let a = &p.accounts[pl.account].account;
            let nps = pl.loyalty.nps.unwrap_or(0.0);
            Bubble {
                href: viewer.account_href(&a.account_id),
                name: a.name.clone(),
                short: short_label(&a.name),
                nps,
                billed_cents: pl.billed.cents(),
                potential_cents: pl.potential.cents(),
                class: bubble_class(pl.quadrant, viewer.sponsors(a)),
                fill: quadrant_colour(pl.quadrant),
                tooltip: format!(
                    "{}{}: NPS {} from {}; billed {}, potential {}; {}",
                    if viewer.sponsors(a) { "★ " } else { "" },
                    a.name,
                    format::nps(pl.loyalty.nps),
                    count(pl.loyalty.n, "answer", "answers"),
                    format::money(pl.billed),
                    format::money(pl.potential),
                    pl.quadrant.label()
                ),
            }
        })
        .collect();
    bubble::layout(&bubbles, matrix.thresholds.loyalty, matrix.thresholds.revenue.map(Money::cents), 760.0, 520.0)
}

/// What the dashboard computes for one view, shared with the matrix SVG download.
struct Placed {
    portfolio: Portfolio,
    matrix: Arc<Matrix<usize>>,
    wave_index: usize,
    query: ReportQuery,
}

async fn place(state: &AppState, viewer: &Viewer, view: &ViewQuery) -> Result<Option<Placed>, WebError> {
    let filter = viewer.scoped(view.filter());
    let portfolio = Portfolio::load(&state.store, &state.cache, true, &filter).await.map_err(WebError::from_report)?;
    if portfolio.waves.is_empty() {
        return Ok(None);
    }
    let wave = portfolio.wave(view.wave.as_deref()).map_err(WebError::from_report)?;
    let wave_index = portfolio.waves.iter().position(|w| w.id == wave.id).unwrap_or(0);
    let query = ReportQuery { wave: Some(wave.name.clone()), filter, ..ReportQuery::new(ReportKind::Quadrants) };
    let matrix = portfolio.placed(&state.store, &state.cache, wave.id, &query).await.map_err(WebError::from_report)?;
    Ok(Some(Placed { portfolio, matrix, wave_index, query }))
}

/// GET /: the dashboard.
pub async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(view): Query<ViewQuery>,
) -> Result<Html<String>, WebError> {
    render(&state, &Viewer::of(&user), view).await
}

/// The dashboard for a viewer: a signed-in user, or a share link.
pub async fn render(state: &AppState, viewer: &Viewer, view: ViewQuery) -> Result<Html<String>, WebError> {
    if let Some(user) = &viewer.user {
        user.require(Need::Portfolio)?;
    }
    let data = figures(state, viewer, view).await?;
    let html = match data.as_ref() {
        Some(data) => {
            let title = format!("Dashboard, {}", data.wave);
            DashboardPage { layout: viewer.layout(title, "dashboard"), data: data.clone() }.render()
        }
        None => EmptyPage { layout: viewer.layout("Dashboard", "dashboard") }.render(),
    };
    Ok(Html(html.map_err(anyhow::Error::from)?))
}

/// The dashboard's figures for a view and viewer, kept while the data is unchanged; `None`
/// while there are no waves.
async fn figures(
    state: &AppState,
    viewer: &Viewer,
    view: ViewQuery,
) -> Result<Arc<Option<Arc<DashboardData>>>, WebError> {
    // What the figures depend on: the view, and who may see what (scope, sponsorship, links).
    let key =
        format!("dashboard|{:?}|{:?}|{}|{}", viewer.owned_by, viewer.sponsor, viewer.links(), view.query_string());
    state.cache.derived(&state.store, key, || compute(state, viewer, view.clone())).await
}

/// GET /charts/trend.svg: the dashboard's NPS trend as a file, same filters.
pub async fn trend_svg(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(view): Query<ViewQuery>,
) -> Result<Response, WebError> {
    user.require(Need::Portfolio)?;
    state.audit(Some(&user.0.email), "export", "trend.svg", &view.query_string()).await?;
    let data = figures(&state, &Viewer::of(&user), view).await?;
    let data = data
        .as_ref()
        .as_ref()
        .ok_or_else(|| WebError::NotFound("There are no waves yet, so there is no trend".into()))?;
    crate::pages::account::svg_file(data.trend.clone(), "NPS across waves".into(), "rapport-nps-trend.svg")
}

/// The dashboard's figures for a view, `None` while there are no waves.
async fn compute(state: &AppState, viewer: &Viewer, view: ViewQuery) -> Result<Option<Arc<DashboardData>>, WebError> {
    let Some(Placed { portfolio: p, matrix, wave_index, query }) = place(state, viewer, &view).await? else {
        return Ok(None);
    };
    let wave = &p.waves[wave_index];
    let total = LoyaltySummary::new(sum_counts(&matrix), query.min_answers);

    // The trend across every wave, over the same accounts.
    let mut trend_points = Vec::new();
    let mut previous: Option<(Arc<Matrix<usize>>, LoyaltySummary)> = None;
    for (i, w) in p.waves.iter().enumerate() {
        let placed = p.placed(&state.store, &state.cache, w.id, &query).await.map_err(WebError::from_report)?;
        let summary = LoyaltySummary::new(sum_counts(&placed), query.min_answers);
        trend_points.push(summary.nps);
        if i + 1 == wave_index {
            previous = Some((placed, summary));
        }
    }
    let categories: Vec<String> = p.waves.iter().map(|w| w.name.clone()).collect();
    let series = [Series { name: "NPS".into(), class: "nps", colour: NPS_COLOUR, points: trend_points }];
    let trend =
        line::layout(&categories, &series, Some((-100.0, 100.0)), &[], crate::chart::scale::money_short, 520.0, 220.0);

    // Response rate: answering contacts over invited ones (every contact on file when the
    // wave's answers were imported rather than sent by Rapport).
    let invitations = state.cache.invitations_per_account(&state.store, wave.id).await?;
    let invited_map =
        if invitations.is_empty() { state.cache.contacts_per_account(&state.store).await? } else { invitations };
    let invited: i64 =
        matrix.placements.iter().map(|pl| invited_map.get(&p.accounts[pl.account].id).copied().unwrap_or(0)).sum();
    let answered = total.n;
    let rate = (invited > 0).then(|| answered as f64 / invited as f64);

    let problem = matrix.total(Quadrant::Problem);
    let billed_total = matrix.totals.iter().fold(Money::ZERO, |acc, t| acc + t.billed);
    let quadrants = [Quadrant::Problem, Quadrant::Emulate, Quadrant::Decision, Quadrant::Growth]
        .into_iter()
        .map(|q| {
            let t = matrix.total(q);
            let mut members: Vec<_> = matrix.placements.iter().filter(|pl| pl.quadrant == q).collect();
            members.sort_by_key(|pl| std::cmp::Reverse(pl.billed));
            QuadrantBox {
                label: q.label(),
                class: q.as_str(),
                accounts: t.accounts,
                billed: format::money(t.billed),
                potential: format::money(t.potential),
                strategy: q.strategy(),
                top: members
                    .iter()
                    .take(LIST_LENGTH)
                    .map(|pl| {
                        let a = &p.accounts[pl.account].account;
                        AccountLink {
                            href: viewer.account_href(&a.account_id),
                            name: a.name.clone(),
                            nps: format::nps(pl.loyalty.nps),
                            billed: format::money(pl.billed),
                            low_sample: pl.loyalty.low_sample,
                        }
                    })
                    .collect(),
            }
        })
        .collect();

    // Movers: accounts measured in both waves (enough answers in each: a swing of one answer
    // is noise, not news), by NPS change.
    let (mut falls, mut rises) = (Vec::new(), Vec::new());
    if let Some((before, _)) = &previous {
        let was: HashMap<usize, (Option<f64>, Quadrant)> = before
            .placements
            .iter()
            .filter(|pl| !pl.loyalty.low_sample)
            .map(|pl| (pl.account, (pl.loyalty.nps, pl.quadrant)))
            .collect();
        let mut changes: Vec<(f64, &rapport_core::quadrant::Placement<usize>, Quadrant)> = matrix
            .placements
            .iter()
            .filter(|pl| !pl.loyalty.low_sample)
            .filter_map(|pl| {
                let (Some(nps_was), q_was) = *was.get(&pl.account)? else { return None };
                Some((pl.loyalty.nps? - nps_was, pl, q_was))
            })
            .collect();
        changes.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mover = |(change, pl, was): &(f64, &rapport_core::quadrant::Placement<usize>, Quadrant)| {
            let a = &p.accounts[pl.account].account;
            Mover {
                href: viewer.account_href(&a.account_id),
                name: a.name.clone(),
                change: format::delta(Some(*change)),
                from: was.label(),
                to: pl.quadrant.label(),
            }
        };
        falls = changes.iter().filter(|c| c.0 < 0.0).take(MOVERS).map(mover).collect();
        rises = changes.iter().rev().filter(|c| c.0 > 0.0).take(MOVERS).map(mover).collect();
    }

    let t = &matrix.thresholds;
    let thresholds = format!(
        "High loyalty: NPS at or above {:.0}. High revenue: billed at or above {}{}.",
        t.loyalty,
        t.revenue.map_or_else(|| format::NONE.to_string(), format::money),
        if t.revenue_is_median { " (the median of surveyed accounts)" } else { "" }
    );
    Ok(Some(Arc::new(DashboardData {
        options: FilterOptions::of(viewer, &p.accounts, &p.waves),
        query: view.query_string(),
        view,
        wave: wave.name.clone(),
        previous: previous.as_ref().map(|_| p.waves[wave_index - 1].name.clone()),
        nps: format::nps(total.nps),
        nps_detail: match total.ci90 {
            Some(ci) => {
                format!("{}; 90% interval {:.0} to {:.0}", count(total.n, "answer", "answers"), ci.low, ci.high)
            }
            None => count(total.n, "answer", "answers"),
        },
        nps_change: format::delta(previous.as_ref().and_then(|(_, s)| Some(total.nps? - s.nps?))),
        response_rate: format::percent(rate),
        response_detail: format!("{answered} of {invited} contacts answered"),
        // Compact, as a card's headline has room for ("$108M"); the detail gives it exactly.
        at_risk: crate::chart::scale::money_short(problem.billed.cents() as f64),
        at_risk_detail: format!(
            "{} billed: {} of {}, in {} Problem accounts",
            format::money(problem.billed),
            format::percent((billed_total.cents() > 0).then(|| problem.billed.as_f64() / billed_total.as_f64())),
            format::money(billed_total),
            problem.accounts
        ),
        thresholds,
        trend,
        chart: bubble_chart(viewer, &p, &matrix),
        drawn: matrix.placements.iter().filter(|pl| pl.quadrant != Quadrant::Unsurveyed).count().min(MAX_BUBBLES),
        surveyed: matrix.placements.len() as u64 - matrix.total(Quadrant::Unsurveyed).accounts,
        quadrants,
        unsurveyed: matrix.total(Quadrant::Unsurveyed).accounts,
        sponsored: viewer.sponsor.as_ref().map(|_| {
            matrix
                .placements
                .iter()
                .filter(|pl| viewer.sponsors(&p.accounts[pl.account].account))
                .map(|pl| {
                    let a = &p.accounts[pl.account].account;
                    Sponsored {
                        href: viewer.account_href(&a.account_id),
                        name: a.name.clone(),
                        quadrant: pl.quadrant.label(),
                        class: pl.quadrant.as_str(),
                        nps: format::nps(pl.loyalty.nps),
                        billed: format::money(pl.billed),
                    }
                })
                .collect()
        }),
        falls,
        rises,
    })))
}

/// GET /charts/matrix.svg: the dashboard's bubble chart on its own, same filters.
pub async fn matrix_svg(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(view): Query<ViewQuery>,
) -> Result<Response, WebError> {
    user.require(Need::Portfolio)?;
    state.audit(Some(&user.0.email), "export", "matrix.svg", &view.query_string()).await?;
    let viewer = Viewer::of(&user);
    let Some(placed) = place(&state, &viewer, &view).await? else {
        return Err(WebError::NotFound("There are no waves yet, so there is no matrix".into()));
    };
    let svg = MatrixSvg { chart: bubble_chart(&viewer, &placed.portfolio, &placed.matrix) }
        .render()
        .map_err(anyhow::Error::from)?;
    let svg = crate::chart::xml_document(svg);
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"loyalty-revenue-matrix.svg\""),
        ],
        svg,
    )
        .into_response())
}
