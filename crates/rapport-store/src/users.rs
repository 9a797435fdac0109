//! The people who use Rapport: admins, analysts, account managers, executives.

use rapport_core::user::Role;

use crate::error::StoreError;
use crate::on_pool;
use crate::store::Store;

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
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(&user.email)
            .bind(&user.name)
            .bind(user.role.as_str())
            .bind(&user.manager_email)
            .fetch_one(pool)
            .await?))
    }
}
