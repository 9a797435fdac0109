//! The people who use Rapport at the demo supplier: an admin, an analyst, the VoC program
//! manager, the executives who sponsor key accounts, and the account managers who own them.

pub use rapport_core::user::Role;

use crate::DemoConfig;

/// A user of the demo supplier's Rapport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoUser {
    /// Sign-in email, unique, `@rapport.example`.
    pub email: String,
    /// Full name.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// Whom they report to, when that is a demo user.
    pub manager_email: Option<String>,
}

/// The admin's email, for signing in to a fresh demo.
pub const ADMIN_EMAIL: &str = "admin@rapport.example";

/// The Chief Revenue Officer, to whom the VPs report.
const CRO: (&str, &str) = ("victoria.hale@rapport.example", "Victoria Hale");

/// The regional sales VPs, in `REGIONS` order: they manage the account managers of their
/// region and sponsor key accounts there.
pub(crate) const REGIONAL_VPS: [(&str, &str); 4] = [
    ("marcus.whitfield@rapport.example", "Marcus Whitfield"),
    ("ingrid.solberg@rapport.example", "Ingrid Solberg"),
    ("kenji.moriyama@rapport.example", "Kenji Moriyama"),
    ("paula.restrepo@rapport.example", "Paula Restrepo"),
];

/// VP of Customer Success: the VoC program manager reports to her.
const VP_CUSTOMER_SUCCESS: (&str, &str) = ("adaeze.nwankwo@rapport.example", "Adaeze Nwankwo");

const AM_FIRST: [&str; 40] = [
    "Alex", "Brooke", "Caleb", "Dana", "Elena", "Farid", "Grace", "Hugo", "Isabel", "Jonas", "Kira", "Leo", "Maya",
    "Nils", "Oona", "Pablo", "Quinn", "Rosa", "Samir", "Tessa", "Umar", "Vera", "Wes", "Ximena", "Yara", "Zane",
    "Amara", "Bruno", "Chloe", "Dev", "Eva", "Finn", "Gita", "Hana", "Ivan", "Jade", "Kofi", "Lina", "Mateo", "Nadia",
];

const AM_LAST: [&str; 50] = [
    "Abbott",
    "Barros",
    "Castillo",
    "Dorsey",
    "Ekström",
    "Fischer",
    "Gallo",
    "Horvath",
    "Ibarra",
    "Jensen",
    "Kaur",
    "Lindgren",
    "Mbeki",
    "Novak",
    "Ortega",
    "Pillai",
    "Quint",
    "Rahman",
    "Sato",
    "Toivonen",
    "Urquhart",
    "Vidal",
    "Weiss",
    "Xu",
    "Yilmaz",
    "Zapata",
    "Achebe",
    "Brandt",
    "Coelho",
    "Delacroix",
    "Eriksen",
    "Ferreira",
    "Grünwald",
    "Hayashi",
    "Iqbal",
    "Jovanović",
    "Kowalczyk",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Osei",
    "Petrov",
    "Quispe",
    "Rossi",
    "Salazar",
    "Tanaka",
    "Ueda",
    "Varga",
    "Wójcik",
    "Zhou",
];

/// The most account managers a demo has, however large.
pub const MAX_ACCOUNT_MANAGERS: usize = 2_000;

/// How many account managers own the demo's accounts: one per 40 accounts, at least one.
pub fn account_manager_count(cfg: &DemoConfig) -> usize {
    cfg.accounts.div_ceil(40).clamp(1, MAX_ACCOUNT_MANAGERS)
}

/// Account manager `k`'s name; (k % 40, k / 40) is a bijection onto first × last names,
/// so names and emails are unique up to [`MAX_ACCOUNT_MANAGERS`].
fn account_manager_name(k: usize) -> (&'static str, &'static str) {
    let first = k % AM_FIRST.len();
    let last = (k / AM_FIRST.len() + 7 * first) % AM_LAST.len();
    (AM_FIRST[first], AM_LAST[last])
}

/// Account manager `k`'s email.
pub(crate) fn account_manager_email(k: usize) -> String {
    let (first, last) = account_manager_name(k);
    let mut email = String::with_capacity(first.len() + last.len() + 18);
    crate::names::push_ascii_local(&mut email, first);
    email.push('.');
    crate::names::push_ascii_local(&mut email, last);
    email.push_str("@rapport.example");
    email
}

/// The demo's users: admin, analyst, VoC program manager, the CRO and five VPs, and one
/// account manager per 40 accounts (each reporting to the VP of a region, round robin).
pub fn users(cfg: &DemoConfig) -> Vec<DemoUser> {
    let user = |email: &str, name: &str, role, manager: Option<&str>| DemoUser {
        email: email.to_string(),
        name: name.to_string(),
        role,
        manager_email: manager.map(str::to_string),
    };
    let mut all = vec![
        user(ADMIN_EMAIL, "Rapport Admin", Role::Admin, None),
        user("sam.okoro@rapport.example", "Sam Okoro", Role::Analyst, Some(VP_CUSTOMER_SUCCESS.0)),
        user("priya.raman@rapport.example", "Priya Raman", Role::Analyst, Some(VP_CUSTOMER_SUCCESS.0)),
        user(CRO.0, CRO.1, Role::Executive, None),
        user(VP_CUSTOMER_SUCCESS.0, VP_CUSTOMER_SUCCESS.1, Role::Executive, Some(CRO.0)),
    ];
    all.extend(REGIONAL_VPS.iter().map(|&(email, name)| user(email, name, Role::Executive, Some(CRO.0))));
    all.extend((0..account_manager_count(cfg)).map(|k| {
        let (first, last) = account_manager_name(k);
        DemoUser {
            email: account_manager_email(k),
            name: format!("{first} {last}"),
            role: Role::AccountManager,
            manager_email: Some(REGIONAL_VPS[k % REGIONAL_VPS.len()].0.to_string()),
        }
    }));
    all
}
