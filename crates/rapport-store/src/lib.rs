//! Rapport's storage: one API over SQLite (embedded, the default) and PostgreSQL.
//!
//! # Layout
//! - [`store`]: the [`Store`] handle, connection and migrations (`migrations/sqlite`,
//!   `migrations/postgres`, same numbering).
//! - [`kind`], [`record`]: the kinds of portfolio records and how each maps onto its table.
//! - [`writer`]: batched upserts inside one transaction, shared by import and the demo.
//! - [`import`], [`export`]: CSV in and out; [`formula`] keeps spreadsheet formulas inert.
//! - [`analytics`]: the per (wave, account, role) statistics cells reports merge;
//!   [`report_cache`] keeps what reports read in memory while the data is unchanged.
//! - [`accounts`]: what the account page reads about one account; [`audit`]: who did what;
//!   [`backup`]: online copies of an SQLite database; [`idempotency`]: replayed API responses.
//! - [`portfolio`]: counts and lookups over the portfolio; [`users`], [`sessions`], [`api_tokens`], [`share_links`],
//!   [`waves`].
//! - [`surveys`]: versioned survey definitions; [`invitations`]: one per contact per wave, and
//!   the answers given through them; [`jobs`]: the durable queue that delivers them;
//!   [`open_links`]: links for anyone at a wave's accounts (QR codes), matched by email.
//! - Closing the loop: [`alerts`] (rules, answers waiting for them, alerts raised once),
//!   [`tasks`] (follow-ups and action plan items, escalation), [`webhooks`], and the
//!   [`outbox`] that delivers notifications and webhook events at least once; [`sponsors`];
//!   [`reviews`]: review meetings and the actions they agree; [`cadence`]: the repeating cycle.
//! - [`assessment`]: what the portfolio assessment reads, and its versioned definition.

pub mod accounts;
pub mod alerts;
pub mod analytics;
pub mod api_tokens;
pub mod assessment;
pub mod audit;
pub mod backup;
pub mod cadence;
mod checkpoint;
mod copy_out;
mod direct;
pub mod error;
pub mod export;
pub mod formula;
pub mod idempotency;
pub mod import;
pub mod invitations;
pub mod jobs;
pub mod kind;
pub mod open_links;
pub mod outbox;
pub mod portfolio;
pub mod record;
pub mod report_cache;
pub mod reviews;
pub mod sessions;
pub mod share_links;
pub mod sponsors;
pub mod store;
pub mod surveys;
pub mod tasks;
mod tx;
mod unnest;
pub mod users;
pub mod waves;
pub mod webhooks;
pub mod writer;

pub use error::StoreError;
pub use kind::Kind;
pub use store::{Backend, SqliteDb, Store};
