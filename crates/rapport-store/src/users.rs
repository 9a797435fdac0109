//! The people who use Rapport: admins, analysts, account managers, executives.

use rapport_core::user::Role;

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::{Tx, on_tx, on_writer};

/// A user to create or update, keyed by email.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in email, unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// The manager's email (escalations go there); the manager must exist already.
    pub manager_email: Option<String>,
}

impl Store {
    /// Creates the user, or updates name, role and manager of the user with that email in any
    /// case (sign-in ignores case too, so Ada@Example.com and ada@example.com are one person).
    /// Returns the user's id.
    pub async fn upsert_user(&self, user: &NewUser) -> Result<i64, StoreError> {
        const MANAGER: &str = "(SELECT id FROM users WHERE lower(email) = lower($4))";
        let update = format!(
            "UPDATE users SET name = $2, role = $3, manager_id = {MANAGER} WHERE lower(email) = lower($1) RETURNING id"
        );
        let insert =
            format!("INSERT INTO users (email, name, role, manager_id) VALUES ($1, $2, $3, {MANAGER}) RETURNING id");
        Ok(on_writer!(self, |conn| {
            let mut id = None;
            // The update first: a new user only when no one has the email in any case.
            for sql in [&update, &insert] {
                if id.is_none() {
                    id = sqlx::query_scalar(sql)
                        .bind(&user.email)
                        .bind(&user.name)
                        .bind(user.role.as_str())
                        .bind(&user.manager_email)
                        .fetch_optional(&mut *conn)
                        .await?;
                }
            }
            id.ok_or(StoreError::NotFound)?
        }))
    }
}

/// A user as sign-in needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLogin {
    /// The user's id.
    pub id: i64,
    /// What the user may do.
    pub role: Role,
    /// The argon2id hash (PHC string), or `None` for a user who cannot sign in yet.
    pub password_hash: Option<String>,
}

impl Store {
    /// Sets (or replaces) a user's password hash.
    pub async fn set_password_hash(&self, email: &str, hash: &str) -> Result<(), StoreError> {
        let done =
            on_writer!(self, |conn| sqlx::query("UPDATE users SET password_hash = $1 WHERE lower(email) = lower($2)")
                .bind(hash)
                .bind(email.trim())
                .execute(&mut *conn)
                .await?
                .rows_affected());
        if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// The user with this email (any case), for sign-in.
    pub async fn user_login(&self, email: &str) -> Result<Option<UserLogin>, StoreError> {
        let sql = "SELECT id, role, password_hash FROM users WHERE lower(email) = lower($1)";
        let row: Option<(i64, String, Option<String>)> =
            on_pool!(self, |pool| sqlx::query_as(sql).bind(email.trim()).fetch_optional(pool).await?);
        Ok(row.and_then(|(id, role, password_hash)| Some(UserLogin { id, role: Role::parse(&role)?, password_hash })))
    }

    /// How many users can sign in (have a password); 0 means the first admin is still to be
    /// created.
    pub async fn users_with_password(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE password_hash IS NOT NULL")
            .fetch_one(pool)
            .await?))
    }
}

/// A user, as lists show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    /// The user's id.
    pub id: i64,
    /// Sign-in email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// The manager's email, where escalations go.
    pub manager_email: Option<String>,
    /// Whether the user has a password (a user without one cannot sign in).
    pub can_sign_in: bool,
    /// When they last signed in (unix seconds), if ever.
    pub last_sign_in_at: Option<i64>,
}

impl Store {
    /// Every user, by email in any case.
    pub async fn list_users(&self) -> Result<Vec<UserSummary>, StoreError> {
        let sql = "SELECT u.id, u.email, u.name, u.role, m.email, u.password_hash IS NOT NULL, u.last_sign_in_at \
                   FROM users u LEFT JOIN users m ON m.id = u.manager_id ORDER BY lower(u.email), u.email";
        type Row = (i64, String, String, String, Option<String>, bool, Option<i64>);
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .filter_map(|(id, email, name, role, manager_email, can_sign_in, last_sign_in_at)| {
                let role = Role::parse(&role)?;
                Some(UserSummary { id, email, name, role, manager_email, can_sign_in, last_sign_in_at })
            })
            .collect())
    }
}

/// Why an administrator's change to the users cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// No user has this id.
    #[error("There is no such user")]
    NoUser,
    /// The email is taken.
    #[error("{0} is already a user: change them in the list instead")]
    Exists(String),
    /// The manager named is not a user.
    #[error("There is no user {0} to be the manager: add them first, or leave the manager empty")]
    NoManager(String),
    /// A user named as their own manager.
    #[error("{0} cannot be their own manager: choose someone else, or no one")]
    OwnManager(String),
    /// The change would leave no administrator who can sign in.
    #[error("{0} is the last administrator who can sign in: make someone else an administrator first")]
    LastAdmin(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Adds a user who signs in with `password_hash`; refused when the email is taken.
    pub async fn add_user(&self, user: &NewUser, password_hash: &str) -> Result<i64, UserError> {
        let mut tx = Tx::begin(self).await?;
        let added = add_user_in(&mut tx, user, password_hash).await;
        tx.finish(added).await
    }

    /// Changes the name, role and manager of the user `id`. Refused when it would leave no
    /// administrator who can sign in.
    pub async fn change_user(
        &self,
        id: i64,
        name: &str,
        role: Role,
        manager_email: Option<&str>,
    ) -> Result<String, UserError> {
        let mut tx = Tx::begin(self).await?;
        let changed = change_user_in(&mut tx, id, name, role, manager_email).await;
        tx.finish(changed).await
    }

    /// Gives the user `id` a new password and ends their sessions; their email.
    pub async fn reset_password(&self, id: i64, password_hash: &str) -> Result<String, UserError> {
        let mut tx = Tx::begin(self).await?;
        let reset = set_sign_in(&mut tx, id, Some(password_hash), 0).await;
        tx.finish(reset).await
    }

    /// Takes away the user's sign-in: no password, no sessions, every API token revoked. What
    /// they did and own stays. Refused for the last administrator who can sign in.
    pub async fn remove_sign_in(&self, id: i64, now: i64) -> Result<String, UserError> {
        let mut tx = Tx::begin(self).await?;
        let removed = set_sign_in(&mut tx, id, None, now).await;
        tx.finish(removed).await
    }
}

async fn add_user_in(tx: &mut Tx, user: &NewUser, password_hash: &str) -> Result<i64, UserError> {
    let taken: Option<i64> = on_tx!(tx, |t| sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
        .bind(&user.email)
        .fetch_optional(&mut **t)
        .await
        .map_err(StoreError::from)?);
    if taken.is_some() {
        return Err(UserError::Exists(user.email.clone()));
    }
    let manager = manager_id(tx, user.manager_email.as_deref()).await?;
    let sql =
        "INSERT INTO users (email, name, role, manager_id, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id";
    Ok(on_tx!(tx, |t| sqlx::query_scalar(sql)
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(manager)
        .bind(password_hash)
        .fetch_one(&mut **t)
        .await
        .map_err(StoreError::from)?))
}

async fn change_user_in(
    tx: &mut Tx,
    id: i64,
    name: &str,
    role: Role,
    manager_email: Option<&str>,
) -> Result<String, UserError> {
    let (email, old_role, can_sign_in) = user_in(tx, id).await?;
    if old_role == Role::Admin && role != Role::Admin && can_sign_in {
        last_admin_check(tx, id, &email).await?;
    }
    if manager_email.is_some_and(|m| m.eq_ignore_ascii_case(&email)) {
        return Err(UserError::OwnManager(email));
    }
    let manager = manager_id(tx, manager_email).await?;
    let sql = "UPDATE users SET name = $1, role = $2, manager_id = $3 WHERE id = $4";
    on_tx!(tx, |t| {
        sqlx::query(sql)
            .bind(name)
            .bind(role.as_str())
            .bind(manager)
            .bind(id)
            .execute(&mut **t)
            .await
            .map_err(StoreError::from)?;
    });
    Ok(email)
}

/// Sets the user's password (`None`: none, so no sign-in, and their API tokens revoked at
/// `now`) and ends their sessions.
async fn set_sign_in(tx: &mut Tx, id: i64, password_hash: Option<&str>, now: i64) -> Result<String, UserError> {
    let (email, role, can_sign_in) = user_in(tx, id).await?;
    if password_hash.is_none() && role == Role::Admin && can_sign_in {
        last_admin_check(tx, id, &email).await?;
    }
    on_tx!(tx, |t| {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&mut **t)
            .await
            .map_err(StoreError::from)?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut **t)
            .await
            .map_err(StoreError::from)?;
        if password_hash.is_none() {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&mut **t)
                .await
                .map_err(StoreError::from)?;
        }
    });
    Ok(email)
}

/// The user's email, role and whether they can sign in.
async fn user_in(tx: &mut Tx, id: i64) -> Result<(String, Role, bool), UserError> {
    let sql = "SELECT email, role, password_hash IS NOT NULL FROM users WHERE id = $1";
    let row: Option<(String, String, bool)> =
        on_tx!(tx, |t| sqlx::query_as(sql).bind(id).fetch_optional(&mut **t).await.map_err(StoreError::from)?);
    let (email, role, can_sign_in) = row.ok_or(UserError::NoUser)?;
    Ok((email, Role::parse(&role).ok_or(UserError::NoUser)?, can_sign_in))
}

/// Refuses when no administrator other than `id` can sign in. On PostgreSQL the other
/// administrators' rows stay locked until the commit, so that two administrators demoting
/// each other at once cannot both succeed (SQLite's writer lock does the same).
async fn last_admin_check(tx: &mut Tx, id: i64, email: &str) -> Result<(), UserError> {
    let lock = if matches!(tx, Tx::Postgres(_)) { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT id FROM users WHERE role = 'admin' AND password_hash IS NOT NULL AND id <> $1{lock}");
    let others: Vec<i64> =
        on_tx!(tx, |t| sqlx::query_scalar(&sql).bind(id).fetch_all(&mut **t).await.map_err(StoreError::from)?);
    if others.is_empty() { Err(UserError::LastAdmin(email.to_string())) } else { Ok(()) }
}

/// The id of the manager with this email (any case), if one is named.
async fn manager_id(tx: &mut Tx, manager_email: Option<&str>) -> Result<Option<i64>, UserError> {
    let Some(manager) = manager_email else { return Ok(None) };
    let id: Option<i64> = on_tx!(tx, |t| sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
        .bind(manager)
        .fetch_optional(&mut **t)
        .await
        .map_err(StoreError::from)?);
    id.map(Some).ok_or_else(|| UserError::NoManager(manager.to_string()))
}
