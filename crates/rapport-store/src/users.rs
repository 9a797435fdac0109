//! The people who use Rapport: admins, analysts, account managers, executives.

use rapport_core::user::Role;

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;
use crate::tx::on_writer;

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
    /// Creates the user, or updates name, role and manager of the user with that email.
    /// Returns the user's id.
    pub async fn upsert_user(&self, user: &NewUser) -> Result<i64, StoreError> {
        let sql = "INSERT INTO users (email, name, role, manager_id) \
                   VALUES ($1, $2, $3, (SELECT id FROM users WHERE email = $4)) \
                   ON CONFLICT (email) DO UPDATE SET name = excluded.name, role = excluded.role, \
                   manager_id = excluded.manager_id RETURNING id";
        Ok(on_writer!(self, |conn| sqlx::query_scalar(sql)
            .bind(&user.email)
            .bind(&user.name)
            .bind(user.role.as_str())
            .bind(&user.manager_email)
            .fetch_one(&mut *conn)
            .await?))
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
    /// Sign-in email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
}

impl Store {
    /// Every user, by email.
    pub async fn list_users(&self) -> Result<Vec<UserSummary>, StoreError> {
        let rows: Vec<(String, String, String)> =
            on_pool!(self, |pool| sqlx::query_as("SELECT email, name, role FROM users ORDER BY email")
                .fetch_all(pool)
                .await?);
        Ok(rows
            .into_iter()
            .filter_map(|(email, name, role)| Some(UserSummary { email, name, role: Role::parse(&role)? }))
            .collect())
    }
}
