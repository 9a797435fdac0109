//! The contacts of an account: names from the cultures of its region, titles matching
//! their level, emails at the company's domain.

use rand::Rng;
use rapport_core::account::Attributes;
use rapport_core::contact::{Contact, Email, RoleLevel};

use crate::Story;
use crate::names::{Culture, culture_for, person, phone, title};
use crate::plan::Plan;
use crate::random::{DemoRng, normal, weighted};

/// Contact ids are `CON-` and this many slots per account, so ids are unique and known
/// without counting the contacts of earlier accounts.
pub(crate) const CONTACT_SLOTS: usize = 25;

/// What a contact is like as a respondent (never stored: it shapes their answers).
pub(crate) struct Respondent {
    pub level: RoleLevel,
    /// Their own lean, on top of the account's.
    pub bias: f64,
    /// How much likelier than the account's average they are to answer.
    pub propensity: f64,
}

/// The contacts of the account, with their respondent traits.
pub(crate) fn contacts(
    rng: &mut DemoRng,
    plan: &Plan,
    account_id: &str,
    vertical: usize,
    domain: &str,
    culture: Option<Culture>,
) -> (Vec<Contact>, Vec<Respondent>) {
    let mut contacts = Vec::with_capacity(plan.contacts);
    let mut traits = Vec::with_capacity(plan.contacts);
    let mut locals: Vec<String> = Vec::with_capacity(plan.contacts);
    let executives = match plan.story {
        Some(Story::ExecutivesDetract) => 3,
        Some(Story::SingleThreadedKeyAccount) => 1,
        _ if plan.contacts >= 3 => 1,
        _ => 0,
    };
    for j in 0..plan.contacts.min(CONTACT_SLOTS) {
        let level = if j < executives {
            RoleLevel::Executive
        } else if plan.story == Some(Story::ExecutivesDetract) {
            // Exactly the planted executives, so the story is theirs against everyone else's.
            RoleLevel::ALL[1 + weighted(rng, &[40, 60])]
        } else {
            RoleLevel::ALL[weighted(rng, &[9, 33, 58])]
        };
        let culture = culture.unwrap_or_else(|| culture_for(rng, plan.region));
        let (name, mut local) = person(rng, culture);
        // Two people with the same name at one company get numbered mailboxes.
        let base_len = local.len();
        let mut n = 1;
        while locals.contains(&local) {
            n += 1;
            local.truncate(base_len);
            local.push_str(&n.to_string());
        }
        let email = if rng.gen_bool(0.97) { Email::parse(&format!("{local}@{domain}")).ok() } else { None };
        locals.push(local);
        let level_index = RoleLevel::ALL.iter().position(|l| *l == level).unwrap_or(2);
        let title = if plan.story == Some(Story::SingleThreadedKeyAccount) {
            Some("VP Procurement".to_string())
        } else if rng.gen_bool(0.98) {
            Some(title(rng, vertical, level_index).to_string())
        } else {
            None
        };
        contacts.push(Contact {
            contact_id: format!("CON-{:07}", plan.index * CONTACT_SLOTS + j + 1),
            account_id: account_id.to_string(),
            name,
            title,
            role: Some(level),
            email,
            phone: if rng.gen_bool(0.75) { Some(phone(rng, plan.phones.0, plan.phones.1)) } else { None },
            language: culture.language().map(str::to_string),
            opted_out: false,
            attributes: Attributes::new(),
        });
        traits.push(Respondent { level, bias: 0.4 * plan.noise * normal(rng), propensity: rng.gen_range(0.8..1.2) });
    }
    (contacts, traits)
}
