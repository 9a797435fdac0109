//! The demo portfolio, generated: deterministic for a seed, streamed account by account so
//! that 100,000 accounts (about a million contacts) never sit in memory at once.
//!
//! Each account draws from its own RNG seeded from (seed, index), so the same seed always
//! gives the same portfolio. The first accounts carry the stories a demo should show: an
//! account that sours, one that grows, a single-threaded key account, a squeaky wheel, a
//! neglected account, and a few hostile names and comments (which every page and export
//! must show as inert text).

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapport_core::account::{Account, RelationshipStyle};
use rapport_core::contact::{Contact, Email, RoleLevel};
use rapport_core::money::Money;
use rapport_core::opportunity::{Opportunity, Outcome, Percent};
use rapport_core::period::Period;
use rapport_core::response::{Ltr, Response};
use rapport_core::revenue::RevenueEntry;
use rapport_core::service_case::{CaseKind, Hours, ServiceCase};
use time::{Date, Duration, Month};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoConfig {
    /// The seed: the same seed and size give the same portfolio.
    pub seed: u64,
    /// How many accounts.
    pub accounts: usize,
}

/// A user of the demo installation.
#[derive(Debug, Clone)]
pub struct DemoUser {
    /// Sign-in email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// admin, analyst, account_manager or executive.
    pub role: &'static str,
    /// Whom escalations go to.
    pub manager_email: Option<String>,
}

/// A survey wave of the demo.
#[derive(Debug, Clone)]
pub struct DemoWave {
    /// e.g. 2026-Q3.
    pub name: String,
    /// First day answers are taken.
    pub opens_on: Date,
    /// Last day.
    pub closes_on: Date,
}

/// The story an account tells, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Story {
    /// Loyal in Q1, worse each wave, revenue declining: ends in Problem.
    Sours,
    /// From Decision to Emulate, revenue rising.
    Grows,
    /// High revenue, one contact: a "little r" relationship.
    SingleThreadedKeyAccount,
    /// Low revenue, heavy service effort, slow payment.
    SqueakyWheel,
    /// No answers in the last two waves.
    Neglected,
    /// Executives turned detractors.
    ExecutivesDetract,
}

/// One account with everything it holds.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// The account.
    pub account: Account,
    /// Its contacts.
    pub contacts: Vec<Contact>,
    /// Revenue per quarter.
    pub revenue: Vec<RevenueEntry>,
    /// Sales opportunities.
    pub opportunities: Vec<Opportunity>,
    /// Service cases.
    pub service_cases: Vec<ServiceCase>,
    /// Survey answers over the four waves.
    pub responses: Vec<Response>,
    /// The story, for accounts that have one.
    pub story: Option<Story>,
}

const VERTICALS: [&str; 6] = ["Manufacturing", "Healthcare", "Financial Services", "Retail", "Logistics", "Energy"];
const REGIONS: [&str; 4] = ["North America", "EMEA", "APAC", "LATAM"];
/// The drivers every survey rates (1-5), keyed as the analytics know them.
pub const DRIVERS: [&str; 6] = ["brand", "promise", "product", "delivery", "support", "value"];
const PREFIX: [&str; 24] = [
    "Northwind",
    "Helix",
    "Granite Peak",
    "Bluewater",
    "Ironbridge",
    "Summit",
    "Cobalt",
    "Redwood",
    "Silverline",
    "Harbor",
    "Keystone",
    "Meridian",
    "Pinecrest",
    "Aurora",
    "Falcon",
    "Evergreen",
    "Lakeshore",
    "Crescent",
    "Orion",
    "Sterling",
    "Vantage",
    "Westbrook",
    "Copperfield",
    "Brightwater",
];
const SUFFIX: [&str; 6] = ["Inc", "GmbH", "Ltd", "S.A.", "KK", "LLC"];
const FIRST: [&str; 20] = [
    "Ana", "Tom", "Mia", "Raj", "Li", "Olga", "Kwame", "Sofia", "Jonas", "Yuki", "Amir", "Chloé", "Diego", "Priya",
    "Lars", "Fatima", "Hiroshi", "Grace", "Mateo", "Ingrid",
];
const LAST: [&str; 20] = [
    "Ruiz",
    "Lee",
    "Chen",
    "Patel",
    "Wang",
    "Ivanova",
    "Mensah",
    "Rossi",
    "Berg",
    "Tanaka",
    "Haddad",
    "Martin",
    "García",
    "Sharma",
    "Nilsson",
    "Okafor",
    "Sato",
    "O'Neill",
    "Silva",
    "Johansson",
];
/// Names the first accounts take: lettered ones as in the articles, other scripts, and
/// hostile values that must stay inert everywhere.
const SPECIAL_NAMES: [&str; 8] = [
    "Account A",
    "Account B",
    "株式会社サクラ精機",
    "Müller Präzisionstechnik GmbH",
    "ООО Северный Ветер",
    "<script>alert('x')</script> Corp",
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "O'Brien & \"Sons\" Ltd",
];

fn vertical_words(v: &str) -> [&'static str; 3] {
    match v {
        "Manufacturing" => ["Precision", "Machining", "Industries"],
        "Healthcare" => ["Biomedical", "Health", "Clinics"],
        "Financial Services" => ["Capital", "Bank", "Insurance"],
        "Retail" => ["Outfitters", "Markets", "Stores"],
        "Logistics" => ["Logistics", "Freight", "Shipping"],
        _ => ["Energy", "Power", "Utilities"],
    }
}

/// Which driver matters most in each vertical: the key driver analysis should find these.
fn key_driver(vertical: &str) -> (&'static str, &'static str) {
    match vertical {
        "Manufacturing" => ("delivery", "product"),
        "Healthcare" => ("support", "promise"),
        "Financial Services" => ("value", "promise"),
        "Retail" => ("value", "delivery"),
        "Logistics" => ("delivery", "support"),
        _ => ("brand", "support"),
    }
}

/// The users: an admin, an analyst, a VoC manager, executives, and account managers.
pub fn users(cfg: &DemoConfig) -> Vec<DemoUser> {
    let mut out = vec![
        DemoUser {
            email: "admin@rapport.example".into(),
            name: "Avery Admin".into(),
            role: "admin",
            manager_email: None,
        },
        DemoUser {
            email: "analyst@rapport.example".into(),
            name: "Noor Analyst".into(),
            role: "analyst",
            manager_email: None,
        },
        DemoUser {
            email: "voc@rapport.example".into(),
            name: "Jordan Voss".into(),
            role: "analyst",
            manager_email: None,
        },
    ];
    let execs = ["Morgan Hale", "Priya Raman", "Stefan Kühn", "Elena Duarte"];
    for (i, name) in execs.iter().enumerate() {
        out.push(DemoUser {
            email: format!("vp{}@rapport.example", i + 1),
            name: name.to_string(),
            role: "executive",
            manager_email: None,
        });
    }
    for i in 0..manager_count(cfg) {
        out.push(DemoUser {
            email: format!("am{:03}@rapport.example", i + 1),
            name: format!("{} {}", FIRST[i % FIRST.len()], LAST[(i * 7 + 3) % LAST.len()]),
            role: "account_manager",
            manager_email: Some(format!("vp{}@rapport.example", i % execs.len() + 1)),
        });
    }
    out
}

fn manager_count(cfg: &DemoConfig) -> usize {
    (cfg.accounts / 40).clamp(3, 2000)
}

/// Four quarterly waves of 2026; the last is still open.
pub fn waves() -> Vec<DemoWave> {
    (1..=4)
        .map(|q| {
            let opens =
                Date::from_calendar_date(2026, Month::try_from(q * 3 - 2).expect("a month"), 1).expect("a date");
            let closes = opens + Duration::days(if q == 4 { 75 } else { 45 });
            DemoWave { name: format!("2026-Q{q}"), opens_on: opens, closes_on: closes }
        })
        .collect()
}

/// The accounts, one at a time.
pub fn accounts(cfg: &DemoConfig) -> impl Iterator<Item = DemoAccount> + '_ {
    let managers = manager_count(cfg);
    (0..cfg.accounts).map(move |i| account(cfg.seed, i, managers))
}

fn story_of(i: usize, rng: &mut ChaCha8Rng) -> Option<Story> {
    match i {
        8 => Some(Story::Sours),
        9 => Some(Story::Grows),
        10 => Some(Story::SingleThreadedKeyAccount),
        11 => Some(Story::SqueakyWheel),
        12 => Some(Story::Neglected),
        13 => Some(Story::ExecutivesDetract),
        _ if i > 30 && rng.gen_ratio(1, 50) => Some(
            [Story::Sours, Story::Grows, Story::SingleThreadedKeyAccount, Story::SqueakyWheel, Story::Neglected]
                [rng.gen_range(0..5)],
        ),
        _ => None,
    }
}

fn money(units: f64) -> Money {
    Money::from_units(units.max(0.0).round() as i64)
}

fn account(seed: u64, i: usize, managers: usize) -> DemoAccount {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let story = story_of(i, &mut rng);
    let vertical = VERTICALS[rng.gen_range(0..VERTICALS.len())];
    let words = vertical_words(vertical);
    let name = match SPECIAL_NAMES.get(i) {
        Some(n) => n.to_string(),
        None => format!(
            "{} {} {}{}",
            PREFIX[rng.gen_range(0..PREFIX.len())],
            words[rng.gen_range(0..3)],
            SUFFIX[rng.gen_range(0..SUFFIX.len())],
            if i >= PREFIX.len() * 3 { format!(" #{i}") } else { String::new() }
        ),
    };
    // A long tail: a few large accounts, many small ones.
    let mut billed: f64 = (rng.gen_range(10.0f64..16.5)).exp();
    let mut payment_days = rng.gen_range(15..60);
    let mut contacts_n = ((billed.ln() - 9.0) * 2.0) as usize + rng.gen_range(1..6);
    match story {
        Some(Story::SingleThreadedKeyAccount) => {
            billed = 9_000_000.0;
            contacts_n = 1;
        }
        Some(Story::SqueakyWheel) => {
            billed = 60_000.0;
            payment_days = 95;
        }
        Some(Story::Sours) => billed = 4_500_000.0,
        Some(Story::Grows) => billed = 250_000.0,
        _ => {}
    }
    let domain: String = format!("acct{i}");
    let account_id = format!("ACC-{i:06}");
    let account = Account {
        account_id: account_id.clone(),
        name,
        vertical: Some(vertical.to_string()),
        region: Some(REGIONS[rng.gen_range(0..REGIONS.len())].to_string()),
        owner_email: Some(format!("am{:03}@rapport.example", i % managers + 1)),
        billed_revenue: Some(money(billed)),
        potential_revenue: Some(money(billed * rng.gen_range(0.1..1.5))),
        cost_of_sales: Some(money(billed * rng.gen_range(0.55..0.85))),
        payment_days: Some(payment_days),
        relationship_style: Some(if rng.gen_ratio(3, 5) {
            RelationshipStyle::Relationship
        } else {
            RelationshipStyle::Transaction
        }),
        strategic: Some(rng.gen_ratio(1, 20) || matches!(story, Some(Story::SingleThreadedKeyAccount | Story::Sours))),
        attributes: BTreeMap::new(),
    };

    let contacts: Vec<Contact> = (0..contacts_n.clamp(1, 25))
        .map(|c| {
            let role = if c == 0 || rng.gen_ratio(1, 6) {
                RoleLevel::Executive
            } else if rng.gen_ratio(2, 5) {
                RoleLevel::Manager
            } else {
                RoleLevel::User
            };
            let title = match role {
                RoleLevel::Executive => {
                    ["CFO", "VP Operations", "Chief Procurement Officer", "COO"][rng.gen_range(0..4)]
                }
                RoleLevel::Manager => {
                    ["Procurement Manager", "Plant Manager", "IT Manager", "Supply Chain Manager"][rng.gen_range(0..4)]
                }
                RoleLevel::User => ["Engineer", "Buyer", "Analyst", "Technician"][rng.gen_range(0..4)],
            };
            let (f, l) = (FIRST[rng.gen_range(0..FIRST.len())], LAST[rng.gen_range(0..LAST.len())]);
            let local: String =
                format!("{f}.{l}{c}").to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
            Contact {
                contact_id: format!("CON-{i:06}-{c:02}"),
                account_id: account_id.clone(),
                name: format!("{f} {l}"),
                title: Some(title.to_string()),
                role: Some(role),
                email: Email::parse(&format!("{local}@{domain}.example")).ok(),
                phone: Some(format!("+1 555 {:04}", (i * 31 + c) % 10_000)),
                attributes: BTreeMap::new(),
            }
        })
        .collect();

    // Revenue per quarter, 2025-Q1 .. 2026-Q4, with a trend per story.
    let growth = match story {
        Some(Story::Sours) => -0.12,
        Some(Story::Grows) => 0.18,
        _ => rng.gen_range(-0.04..0.06),
    };
    let revenue = (0..8)
        .map(|q| {
            let quarter_billed = billed / 4.0 * (1.0f64 + growth).powi(q - 7) * rng.gen_range(0.9..1.1);
            RevenueEntry {
                account_id: account_id.clone(),
                period: Period::Quarter { year: 2025 + q / 4, quarter: (q % 4 + 1) as u8 },
                billed: Some(money(quarter_billed)),
                booked: Some(money(quarter_billed * rng.gen_range(0.05..0.4))),
            }
        })
        .collect();

    let start = Date::from_calendar_date(2025, Month::January, 1).expect("a date");
    let opportunities = (0..rng.gen_range(1..6))
        .map(|o| {
            let opened = start + Duration::days(rng.gen_range(0..650));
            let outcome = if opened > start + Duration::days(560) {
                Outcome::Open
            } else if rng.gen_ratio(2, 5) {
                Outcome::Won
            } else {
                Outcome::Lost
            };
            Opportunity {
                opportunity_id: format!("OPP-{i:06}-{o}"),
                account_id: account_id.clone(),
                amount: Some(money(billed * rng.gen_range(0.05..0.5))),
                stage: Some(
                    match outcome {
                        Outcome::Open => "Negotiation",
                        Outcome::Won => "Closed Won",
                        Outcome::Lost => "Closed Lost",
                    }
                    .to_string(),
                ),
                outcome: Some(outcome),
                discount: Some(Percent(rng.gen_range(0..3000))),
                opened_on: Some(opened),
                closed_on: (outcome != Outcome::Open).then(|| opened + Duration::days(rng.gen_range(14..120))),
            }
        })
        .collect();

    let cases_n = if story == Some(Story::SqueakyWheel) { 40 } else { rng.gen_range(0..6) };
    let service_cases = (0..cases_n)
        .map(|s| {
            let opened = start + Duration::days(rng.gen_range(0..690));
            let kind = if story == Some(Story::SqueakyWheel) {
                [CaseKind::Exception, CaseKind::OrderChange, CaseKind::ServiceRequest][s % 3]
            } else {
                [
                    CaseKind::ServiceRequest,
                    CaseKind::Complaint,
                    CaseKind::OrderChange,
                    CaseKind::Exception,
                    CaseKind::Other,
                ][rng.gen_range(0..5)]
            };
            ServiceCase {
                case_id: format!("CASE-{i:06}-{s:02}"),
                account_id: account_id.clone(),
                kind: Some(kind),
                opened_on: Some(opened),
                closed_on: rng.gen_ratio(9, 10).then(|| opened + Duration::days(rng.gen_range(0..20))),
                effort: Some(Hours(rng.gen_range(25..if story == Some(Story::SqueakyWheel) { 2400 } else { 800 }))),
                billable: Some(story != Some(Story::SqueakyWheel) && rng.gen_ratio(1, 3)),
            }
        })
        .collect();

    let responses = answers(&mut rng, i, vertical, story, &contacts);
    DemoAccount { account, contacts, revenue, opportunities, service_cases, responses, story }
}

fn answers(
    rng: &mut ChaCha8Rng,
    i: usize,
    vertical: &str,
    story: Option<Story>,
    contacts: &[Contact],
) -> Vec<Response> {
    let (key1, key2) = key_driver(vertical);
    // The account's base mood, and how it moves over the four waves.
    let base: f64 = rng.gen_range(-1.2..1.2);
    let mut out = Vec::new();
    for (w, wave) in waves().iter().enumerate() {
        if story == Some(Story::Neglected) && w >= 2 {
            continue;
        }
        let drift = match story {
            Some(Story::Sours) => 1.4 - 1.1 * w as f64,
            Some(Story::Grows) => -1.4 + 1.1 * w as f64,
            _ => 0.0,
        };
        for c in contacts {
            let answers_now = story == Some(Story::SingleThreadedKeyAccount) || rng.gen_ratio(13, 20);
            if !answers_now {
                continue;
            }
            let exec_gloom =
                if story == Some(Story::ExecutivesDetract) && c.role == Some(RoleLevel::Executive) && w >= 2 {
                    -2.5
                } else {
                    0.0
                };
            let mood = base + drift + exec_gloom + rng.gen_range(-1.0..1.0);
            let mut scores = BTreeMap::new();
            let mut weighted = 0.0;
            for d in DRIVERS {
                if rng.gen_ratio(1, 12) {
                    continue; // skipped question
                }
                let noise: f64 = rng.gen_range(-1.3..1.3);
                let s = (3.2 + mood * 0.9 + noise).round().clamp(1.0, 5.0);
                scores.insert(d.to_string(), s as u8);
                let weight = if d == key1 {
                    1.0
                } else if d == key2 {
                    0.5
                } else {
                    0.08
                };
                weighted += (s - 3.0) * weight;
            }
            let ltr = (7.2 + weighted * 1.3 + rng.gen_range(-1.2..1.2)).round().clamp(0.0, 10.0) as u8;
            let day = rng.gen_range(0..30);
            let submitted = (wave.opens_on + Duration::days(day)).midnight().assume_utc()
                + Duration::minutes(rng.gen_range(480..1080));
            let comment = rng.gen_ratio(2, 5).then(|| comment_for(rng, ltr, key1, i));
            out.push(Response {
                contact_id: c.contact_id.clone(),
                wave: wave.name.clone(),
                submitted_at: submitted,
                ltr: Ltr::new(ltr).expect("clamped to 0-10"),
                comment,
                scores: scores.clone(),
            });
            // Now and then a contact answers again later in the wave; the later answer counts.
            if rng.gen_ratio(1, 200) {
                let again = (ltr + 1).min(10);
                out.push(Response {
                    contact_id: c.contact_id.clone(),
                    wave: wave.name.clone(),
                    submitted_at: submitted + Duration::days(3),
                    ltr: Ltr::new(again).expect("at most 10"),
                    comment: Some("Updating my answer after the follow-up call.".into()),
                    scores,
                });
            }
        }
    }
    out
}

fn comment_for(rng: &mut ChaCha8Rng, ltr: u8, key: &str, i: usize) -> String {
    if i == 5 {
        return "<img src=x onerror=alert(1)> the portal is broken".into();
    }
    if i == 6 {
        return "+SUM(A1:A9) -- our finance team pasted this".into();
    }
    let pool: &[&str] = match (ltr, key) {
        (9..=10, "delivery") => {
            &["Every shipment on time this quarter. Keep it up.", "Your logistics team saved our launch."]
        }
        (9..=10, "support") => &["Jana in support is outstanding.", "Support answers within the hour, every time."],
        (9..=10, "value") => &["Best value we get from any supplier.", "Pricing is fair and predictable."],
        (9..=10, _) => &["A partner, not a vendor.", "The account team knows our business better than we do."],
        (7..=8, _) => &[
            "Solid overall, but the portal is clunky.",
            "Good product; invoices are often wrong.",
            "Fine. Nothing special.",
        ],
        (_, "delivery") => {
            &["Three late shipments this quarter, our line stopped twice.", "Lead times doubled and nobody told us."]
        }
        (_, "support") => {
            &["Tickets sit for days without an answer.", "We keep explaining the same problem to new people."]
        }
        (_, "value") => &["Pricing went up 8% with no notice.", "We are paying premium prices for average service."],
        _ => &[
            "The sales pitch promised far more than we got.",
            "Nobody from your side has visited in a year.",
            "We are evaluating alternatives.",
        ],
    };
    pool[rng.gen_range(0..pool.len())].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Vec<DemoAccount> {
        accounts(&DemoConfig { seed: 7, accounts: 60 }).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_portfolio() {
        let a: Vec<String> = small().iter().map(|a| format!("{:?}", a.account)).collect();
        let b: Vec<String> = small().iter().map(|a| format!("{:?}", a.account)).collect();
        assert_eq!(a, b);
        let other: Vec<String> =
            accounts(&DemoConfig { seed: 8, accounts: 60 }).map(|a| format!("{:?}", a.account)).collect();
        assert_ne!(a, other);
    }

    #[test]
    fn every_story_and_hostile_value_is_in_a_small_demo() {
        let all = small();
        for s in [
            Story::Sours,
            Story::Grows,
            Story::SingleThreadedKeyAccount,
            Story::SqueakyWheel,
            Story::Neglected,
            Story::ExecutivesDetract,
        ] {
            assert!(all.iter().any(|a| a.story == Some(s)), "{s:?}");
        }
        assert!(all.iter().any(|a| a.account.name.contains("<script>")));
        assert!(all.iter().any(|a| a.account.name.starts_with('=')));
        assert!(
            all.iter().flat_map(|a| &a.responses).any(|r| r.comment.as_deref().is_some_and(|c| c.starts_with('+')))
        );
        let key = all.iter().find(|a| a.story == Some(Story::SingleThreadedKeyAccount)).unwrap();
        assert_eq!(key.contacts.len(), 1);
    }

    #[test]
    fn ids_are_unique_and_scores_in_range() {
        let all = small();
        let mut ids: Vec<&str> = all.iter().flat_map(|a| a.contacts.iter().map(|c| c.contact_id.as_str())).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
        for r in all.iter().flat_map(|a| &a.responses) {
            assert!(r.ltr.get() <= 10);
            assert!(r.scores.values().all(|s| (1..=5).contains(s)));
        }
    }
}
