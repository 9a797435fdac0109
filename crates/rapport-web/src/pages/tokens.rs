//! Personal API tokens: made here, shown once, kept only as a hash, revocable, with the last
//! time each was used.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use rapport_core::user::Role;
use rapport_store::api_tokens::{TokenScope, TokenSummary};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::{CsrfForm, CurrentUser};
use crate::error::WebError;
use crate::pages::view::Layout;
use crate::state::AppState;
use crate::token::{hash_token, new_token};

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    created: Option<String>,
    tokens: Vec<TokenSummary>,
    scopes: Vec<&'static str>,
}

impl TokensPage {
    fn when(t: &Option<i64>) -> String {
        t.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .map_or_else(|| "never".to_string(), |t| format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()))
    }
}

/// The scopes a user may give a token: admin only for admins.
fn scopes_for(role: Role) -> Vec<&'static str> {
    TokenScope::ALL.iter().filter(|s| **s != TokenScope::Admin || role == Role::Admin).map(|s| s.as_str()).collect()
}

async fn page(state: &AppState, user: &CurrentUser, created: Option<String>) -> Result<Html<String>, WebError> {
    let page = TokensPage {
        layout: Layout::new(user, "API tokens", "tokens"),
        created,
        tokens: state.store.api_tokens_of(user.0.user_id).await?,
        scopes: scopes_for(user.0.role),
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// GET /tokens.
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Html<String>, WebError> {
    page(&state, &user, None).await
}

/// The form that makes a token.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    csrf: String,
    name: String,
    scope: String,
}

/// POST /tokens: makes a token and shows it once.
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    user.check_csrf(&form.csrf)?;
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(WebError::BadRequest(
            "Name the token (up to 100 characters), e.g. after the tool that uses it".into(),
        ));
    }
    let scope =
        TokenScope::parse(&form.scope).filter(|s| scopes_for(user.0.role).contains(&s.as_str())).ok_or_else(|| {
            WebError::BadRequest(format!("'{}' is not a scope you can give: use read or write", form.scope))
        })?;
    let token = new_token();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    state.store.create_api_token(user.0.user_id, name, &hash_token(&token), scope, now).await?;
    state.audit(Some(&user.0.email), "api_token.create", name, scope.as_str()).await?;
    Ok((StatusCode::CREATED, page(&state, &user, Some(token)).await?).into_response())
}

/// POST /tokens/{id}/revoke.
pub async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, WebError> {
    user.check_csrf(&form.csrf)?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    state.store.revoke_api_token(id, user.0.user_id, now).await.map_err(|e| match e {
        rapport_store::StoreError::NotFound => WebError::NotFound("You have no such live token".into()),
        other => other.into(),
    })?;
    state.audit(Some(&user.0.email), "api_token.revoke", &id.to_string(), "").await?;
    Ok(Redirect::to("/tokens"))
}
