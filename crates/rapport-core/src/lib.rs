//! Rapport's domain: the types every other crate speaks, and all analytics as pure
//! functions (no IO, no async, no SQL), so that every figure is computed once, here, and
//! tested exhaustively.
//!
//! # Layout
//! - Values parsed once at the edge: [`money`], [`period`], [`date`], and the scores in
//!   [`response`].
//! - Portfolio records: [`account`], [`contact`], [`revenue`], [`opportunity`],
//!   [`service_case`], [`response`].

pub mod account;
pub mod contact;
pub mod date;
pub mod money;
pub mod opportunity;
pub mod period;
pub mod response;
pub mod revenue;
pub mod service_case;
