//! `rapport demo`: the generated demo portfolio (crate `rapport-demo`), loaded into the store.

mod load;

pub use load::{DemoArgs, demo};
