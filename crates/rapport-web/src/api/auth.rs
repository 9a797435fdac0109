//! Who is calling the API: the user of a personal token (`Authorization: Bearer TOKEN`), held
//! to the same role and ownership rules as in the web app, and to the token's scope.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use rapport_store::api_tokens::TokenScope;
use rapport_store::sessions::SessionUser;
use time::OffsetDateTime;

use super::problem::Problem;
use crate::auth::CurrentUser;
use crate::state::AppState;
use crate::token::hash_token;

/// The caller of an API request.
#[derive(Debug, Clone)]
pub struct ApiUser {
    /// The token's user, checked by the same rules as a signed-in user.
    pub user: CurrentUser,
    /// What the token may do.
    pub scope: TokenScope,
}

impl ApiUser {
    /// Refuses a call that needs more than the token's scope.
    pub fn require_scope(&self, needed: TokenScope) -> Result<(), Problem> {
        if self.scope >= needed {
            Ok(())
        } else {
            Err(Problem::new(
                axum::http::StatusCode::FORBIDDEN,
                format!("this token's scope is {}; this call needs {}", self.scope.as_str(), needed.as_str()),
            ))
        }
    }
}

impl ApiUser {
    /// Refuses a call that administers Rapport: it takes an administrator's token with the
    /// `admin` scope.
    pub fn require_admin(&self) -> Result<(), Problem> {
        self.require_scope(TokenScope::Admin)?;
        self.user.require(crate::authz::Need::Admin)?;
        Ok(())
    }
}

impl<S> FromRequestParts<S> for ApiUser
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ApiUser, Problem> {
        let state = AppState::from_ref(state);
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| Problem::unauthorized("send a personal API token: `Authorization: Bearer TOKEN`"))?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let found = state.store.api_token_user(&hash_token(token), now).await?;
        let t = found.ok_or_else(|| Problem::unauthorized("this token is unknown or was revoked: make a new one"))?;
        let user =
            SessionUser { user_id: t.user_id, email: t.email, name: t.name, role: t.role, csrf_token: String::new() };
        Ok(ApiUser { user: CurrentUser(user), scope: t.scope })
    }
}
