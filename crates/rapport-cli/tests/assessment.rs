//! The portfolio assessment from the command line, on three accounts computed by hand:
//! - K, a keeper: 400,000 billed in 2026 at 60% cost of sales, 2 service hours, a new
//!   opportunity every quarter, three people at three levels who love us;
//! - S, a squeaky wheel: 40,000 billed at 75%, 50 unpaid hours of exceptions and order
//!   changes, pays in 100 days, never answered, never a new opportunity;
//! - T, falling: billed 200,000 in 2025-Q1 but 100,000 in 2026, buys at 20% discount, one
//!   executive who turned detractor and nobody in touch since August.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

fn url(db: &Path) -> String {
    format!("sqlite://{}", db.display())
}

fn run(db: &Path, args: &[&str]) -> Output {
    support::rapport(&url(db)).args(args).output().expect("rapport runs")
}

fn rapport(db: &Path, args: &[&str]) -> String {
    support::ok(&url(db), args)
}

fn portfolio(dir: &Path) -> PathBuf {
    let db = dir.join("a.db");
    let files = [
        (
            "accounts",
            "account_id,name,billed_revenue,cost_of_sales,payment_days,relationship_style\n\
             K,Keeper,400000,240000,30,relationship\nS,Squeaky,40000,30000,100,\nT,Falling,100000,80000,45,\n",
        ),
        (
            "revenue",
            "account_id,period,billed\nK,2025-Q1,100000\nK,2025-Q2,100000\nK,2025-Q3,100000\nK,2025-Q4,100000\n\
             K,2026-Q1,100000\nK,2026-Q2,100000\nK,2026-Q3,100000\nK,2026-Q4,100000\n\
             S,2026-Q1,10000\nS,2026-Q2,10000\nS,2026-Q3,10000\nS,2026-Q4,10000\nT,2025-Q1,200000\nT,2026-Q1,100000\n",
        ),
        (
            "opportunities",
            "opportunity_id,account_id,amount,outcome,discount_pct,opened_on\n\
             K1,K,10000,won,5,2026-01-10\nK2,K,10000,won,5,2026-04-10\nK3,K,10000,lost,,2026-07-10\nK4,K,10000,open,,2026-10-15\n\
             T1,T,30000,won,20,2026-02-01\nT2,T,30000,won,20,2026-02-15\n",
        ),
        (
            "service-cases",
            "case_id,account_id,kind,opened_on,closed_on,effort_hours,billable\n\
             S1,S,exception,2026-02-01,2026-02-03,30,false\nS2,S,order_change,2026-03-01,2026-03-03,20,false\n\
             K1,K,service_request,2026-05-01,2026-05-02,2,true\n",
        ),
        (
            "contacts",
            "contact_id,account_id,name,role\nK-e,K,Kay Exec,executive\nK-m,K,Kim Manager,manager\nK-u,K,Kit User,user\n\
             T-e,T,Tom Exec,executive\n",
        ),
        (
            "responses",
            "contact_id,wave,submitted_at,ltr\n\
             K-e,2026-Q1,2026-02-10T10:00:00Z,10\nK-m,2026-Q1,2026-02-10T10:00:00Z,9\nK-u,2026-Q1,2026-02-10T10:00:00Z,9\n\
             T-e,2026-Q1,2026-02-10T10:00:00Z,9\n\
             K-e,2026-Q3,2026-08-10T10:00:00Z,9\nK-m,2026-Q3,2026-08-10T10:00:00Z,10\nK-u,2026-Q3,2026-08-10T10:00:00Z,9\n\
             T-e,2026-Q3,2026-08-10T10:00:00Z,3\n",
        ),
    ];
    for (kind, text) in files {
        let path = dir.join(format!("{kind}.csv"));
        std::fs::write(&path, text).unwrap();
        rapport(&db, &["import", kind, path.to_str().unwrap()]);
    }
    db
}

const WINDOW: [&str; 6] = ["--since", "2026-Q1", "--until", "2026-Q4", "--as-of", "2026-11-24"];

fn report(db: &Path, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["report", name, "--format", "csv"];
    args.extend(WINDOW);
    args.extend(extra);
    rapport(db, &args)
}

fn row<'a>(csv: &'a str, id: &str) -> &'a str {
    csv.lines()
        .find(|l| l.split(',').nth(1) == Some(id) || l.starts_with(&format!("{id},")))
        .unwrap_or_else(|| panic!("no row {id} in\n{csv}"))
}

#[test]
fn profitability_ranks_by_margin_with_a_verdict_and_the_flow_of_business() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    let csv = report(&db, "portfolio", &[]);
    let ranked: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(ranked, vec!["K", "T", "S"], "{csv}");
    // 400,000 - 60% - 2 h x 85.
    assert!(row(&csv, "K").contains(",400000.00,240000.00,170.00,0.00,159830.00,40.0,keep,"), "{csv}");
    assert!(row(&csv, "K").ends_with(",4,40000.00,1 1 1 1,66.7,5.0,0.0,true,"), "{csv}");
    // 40,000 - 75% - 50 unpaid hours: 14.4% and service is 10.6% of revenue.
    let s = row(&csv, "S");
    assert!(s.contains(",40000.00,30000.00,4250.00,4250.00,5750.00,14.4,reduce_cost_to_serve,"), "{s}");
    assert!(s.contains("service costs 10.6% of revenue ($4,250 of it unpaid)"), "{s}");
    assert!(row(&csv, "T").contains("billed $200,000 in 2025-Q1 to 2025-Q4, $100,000 since"), "{csv}");
    let table = rapport(&db, &["report", "portfolio", "--since", "2026-Q1", "--until", "2026-Q4"]);
    assert!(table.contains("win rate") && table.contains("by quadrant"), "{table}");
}

#[test]
fn the_ideal_score_adds_up_each_criterion_and_a_new_version_shows_who_moves() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    let csv = report(&db, "ideal", &[]);
    // K: 15 + 10 + 9.4 (2.5 requests per million) + 10 + 20 + 10 + 15 + 5 (no growth).
    assert!(row(&csv, "K").starts_with("K,Keeper,94.4,ideal,15.0,10.0,9.4,10.0,20.0,10.0,15.0,5.0,"), "{csv}");
    // S: no loyalty and no growth data earn half; margin 14.375% earns 9.6 of 20.
    assert!(row(&csv, "S").starts_with("S,Squeaky,32.1,poor,0.0,0.0,10.0,0.0,9.6,0.0,7.5,5.0,"), "{csv}");

    let preview = rapport(&db, &["ideal", "set", "--weight", "payment_days=100", "--dry-run"]);
    assert!(preview.contains("accounts move") && preview.contains("Dry run: nothing saved."), "{preview}");
    assert!(rapport(&db, &["ideal", "show"]).starts_with("Version 0"), "a dry run saves nothing");
    let refused = run(&db, &["ideal", "set", "--weight", "payment_days=100"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--reason"), "{refused:?}");
    let wrong = run(&db, &["ideal", "set", "--weight", "speed=3", "--reason", "x"]);
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("'speed' is not a criterion; the criteria are payment_days")
    );
    let wrong = run(&db, &["ideal", "set", "--weight", "loyalty=300", "--reason", "x"]);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("the weight of loyalty is 300"), "{wrong:?}");

    let saved = rapport(&db, &["ideal", "set", "--weight", "payment_days=100", "--reason", "Cash first"]);
    assert!(saved.contains("Saved as version 1."), "{saved}");
    let history = rapport(&db, &["ideal", "history"]);
    assert!(history.starts_with("Version 1 (") && history.contains("command line): Cash first"), "{history}");
    let compared = report(&db, "ideal", &["--compare", "0"]);
    assert!(compared.lines().next().unwrap().ends_with(",compared_score,compared_band,change"), "{compared}");
    // K pays in 30 days: with days to pay weighing 100 of 185, (100 + 79.4) / 185 = 97.0.
    let k = row(&compared, "K");
    assert!(k.starts_with("K,Keeper,97.0,ideal,") && k.ends_with(",94.4,ideal,2.6"), "{compared}");
}

#[test]
fn squeaky_wheels_risks_and_relationships_are_named_with_their_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    let squeaky = report(&db, "squeaky-wheel", &[]);
    // 50 of 52 hours for 40,000 of 540,000 of revenue.
    assert!(row(&squeaky, "S").starts_with("S,Squeaky,2,50.00,96.15,7.41,"), "{squeaky}");
    assert!(row(&squeaky, "S").contains(",12.98,true,1,1,4250.00,poor,"), "{squeaky}");
    assert!(!squeaky.contains("\nT,"), "an account without cases is not listed: {squeaky}");

    let risk = report(&db, "risk", &[]);
    let t = row(&risk, "T");
    assert!(t.contains("revenue_falling, neglected, executive_detractors"), "{t}");
    assert!(t.contains("revenue down 50% ($200,000 to $100,000); no answer, follow-up, review or new opportunity in 106 days; 1 executive detractor in the latest wave"), "{t}");
    assert!(row(&risk, "S").contains("never an answer, follow-up, review or opportunity"), "{risk}");
    assert!(!risk.contains("\nK,"), "the keeper is not at risk: {risk}");

    let rel = report(&db, "relationships", &[]);
    assert!(row(&rel, "K").contains(",3,3,3,Big R,relationship,stated,"), "{rel}");
    assert!(
        row(&rel, "T").contains(",1,1,1,little r,transaction,inferred,buys at an average discount of 20.0%,\"Price"),
        "{rel}"
    );
    assert!(row(&rel, "S").contains(",0,0,0,little r,unknown,,,"), "{rel}");

    let bad = run(&db, &["report", "risk", "--since", "2026-Q4", "--until", "2026-Q1"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("the first quarter must come before the last"), "{bad:?}");
}
