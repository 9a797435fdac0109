//! Rapport's domain: the types every other crate speaks, and all analytics as pure
//! functions (no IO, no async, no SQL), so that every figure is computed once, here, and
//! tested exhaustively.
//!
//! # Layout
//! - Values parsed once at the edge: [`money`], [`period`], [`date`], and the scores in
//!   [`response`].
//! - Portfolio records: [`account`], [`contact`], [`revenue`], [`opportunity`],
//!   [`service_case`], [`response`].
//! - Loyalty figures: [`loyalty`] (the one NPS definition, its CI and the low-sample flag) and
//!   [`stats`] (per-cell sufficient statistics the store keeps, so reports merge, never scan).
//! - The matrix: [`quadrant`] (placement and strategy) and [`migration`] (movement between waves).
//! - Over time and across the base: [`trend`] (per wave, and loyalty against revenue) and
//!   [`segment`] (NPS by vertical, region, owner, role, ...).
//! - Why, and how well we listen: [`drivers`] (key driver analysis per segment) and
//!   [`coverage`] (response rate, revenue coverage, relationship breadth), and [`theme`]
//!   (which experience each verbatim comment is about).
//! - Asking: [`survey`] (versioned definitions, the built-in relationship survey) and
//!   [`answer`] (a response form read and checked against its definition).
//! - Closing the loop: [`alert`] (the rules that raise alerts), [`task`] (follow-ups and
//!   action plan items), [`event`] (what webhooks tell other systems) and [`sponsor`]
//!   (which accounts most deserve an executive sponsor), [`briefing`] (the review meeting's
//!   discussion points and questions) and [`cadence`] (the monthly or quarterly cycle).
//! - Assessing the portfolio: [`assessment`] (profitability, opportunity flow, the ideal
//!   account, the squeaky wheel, accounts at risk, relationship type).

pub mod account;
pub mod alert;
pub mod answer;
pub mod assessment;
pub mod briefing;
pub mod cadence;
pub mod contact;
pub mod coverage;
pub mod date;
pub mod drivers;
pub mod event;
pub mod loyalty;
pub mod migration;
pub mod money;
pub mod opportunity;
pub mod period;
pub mod quadrant;
pub mod response;
pub mod revenue;
pub mod segment;
pub mod service_case;
pub mod sponsor;
pub mod stats;
pub mod survey;
pub mod task;
pub mod theme;
pub mod trend;
pub mod user;
pub mod words;
