//! A realistic, deterministic demo portfolio for `rapport demo`: accounts with their
//! contacts, revenue history, opportunities, service cases and four quarterly waves of
//! answers, plus the users who work them. Pure generation, no IO: the caller stores it.
//!
//! Account `i` is drawn from its own RNG, seeded from `(seed, i)`, so [`accounts`] streams
//! (nothing is kept between accounts), [`account`] can build any one alone (in parallel,
//! in any order), and the same config always gives the same portfolio. Ids are
//! `ACC-000001`, and contact, opportunity and case ids are allotted in fixed slots per
//! account (`CON-`, `OPP-`, `CASE-`), so they are unique without counting.
//!
//! The first 30 accounts are planted so even a tiny demo has everything to show: every
//! [`Story`], the hostile values pages and exports must render as inert text, lettered
//! accounts ("Account A") and names in other scripts. After that, stories are sprinkled
//! over about 2% of accounts.
//!
//! # Layout
//! - `plan` (private): the hidden parameters of one account (size, trend, loyalty lean,
//!   story) from which all its records are drawn, so they tell one consistent tale.
//! - `account`, `people`, `survey`, `activity` (private): the records, drawn from the plan:
//!   account and revenue, contacts, answers, opportunities and service cases.
//! - `names` and `comments` (private): company and people names, titles, phones, verbatims.
//! - [`story`], [`user`], [`wave`]: the public vocabulary: stories, users, waves.
//! - `random` (private): the per-account RNG, normal draws, a keyed permutation.

mod account;
mod activity;
mod comments;
mod names;
mod people;
mod plan;
mod random;
pub mod story;
pub mod survey;
pub mod user;
pub mod wave;

use rand::Rng;
use rapport_core::account::Account;
use rapport_core::contact::Contact;
use rapport_core::money::Money;
use rapport_core::opportunity::{Opportunity, Outcome};
use rapport_core::response::Response;
use rapport_core::revenue::RevenueEntry;
use rapport_core::service_case::ServiceCase;

pub use crate::names::{REGIONS, VERTICALS};
pub use crate::story::Story;
pub use crate::survey::{DRIVERS, key_driver};
pub use crate::user::{ADMIN_EMAIL, DemoUser, Role, account_manager_count, users};
pub use crate::wave::{DemoWave, TODAY, waves};

use crate::account::AccountParts;
use crate::plan::Plan;
use crate::random::account_rng;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemoConfig {
    /// Seeds every draw: the same seed gives the same portfolio.
    pub seed: u64,
    /// How many accounts.
    pub accounts: usize,
}

impl Default for DemoConfig {
    /// Seed 7, 500 accounts: every quadrant well populated, quick to load.
    fn default() -> Self {
        DemoConfig { seed: 7, accounts: 500 }
    }
}

/// One account and everything recorded about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoAccount {
    /// The account record.
    pub account: Account,
    /// Its contacts (1 to 25).
    pub contacts: Vec<Contact>,
    /// Quarterly revenue, 2025-Q1 to 2026-Q4.
    pub revenue: Vec<RevenueEntry>,
    /// Opportunities opened since 2025.
    pub opportunities: Vec<Opportunity>,
    /// Service cases opened since 2025.
    pub service_cases: Vec<ServiceCase>,
    /// Answers of its contacts to the waves of [`waves`], grouped by wave. A contact
    /// answers a wave at most once, except a few who answer twice (the later answer
    /// supersedes the earlier).
    pub responses: Vec<Response>,
    /// The story planted in this account, if any.
    pub story: Option<Story>,
}

/// The accounts of the demo, generated one at a time as the iterator is advanced.
pub fn accounts(cfg: &DemoConfig) -> impl Iterator<Item = DemoAccount> + use<> {
    let cfg = *cfg;
    (0..cfg.accounts).map(move |i| account(&cfg, i))
}

/// Account `index` (0-based) of the demo; the same as the `index`-th item of [`accounts`].
pub fn account(cfg: &DemoConfig, index: usize) -> DemoAccount {
    let mut rng = account_rng(cfg.seed, index);
    let plan = Plan::draw(&mut rng, index);
    let account_id = format!("ACC-{:06}", index + 1);
    let (name, domain, vertical, culture) = match &plan.fixed_name {
        Some(f) => (f.name.to_string(), f.domain.to_string(), f.vertical, f.culture),
        None => {
            let c = names::company_name(cfg.seed, index, plan.region, &mut rng);
            (c.name, c.domain, c.vertical, None)
        }
    };
    let owner_email = user::account_manager_email(rng.gen_range(0..account_manager_count(cfg)));
    let (contacts, traits) = people::contacts(&mut rng, &plan, &account_id, vertical, &domain, culture);
    let revenue = account::revenue(&mut rng, &plan, &account_id);
    let opportunities = activity::opportunities(&mut rng, &plan, &account_id);
    let service_cases = activity::service_cases(&mut rng, &plan, &account_id);
    let responses = survey::responses(&mut rng, &plan, vertical, &contacts, &traits);
    let billed: Money = revenue.iter().filter(|r| r.period.year() == 2026).filter_map(|r| r.billed).sum();
    let pipeline: Money =
        opportunities.iter().filter(|o| o.outcome == Some(Outcome::Open)).filter_map(|o| o.amount).sum();
    let unbilled = Money::from_units((plan.annual * rng.gen_range(0.05..0.25)).round() as i64);
    let parts = AccountParts { account_id, name, vertical, owner_email, billed, potential: pipeline + unbilled };
    DemoAccount {
        account: account::account(&mut rng, &plan, parts),
        contacts,
        revenue,
        opportunities,
        service_cases,
        responses,
        story: plan.story,
    }
}
