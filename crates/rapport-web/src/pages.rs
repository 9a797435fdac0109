//! The signed-in pages.
//!
//! # Layout
//! - [`view`]: the layout around every page and the filters that live in the URL.
//! - [`dashboard`]: the portfolio dashboard and the matrix chart.
//! - [`account`]: one account's page; [`briefing`]: its review-meeting briefing; [`audit`]: the
//!   audit log.
//! - [`reports`]: every report as a page and as downloads; [`download`]: the files.
//! - [`waves`]: surveys sent from Rapport, their response rates, sending and links.
//! - [`share`]: read-only links for people without an account; [`tokens`]: API tokens.
//! - [`users`]: the people who sign in, their roles and passwords (administrators).
//! - [`tasks`]: follow-ups and action plans; [`sponsors`]: executive sponsors; [`settings`]: alert rules, webhooks, the
//!   delivery log.
//! - [`format`]: numbers as pages show them.

pub mod account;
pub mod assessment;
pub mod audit;
pub mod briefing;
pub mod dashboard;
pub mod download;
pub mod format;
pub mod reports;
pub mod settings;
pub mod share;
pub mod sponsors;
pub mod surveys;
pub mod tasks;
pub mod tokens;
pub mod users;
pub mod view;
pub mod waves;
