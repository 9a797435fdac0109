//! The people who sign in, over the API, as under Users in the web app: list, add (with a
//! password in the answer, once), change the role and manager, give a new password, and take
//! away a sign-in. Everything takes an administrator's token with the `admin` scope and is
//! audited like a change made in the app.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rapport_store::users::UserSummary;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::ApiUser;
use super::idempotency::once;
use super::json_body;
use super::problem::{Problem, Refused};
use crate::follow_up::messages::stamp;
use crate::pages::users::{Person, add_user_for, change_user_for, new_password_for, remove_sign_in_for};
use crate::state::AppState;

/// A person who signs in.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// Their id.
    pub id: i64,
    /// Sign-in email.
    pub email: String,
    /// Their name, as colleagues see it.
    pub name: String,
    /// admin, analyst, account_manager or executive.
    pub role: String,
    /// Their manager's email (overdue follow-ups go there).
    pub manager_email: Option<String>,
    /// Whether they have a password (someone whose sign-in was taken away has none).
    pub can_sign_in: bool,
    /// When they last signed in (RFC 3339), or null for never.
    pub last_sign_in_at: Option<String>,
}

impl From<UserSummary> for UserOut {
    fn from(u: UserSummary) -> UserOut {
        UserOut {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role.as_str().to_string(),
            manager_email: u.manager_email,
            can_sign_in: u.can_sign_in,
            last_sign_in_at: u.last_sign_in_at.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok()).map(stamp),
        }
    }
}

/// The person `id`, as listed now.
async fn user_out(state: &AppState, id: i64) -> Result<UserOut, Problem> {
    let users = state.store.list_users().await?;
    let user = users.into_iter().find(|u| u.id == id);
    user.map(UserOut::from).ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, format!("there is no user {id}")))
}

/// The user id in a path, or "no such user".
fn user_id(id: &str) -> Result<i64, Problem> {
    id.trim().parse().map_err(|_| Problem::new(StatusCode::NOT_FOUND, format!("there is no user '{id}'")))
}

/// Everyone who signs in, by email.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    responses(Refused, (status = 200, description = "The users", body = [UserOut]))
)]
pub async fn list_users(State(state): State<AppState>, caller: ApiUser) -> Result<Json<Vec<UserOut>>, Problem> {
    caller.require_admin()?;
    Ok(Json(state.store.list_users().await?.into_iter().map(UserOut::from).collect()))
}

/// A person to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserIn {
    /// Sign-in email (not yet a user's, in any case).
    pub email: String,
    /// Their name (up to 200 characters).
    pub name: String,
    /// admin, analyst, account_manager or executive.
    pub role: String,
    /// Their manager's email: an existing user; null or absent for none.
    #[serde(default)]
    pub manager_email: Option<String>,
}

/// A person with the password they sign in with.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPasswordOut {
    /// The person.
    pub user: UserOut,
    /// Their password: shown this once (only its hash is kept). Pass it on in person.
    pub password: String,
}

/// Add a person. Their password is in this answer only (and in the replay of a retry with the
/// same `Idempotency-Key`).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    request_body = NewUserIn,
    responses(
        Refused,
        (status = 201, description = "The person and their password", body = UserPasswordOut),
        (status = 400, description = "The body is wrong, the email is taken or the manager is unknown", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn add_user(
    State(state): State<AppState>,
    caller: ApiUser,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &body, async {
        caller.require_admin()?;
        let input: NewUserIn = json_body(&body, "a person to add")?;
        let person =
            Person { name: &input.name, role: &input.role, manager: input.manager_email.as_deref().unwrap_or("") };
        let (id, _, password) = add_user_for(&state, &caller.user.0.email, &input.email, &person).await?;
        let user = user_out(&state, id).await?;
        Ok((StatusCode::CREATED, Json(UserPasswordOut { user, password })).into_response())
    })
    .await
}

/// A person's name, role and manager, as they are to be.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChangeIn {
    /// Their name (up to 200 characters).
    pub name: String,
    /// admin, analyst, account_manager or executive.
    pub role: String,
    /// Their manager's email: an existing user other than them; null or absent for none.
    #[serde(default)]
    pub manager_email: Option<String>,
}

/// Change a person's name, role and manager. The last administrator who can sign in stays one.
#[utoipa::path(
    put,
    path = "/api/v1/users/{id}",
    params(("id" = i64, Path, description = "The user's id")),
    request_body = UserChangeIn,
    responses(
        Refused,
        (status = 200, description = "The person as changed", body = UserOut),
        (status = 400, description = "The body is wrong, or the change would leave no administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn change_user(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<UserOut>, Problem> {
    caller.require_admin()?;
    let id = user_id(&id)?;
    let input: UserChangeIn = json_body(&body, "a person's name, role and manager")?;
    let person = Person { name: &input.name, role: &input.role, manager: input.manager_email.as_deref().unwrap_or("") };
    change_user_for(&state, &caller.user.0.email, id, &person).await?;
    Ok(Json(user_out(&state, id).await?))
}

/// Give a person a new password and sign them out everywhere. The password is in this answer
/// only (and in the replay of a retry with the same `Idempotency-Key`).
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/password",
    params(("id" = i64, Path, description = "The user's id")),
    responses(
        Refused,
        (status = 200, description = "The person and their new password", body = UserPasswordOut),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn new_password(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    once(&state, &caller, &headers, &uri, &body, async {
        caller.require_admin()?;
        let id = user_id(&id)?;
        let (_, password) = new_password_for(&state, &caller.user.0.email, id).await?;
        let user = user_out(&state, id).await?;
        Ok(Json(UserPasswordOut { user, password }).into_response())
    })
    .await
}

/// Take away a person's sign-in: no password, no session, every API token revoked. What they
/// own and did stays. Not for the caller themselves, nor the last administrator.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/sign-in",
    params(("id" = i64, Path, description = "The user's id")),
    responses(
        Refused,
        (status = 204, description = "They can no longer sign in"),
        (status = 400, description = "The caller themselves, or the last administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn remove_sign_in(
    State(state): State<AppState>,
    caller: ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    caller.require_admin()?;
    remove_sign_in_for(&state, &caller.user.0, user_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
