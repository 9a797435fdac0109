//! The follow-up settings (administrators): the alert rules, the cadence of cycles, the
//! webhooks with their signing secrets, and the delivery log of notifications and webhooks.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use rapport_core::alert::AlertRules;
use rapport_core::cadence::{Cadence, Cycle, CyclePeriod};
use rapport_core::event::EventType;
use rapport_store::jobs::QueueCounts;
use rapport_store::outbox::OutboxEntry;
use rapport_store::webhooks::Webhook;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::{CsrfForm, CurrentUser};
use crate::authz::Need;
use crate::error::WebError;
use crate::follow_up::webhook::check_url;
use crate::pages::view::Layout;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    rules: AlertRules,
    watch_words: String,
    nps_drop: String,
    hooks: Vec<Webhook>,
    events: Vec<&'static str>,
    created: Option<String>,
    log: Vec<OutboxEntry>,
    counts: QueueCounts,
    mail: bool,
    cadence: Option<Cadence>,
    next_cycle: Option<Cycle>,
    surveys: Vec<String>,
}

impl SettingsPage {
    fn event_names(h: &Webhook) -> String {
        h.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
    }

    fn when(t: &OffsetDateTime) -> String {
        format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
    }
}

async fn page(state: &AppState, user: &CurrentUser, created: Option<String>) -> Result<Html<String>, WebError> {
    let rules = state.store.alert_rules().await?;
    let cadence = state.store.cadence().await?;
    let page = SettingsPage {
        layout: Layout::new(user, "Alert rules and webhooks", "settings"),
        watch_words: rules.watch_words.join(", "),
        nps_drop: rules.nps_drop.map(|p| p.to_string()).unwrap_or_default(),
        rules,
        hooks: state.store.list_webhooks().await?,
        events: EventType::ALL.map(EventType::as_str).to_vec(),
        created,
        log: state.store.outbox_log(None, None, None, 50).await?,
        counts: state.store.outbox_counts().await?,
        mail: state.delivery_channels.contains(&"email"),
        next_cycle: cadence.as_ref().map(|c| c.cycle(c.next_start)),
        cadence,
        surveys: state.store.list_surveys().await?.into_iter().map(|s| s.survey.name).collect(),
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// GET /settings.
pub async fn show(State(state): State<AppState>, user: CurrentUser) -> Result<Html<String>, WebError> {
    user.require(Need::Admin)?;
    page(&state, &user, None).await
}

/// The alert rules form.
#[derive(Debug, Deserialize)]
pub struct RulesForm {
    csrf: String,
    #[serde(default)]
    detractor: Option<String>,
    #[serde(default)]
    problem: Option<String>,
    #[serde(default)]
    nps_drop: String,
    #[serde(default)]
    watch_words: String,
    #[serde(default)]
    deadline_hours: String,
}

/// POST /settings/alerts.
pub async fn save_rules(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<RulesForm>,
) -> Result<Redirect, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    let nps_drop = match form.nps_drop.trim() {
        "" => None,
        n => Some(n.parse::<u32>().map_err(|_| {
            WebError::BadRequest(format!(
                "The NPS drop '{n}' is not a whole number of points: leave it empty to switch the rule off"
            ))
        })?),
    };
    let deadline_hours = form.deadline_hours.trim().parse::<u32>().map_err(|_| {
        WebError::BadRequest(format!("The deadline '{}' is not a whole number of hours", form.deadline_hours.trim()))
    })?;
    let rules = AlertRules {
        detractor: form.detractor.is_some(),
        nps_drop,
        problem: form.problem.is_some(),
        watch_words: form
            .watch_words
            .split([',', '\n'])
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect(),
        deadline_hours,
    };
    apply_alert_rules(&state, &user.0.email, rules).await?;
    Ok(Redirect::to("/settings"))
}

/// Checks and saves the alert rules for `actor` (the web app and the API alike), with an
/// audit entry: the rules as saved.
pub(crate) async fn apply_alert_rules(
    state: &AppState,
    actor: &str,
    rules: AlertRules,
) -> Result<AlertRules, WebError> {
    let rules = rules.validate().map_err(|e| WebError::BadRequest(format!("The rules were not saved: {e}")))?;
    state.store.save_alert_rules(&rules, Some(actor), OffsetDateTime::now_utc()).await?;
    let json = serde_json::to_string(&rules).map_err(anyhow::Error::from)?;
    state.audit(Some(actor), "alert_rules.change", "alert_rules", &json).await?;
    Ok(rules)
}

/// The form that adds a webhook: its URL and the events it receives (checkboxes).
#[derive(Debug, Deserialize)]
pub struct WebhookForm {
    csrf: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    events: Vec<String>,
}

/// POST /settings/webhooks: adds a webhook and shows its secret once.
pub async fn add_webhook(
    State(state): State<AppState>,
    user: CurrentUser,
    axum_extra::extract::Form(form): axum_extra::extract::Form<WebhookForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    let (_, secret) = add_webhook_for(&state, &user.0.email, &form.url, &form.events).await?;
    Ok((StatusCode::CREATED, page(&state, &user, Some(secret)).await?).into_response())
}

/// Adds a webhook for `actor` (the web app and the API alike): its id and its signing
/// secret, which is shown this once.
pub(crate) async fn add_webhook_for(
    state: &AppState,
    actor: &str,
    url: &str,
    events: &[String],
) -> Result<(i64, String), WebError> {
    let url = check_url(url).map_err(|e| WebError::BadRequest(format!("{e:#}")))?;
    if events.is_empty() {
        return Err(WebError::BadRequest("Tick at least one event for the webhook to receive".into()));
    }
    let events = EventType::parse_list(&events.join(",")).map_err(WebError::BadRequest)?;
    let secret = format!("whsec_{}", crate::token::new_token());
    let id = state.store.add_webhook(&url, &secret, &events).await?;
    state.audit(Some(actor), "webhook.create", &id.to_string(), &url).await?;
    Ok((id, secret))
}

/// POST /settings/webhooks/{id}/remove.
pub async fn remove_webhook(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    remove_webhook_for(&state, &user.0.email, id).await?;
    Ok(Redirect::to("/settings"))
}

/// Removes a webhook for `actor` (the web app and the API alike), with an audit entry.
pub(crate) async fn remove_webhook_for(state: &AppState, actor: &str, id: i64) -> Result<(), WebError> {
    if !state.store.remove_webhook(id).await? {
        return Err(WebError::NotFound(format!("There is no webhook {id}")));
    }
    state.audit(Some(actor), "webhook.delete", &id.to_string(), "").await?;
    Ok(())
}

/// The cadence form.
#[derive(Debug, Deserialize)]
pub struct CadenceForm {
    csrf: String,
    /// "off" stops the cycles.
    #[serde(default)]
    action: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    survey: String,
    #[serde(default)]
    wave_days: String,
    #[serde(default)]
    remind_after: String,
    #[serde(default)]
    reminders: String,
    #[serde(default)]
    review_within: String,
}

/// POST /settings/cadence: sets the cadence, or stops it.
pub async fn save_cadence(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CadenceForm>,
) -> Result<Redirect, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    if form.action == "off" {
        apply_cadence(&state, &user.0.email, None).await?;
        return Ok(Redirect::to("/settings#cadence"));
    }
    let number = |what: &str, v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| WebError::BadRequest(format!("{what} '{}' is not a whole number", v.trim())))
    };
    let cadence = Cadence {
        period: CyclePeriod::parse(&form.period)
            .ok_or_else(|| WebError::BadRequest(format!("'{}' is not a period: monthly or quarterly", form.period)))?,
        next_start: rapport_core::date::parse_date(&form.start)
            .map_err(|e| WebError::BadRequest(format!("The first day: {e}")))?,
        survey: form.survey.trim().to_string(),
        wave_days: number("The days a wave takes answers", &form.wave_days)?,
        remind_after_days: number("The days before a reminder", &form.remind_after)?,
        max_reminders: number("The number of reminders", &form.reminders)?,
        review_within_days: number("The days to hold reviews", &form.review_within)?,
    };
    apply_cadence(&state, &user.0.email, Some(cadence)).await?;
    Ok(Redirect::to("/settings#cadence"))
}

/// Checks and saves the cadence for `actor` (the web app and the API alike), or stops the
/// cycles (`None`), with an audit entry.
pub(crate) async fn apply_cadence(
    state: &AppState,
    actor: &str,
    cadence: Option<Cadence>,
) -> Result<Option<Cadence>, WebError> {
    let now = OffsetDateTime::now_utc();
    let Some(cadence) = cadence else {
        state.store.save_cadence(None, Some(actor), now).await?;
        state.audit(Some(actor), "cadence.change", "cadence", "off").await?;
        return Ok(None);
    };
    let cadence = cadence.validate().map_err(|e| WebError::BadRequest(format!("The cadence was not saved: {e}")))?;
    if state.store.latest_survey(&cadence.survey).await?.is_none() {
        return Err(WebError::BadRequest(format!("There is no survey named '{}'", cadence.survey)));
    }
    state.store.save_cadence(Some(&cadence), Some(actor), now).await?;
    let json = serde_json::to_string(&cadence).map_err(anyhow::Error::from)?;
    state.audit(Some(actor), "cadence.change", "cadence", &json).await?;
    Ok(Some(cadence))
}
