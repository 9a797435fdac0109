//! Counts and lookups over the portfolio, and the one way an account row is read.

use rapport_core::account::{Account, RelationshipStyle};
use rapport_core::money::Money;

use crate::copy_out;
use crate::error::StoreError;
use crate::kind::Kind;
use crate::on_pool;
use crate::record::table_spec;
use crate::store::Store;

impl Store {
    /// How many records of a kind are stored.
    pub async fn count(&self, kind: Kind) -> Result<i64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {}", table_spec(kind).table);
        Ok(on_pool!(self, |pool| sqlx::query_scalar(&sql).fetch_one(pool).await?))
    }

    /// Billed revenue entries (internal account id, period as stored, billed) for the given
    /// periods.
    pub async fn billed_in_periods(&self, periods: &[String]) -> Result<Vec<(i64, String, Option<i64>)>, StoreError> {
        if periods.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (1..=periods.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT account_id, period, billed FROM revenue WHERE period IN ({})", list.join(", "));
        Ok(on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for p in periods {
                q = q.bind(p);
            }
            q.fetch_all(pool).await?
        }))
    }

    /// The internal id of the account with this CRM id.
    pub async fn find_account_id(&self, external_id: &str) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT id FROM accounts WHERE external_id = $1";
        Ok(on_pool!(self, |pool| sqlx::query_scalar(sql).bind(external_id).fetch_optional(pool).await?))
    }

    /// The owner (an email) of the account with this internal id.
    pub async fn find_account_owner(&self, account_id: i64) -> Result<Option<String>, StoreError> {
        let sql = "SELECT owner_email FROM accounts WHERE id = $1";
        let owner: Option<Option<String>> =
            on_pool!(self, |pool| sqlx::query_scalar(sql).bind(account_id).fetch_optional(pool).await?);
        Ok(owner.flatten().filter(|o| !o.trim().is_empty()))
    }
}

/// The account columns every reader selects (then `attributes`, or `'{}' AS attributes`).
pub(crate) const ACCOUNT_COLUMNS: &str = "id, external_id, name, vertical, region, owner_email, billed_revenue, \
     potential_revenue, cost_of_sales, payment_days, relationship_style, strategic, sponsor_email";

/// An account as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    pub(crate) id: i64,
    pub(crate) external_id: String,
    pub(crate) name: String,
    pub(crate) vertical: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) owner_email: Option<String>,
    pub(crate) billed_revenue: Option<i64>,
    pub(crate) potential_revenue: Option<i64>,
    pub(crate) cost_of_sales: Option<i64>,
    pub(crate) payment_days: Option<i32>,
    pub(crate) relationship_style: Option<String>,
    pub(crate) strategic: Option<bool>,
    pub(crate) sponsor_email: Option<String>,
    pub(crate) attributes: String,
}

impl AccountRow {
    /// A row of `SELECT {ACCOUNT_COLUMNS}, attributes` read through rusqlite (see
    /// [`crate::direct`]), column by column in that order.
    pub(crate) fn from_rusqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<AccountRow> {
        Ok(AccountRow {
            id: row.get(0)?,
            external_id: row.get(1)?,
            name: row.get(2)?,
            vertical: row.get(3)?,
            region: row.get(4)?,
            owner_email: row.get(5)?,
            billed_revenue: row.get(6)?,
            potential_revenue: row.get(7)?,
            cost_of_sales: row.get(8)?,
            payment_days: row.get(9)?,
            relationship_style: row.get(10)?,
            strategic: row.get(11)?,
            sponsor_email: row.get(12)?,
            attributes: row.get(13)?,
        })
    }

    /// A row of `SELECT {ACCOUNT_COLUMNS}, attributes` read through PostgreSQL's binary COPY
    /// (see [`crate::copy_out`]), field by field in that order.
    pub(crate) fn from_copy(row: &copy_out::Fields<'_>) -> Result<AccountRow, StoreError> {
        let text = |i| Ok::<_, StoreError>(row.text(i)?.map(str::to_string));
        Ok(AccountRow {
            id: row.int8_not_null(0)?,
            external_id: row.text_not_null(1)?.to_string(),
            name: row.text_not_null(2)?.to_string(),
            vertical: text(3)?,
            region: text(4)?,
            owner_email: text(5)?,
            billed_revenue: row.int8(6)?,
            potential_revenue: row.int8(7)?,
            cost_of_sales: row.int8(8)?,
            payment_days: row.int4(9)?,
            relationship_style: text(10)?,
            strategic: row.bool(11)?,
            sponsor_email: text(12)?,
            attributes: row.text_not_null(13)?.to_string(),
        })
    }

    /// The domain account.
    pub(crate) fn into_account(self) -> Result<Account, StoreError> {
        let attributes = serde_json::from_str(&self.attributes).map_err(|e| {
            StoreError::Other(
                anyhow::Error::new(e).context(format!("reading the attributes of account {}", self.external_id)),
            )
        })?;
        Ok(Account {
            account_id: self.external_id,
            name: self.name,
            vertical: self.vertical,
            region: self.region,
            owner_email: self.owner_email,
            billed_revenue: self.billed_revenue.map(Money),
            potential_revenue: self.potential_revenue.map(Money),
            cost_of_sales: self.cost_of_sales.map(Money),
            payment_days: self.payment_days,
            relationship_style: self.relationship_style.as_deref().and_then(RelationshipStyle::parse),
            strategic: self.strategic,
            sponsor_email: self.sponsor_email,
            attributes,
        })
    }
}
