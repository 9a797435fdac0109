//! The review-meeting briefing for an account: the account report in short, the portfolio's
//! trend and what is being done about it, what was done since the last review, the open
//! actions, the discussion points for the executive and the account manager, and the three
//! questions. A printable page; after the meeting, its notes and outcomes are recorded here
//! and the outcomes become action plan items.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::{Html, Response};
use rapport_core::briefing::{BriefingFacts, DiscussionPoints, STANDARD_QUESTIONS, Voice, discussion_points};
use rapport_core::loyalty::{LoyaltyClass, LoyaltySummary};
use rapport_core::quadrant::Quadrant;
use rapport_core::task::{Function, TaskStatus};
use rapport_reports::{ReportKind, ReportQuery};
use rapport_store::accounts::Respondent;
use rapport_store::reviews::{NewReview, Review};
use rapport_store::tasks::{NewTask, TaskError, TaskFilter, TaskRow, TaskView};
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime};

use crate::auth::CurrentUser;
use crate::error::{WebError, after_form};
use crate::pages::account::portfolio_with;
use crate::pages::format;
use crate::pages::view::{Layout, Viewer};
use crate::state::AppState;

/// The portfolio's NPS in one wave.
pub struct TrendRow {
    /// The wave.
    pub wave: String,
    /// Answers.
    pub n: u64,
    /// NPS.
    pub nps: String,
}

#[derive(Template)]
#[template(path = "briefing.html")]
struct BriefingPage {
    layout: Layout,
    name: String,
    account_id: String,
    href_id: String,
    wave: String,
    quadrant: &'static str,
    quadrant_class: &'static str,
    strategy: &'static str,
    nps: String,
    n: u64,
    low_sample: bool,
    owner: String,
    sponsor: String,
    billed: String,
    respondents: Vec<Respondent>,
    trend: Vec<TrendRow>,
    portfolio_open: Vec<(String, usize)>,
    portfolio_done: usize,
    since: String,
    /// Whether `since` is the last review's date (else: 90 days ago, no review recorded).
    since_review: bool,
    done_since: Vec<TaskRow>,
    open: Vec<TaskRow>,
    points: DiscussionPoints,
    questions: [&'static str; 3],
    reviews: Vec<Review>,
    /// The meeting form: what was typed when it was refused, with why.
    draft: ReviewDraft,
    functions: Vec<&'static str>,
    now: OffsetDateTime,
}

/// The meeting form as typed: empty (held today) on a fresh page; as the user left it, with
/// what to fix, when it was refused, so that an hour's notes are never lost to a typo.
#[derive(Debug, Clone, Default)]
pub struct ReviewDraft {
    held_on: String,
    notes: String,
    outcomes: String,
    due: String,
    error: Option<String>,
}

impl BriefingPage {
    fn class_of(ltr: &u8) -> &'static str {
        LoyaltyClass::of(*ltr).as_str()
    }

    fn overdue_of(&self, t: &TaskRow) -> bool {
        t.is_overdue(self.now)
    }
}

/// GET /accounts/{account_id}/briefing.
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(account_id): Path<String>,
) -> Result<Html<String>, WebError> {
    render(&state, &user, &account_id, ReviewDraft::default()).await
}

async fn render(
    state: &AppState,
    user: &CurrentUser,
    account_id: &str,
    mut draft: ReviewDraft,
) -> Result<Html<String>, WebError> {
    let (store, cache) = (&state.store, &state.cache);
    let (p, index) = portfolio_with(state, &Viewer::of(user), account_id).await?;
    let entry = &p.accounts[index];
    let a = &entry.account;
    let query = ReportQuery::new(ReportKind::Quadrants);
    let now = OffsetDateTime::now_utc();

    // The account in the latest wave, and in the one before.
    let waves = p.waves_so_far();
    let (wave, placement, before) = match waves.last() {
        Some(w) => {
            let later = p.placed(store, cache, w.id, &query).await.map_err(WebError::from_report)?;
            let earlier = match waves.len().checked_sub(2) {
                Some(i) => Some(p.placed(store, cache, waves[i].id, &query).await.map_err(WebError::from_report)?),
                None => None,
            };
            let before = earlier.and_then(|m| m.placements[index].loyalty.nps);
            (Some(w.clone()), Some(later.placements[index].clone()), before)
        }
        None => (None, None, None),
    };
    let quadrant = placement.as_ref().map_or(Quadrant::Unsurveyed, |pl| pl.quadrant);
    let loyalty =
        placement.as_ref().map_or_else(|| LoyaltySummary::new(Default::default(), query.min_answers), |pl| pl.loyalty);
    let respondents = match &wave {
        Some(w) => store.respondents(entry.id, w.id).await?,
        None => Vec::new(),
    };

    // The weakest experience: the lowest mean rating among the answers, leaving out the
    // questions of how much something matters (a low "how important is our brand" is no
    // fault to fix), as any survey marks them.
    let importance: BTreeSet<String> = store
        .list_surveys()
        .await?
        .iter()
        .flat_map(|v| v.survey.importance_keys().map(str::to_string).collect::<Vec<_>>())
        .collect();
    let mut sums: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for r in &respondents {
        for (k, v) in r.scores.iter().filter(|(k, _)| !importance.contains(k.as_str())) {
            let e = sums.entry(k.as_str()).or_default();
            e.0 += f64::from(*v);
            e.1 += 1.0;
        }
    }
    let weakest = sums.into_iter().map(|(k, (sum, n))| (k.to_string(), sum / n)).min_by(|x, y| x.1.total_cmp(&y.1));

    let tasks = store
        .list_tasks(&TaskFilter { view: TaskView::All, account_id: Some(entry.id), ..TaskFilter::default() }, now, 500)
        .await?;
    let reviews = store.reviews_of(entry.id).await?;
    let since = reviews.first().map_or(now - Duration::days(90), |r| r.held_on.midnight().assume_utc());
    let open: Vec<TaskRow> = tasks.iter().filter(|t| t.status().is_open()).cloned().collect();
    let done_since: Vec<TaskRow> = tasks
        .iter()
        .filter(|t| t.status() == TaskStatus::Done && t.closed_at.is_some_and(|c| c >= since))
        .cloned()
        .collect();
    let facts = BriefingFacts {
        quadrant,
        nps: loyalty.nps,
        nps_before: before,
        billed: a.billed_revenue.unwrap_or_default(),
        potential: a.potential_revenue.unwrap_or_default(),
        voices: respondents
            .iter()
            .map(|r| Voice {
                name: r.name.clone(),
                title: r.title.clone(),
                level: r.role,
                ltr: r.ltr,
                comment: r.comment.clone(),
            })
            .collect(),
        weakest,
        contacts: store.contacts_of(entry.id).await?.len(),
        open: open.len(),
        overdue: open.iter().filter(|t| t.is_overdue(now)).count(),
        executive_open: open.iter().filter(|t| t.function == Function::Executive.as_str()).count(),
    };
    let points = discussion_points(&facts);

    // The portfolio: NPS across waves, and the work under way in the viewer's scope.
    let mut trend = Vec::new();
    for w in p.waves.iter() {
        let whole = cache.loyalty_by_segment(store, Some(w.id), None, None).await?;
        let s = LoyaltySummary::new(whole.first().map(|(_, _, c)| *c).unwrap_or_default(), query.min_answers);
        trend.push(TrendRow { wave: w.name.clone(), n: s.n, nps: format::nps(s.nps) });
    }
    let scope = (user.0.role == rapport_core::user::Role::AccountManager).then(|| user.0.email.clone());
    let cycle = waves.last().and_then(|w| w.opens_on).map_or(now - Duration::days(90), |d| d.midnight().assume_utc());
    let in_scope = TaskFilter { view: TaskView::All, scope, ..TaskFilter::default() };
    let mut by_function: BTreeMap<String, usize> = BTreeMap::new();
    let mut portfolio_done = 0;
    for t in store.list_tasks(&in_scope, now, 100_000).await? {
        if t.status().is_open() {
            *by_function.entry(t.function).or_default() += 1;
        } else if t.status() == TaskStatus::Done && t.closed_at.is_some_and(|c| c >= cycle) {
            portfolio_done += 1;
        }
    }

    let page = BriefingPage {
        layout: Layout::new(user, format!("Briefing: {}", a.name), "dashboard"),
        name: a.name.clone(),
        account_id: a.account_id.clone(),
        href_id: percent_encoding::utf8_percent_encode(&a.account_id, crate::URL_SAFE).to_string(),
        wave: wave.map(|w| w.name).unwrap_or_default(),
        quadrant: quadrant.label(),
        quadrant_class: quadrant.as_str(),
        strategy: quadrant.strategy(),
        nps: format::nps(loyalty.nps),
        n: loyalty.n,
        low_sample: loyalty.low_sample,
        owner: a.owner_email.clone().unwrap_or_else(|| format::NONE.into()),
        sponsor: a.sponsor_email.clone().unwrap_or_else(|| format::NONE.into()),
        billed: format::money_opt(a.billed_revenue.map(|m| m.cents())),
        respondents,
        trend,
        portfolio_open: by_function.into_iter().collect(),
        portfolio_done,
        since: since.date().to_string(),
        since_review: !reviews.is_empty(),
        done_since,
        open,
        points,
        questions: STANDARD_QUESTIONS,
        reviews,
        draft: {
            if draft.held_on.is_empty() {
                draft.held_on = now.date().to_string();
            }
            draft
        },
        functions: Function::ALL.map(Function::as_str).to_vec(),
        now,
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// The form recording a review meeting.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    csrf: String,
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    notes: String,
    /// One action per line; "function: what" picks the function (default sales).
    #[serde(default)]
    outcomes: String,
    /// The due date of the actions (default: 30 days after the meeting).
    #[serde(default)]
    due: String,
}

/// Reads the outcome lines: "service: Fix the delivery slots" or just "Send the new price list".
fn read_outcomes(text: &str) -> Vec<(Function, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once(':') {
            Some((f, what)) if Function::parse(f).is_some() && !what.trim().is_empty() => {
                (Function::parse(f).expect("checked"), what.trim().to_string())
            }
            _ => (Function::Sales, line.to_string()),
        })
        .collect()
}

/// POST /accounts/{account_id}/briefing: records the meeting and its outcomes as actions. A
/// refused record shows the briefing again with what was typed and what to fix (400).
pub async fn record(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(account_id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    let recorded = record_form(&state, &user, &account_id, &form).await;
    let href = percent_encoding::utf8_percent_encode(&account_id, crate::URL_SAFE).to_string();
    after_form(recorded, &format!("/accounts/{href}/briefing#reviews"), |why| {
        let draft = ReviewDraft {
            held_on: form.held_on,
            notes: form.notes,
            outcomes: form.outcomes,
            due: form.due,
            error: Some(why),
        };
        render(&state, &user, &account_id, draft)
    })
    .await
}

async fn record_form(
    state: &AppState,
    user: &CurrentUser,
    account_id: &str,
    form: &ReviewForm,
) -> Result<i64, WebError> {
    let held_on = rapport_core::date::parse_date(&form.held_on)
        .map_err(|e| WebError::BadRequest(format!("The meeting date: {e}")))?;
    let due = match form.due.trim() {
        "" => None,
        d => Some(rapport_core::date::parse_date(d).map_err(|e| WebError::BadRequest(format!("The due date: {e}")))?),
    };
    record_review_for(state, user, account_id, held_on, &form.notes, read_outcomes(&form.outcomes), due).await
}

/// Records a review meeting of an account the user may see (the web app and the API alike):
/// its notes, and each agreed outcome as an action on the account's plan, owned by the
/// account owner (the sponsor for executive actions) and due on `due` (default: 30 days after
/// the meeting). Returns the review's id.
pub(crate) async fn record_review_for(
    state: &AppState,
    user: &CurrentUser,
    account_id: &str,
    held_on: Date,
    notes: &str,
    outcomes: Vec<(Function, String)>,
    due: Option<Date>,
) -> Result<i64, WebError> {
    let (p, index) = portfolio_with(state, &Viewer::of(user), account_id).await?;
    let entry = &p.accounts[index];
    let today = OffsetDateTime::now_utc().date();
    if held_on > today {
        return Err(WebError::BadRequest(format!(
            "The meeting date {held_on} is after today ({today}): record a meeting once it has been held"
        )));
    }
    let notes = notes.trim();
    let outcomes: Vec<(Function, String)> =
        outcomes.into_iter().map(|(f, w)| (f, w.trim().to_string())).filter(|(_, w)| !w.is_empty()).collect();
    if notes.is_empty() && outcomes.is_empty() {
        return Err(WebError::BadRequest("Write what was said, or the actions agreed: both are empty".into()));
    }
    if notes.chars().count() > 20_000 || outcomes.len() > 50 || outcomes.iter().any(|(_, w)| w.chars().count() > 2000) {
        return Err(WebError::BadRequest(
            "Too long: notes up to 20,000 characters, up to 50 actions of up to 2,000 characters each".into(),
        ));
    }
    let due = due.unwrap_or(held_on + Duration::days(30));
    let actions = outcomes
        .into_iter()
        .map(|(function, description)| NewTask {
            account_id: entry.id,
            description,
            function,
            owner_email: if function == Function::Executive {
                entry.account.sponsor_email.clone().or(entry.account.owner_email.clone())
            } else {
                entry.account.owner_email.clone()
            },
            due_at: due.with_hms(23, 59, 59).expect("a valid time").assume_utc(),
            created_by: Some(user.0.email.clone()),
            response_ids: vec![],
        })
        .collect();
    let review = NewReview {
        account_id: entry.id,
        held_on,
        notes: notes.to_string(),
        recorded_by: Some(user.0.email.clone()),
        actions,
    };
    state.store.record_review(&review, OffsetDateTime::now_utc()).await.map_err(|e| match e {
        TaskError::Store(e) => e.into(),
        other => WebError::BadRequest(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_lines_name_their_function_or_go_to_sales() {
        let read = read_outcomes("service: Fix the slots\n\n  Send prices  \nlegal: check terms\nExecutive:  Call CFO");
        assert_eq!(
            read,
            vec![
                (Function::Service, "Fix the slots".to_string()),
                (Function::Sales, "Send prices".to_string()),
                (Function::Sales, "legal: check terms".to_string()),
                (Function::Executive, "Call CFO".to_string()),
            ]
        );
    }
}
