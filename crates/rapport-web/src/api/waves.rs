//! Waves over the API, as in the web app: list them, create one with its invitations, send,
//! open and close it (administrators and analysts), and list its invitations with their
//! delivery status (an account manager's token: only their accounts' contacts, without the
//! personal links).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rapport_core::contact::RoleLevel;
use rapport_reports::AccountFilter;
use rapport_store::analytics::WaveInfo;
use rapport_store::api_tokens::TokenScope;
use rapport_store::invitations::InvitationFilter;
use rapport_store::waves::WaveStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiUser;
use super::idempotency::once;
use super::problem::{Problem, Refused};
use super::{bad, json_body, nonempty, page_limit, query};
use crate::authz::Need;
use crate::error::WebError;
use crate::follow_up::messages::stamp;
use crate::invite;
use crate::pages::waves::{assign_unmatched, change_status, create_wave, find, send_wave};
use crate::state::AppState;
use crate::waves::{DEFAULT_EXCLUDE_DAYS, DEFAULT_SURVEY, NewWave, bounce_reason, record_bounces};

/// A survey wave.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaveOut {
    /// Its name, e.g. 2026-Q3.
    pub name: String,
    /// First day (YYYY-MM-DD).
    pub opens_on: Option<String>,
    /// Last day.
    pub closes_on: Option<String>,
    /// draft, open or closed.
    pub status: String,
}

impl From<&WaveInfo> for WaveOut {
    fn from(w: &WaveInfo) -> WaveOut {
        WaveOut {
            name: w.name.clone(),
            opens_on: w.opens_on.map(|d| d.to_string()),
            closes_on: w.closes_on.map(|d| d.to_string()),
            status: w.status.clone(),
        }
    }
}

/// Every wave, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/waves",
    responses(
        Refused,
        (status = 200, description = "The waves", body = [WaveOut])
    )
)]
pub async fn list_waves(State(state): State<AppState>, caller: ApiUser) -> Result<Json<Vec<WaveOut>>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    let waves = state.cache.waves(&state.store).await?;
    Ok(Json(waves.iter().map(WaveOut::from).collect()))
}

/// A wave to create: who is invited, and when they may answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWaveIn {
    /// Its name, up to 60 characters, e.g. 2027-Q1.
    pub name: String,
    /// The survey asked (its latest version); default "B2B relationship survey".
    pub survey: Option<String>,
    /// First day of answers, YYYY-MM-DD (default today).
    pub opens: Option<String>,
    /// Last day of answers, YYYY-MM-DD (default three weeks after the first).
    pub closes: Option<String>,
    /// Only accounts of this vertical.
    pub vertical: Option<String>,
    /// Only accounts of this region.
    pub region: Option<String>,
    /// Only this owner's accounts (email).
    pub owner: Option<String>,
    /// Only contacts at these levels: executive, manager, user (default: all).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Leave out contacts surveyed in the last this many days (default 30).
    #[schema(minimum = 0, maximum = 3650)]
    pub exclude_days: Option<u32>,
}

/// A new wave and the invitations it made.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaveCreatedOut {
    /// The wave (a draft until it is sent or opened).
    pub wave: WaveOut,
    /// The survey and its version.
    pub survey: String,
    /// Its version.
    pub survey_version: i64,
    /// The selection, in words.
    pub selection: String,
    /// Invitations made, per channel (email, sms, link).
    pub invited: HashMap<String, u64>,
    /// Contacts left out: opted out or unsubscribed.
    pub opted_out: u64,
    /// Contacts left out: surveyed within `exclude_days`.
    pub recently_surveyed: u64,
}

fn date(field: &str, value: &Option<String>) -> Result<Option<time::Date>, Problem> {
    nonempty(value).map(|d| rapport_core::date::parse_date(&d).map_err(|e| bad(format!("{field}: {e}")))).transpose()
}

/// Create a wave: one invitation per selected contact, nothing sent yet. Send an
/// `Idempotency-Key` to retry safely.
#[utoipa::path(
    post,
    path = "/api/v1/waves",
    request_body = NewWaveIn,
    responses(
        Refused,
        (status = 201, description = "The wave and its invitations", body = WaveCreatedOut),
        (status = 400, description = "The body is wrong (a name taken, an unknown survey, ...)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &body, create_once(&state, &caller, &body)).await
}

async fn create_once(state: &AppState, caller: &ApiUser, body: &[u8]) -> Result<Response, Problem> {
    caller.require_scope(TokenScope::Write)?;
    caller.user.require(Need::Surveys)?;
    let input: NewWaveIn = json_body(body, "a wave")?;
    let roles = input
        .roles
        .iter()
        .map(|r| RoleLevel::parse(r).ok_or_else(|| bad(format!("roles: '{r}' is not one of executive, manager, user"))))
        .collect::<Result<Vec<_>, _>>()?;
    let exclude_days = input.exclude_days.unwrap_or(DEFAULT_EXCLUDE_DAYS);
    if exclude_days > 3650 {
        return Err(bad(format!("exclude_days: {exclude_days} is more than 3650 days")));
    }
    let req = NewWave {
        name: input.name.trim().to_string(),
        survey: nonempty(&input.survey).unwrap_or_else(|| DEFAULT_SURVEY.to_string()),
        opens: date("opens", &input.opens)?,
        closes: date("closes", &input.closes)?,
        roles,
        exclude_days,
        filter: AccountFilter {
            vertical: nonempty(&input.vertical),
            region: nonempty(&input.region),
            owner: nonempty(&input.owner),
            ..AccountFilter::default()
        },
    };
    let done = create_wave(state, &caller.user.0.email, &req).await?;
    let wave = WaveInfo {
        id: done.created.wave_id,
        name: req.name.clone(),
        opens_on: Some(done.opens),
        closes_on: Some(done.closes),
        status: WaveStatus::Draft.as_str().to_string(),
        answered: false,
    };
    let out = WaveCreatedOut {
        wave: WaveOut::from(&wave),
        survey: done.survey.survey.name.clone(),
        survey_version: done.survey.version,
        selection: done.selection.clone(),
        invited: done.created.invited.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        opted_out: done.created.opted_out,
        recently_surveyed: done.created.recent,
    };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// What sending did.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentOut {
    /// The wave, open now.
    pub wave: WaveOut,
    /// Invitations queued for delivery by this call (none twice: a second call queues only
    /// what is still pending and not queued).
    pub queued: u64,
    /// The channels this server delivers (email, sms).
    pub channels: Vec<String>,
}

/// Send a wave: open it and queue its invitations by every channel this server delivers.
/// The delivery worker sends them at the configured rate; follow with
/// `/api/v1/waves/{name}/progress`.
#[utoipa::path(
    post,
    path = "/api/v1/waves/{name}/send",
    params(("name" = String, Path, description = "The wave's name")),
    responses(
        Refused,
        (status = 200, description = "Queued", body = SentOut),
        (status = 400, description = "The wave is closed, or this server sends nothing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn send(
    State(state): State<AppState>,
    caller: ApiUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &[], async {
        caller.require_scope(TokenScope::Write)?;
        caller.user.require(Need::Surveys)?;
        let (wave, queued) = send_wave(&state, &caller.user.0.email, &name).await?;
        let channels = state.delivery_channels.iter().map(|c| c.to_string()).collect();
        Ok(Json(SentOut { wave: WaveOut::from(&wave), queued, channels }).into_response())
    })
    .await
}

/// Open a wave: it takes answers (for links handed out another way), without sending.
#[utoipa::path(
    post,
    path = "/api/v1/waves/{name}/open",
    params(("name" = String, Path, description = "The wave's name")),
    responses(
        Refused,
        (status = 200, description = "The wave, open", body = WaveOut),
        (status = 404, description = "No such wave", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn open(
    State(state): State<AppState>,
    caller: ApiUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &[], set(&state, &caller, &name, WaveStatus::Open)).await
}

/// Close a wave: it takes no more answers.
#[utoipa::path(
    post,
    path = "/api/v1/waves/{name}/close",
    params(("name" = String, Path, description = "The wave's name")),
    responses(
        Refused,
        (status = 200, description = "The wave, closed", body = WaveOut),
        (status = 404, description = "No such wave", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn close(
    State(state): State<AppState>,
    caller: ApiUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &[], set(&state, &caller, &name, WaveStatus::Closed)).await
}

async fn set(state: &AppState, caller: &ApiUser, name: &str, status: WaveStatus) -> Result<Response, Problem> {
    caller.require_scope(TokenScope::Write)?;
    caller.user.require(Need::Surveys)?;
    let wave = change_status(state, &caller.user.0.email, name, status).await?;
    Ok(Json(WaveOut::from(&wave)).into_response())
}

/// One invitation of a wave.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOut {
    /// Its id (the cursor of the list).
    pub id: i64,
    /// The account's id in the CRM.
    pub account_id: String,
    /// The account's name.
    pub account_name: String,
    /// The contact's name.
    pub contact_name: String,
    /// Their email address.
    pub email: Option<String>,
    /// Their phone number.
    pub phone: Option<String>,
    /// The language they read the survey in.
    pub language: String,
    /// email, sms or link.
    pub channel: String,
    /// pending, sent, failed or bounced.
    pub status: String,
    /// When they last answered (RFC 3339); absent until they do.
    pub answered_at: Option<String>,
    /// The personal link, for those who run surveys (administrators and analysts).
    pub link: Option<String>,
}

/// One page of invitations, by id.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationPage {
    /// The invitations.
    pub items: Vec<InvitationOut>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<i64>,
}

/// Paging and filters of a wave's invitations.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationsQuery {
    /// Only pending, sent, failed or bounced ones.
    pub status: Option<String>,
    /// Only those answered (true) or not yet (false).
    pub answered: Option<bool>,
    /// The `next_cursor` of the previous page.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Items per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// A wave's invitations: who was asked, by which channel, whether it reached them and
/// whether they answered.
#[utoipa::path(
    get,
    path = "/api/v1/waves/{name}/invitations",
    params(("name" = String, Path, description = "The wave's name"), InvitationsQuery),
    responses(
        Refused,
        (status = 200, description = "A page of invitations", body = InvitationPage),
        (status = 400, description = "A parameter is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn invitations(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(name): Path<String>,
    q: Result<Query<InvitationsQuery>, QueryRejection>,
) -> Result<Json<InvitationPage>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Portfolio)?;
    let q = query(q)?;
    let limit = page_limit(q.limit)?;
    let status = nonempty(&q.status);
    if let Some(s) = status.as_deref().filter(|s| !["pending", "sent", "failed", "bounced"].contains(s)) {
        return Err(bad(format!("status='{s}' is not one of pending, sent, failed, bounced")));
    }
    if q.after.is_some_and(|a| a < 0) {
        return Err(bad("after: a cursor is 0 or more".into()));
    }
    let wave = find(&state, &name).await?;
    let links = caller.user.require(Need::Surveys).is_ok();
    // The same rules as every view: an account manager sees their own accounts' contacts.
    let owner = caller.user.scoped(AccountFilter::default()).owned_by;
    let filter = InvitationFilter { owner: owner.as_deref(), status: status.as_deref(), answered: q.answered };
    let rows = state.store.wave_invitations_where(wave.id, &filter, q.after.unwrap_or(0), limit as i64 + 1).await?;
    let more = rows.len() > limit;
    let items: Vec<InvitationOut> = rows
        .into_iter()
        .take(limit)
        .map(|inv| InvitationOut {
            id: inv.id,
            link: links.then(|| invite::link(&state.public_url, &inv)),
            account_id: inv.account_external_id,
            account_name: inv.account_name,
            contact_name: inv.contact_name,
            email: inv.email,
            phone: inv.phone,
            language: inv.language,
            channel: inv.channel,
            status: inv.status,
            answered_at: inv.answered_at.map(stamp),
        })
        .collect();
    let next_cursor = if more { items.last().map(|i| i.id) } else { None };
    Ok(Json(InvitationPage { items, next_cursor }))
}

/// An answer given through the wave's open link that matched no contact: who said they were,
/// kept for review.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnmatchedOut {
    /// Its id.
    pub id: i64,
    /// The company the respondent named.
    pub company: String,
    /// Their email.
    pub email: String,
    /// Their name, when given.
    pub name: Option<String>,
    /// Likelihood to recommend, 0-10.
    pub ltr: i32,
    /// When (RFC 3339).
    pub submitted_at: String,
}

/// How many unmatched answers.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnmatchedQuery {
    /// The latest this many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// The wave's open-link answers that matched no contact, the latest first (administrators and
/// analysts, as on the wave's page).
#[utoipa::path(
    get,
    path = "/api/v1/waves/{name}/unmatched",
    params(("name" = String, Path, description = "The wave's name"), UnmatchedQuery),
    responses(
        Refused,
        (status = 200, description = "The unmatched answers", body = [UnmatchedOut]),
        (status = 400, description = "A parameter is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn unmatched(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(name): Path<String>,
    q: Result<Query<UnmatchedQuery>, QueryRejection>,
) -> Result<Json<Vec<UnmatchedOut>>, Problem> {
    caller.require_scope(TokenScope::Read)?;
    caller.user.require(Need::Surveys)?;
    let limit = page_limit(query(q)?.limit)?;
    let wave = find(&state, &name).await?;
    let rows = state.store.unmatched_answers(wave.id, limit as i64).await?;
    Ok(Json(
        rows.into_iter()
            .map(|u| UnmatchedOut {
                id: u.id,
                company: u.company,
                email: u.email,
                name: u.name,
                ltr: u.ltr,
                submitted_at: stamp(u.submitted_at),
            })
            .collect(),
    ))
}

/// An address the mail provider reported as bounced.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BounceIn {
    /// The address.
    pub email: String,
    /// What the provider said, e.g. "550 5.1.1 unknown user".
    pub reason: Option<String>,
}

/// What recording bounces did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BouncesOut {
    /// Invitations marked bounced (they get no reminders).
    pub marked: u64,
    /// Reported addresses that match no email invitation of the wave (other waves, or typos).
    pub unknown: Vec<String>,
}

/// The most bounces one call records.
const MAX_BOUNCES: usize = 10_000;

/// Record the bounces your mail provider reports after sending (its bounce webhook or report,
/// reshaped): the wave's email invitations to those addresses are marked bounced with the
/// reason, and get no reminders. Recording the same bounce again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/waves/{name}/bounces",
    params(("name" = String, Path, description = "The wave's name")),
    request_body = [BounceIn],
    responses(
        Refused,
        (status = 200, description = "Recorded", body = BouncesOut),
        (status = 400, description = "The body is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn bounces(
    State(state): State<AppState>,
    caller: ApiUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &body, async {
        caller.require_scope(TokenScope::Write)?;
        caller.user.require(Need::Surveys)?;
        let wave = find(&state, &name).await?;
        let input: Vec<BounceIn> = json_body(&body, "a list of bounces ({\"email\", \"reason\"})")?;
        if input.len() > MAX_BOUNCES {
            return Err(bad(format!("{} bounces in one call: send at most {MAX_BOUNCES}", input.len())));
        }
        let reported: Vec<(String, String)> = input
            .iter()
            .filter(|b| !b.email.trim().is_empty())
            .map(|b| (b.email.trim().to_string(), bounce_reason(b.reason.as_deref())))
            .collect();
        let (marked, unknown) = record_bounces(&state.store, wave.id, &reported).await.map_err(WebError::Internal)?;
        let detail = format!("{marked} invitations marked bounced");
        state.audit(Some(&caller.user.0.email), "wave.bounces", &name, &detail).await?;
        Ok(Json(BouncesOut { marked, unknown }).into_response())
    })
    .await
}

/// Whose answer it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignIn {
    /// The contact's email as it is on file.
    pub contact: String,
}

/// Where the answer went.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignedOut {
    /// The contact's account (its id in the CRM); the answer counts for it now.
    pub account_id: String,
}

/// File an open-link answer that matched no contact under the contact it came from: it
/// becomes their answer in the wave, given when it was given, and counts like any other.
#[utoipa::path(
    post,
    path = "/api/v1/waves/{name}/unmatched/{id}/assign",
    params(("name" = String, Path, description = "The wave's name"), ("id" = i64, Path, description = "The unmatched answer's id")),
    request_body = AssignIn,
    responses(
        Refused,
        (status = 200, description = "Filed", body = AssignedOut),
        (status = 400, description = "No contact has that email", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such wave or unmatched answer", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn assign(
    State(state): State<AppState>,
    caller: ApiUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &body, async {
        caller.require_scope(TokenScope::Write)?;
        caller.user.require(Need::Surveys)?;
        let missing = || Problem::new(StatusCode::NOT_FOUND, format!("there is no unmatched answer '{id}'"));
        let id: i64 = id.trim().parse().map_err(|_| missing())?;
        let input: AssignIn = json_body(&body, "a contact ({\"contact\": EMAIL})")?;
        let account_id = assign_unmatched(&state, &caller.user.0.email, &name, id, &input.contact).await?;
        Ok(Json(AssignedOut { account_id }).into_response())
    })
    .await
}
