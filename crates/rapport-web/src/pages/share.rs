//! Read-only links to a dashboard view or an account report for people without an account
//! (an executive's assistant, the customer at a review meeting): made from the page they
//! show, with an expiry, revocable, optionally hiding respondents' names and comments. A link
//! never shows more than its maker could see.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use rapport_store::share_links::{NewShareLink, ShareKind, ShareLink};
use serde::Deserialize;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::auth::CurrentUser;
use crate::authz::Need;
use crate::error::WebError;
use crate::pages::view::{Layout, ViewQuery, Viewer};
use crate::pages::{account, dashboard};
use crate::state::AppState;
use crate::token::{hash_token, new_token};

/// The longest a link may live.
pub const MAX_DAYS: i64 = 90;

/// The form that makes a link.
#[derive(Debug, Deserialize)]
pub struct ShareForm {
    csrf: String,
    kind: String,
    target: String,
    days: i64,
    #[serde(default)]
    hide_people: Option<String>,
}

/// A link as the list shows it.
pub struct LinkRow {
    /// Its id.
    pub id: i64,
    /// What it shows.
    pub what: String,
    /// Who made it.
    pub by: String,
    /// Until when.
    pub expires: String,
    /// live, expired or revoked.
    pub status: &'static str,
    /// Names and comments hidden.
    pub hide_people: bool,
}

#[derive(Template)]
#[template(path = "shares.html")]
struct SharesPage {
    layout: Layout,
    created: Option<String>,
    links: Vec<LinkRow>,
}

fn date(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format_description!("[year]-[month]-[day] [hour]:[minute] UTC")).ok())
        .unwrap_or_default()
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The address people will open: the host they reached Rapport on, over HTTPS when Rapport
/// is served behind TLS.
fn absolute(state: &AppState, headers: &HeaderMap, path: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}{path}")
}

async fn list_page(state: &AppState, user: &CurrentUser, created: Option<String>) -> Result<Html<String>, WebError> {
    let mine = (user.require(Need::Admin).is_err()).then_some(user.0.user_id);
    let t = now();
    let links = state
        .store
        .share_links(mine)
        .await?
        .into_iter()
        .map(|l: ShareLink| LinkRow {
            id: l.id,
            what: match l.kind {
                ShareKind::Dashboard if l.target.is_empty() => "Dashboard".to_string(),
                ShareKind::Dashboard => format!("Dashboard ({})", l.target.replace('&', ", ")),
                ShareKind::Account => format!("Account {}", l.target),
            },
            by: l.created_by,
            expires: date(l.expires_at),
            status: match (l.revoked_at, l.expires_at <= t) {
                (Some(_), _) => "revoked",
                (None, true) => "expired",
                (None, false) => "live",
            },
            hide_people: l.hide_people,
        })
        .collect();
    let page = SharesPage { layout: Layout::new(user, "Shared links", "shares"), created, links };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// GET /shares: the links the user made (an administrator sees everyone's).
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Html<String>, WebError> {
    list_page(&state, &user, None).await
}

/// POST /shares: makes a link to what the user is looking at, and shows it once.
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Form(form): Form<ShareForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    let kind = ShareKind::parse(&form.kind).ok_or_else(|| {
        WebError::BadRequest(format!("'{}' cannot be shared: share a dashboard or an account", form.kind))
    })?;
    if !(1..=MAX_DAYS).contains(&form.days) {
        return Err(WebError::BadRequest(format!("a link lasts 1 to {MAX_DAYS} days, not {}", form.days)));
    }
    match kind {
        ShareKind::Dashboard => user.require(Need::Portfolio)?,
        ShareKind::Account => {
            account::portfolio_with(&state, &Viewer::of(&user), &form.target).await?;
        }
    }
    let token = new_token();
    let token_hash = hash_token(&token);
    let t = now();
    let owned_by = Viewer::of(&user).owned_by;
    state
        .store
        .create_share_link(&NewShareLink {
            token_hash: &token_hash,
            kind,
            target: &form.target,
            owned_by: owned_by.as_deref(),
            hide_people: form.hide_people.is_some(),
            created_by: user.0.user_id,
            now: t,
            expires_at: t + form.days * 86_400,
        })
        .await?;
    let detail = format!("{} days{}", form.days, if form.hide_people.is_some() { ", names hidden" } else { "" });
    state
        .audit(Some(&user.0.email), "share_link.create", &format!("{} {}", kind.as_str(), form.target), &detail)
        .await?;
    let url = absolute(&state, &headers, &format!("/s/{token}"));
    Ok((StatusCode::CREATED, list_page(&state, &user, Some(url)).await?).into_response())
}

/// POST /shares/{id}/revoke.
pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<crate::auth::CsrfForm>,
) -> Result<Redirect, WebError> {
    user.check_csrf(&form.csrf)?;
    let mine = (user.require(Need::Admin).is_err()).then_some(user.0.user_id);
    state.store.revoke_share_link(id, mine, now()).await.map_err(|e| match e {
        rapport_store::StoreError::NotFound => WebError::NotFound("There is no such live link of yours".into()),
        other => other.into(),
    })?;
    state.audit(Some(&user.0.email), "share_link.revoke", &id.to_string(), "").await?;
    Ok(Redirect::to("/shares"))
}

/// GET /s/{token}: the shared page, read-only, for anyone holding the link.
pub async fn open(State(state): State<AppState>, Path(token): Path<String>) -> Result<Html<String>, WebError> {
    let gone = || WebError::NotFound("This shared link does not exist, has expired or was revoked".into());
    let link = state.store.live_share_link(&hash_token(&token), now()).await?.ok_or_else(gone)?;
    // Never more than its maker may see now: a maker removed takes the link along, and one who
    // has become an account manager since narrows it to their accounts.
    let maker = state.store.user_login(&link.created_by).await?.ok_or_else(gone)?;
    let owned_by = link.owned_by.clone().or_else(|| crate::authz::owned_by(maker.role, &link.created_by));
    state.audit(None, "share_link.open", &link.id.to_string(), "").await?;
    let viewer = Viewer {
        user: None,
        owned_by,
        hide_people: link.hide_people,
        sponsor: None,
        shared_until: Some(date(link.expires_at)),
    };
    match link.kind {
        ShareKind::Dashboard => {
            let uri: Uri = format!("/?{}", link.target).parse().map_err(|_| gone())?;
            let view = axum::extract::Query::<ViewQuery>::try_from_uri(&uri).map_err(|_| gone())?.0;
            dashboard::render(&state, &viewer, view).await
        }
        ShareKind::Account => {
            account::render(&state, &viewer, &link.target, ViewQuery::default(), Default::default()).await
        }
    }
}
