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
use crate::error::{WebError, after_form, or_again};
use crate::follow_up::webhook::check_url;
use crate::pages::view::Layout;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    rules: RulesForm,
    cadence_form: CadenceForm,
    webhook: WebhookForm,
    /// Why a form was refused, shown above that form: ("rules" | "cadence" | "webhooks", why).
    refused: Option<(&'static str, String)>,
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

    /// Whether the new webhook's box for `event` is ticked.
    fn ticked(&self, event: &str) -> bool {
        self.webhook.events.iter().any(|e| e == event)
    }

    /// Why `form` was refused, if it was.
    fn error_in(&self, form: &str) -> Option<&str> {
        self.refused.as_ref().filter(|(f, _)| *f == form).map(|(_, why)| why.as_str())
    }
}

/// A form that was refused, as it was typed: the page shows it so, with what to fix, and the
/// other forms with the saved settings.
enum Refused {
    Rules(RulesForm),
    Cadence(CadenceForm),
    Webhook(WebhookForm),
}

async fn page(
    state: &AppState,
    user: &CurrentUser,
    created: Option<String>,
    refused: Option<(Refused, String)>,
) -> Result<Html<String>, WebError> {
    let cadence = state.store.cadence().await?;
    let mut rules = None;
    let mut cadence_form = None;
    let mut webhook = None;
    let refused = refused.map(|(form, why)| {
        let name = match form {
            Refused::Rules(f) => {
                rules = Some(f);
                "rules"
            }
            Refused::Cadence(f) => {
                cadence_form = Some(f);
                "cadence"
            }
            Refused::Webhook(f) => {
                webhook = Some(f);
                "webhooks"
            }
        };
        (name, why)
    });
    let page = SettingsPage {
        layout: Layout::new(user, "Alert rules and webhooks", "settings"),
        rules: match rules {
            Some(typed) => typed,
            None => RulesForm::from(&state.store.alert_rules().await?),
        },
        cadence_form: cadence_form.unwrap_or_else(|| CadenceForm::from(cadence.as_ref())),
        webhook: webhook.unwrap_or_else(|| WebhookForm {
            events: EventType::ALL.map(|e| e.as_str().to_string()).to_vec(),
            ..WebhookForm::default()
        }),
        refused,
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
    page(&state, &user, None, None).await
}

/// The alert rules form, as posted or as the saved rules fill it.
#[derive(Debug, Default, Deserialize)]
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

impl From<&AlertRules> for RulesForm {
    fn from(rules: &AlertRules) -> RulesForm {
        let on = |b: bool| b.then(|| "on".to_string());
        RulesForm {
            csrf: String::new(),
            detractor: on(rules.detractor),
            problem: on(rules.problem),
            nps_drop: rules.nps_drop.map(|p| p.to_string()).unwrap_or_default(),
            watch_words: rules.watch_words.join(", "),
            deadline_hours: rules.deadline_hours.to_string(),
        }
    }
}

/// POST /settings/alerts. Refused rules show the page again with what was typed (400).
pub async fn save_rules(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<RulesForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    let saved = match rules_from(&form) {
        Ok(rules) => apply_alert_rules(&state, &user.0.email, rules).await,
        Err(e) => Err(e),
    };
    after_form(saved, "/settings", |why| page(&state, &user, None, Some((Refused::Rules(form), why)))).await
}

/// The rules the form describes, or why it cannot be read.
fn rules_from(form: &RulesForm) -> Result<AlertRules, WebError> {
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
    Ok(rules)
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
#[derive(Debug, Default, Deserialize)]
pub struct WebhookForm {
    csrf: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    events: Vec<String>,
}

/// POST /settings/webhooks: adds a webhook and shows its secret once. A refused webhook shows
/// the page again with what was typed (400).
pub async fn add_webhook(
    State(state): State<AppState>,
    user: CurrentUser,
    axum_extra::extract::Form(form): axum_extra::extract::Form<WebhookForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    let added = async {
        let (_, secret) = add_webhook_for(&state, &user.0.email, &form.url, &form.events).await?;
        Ok((StatusCode::CREATED, page(&state, &user, Some(secret), None).await?).into_response())
    }
    .await;
    or_again(added, |why| page(&state, &user, None, Some((Refused::Webhook(form), why)))).await
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

/// The cadence form, as posted or as the saved cadence (or the usual one) fills it.
#[derive(Debug, Default, Deserialize)]
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

impl From<Option<&Cadence>> for CadenceForm {
    fn from(cadence: Option<&Cadence>) -> CadenceForm {
        let Some(c) = cadence else {
            return CadenceForm {
                period: CyclePeriod::Quarterly.as_str().to_string(),
                wave_days: "21".into(),
                remind_after: "7".into(),
                reminders: "1".into(),
                review_within: "30".into(),
                ..CadenceForm::default()
            };
        };
        CadenceForm {
            csrf: String::new(),
            action: String::new(),
            period: c.period.as_str().to_string(),
            start: c.next_start.to_string(),
            survey: c.survey.clone(),
            wave_days: c.wave_days.to_string(),
            remind_after: c.remind_after_days.to_string(),
            reminders: c.max_reminders.to_string(),
            review_within: c.review_within_days.to_string(),
        }
    }
}

/// POST /settings/cadence: sets the cadence, or stops it. A refused cadence shows the page
/// again with what was typed (400).
pub async fn save_cadence(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CadenceForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    user.require(Need::Admin)?;
    let saved = match cadence_from(&form) {
        Ok(cadence) => apply_cadence(&state, &user.0.email, cadence).await,
        Err(e) => Err(e),
    };
    after_form(saved, "/settings#cadence", |why| page(&state, &user, None, Some((Refused::Cadence(form), why)))).await
}

/// The cadence the form describes (`None`: stop the cycles), or why it cannot be read.
fn cadence_from(form: &CadenceForm) -> Result<Option<Cadence>, WebError> {
    if form.action == "off" {
        return Ok(None);
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
    Ok(Some(cadence))
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
