//! The follow-up settings over the API, as under Settings in the web app: the alert rules,
//! the cadence of survey cycles, and the webhooks. Everyone may read the rules and the
//! cadence; changing anything, and seeing the webhooks, takes an administrator's token with
//! the `admin` scope. Every change is audited like one made in the app.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rapport_core::alert::AlertRules;
use rapport_core::cadence::{Cadence, CyclePeriod};
use rapport_store::api_tokens::TokenScope;
use rapport_store::webhooks::Webhook;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiUser;
use super::idempotency::once;
use super::problem::{Problem, Refused};
use super::{bad, json_body};
use crate::authz::Need;
use crate::follow_up::messages::stamp;
use crate::pages::settings::{add_webhook_for, apply_alert_rules, apply_cadence, remove_webhook_for};
use crate::state::AppState;

/// The alert rules: which answers and changes raise an alert with a follow-up task.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertRulesBody {
    /// Alert on every detractor answer (LTR 0-6).
    pub detractor: bool,
    /// Alert when an account's NPS falls by at least this many points between two waves;
    /// null: never.
    #[schema(minimum = 1, maximum = 200)]
    pub nps_drop: Option<u32>,
    /// Alert when an account enters the Problem quadrant.
    pub problem: bool,
    /// Alert on a comment containing any of these words or phrases (whole words, any case).
    pub watch_words: Vec<String>,
    /// Hours the account owner has to follow up before the task is overdue and escalates.
    #[schema(minimum = 1, maximum = 720)]
    pub deadline_hours: u32,
}

impl From<AlertRules> for AlertRulesBody {
    fn from(r: AlertRules) -> AlertRulesBody {
        AlertRulesBody {
            detractor: r.detractor,
            nps_drop: r.nps_drop,
            problem: r.problem,
            watch_words: r.watch_words,
            deadline_hours: r.deadline_hours,
        }
    }
}

/// The alert rules in force.
#[utoipa::path(
    get,
    path = "/api/v1/settings/alert-rules",
    responses(Refused, (status = 200, description = "The rules", body = AlertRulesBody))
)]
pub async fn alert_rules(State(state): State<AppState>, caller: ApiUser) -> Result<Json<AlertRulesBody>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    Ok(Json(state.store.alert_rules().await?.into()))
}

/// Replace the alert rules (every field is required).
#[utoipa::path(
    put,
    path = "/api/v1/settings/alert-rules",
    request_body = AlertRulesBody,
    responses(
        Refused,
        (status = 200, description = "The rules as saved", body = AlertRulesBody),
        (status = 400, description = "The body is wrong", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn set_alert_rules(
    State(state): State<AppState>,
    caller: ApiUser,
    body: Bytes,
) -> Result<Json<AlertRulesBody>, Problem> {
    caller.require_admin()?;
    let input: AlertRulesBody = json_body(&body, "the alert rules")?;
    let rules = AlertRules {
        detractor: input.detractor,
        nps_drop: input.nps_drop,
        problem: input.problem,
        watch_words: input.watch_words.iter().map(|w| w.trim().to_string()).filter(|w| !w.is_empty()).collect(),
        deadline_hours: input.deadline_hours,
    };
    Ok(Json(apply_alert_rules(&state, &caller.user.0.email, rules).await?.into()))
}

/// The cadence of survey cycles: each cycle opens a wave, reminds, closes it and asks for
/// the review meetings of sponsored accounts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CadenceBody {
    /// monthly or quarterly.
    pub period: String,
    /// The day the next cycle starts (its wave opens), YYYY-MM-DD.
    pub next_start: String,
    /// The survey each wave asks.
    pub survey: String,
    /// Days each wave takes answers (fewer than the cycle's: up to 27 monthly, 83 quarterly).
    #[schema(minimum = 1, maximum = 83)]
    pub wave_days: u32,
    /// Days without an answer before a reminder.
    #[schema(minimum = 1, maximum = 30)]
    pub remind_after_days: u32,
    /// Reminders at most.
    #[schema(maximum = 5)]
    pub max_reminders: u32,
    /// Days after a wave closes by which each sponsored account's review is held.
    #[schema(minimum = 1, maximum = 90)]
    pub review_within_days: u32,
}

impl From<Cadence> for CadenceBody {
    fn from(c: Cadence) -> CadenceBody {
        CadenceBody {
            period: c.period.as_str().to_string(),
            next_start: c.next_start.to_string(),
            survey: c.survey,
            wave_days: c.wave_days,
            remind_after_days: c.remind_after_days,
            max_reminders: c.max_reminders,
            review_within_days: c.review_within_days,
        }
    }
}

/// Whether cycles run, and how.
#[derive(Debug, Serialize, ToSchema)]
pub struct CadenceOut {
    /// The cadence; null when no cycles run.
    pub cadence: Option<CadenceBody>,
}

/// The cadence in force.
#[utoipa::path(
    get,
    path = "/api/v1/settings/cadence",
    responses(Refused, (status = 200, description = "The cadence (null: none)", body = CadenceOut))
)]
pub async fn cadence(State(state): State<AppState>, caller: ApiUser) -> Result<Json<CadenceOut>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    Ok(Json(CadenceOut { cadence: state.store.cadence().await?.map(CadenceBody::from) }))
}

/// Set the cadence (every field is required): cycles run from `next_start`.
#[utoipa::path(
    put,
    path = "/api/v1/settings/cadence",
    request_body = CadenceBody,
    responses(
        Refused,
        (status = 200, description = "The cadence as saved", body = CadenceOut),
        (status = 400, description = "The body is wrong", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn set_cadence(
    State(state): State<AppState>,
    caller: ApiUser,
    body: Bytes,
) -> Result<Json<CadenceOut>, Problem> {
    caller.require_admin()?;
    let input: CadenceBody = json_body(&body, "a cadence")?;
    let cadence = Cadence {
        period: CyclePeriod::parse(&input.period)
            .ok_or_else(|| bad(format!("period: '{}' is not monthly or quarterly", input.period)))?,
        next_start: rapport_core::date::parse_date(&input.next_start).map_err(|e| bad(format!("next_start: {e}")))?,
        survey: input.survey.trim().to_string(),
        wave_days: input.wave_days,
        remind_after_days: input.remind_after_days,
        max_reminders: input.max_reminders,
        review_within_days: input.review_within_days,
    };
    let saved = apply_cadence(&state, &caller.user.0.email, Some(cadence)).await?;
    Ok(Json(CadenceOut { cadence: saved.map(CadenceBody::from) }))
}

/// Stop the cycles (waves already running go on to their end).
#[utoipa::path(
    delete,
    path = "/api/v1/settings/cadence",
    responses(Refused, (status = 204, description = "No cycles run now"))
)]
pub async fn stop_cadence(State(state): State<AppState>, caller: ApiUser) -> Result<StatusCode, Problem> {
    caller.require_admin()?;
    apply_cadence(&state, &caller.user.0.email, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook (its signing secret is shown only when it is made).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    /// Its id.
    pub id: i64,
    /// Where events are posted.
    pub url: String,
    /// The events it receives.
    pub events: Vec<String>,
    /// Whether it receives anything.
    pub active: bool,
    /// When it was added (RFC 3339).
    pub created_at: String,
}

impl From<&Webhook> for WebhookOut {
    fn from(h: &Webhook) -> WebhookOut {
        WebhookOut {
            id: h.id,
            url: h.url.clone(),
            events: h.events.iter().map(|e| e.as_str().to_string()).collect(),
            active: h.active,
            created_at: stamp(h.created_at),
        }
    }
}

/// Every webhook.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    responses(Refused, (status = 200, description = "The webhooks", body = [WebhookOut]))
)]
pub async fn list_webhooks(State(state): State<AppState>, caller: ApiUser) -> Result<Json<Vec<WebhookOut>>, Problem> {
    caller.require_admin()?;
    Ok(Json(state.store.list_webhooks().await?.iter().map(WebhookOut::from).collect()))
}

/// A webhook to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookIn {
    /// Where to post (https://HOST/PATH; http:// on a private network).
    pub url: String,
    /// The events it receives: response.submitted, alert.raised, task.overdue,
    /// account.quadrant_changed, or "*" for all.
    pub events: Vec<String>,
}

/// A new webhook with its signing secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreatedOut {
    /// The webhook.
    pub webhook: WebhookOut,
    /// The HMAC-SHA256 key of its signature header: shown this once, keep it.
    pub secret: String,
}

/// Add a webhook. Its secret is in this answer only (and in the replay of a retry with the
/// same `Idempotency-Key`).
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    request_body = NewWebhookIn,
    responses(
        Refused,
        (status = 201, description = "The webhook and its secret", body = WebhookCreatedOut),
        (status = 400, description = "The body is wrong", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn add_webhook(
    State(state): State<AppState>,
    caller: ApiUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &body, async {
        caller.require_admin()?;
        let input: NewWebhookIn = json_body(&body, "a webhook")?;
        let (id, secret) = add_webhook_for(&state, &caller.user.0.email, &input.url, &input.events).await?;
        let hooks = state.store.list_webhooks().await?;
        let hook = hooks
            .iter()
            .find(|h| h.id == id)
            .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "the webhook vanished"))?;
        Ok((StatusCode::CREATED, Json(WebhookCreatedOut { webhook: hook.into(), secret })).into_response())
    })
    .await
}

/// Remove a webhook: it receives nothing more.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        Refused,
        (status = 204, description = "Removed"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn remove_webhook(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    caller.require_admin()?;
    let missing = || Problem::new(StatusCode::NOT_FOUND, format!("there is no webhook '{id}'"));
    let id: i64 = id.trim().parse().map_err(|_| missing())?;
    remove_webhook_for(&state, &caller.user.0.email, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
