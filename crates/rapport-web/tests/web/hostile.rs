//! A corpus of hostile values pushed through every way in (an import, the response page, the
//! web forms, the API) and looked for everywhere they come out (pages, CSV downloads, an
//! export read back, JSON, file names): never a server error, never live markup, never a
//! formula a spreadsheet would run, and a clear refusal for what cannot be stored.

use rapport_store::{Kind, Store};
use rapport_web::respond::personal_path;
use reqwest::StatusCode;
use serde_json::Value;

use super::respond::wave;
use super::{client, get, serve, sign_in, url};

/// Text that tries to be markup, SQL, a formula, a path, a header or a direction change.
const CORPUS: [&str; 12] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "'; DROP TABLE accounts; --",
    "=HYPERLINK(\"http://evil.example\",\"x\")",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "\u{202e}gnp.exe",
    "名前 ñ 😀 مرحبا",
    "%0d%0aSet-Cookie: x=y\r\nX-Injected: 1",
];

/// What would be live if a page let it through.
const LIVE: [&str; 3] = ["<script>alert(1)", "<img src=x", "onerror=alert(1)>"];

/// Every hostile value, plus one far too long for a name field anywhere else.
fn values() -> Vec<String> {
    CORPUS.iter().map(|v| v.to_string()).chain([format!("{}<b>bold</b>", "x".repeat(5000))]).collect()
}

fn csv_of(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(&r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

async fn import(store: &Store, kind: Kind, csv: &str) -> Result<(), String> {
    rapport_store::import::import_reader(store, kind, csv.as_bytes(), Default::default(), &mut |_| {})
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn assert_inert(page: &str, where_: &str) {
    for live in LIVE {
        assert!(!page.contains(live), "live markup {live:?} on {where_}");
    }
}

/// What a spreadsheet cell must hold for `v` after the formula guard.
fn guarded(v: &str) -> String {
    if v.starts_with(['=', '+', '-', '@']) { format!("'{v}") } else { v.to_string() }
}

pub async fn hostile_values_go_in_everywhere_and_come_out_inert(store: Store) {
    let addr = serve(&store).await;
    let values = values();

    // In through an import: as names, verticals, regions, contact names and titles.
    let accounts = values
        .iter()
        .enumerate()
        .map(|(i, v)| vec![format!("H{i}"), v.clone(), v.clone(), v.clone(), "am1@test.example".into(), "1000".into()])
        .collect();
    let accounts = csv_of(&["account_id", "name", "vertical", "region", "owner_email", "billed_revenue"], accounts);
    import(&store, Kind::Accounts, &accounts).await.expect("text is text, however it looks");
    let contacts = values
        .iter()
        .enumerate()
        .map(|(i, v)| vec![format!("H{i}-c"), format!("H{i}"), v.clone(), v.clone(), "executive".into()])
        .collect();
    import(&store, Kind::Contacts, &csv_of(&["contact_id", "account_id", "name", "title", "role"], contacts))
        .await
        .unwrap();

    // Numbers and dates that are not: refused with the line, the column and the value, and
    // nothing of the file stored.
    let before = store.count(Kind::Accounts).await.unwrap();
    let numbers = ["99999999999999999999999", "-1e308", "NaN", "0x10", "1,000.00", "12.345", "١٢٣"];
    let rows = numbers.iter().enumerate().map(|(i, n)| vec![format!("N{i}"), "n".into(), n.to_string()]).collect();
    let err =
        import(&store, Kind::Accounts, &csv_of(&["account_id", "name", "billed_revenue"], rows)).await.unwrap_err();
    for (i, n) in numbers.iter().enumerate() {
        let expected = format!("line {}, column 'billed_revenue', value \"{n}\"", i + 2);
        assert!(err.contains(&expected), "{expected} in {err}");
    }
    let dates = ["2026-02-30", "0000-00-00", "9999-99-99", "2026-13-01", "../etc", "-1", "2026-1-1T99"];
    let rows = dates
        .iter()
        .enumerate()
        .map(|(i, d)| vec![format!("O{i}"), "H0".into(), "10".into(), "open".into(), d.to_string()])
        .collect();
    let csv = csv_of(&["opportunity_id", "account_id", "amount", "outcome", "opened_on"], rows);
    let err = import(&store, Kind::Opportunities, &csv).await.unwrap_err();
    for (i, d) in dates.iter().enumerate() {
        let expected = format!("line {}, column 'opened_on', value \"{d}\"", i + 2);
        assert!(err.contains(&expected), "{expected} in {err}");
    }
    assert_eq!(store.count(Kind::Accounts).await.unwrap(), before);
    assert_eq!(store.count(Kind::Opportunities).await.unwrap(), 0);

    // In through the response page: each hostile value as a comment. The one too long for a
    // comment (4,000 characters) gets a clear page and nothing is stored.
    let invs = wave(&store, "2026-Q4", true).await;
    for (i, v) in values.iter().enumerate() {
        let inv = invs.iter().find(|inv| inv.contact_name == *v).unwrap_or_else(|| panic!("invited H{i}"));
        let form = [("ltr", "2"), ("comment", v.as_str()), ("action", "submit")];
        let res = client().post(url(addr, &personal_path(inv.id, &inv.secret))).form(&form).send().await.unwrap();
        let status = res.status();
        let page = res.text().await.unwrap();
        assert_inert(&page, &format!("the response page for H{i}"));
        if v.chars().count() > 4000 {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(page.contains("Please keep this under 4,000 characters."));
            assert_eq!(store.answer_count(inv.id).await.unwrap(), 0);
        } else {
            assert_eq!(status, StatusCode::OK, "H{i}");
        }
    }

    // In through the web forms: an action plan item each, and a wave named like a path.
    let admin = sign_in(addr, "admin@test.example").await;
    let (_, page) = get(&admin, addr, "/accounts/H0").await;
    let csrf = super::support::input_value(&page, "csrf");
    for v in &CORPUS {
        let form = [("csrf", csrf.as_str()), ("description", v), ("function", "service"), ("due", "2027-01-15")];
        let res = admin.post(url(addr, "/accounts/H0/tasks")).form(&form).send().await.unwrap();
        assert!(res.status().is_redirection(), "a plan item {v:?}: {}", res.status());
    }
    let wave_form = [("csrf", csrf.as_str()), ("name", "../../../../etc/passwd")];
    let res = admin.post(url(addr, "/waves")).form(&wave_form).send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.text().await.unwrap());

    // In through the API: a plan item each; JSON gives the text back exactly as written.
    let login = store.user_login("admin@test.example").await.unwrap().unwrap();
    let token = rapport_web::token::new_token();
    let hash = rapport_web::token::hash_token(&token);
    store.create_api_token(login.id, "hostile", &hash, rapport_store::api_tokens::TokenScope::Write, 0).await.unwrap();
    let api = reqwest::Client::new();
    for v in &CORPUS {
        let body = serde_json::json!({"description": v, "function": "sales", "due": "2027-01-15"});
        let res =
            api.post(url(addr, "/api/v1/accounts/H1/tasks")).bearer_auth(&token).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.json::<Value>().await.unwrap()["description"], *v);
    }
    let bulk = serde_json::json!([{"account_id": "N1", "name": "n", "billed_revenue": "-1e308", "potential_revenue": null},
                                  {"account_id": "N2", "name": "n", "billed_revenue": null, "potential_revenue": "NaN"}]);
    let res = api.post(url(addr, "/api/v1/bulk/accounts")).bearer_auth(&token).json(&bulk).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(2), "{problem}");

    // Out everywhere: pages never carry live markup and never fail.
    let mut pages: Vec<String> = (0..values.len()).map(|i| format!("/accounts/H{i}")).collect();
    pages.extend(
        [
            "/",
            "/?wave=2026-Q4",
            "/reports/quadrants?wave=2026-Q4",
            "/reports/nps?by=vertical&wave=2026-Q4",
            "/reports/drivers?by=region&wave=2026-Q4",
            "/reports/comments?wave=2026-Q4",
            "/reports/coverage?by=vertical&wave=2026-Q4",
            "/reports/portfolio",
            "/reports/risk",
            "/sponsors",
            "/tasks?view=all",
            "/waves",
            "/waves/2026-Q4",
            "/audit",
            "/accounts/H0/briefing",
            "/charts/matrix.svg?wave=2026-Q4",
        ]
        .map(String::from),
    );
    for path in &pages {
        let (status, body) = get(&admin, addr, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_inert(&body, path);
    }
    let (_, h0) = get(&admin, addr, "/accounts/H0").await;
    assert!(h0.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "shown as text, not dropped");

    // Out in downloads: text as written, formulas guarded, the quadrant report read back.
    let (status, csv) = get(&admin, addr, "/reports/quadrants?wave=2026-Q4&format=csv").await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let names: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_string()).collect();
    for v in &values {
        assert!(names.contains(&guarded(v)), "{:?} in the quadrant CSV", guarded(v));
    }
    let (_, respondents) = get(&admin, addr, "/accounts/H3/respondents?format=csv&wave=2026-Q4").await;
    assert!(respondents.contains(&guarded(CORPUS[3]).replace('"', "\"\"")), "{respondents}");
    let (_, comments) = get(&admin, addr, "/reports/comments?format=csv&wave=2026-Q4").await;
    assert!(comments.contains(&guarded(CORPUS[3]).replace('"', "\"\"")), "{comments}");
    let (_, page) = get(&admin, addr, "/reports/comments?wave=2026-Q4").await;
    assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "a comment is shown as text, not dropped");

    // An export read back by an import changes nothing: the guard is undone on the way in.
    let mut exported = Vec::new();
    rapport_store::export::export_csv(&store, Kind::Accounts, &mut exported).await.unwrap();
    let summary =
        rapport_store::import::import_reader(&store, Kind::Accounts, &exported[..], Default::default(), &mut |_| {})
            .await
            .unwrap();
    assert_eq!((summary.counts.inserted, summary.counts.updated), (0, 0), "{summary:?}");

    // A file name made from a wave named like a path stays a plain file name.
    let res = admin.get(url(addr, "/waves/..%2F..%2F..%2F..%2Fetc%2Fpasswd/links.csv")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(!disposition.contains('/') && !disposition.contains(".."), "{disposition}");
}
