//! The demo portfolio: deterministic, complete at any size, and shaped so the analytics
//! have something to find.

use std::collections::{BTreeMap, HashMap, HashSet};

use rapport_core::money::Money;
use rapport_demo::{
    DRIVERS, DemoAccount, DemoConfig, Role, Story, TODAY, VERTICALS, account, accounts, key_driver, users, waves,
};

fn small() -> DemoConfig {
    DemoConfig { seed: 7, accounts: 30 }
}

/// Account NPS per wave, over each contact's latest answer in the wave.
fn nps_by_wave(a: &DemoAccount) -> Vec<Option<f64>> {
    waves()
        .iter()
        .map(|w| {
            let mut latest: HashMap<&str, (time::OffsetDateTime, u8)> = HashMap::new();
            for r in a.responses.iter().filter(|r| r.wave == w.name) {
                let e = latest.entry(&r.contact_id).or_insert((r.submitted_at, r.ltr.get()));
                if r.submitted_at >= e.0 {
                    *e = (r.submitted_at, r.ltr.get());
                }
            }
            if latest.is_empty() {
                return None;
            }
            let n = latest.len() as f64;
            let promoters = latest.values().filter(|v| v.1 >= 9).count() as f64;
            let detractors = latest.values().filter(|v| v.1 <= 6).count() as f64;
            Some(100.0 * (promoters - detractors) / n)
        })
        .collect()
}

fn pearson(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let cov: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let vy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

#[test]
fn the_same_config_gives_the_same_portfolio() {
    let one: Vec<DemoAccount> = accounts(&small()).collect();
    let two: Vec<DemoAccount> = accounts(&small()).collect();
    assert_eq!(one, two);
    assert_eq!(account(&small(), 17), one[17], "an account alone equals its place in the stream");
    let other: Vec<DemoAccount> = accounts(&DemoConfig { seed: 8, ..small() }).collect();
    assert_ne!(one, other, "another seed, another portfolio");
    assert_eq!(users(&small()), users(&small()));
}

#[test]
fn every_story_is_in_the_first_thirty_accounts_whatever_the_seed() {
    for seed in 0..200 {
        stories_are_told(seed);
    }
}

fn stories_are_told(seed: u64) {
    let all: Vec<DemoAccount> = accounts(&DemoConfig { seed, accounts: 30 }).collect();
    for story in Story::ALL {
        assert!(all.iter().any(|a| a.story == Some(story)), "{story} missing");
    }
    let by = |s: Story| all.iter().find(|a| a.story == Some(s)).expect("planted");

    let sours = nps_by_wave(by(Story::Sours));
    assert!(sours.windows(2).all(|w| w[1] < w[0]), "seed {seed}, sours: {sours:?}");
    assert!(sours[0] > Some(30.0) && sours[3] < Some(-20.0), "seed {seed}, sours: {sours:?}");
    let grows = nps_by_wave(by(Story::Grows));
    assert!(grows[0] < Some(0.0) && grows[3] > Some(30.0), "seed {seed}, grows: {grows:?}");
    let revenue = |a: &DemoAccount, year: i32| -> Money {
        a.revenue.iter().filter(|r| r.period.year() == year).filter_map(|r| r.billed).sum()
    };
    assert!(revenue(by(Story::Grows), 2026) > revenue(by(Story::Grows), 2025));
    assert!(revenue(by(Story::Sours), 2026) < revenue(by(Story::Sours), 2025));

    let single = by(Story::SingleThreadedKeyAccount);
    assert_eq!(single.contacts.len(), 1);
    let waves_answered: HashSet<&str> = single.responses.iter().map(|r| r.wave.as_str()).collect();
    assert_eq!(waves_answered.len(), 4, "the one contact answers every wave");

    let squeaky = by(Story::SqueakyWheel);
    assert!(squeaky.account.payment_days > Some(90));
    assert!(squeaky.service_cases.len() >= 45);
    assert!(squeaky.account.billed_revenue < Some(Money::from_units(40_000)));

    let neglected = by(Story::Neglected);
    assert!(neglected.responses.iter().all(|r| r.wave == "2026-Q1" || r.wave == "2026-Q2"));
    assert!(!neglected.responses.is_empty());

    let execs = by(Story::ExecutivesDetract);
    let exec_ids: HashSet<&str> = execs
        .contacts
        .iter()
        .filter(|c| c.role == Some(rapport_core::contact::RoleLevel::Executive))
        .map(|c| c.contact_id.as_str())
        .collect();
    let late_exec: Vec<u8> = execs
        .responses
        .iter()
        .filter(|r| r.wave == "2026-Q4" && exec_ids.contains(r.contact_id.as_str()))
        .map(|r| r.ltr.get())
        .collect();
    assert!(!late_exec.is_empty() && late_exec.iter().all(|&l| l <= 6), "seed {seed}, executives: {late_exec:?}");
    let nps = nps_by_wave(execs);
    assert!(nps[3] < nps[0], "seed {seed}: {nps:?}");
}

#[test]
fn hostile_values_are_planted() {
    let all: Vec<DemoAccount> = accounts(&small()).collect();
    let names: Vec<&str> = all.iter().map(|a| a.account.name.as_str()).collect();
    for hostile in
        ["<script>alert('x')</script> Corp", "=HYPERLINK(\"http://evil.example\",\"click\")", "O'Brien & \"Sons\" Ltd"]
    {
        assert!(names.contains(&hostile), "{hostile}");
    }
    let comments: Vec<&str> = all.iter().flat_map(|a| &a.responses).filter_map(|r| r.comment.as_deref()).collect();
    for hostile in ["+SUM(A1:A9)", "<img src=x onerror=alert(1)>"] {
        assert!(comments.contains(&hostile), "{hostile}");
    }
    for other in ["Account A", "株式会社サクラ精機", "Müller Präzisionstechnik GmbH", "Société Générale d'Équipement"]
    {
        assert!(names.contains(&other), "{other}");
    }
    assert!(names.iter().any(|n| n.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c))), "a Cyrillic name");
}

#[test]
fn ids_names_and_emails_are_unique_and_scores_in_range() {
    let cfg = DemoConfig { seed: 3, accounts: 3_000 };
    let (mut accounts_seen, mut names, mut contacts, mut emails, mut others) =
        (HashSet::new(), HashSet::new(), HashSet::new(), HashSet::new(), HashSet::new());
    let owners: HashSet<String> =
        users(&cfg).into_iter().filter(|u| u.role == Role::AccountManager).map(|u| u.email).collect();
    let waves = waves();
    for a in accounts(&cfg) {
        assert!(accounts_seen.insert(a.account.account_id.clone()));
        assert!(names.insert(a.account.name.clone()), "{}", a.account.name);
        assert!(owners.contains(a.account.owner_email.as_deref().unwrap_or("")));
        assert!((1..=25).contains(&a.contacts.len()));
        for c in &a.contacts {
            assert!(contacts.insert(c.contact_id.clone()));
            assert_eq!(c.account_id, a.account.account_id);
            if let Some(e) = &c.email {
                assert!(emails.insert(e.as_str().to_string()), "{e}");
            }
        }
        for o in &a.opportunities {
            assert!(others.insert(o.opportunity_id.clone()));
            assert!(o.discount.is_some_and(|d| (0..=3000).contains(&d.0)));
        }
        for s in &a.service_cases {
            assert!(others.insert(s.case_id.clone()));
        }
        let mut answered: HashMap<(&str, &str), usize> = HashMap::new();
        for r in &a.responses {
            assert!(a.contacts.iter().any(|c| c.contact_id == r.contact_id));
            let w = waves.iter().find(|w| w.name == r.wave).expect("a known wave");
            let day = r.submitted_at.date();
            assert!(w.opens_on <= day && day <= w.closes_on && day < TODAY, "{day} in {}", w.name);
            assert!(r.ltr.get() <= 10);
            assert!(r.scores.keys().all(|k| DRIVERS.contains(&k.as_str())));
            assert!(r.scores.values().all(|v| (1..=5).contains(v)));
            *answered.entry((&r.contact_id, &r.wave)).or_default() += 1;
        }
        assert!(answered.values().all(|&n| n <= 2));
    }
}

/// (LTR, driver scores) of every answer in a vertical.
type Answers = Vec<(f64, BTreeMap<String, u8>)>;

#[test]
fn key_drivers_differ_by_vertical() {
    let mut by_vertical: BTreeMap<String, Answers> = BTreeMap::new();
    for a in accounts(&DemoConfig { seed: 11, accounts: 500 }) {
        let v = a.account.vertical.clone().expect("every account has a vertical");
        by_vertical
            .entry(v)
            .or_default()
            .extend(a.responses.iter().map(|r| (f64::from(r.ltr.get()), r.scores.clone())));
    }
    let mut found = HashSet::new();
    for vertical in VERTICALS {
        let answers = &by_vertical[vertical];
        let strongest = DRIVERS
            .iter()
            .map(|d| {
                let (xs, ys): (Vec<f64>, Vec<f64>) =
                    answers.iter().filter_map(|(ltr, s)| s.get(*d).map(|&x| (f64::from(x), *ltr))).unzip();
                (*d, pearson(&xs, &ys))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("six drivers");
        assert_eq!(Some(strongest.0), key_driver(vertical), "{vertical}: {strongest:?}");
        found.insert(strongest.0);
    }
    assert!(found.len() >= 5, "{found:?}");
}

#[test]
fn quadrants_are_all_well_populated() {
    let all: Vec<DemoAccount> = accounts(&DemoConfig::default()).collect();
    let mut revenues: Vec<Money> = all.iter().filter_map(|a| a.account.billed_revenue).collect();
    revenues.sort();
    let median = revenues[revenues.len() / 2];
    let mut quadrants = [0usize; 4];
    for a in &all {
        let Some(nps) = nps_by_wave(a).into_iter().flatten().next_back() else { continue };
        let high_revenue = a.account.billed_revenue >= Some(median);
        quadrants[usize::from(nps > 0.0) * 2 + usize::from(high_revenue)] += 1;
    }
    // [Decision, Problem, Growth, Emulate]
    assert!(quadrants.iter().all(|&n| n >= all.len() / 10), "{quadrants:?}");
}

#[test]
fn users_scale_with_accounts_and_waves_cover_the_year() {
    let few = users(&DemoConfig { seed: 7, accounts: 30 });
    assert!(few.iter().any(|u| u.email == rapport_demo::ADMIN_EMAIL && u.role == Role::Admin));
    assert!(few.iter().filter(|u| u.role == Role::Executive).count() >= 4);
    assert_eq!(users(&DemoConfig::default()).iter().filter(|u| u.role == Role::AccountManager).count(), 13);
    let many = users(&DemoConfig { seed: 7, accounts: 1_000_000 });
    let emails: HashSet<&str> = many.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(emails.len(), many.len());
    assert!(many.iter().all(|u| u.manager_email.as_ref().is_none_or(|m| emails.contains(m.as_str()))));
    let w = waves();
    assert_eq!(w.iter().map(|w| w.name.as_str()).collect::<Vec<_>>(), ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]);
    assert!(w[3].opens_on < TODAY && TODAY < w[3].closes_on);
}

/// Counts and timings, for the README: `cargo test --release -p rapport-demo -- --ignored --nocapture`.
#[test]
#[ignore = "prints figures; run by hand"]
fn print_portfolio_figures() {
    for n in [500usize, 100_000] {
        let cfg = DemoConfig { seed: 7, accounts: n };
        let start = std::time::Instant::now();
        let (mut contacts, mut responses, mut opps, mut cases, mut comments, mut stories) = (0, 0, 0, 0, 0, 0);
        for a in accounts(&cfg) {
            contacts += a.contacts.len();
            responses += a.responses.len();
            opps += a.opportunities.len();
            cases += a.service_cases.len();
            comments += a.responses.iter().filter(|r| r.comment.is_some()).count();
            stories += usize::from(a.story.is_some());
        }
        println!(
            "{n} accounts: {contacts} contacts, {responses} responses ({comments} with comments), {opps} opportunities, \
             {cases} cases, {stories} stories, {} users, in {:?}",
            users(&cfg).len(),
            start.elapsed()
        );
    }
}
