//! A small portfolio with two account managers, hostile names and comments, and a running
//! server on a free loopback port: what the web tests share.

#![allow(dead_code)]

use std::net::SocketAddr;

use rapport_core::user::Role;
use rapport_store::import::{ImportOptions, import_reader};
use rapport_store::users::NewUser;
use rapport_store::{Kind, Store};
use rapport_web::AppState;
use rapport_web::password::hash_password;

/// Every test user's password.
pub const PASSWORD: &str = "correct horse battery";

/// The users, by role: (email, role).
pub const USERS: [(&str, Role); 5] = [
    ("admin@test.example", Role::Admin),
    ("analyst@test.example", Role::Analyst),
    ("exec@test.example", Role::Executive),
    ("am1@test.example", Role::AccountManager),
    ("am2@test.example", Role::AccountManager),
];

/// A script tag as an account name.
pub const SCRIPT_NAME: &str = "<script>alert('pwned')</script> Ltd";
/// A spreadsheet formula as an account name.
pub const FORMULA_NAME: &str = "=HYPERLINK(\"http://evil.example\",\"click\")";

/// Four accounts: A1 and A2 (Energy) owned by am1, B1 and B2 (Retail) owned by am2; two
/// waves of answers. In 2026-Q2: A1 9,10,6 (NPS 33.3), A2 10,10 (100), B1 0,3 (-100), B2 8,9
/// (50). The whole portfolio then has 9 answers: 5 promoters, 1 passive, 3 detractors: NPS 22.2.
pub async fn load_portfolio(store: &Store) {
    let accounts = format!(
        "account_id,name,vertical,region,owner_email,billed_revenue,potential_revenue,relationship_style,sponsor_email\n\
         A1,Alpha Energy,Energy,North,am1@test.example,1000000,3000000,relationship,exec@test.example\n\
         A2,\"{}\",Energy,South,am1@test.example,200000,800000,transaction,\n\
         B1,\"{}\",Retail,North,am2@test.example,3000000,1000000,relationship,\n\
         B2,Beta & Sons \"\"Quoted\"\",Retail,South,am2@test.example,50000,90000,transaction,\n",
        SCRIPT_NAME,
        FORMULA_NAME.replace('"', "\"\"")
    );
    let mut contacts = String::from("contact_id,account_id,name,title,role\n");
    let mut answers = String::from("contact_id,wave,submitted_at,ltr,comment\n");
    let q2: [(&str, &[u8]); 4] = [("A1", &[9, 10, 6]), ("A2", &[10, 10]), ("B1", &[0, 3]), ("B2", &[8, 9])];
    let q1: [(&str, &[u8]); 4] = [("A1", &[9, 9, 9]), ("A2", &[5, 5]), ("B1", &[9, 9]), ("B2", &[7, 7])];
    for (account, scores) in q2 {
        for (i, _) in scores.iter().enumerate() {
            let role = if i == 0 { "executive" } else { "user" };
            contacts.push_str(&format!("{account}-{i},{account},Person {account}-{i},Director,{role}\n"));
        }
    }
    for (wave, set, day) in [("2026-Q1", q1, "2026-02-10"), ("2026-Q2", q2, "2026-05-10")] {
        for (account, scores) in set {
            for (i, ltr) in scores.iter().enumerate() {
                let comment = if account == "B1" { "\"<img src=x onerror=alert(1)> =SUM(A1:A9)\"" } else { "" };
                answers.push_str(&format!("{account}-{i},{wave},{day}T10:00:00Z,{ltr},{comment}\n"));
            }
        }
    }
    for (kind, csv) in [(Kind::Accounts, accounts), (Kind::Contacts, contacts), (Kind::Responses, answers)] {
        import_reader(store, kind, csv.as_bytes(), ImportOptions::default(), &mut |_| {})
            .await
            .unwrap_or_else(|e| panic!("importing the test {kind}: {e}"));
    }
    let hash = hash_password(PASSWORD).expect("hashing");
    for (email, role) in USERS {
        let user = NewUser { email: email.into(), name: format!("User {email}"), role, manager_email: None };
        store.upsert_user(&user).await.expect("creating a user");
        store.set_password_hash(email, &hash).await.expect("setting a password");
    }
}

/// Starts the app on a free loopback port; it runs until the test's runtime ends.
pub async fn start(store: &Store) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("its address");
    let state = AppState::new(store.clone(), false);
    tokio::spawn(async move { axum::serve(listener, rapport_web::router(state)).await });
    addr
}

/// The value of `<input ... name="NAME" value="...">` in a page.
pub fn input_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no input {name} in:\n{html}")) + marker.len();
    html[start..].split('"').next().unwrap_or_default().to_string()
}
