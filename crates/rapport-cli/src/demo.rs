//! `rapport demo`: a realistic, deterministic portfolio in the configured database.

pub mod generate;
mod load;

pub use load::{DemoArgs, demo};
