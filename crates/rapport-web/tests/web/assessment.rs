//! The portfolio assessment in the app: the five reports within each viewer's scope, the
//! assessment on the account page, and the ideal account definition previewed, saved as a
//! version with who and why, and compared.

use rapport_core::assessment::CriterionKind;
use rapport_core::assessment::Definition;
use rapport_store::import::{ImportOptions, import_reader};
use rapport_store::{Kind, Store};
use reqwest::StatusCode;

use super::{get, input_value, serve, sign_in, url};

/// A year of activity for A1 (am1's) and B1 (am2's): revenue, opportunities, service cases.
async fn activity(store: &Store) {
    let files = [
        (
            Kind::Accounts,
            "account_id,name,cost_of_sales,payment_days\nA1,Alpha Energy,600000,30\nB1,Bravo,2900000,95\n",
        ),
        (
            Kind::Revenue,
            "account_id,period,billed\nA1,2026-Q1,250000\nA1,2026-Q2,250000\nA1,2026-Q3,250000\nA1,2026-Q4,250000\n\
             B1,2025-Q1,1000000\nB1,2026-Q1,400000\n",
        ),
        (
            Kind::Opportunities,
            "opportunity_id,account_id,amount,outcome,discount_pct,opened_on\n\
             O1,A1,10000,won,5,2026-01-15\nO2,A1,20000,won,5,2026-04-15\nO3,A1,5000,lost,,2026-08-15\n\
             O4,B1,90000,won,25,2025-02-01\n",
        ),
        (
            Kind::ServiceCases,
            "case_id,account_id,kind,opened_on,closed_on,effort_hours,billable\n\
             S1,A1,service_request,2026-02-01,2026-02-03,10,true\n\
             S2,B1,exception,2026-03-01,2026-03-20,300,false\n",
        ),
    ];
    for (kind, csv) in files {
        import_reader(store, kind, csv.as_bytes(), ImportOptions::default(), &mut |_| {})
            .await
            .unwrap_or_else(|e| panic!("importing the test {kind}: {e}"));
    }
}

fn definition_form(csrf: &str, version: i64, loyalty_weight: u32, action: &str, reason: &str) -> Vec<(String, String)> {
    let d = Definition::default();
    let mut form = vec![
        ("csrf".to_string(), csrf.to_string()),
        ("version".to_string(), version.to_string()),
        ("hourly_cost".to_string(), "85".to_string()),
        ("target_margin".to_string(), "15".to_string()),
        ("neglect_days".to_string(), "90".to_string()),
        ("reason".to_string(), reason.to_string()),
        ("action".to_string(), action.to_string()),
    ];
    for kind in CriterionKind::ALL {
        let c = d.criterion(kind).unwrap();
        let weight = if kind == CriterionKind::Loyalty { loyalty_weight } else { c.weight };
        form.push((format!("weight.{kind}"), weight.to_string()));
        form.push((format!("best.{kind}"), c.best.to_string()));
        form.push((format!("worst.{kind}"), c.worst.to_string()));
    }
    form
}

pub async fn the_portfolio_assessment_follows_scope_and_the_definition_is_versioned(store: Store) {
    let addr = serve(&store).await;
    activity(&store).await;
    let am1 = sign_in(addr, "am1@test.example").await;

    // Profitability over 2026: 1,000,000 billed, 60% cost of sales, 10 h at 85.
    let (status, csv) = get(&am1, addr, "/reports/portfolio?format=csv&since=2026-Q1&until=2026-Q4").await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(csv.starts_with("rank,account_id,name,quadrant,revenue,cost_of_sales,cost_to_serve"), "{csv}");
    assert!(csv.contains(",1000000.00,600000.00,850.00,0.00,399150.00,39.9,keep,"), "{csv}");
    // Three opportunities, one per quarter but the last; 2 won of 3 decided.
    assert!(csv.contains(",3,35000.00,1 1 1 0,66.7,5.0,"), "{csv}");
    assert!(!csv.contains("\nB1,") && !csv.contains(",B1,"), "am1 sees only their accounts: {csv}");

    // The risk report of am2's account names its reasons; am1 never sees it.
    let am2 = sign_in(addr, "am2@test.example").await;
    let (_, risk) = get(&am2, addr, "/reports/risk?format=csv&since=2026-Q1&until=2026-Q4").await;
    assert!(risk.contains("B1,") && risk.contains("revenue down 60% ($1,000,000 to $400,000)"), "{risk}");
    let (_, risk) = get(&am1, addr, "/reports/risk?format=csv").await;
    assert!(!risk.contains("B1,"), "{risk}");
    let (_, squeaky) = get(&am2, addr, "/reports/squeaky-wheel?format=csv&since=2026-Q1&until=2026-Q4").await;
    let b1 = squeaky.lines().find(|l| l.starts_with("B1,")).expect("B1 took service effort");
    assert!(b1.contains(",true,1,0,25500.00,"), "300 unpaid hours on a quarter of the revenue: {b1}");

    // A bad window is a clear error, not a failure.
    let (status, page) = get(&am1, addr, "/reports/portfolio?since=2026-Q4&until=2026-Q1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("the first quarter must come before the last"), "{page}");
    let (status, _) = get(&am1, addr, "/reports/ideal?compare=41").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The account page carries the account's assessment and links to the reports.
    let (_, page) = get(&am1, addr, "/accounts/A1").await;
    assert!(page.contains("Assessment, ") && page.contains("Profitability: Keep"), "{page}");
    let (_, dashboard) = get(&am1, addr, "/").await;
    for link in
        ["/reports/portfolio", "/reports/ideal", "/reports/squeaky-wheel", "/reports/risk", "/reports/relationships"]
    {
        assert!(dashboard.contains(&format!("href=\"{link}\"")), "the dashboard links {link}");
    }

    // Administrators preview a change: who would move, nothing saved.
    let admin = sign_in(addr, "admin@test.example").await;
    let (status, page) = get(&admin, addr, "/ideal").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Version 0") && page.contains("the built-in default"), "{page}");
    let csrf = input_value(&page, "csrf");
    let post = |c: &reqwest::Client, form: Vec<(String, String)>| {
        let c = c.clone();
        async move { c.post(url(addr, "/ideal")).form(&form).send().await.unwrap() }
    };
    let res = post(&admin, definition_form(&csrf, 0, 100, "preview", "")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("accounts would move"), "{page}");
    assert_eq!(store.assessment_history().await.unwrap().len(), 1, "a preview saves nothing");

    // Saving needs a reason, and keeps who and why.
    let res = post(&admin, definition_form(&csrf, 0, 100, "save", " ")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = post(&admin, definition_form(&csrf, 0, 100, "save", "Loyalty <b>matters</b> most")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/ideal?saved=1");
    let current = store.assessment_definition().await.unwrap();
    assert_eq!((current.version, current.changed_by.as_deref()), (1, Some("admin@test.example")));
    assert_eq!(current.definition.criterion(CriterionKind::Loyalty).unwrap().weight, 100);
    let (_, page) = get(&admin, addr, "/ideal?saved=1").await;
    assert!(page.contains("Loyalty &#60;b&#62;matters&#60;/b&#62; most"), "the reason is inert text: {page}");
    // An edit of the version before is refused, not silently applied over it.
    let res = post(&admin, definition_form(&csrf, 0, 5, "save", "Older tab")).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("changed since you opened it"));

    // The ideal report compares with the version before.
    let (_, csv) = get(&admin, addr, "/reports/ideal?format=csv&compare=0").await;
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("account_id,name,score,band,payment_days,"), "{header}");
    assert!(header.ends_with(",shortfalls,compared_score,compared_band,change"), "{header}");
    let (_, audit) = get(&admin, addr, "/audit").await;
    assert!(audit.contains("definition.change"), "{audit}");

    // Others may read the definition, not change it.
    let analyst = sign_in(addr, "analyst@test.example").await;
    let (status, page) = get(&analyst, addr, "/ideal").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Administrators change the definition"), "{page}");
    let csrf = input_value(&page, "csrf");
    let res = post(&analyst, definition_form(&csrf, 1, 10, "save", "Mine")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(store.assessment_definition().await.unwrap().version, 1);
}
