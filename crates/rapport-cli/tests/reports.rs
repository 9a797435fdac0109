//! The loyalty reports from the command line, on a small portfolio computed by hand.

use std::path::Path;
use std::process::Command;

fn run(db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("--database-url")
        .arg(format!("sqlite://{}", db.display()))
        .args(args)
        .output()
        .expect("rapport runs")
}

fn rapport(db: &Path, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(out.status.success(), "rapport {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// What `rapport` says on stderr when it refuses `args`.
fn refused(db: &Path, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(!out.status.success(), "rapport {args:?} succeeded");
    String::from_utf8(out.stderr).expect("UTF-8 output")
}

/// Five accounts. Four answered in 2026-Q3 (an even count: the revenue threshold is the mean
/// of 200 and 300, 250):
/// - A (billed 100): 9, 9, 6 -> NPS 33.3, high loyalty, low revenue: growth.
/// - B (billed 200): 10, 7, 0, 9 -> NPS 25.0: decision.
/// - C (billed 300): 4 promoters, 5 passives, 1 detractor -> NPS exactly 30.0, which is high: emulate.
/// - D (billed 400): one detractor, and one contact who answered 10 then 3 (the latest counts):
///   NPS -100 from 2 answers, flagged low sample: problem.
/// - E (billed 500): no answer: unsurveyed.
fn portfolio(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("r.db");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let accounts = write(
        "accounts.csv",
        "account_id,name,vertical,billed_revenue\nA,Alpha,Energy,100\nB,Beta,Energy,200\nC,Gamma,Retail,300\nD,Delta,Retail,400\nE,Epsilon,Retail,500\n",
    );
    let scores: [(&str, &[u8]); 4] =
        [("A", &[9, 9, 6]), ("B", &[10, 7, 0, 9]), ("C", &[9, 9, 9, 9, 8, 8, 8, 8, 8, 0]), ("D", &[5, 10])];
    let mut contacts = String::from("contact_id,account_id,name\n");
    let mut answers = String::from("contact_id,wave,submitted_at,ltr,comment,brand\n");
    for (account, ltrs) in scores {
        for (i, ltr) in ltrs.iter().enumerate() {
            contacts.push_str(&format!("{account}{i},{account},Person {account}{i}\n"));
            // Every answer in Retail rates the brand 4: a driver with no variance.
            let brand = if account == "C" || account == "D" { "4" } else { "" };
            answers.push_str(&format!("{account}{i},2026-Q3,2026-08-0{}T10:00:00Z,{ltr},,{brand}\n", i % 9 + 1));
        }
    }
    answers.push_str("D1,2026-Q3,2026-08-20T10:00:00Z,3,Changed my mind,4\n");
    let contacts = write("contacts.csv", &contacts);
    let answers = write("answers.csv", &answers);
    for (kind, file) in [("accounts", &accounts), ("contacts", &contacts), ("responses", &answers)] {
        rapport(&db, &["import", kind, file.to_str().unwrap()]);
    }
    db
}

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    for args in [
        &["report", "quadrants", "--format", "csv"][..],
        &["report", "quadrants", "--format", "json"],
        &["report", "quadrants"],
        &["export", "responses", "-"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rapport"))
            .arg("--database-url")
            .arg(format!("sqlite://{}", db.display()))
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("rapport runs");
        // The reader goes away before the first line (as `| head -0` would): every write fails.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && stderr.is_empty(), "rapport {args:?}: {:?} {stderr}", out.status);
    }
}

#[test]
fn quadrants_place_ties_high_and_flag_small_samples() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    assert_eq!(
        rapport(&db, &["report", "quadrants", "--format", "csv"]),
        "account_id,name,respondents,nps,billed_revenue,potential_revenue,quadrant,low_sample\n\
         C,Gamma,10,30.0,300.00,0.00,emulate,false\n\
         D,Delta,2,-100.0,400.00,0.00,problem,true\n\
         A,Alpha,3,33.3,100.00,0.00,growth,false\n\
         B,Beta,4,25.0,200.00,0.00,decision,false\n\
         E,Epsilon,0,,500.00,0.00,unsurveyed,false\n"
    );
    // Thresholds per report: billed exactly at 400 is high revenue; NPS exactly at 25 is high loyalty.
    let custom = rapport(
        &db,
        &["report", "quadrants", "--format", "csv", "--revenue-threshold", "400", "--loyalty-threshold", "25"],
    );
    assert!(custom.contains("\nD,Delta,2,-100.0,400.00,0.00,problem,true\n"), "{custom}");
    assert!(custom.contains("\nC,Gamma,10,30.0,300.00,0.00,growth,false\n"), "{custom}");
    assert!(custom.contains("\nB,Beta,4,25.0,200.00,0.00,growth,false\n"), "{custom}");
}

#[test]
fn nps_counts_the_latest_answer_of_each_contact() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    // 19 latest answers: 8 promoters, 6 passives, 5 detractors: 100 x 3 / 19 = 15.8.
    let all = rapport(&db, &["report", "nps", "--format", "csv"]);
    assert!(
        all.starts_with(
            "segment,responses,promoters,passives,detractors,nps,ci90_low,ci90_high,low_sample\nall,19,8,6,5,15.8,"
        ),
        "{all}"
    );
    let by = rapport(&db, &["report", "nps", "--by", "vertical", "--format", "csv"]);
    assert!(by.contains("\nEnergy,7,4,1,2,28.6,"), "{by}");
    assert!(by.contains("\nRetail,12,4,5,3,8.3,"), "{by}");
}

#[test]
fn a_driver_without_variance_has_no_correlation() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    let drivers = rapport(&db, &["report", "drivers", "--format", "csv"]);
    assert_eq!(
        drivers,
        "segment,driver,n,mean,correlation,importance,rank,low_sample\nRetail,brand,12,4.00,,,,false\n"
    );
}

#[test]
fn a_rebuild_gives_the_same_reports() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    let before: Vec<String> = ["quadrants", "nps", "drivers", "trends", "coverage"]
        .iter()
        .map(|r| rapport(&db, &["report", r, "--format", "json"]))
        .collect();
    assert!(rapport(&db, &["analytics", "rebuild"]).contains("from 20 answers"));
    for (r, was) in ["quadrants", "nps", "drivers", "trends", "coverage"].iter().zip(&before) {
        assert_eq!(&rapport(&db, &["report", r, "--format", "json"]), was, "{r} changed after a rebuild");
    }
}

#[test]
fn coverage_counts_answered_accounts_and_their_revenue() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    // 4 of 5 accounts answered: 1000 of 1500 billed (66.7%), short of the 80% target.
    // The wave was imported, so its 19 contacts count as invited; all 19 answered (D1 twice, counted once).
    let cov = rapport(&db, &["report", "coverage", "--format", "csv"]);
    assert!(cov.contains("\n2026-Q3,all,5,4,19,19,100.0,1500.00,1000.00,66.7,false\n"), "{cov}");
}

/// Three accounts answered in two waves; revenue came quarterly for X1 and X3, monthly for X2:
/// - X1: NPS 100 -> -100 (-200), billed 100 -> 50 (-50%).
/// - X2: NPS -100 -> 100 (+200), billed 100 -> 60 + 60 + 30 = 150 (+50%).
/// - X3: NPS 0 -> 0, billed 100 -> 100.
///
/// The changes move together exactly: r = 1.
#[test]
fn loyalty_change_is_set_against_revenue_change() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lr.db");
    let files = [
        ("accounts", "account_id,name\nX1,One\nX2,Two\nX3,Three\n"),
        ("contacts", "contact_id,account_id,name\nx1,X1,A\nx2,X2,B\nx3,X3,C\n"),
        (
            "revenue",
            "account_id,period,billed\nX1,2026-Q2,100\nX1,2026-Q3,50\nX2,2026-Q2,100\nX2,2026-07,60\nX2,2026-08,60\n\
             X2,2026-09,30\nX3,2026-Q2,100\nX3,2026-Q3,100\n",
        ),
        (
            "responses",
            "contact_id,wave,ltr\nx1,2026-Q2,10\nx2,2026-Q2,5\nx3,2026-Q2,8\nx1,2026-Q3,0\nx2,2026-Q3,10\nx3,2026-Q3,8\n",
        ),
    ];
    for (kind, text) in files {
        let path = dir.path().join(format!("{kind}.csv"));
        std::fs::write(&path, text).unwrap();
        rapport(&db, &["import", kind, path.to_str().unwrap()]);
    }
    assert_eq!(
        rapport(&db, &["report", "loyalty-revenue", "--format", "csv"]),
        "account_id,name,nps_from,nps_to,nps_change,billed_from,billed_to,revenue_change_pct\n\
         X1,One,100.0,-100.0,-200.0,100.00,50.00,-50.0\n\
         X3,Three,0.0,0.0,0.0,100.00,100.00,0.0\n\
         X2,Two,-100.0,100.0,200.0,100.00,150.00,50.0\n"
    );
    let table = rapport(&db, &["report", "loyalty-revenue"]);
    assert!(table.contains("across 3 accounts: r = 1.000 (Pearson)"), "{table}");
}

#[test]
fn coverage_of_one_account() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    // D: two contacts on file, both answered; E: one account, nobody answered (no contacts).
    let d = rapport(&db, &["report", "coverage", "--account", "D", "--format", "csv"]);
    assert!(d.ends_with("\n2026-Q3,D,1,1,2,2,100.0,400.00,400.00,100.0,true\n"), "{d}");
    let e = rapport(&db, &["report", "coverage", "--account", "E", "--format", "csv"]);
    assert!(e.ends_with("\n2026-Q3,E,1,0,0,0,,500.00,0.00,0.0,false\n"), "{e}");
}

#[test]
fn a_filtered_view_keeps_the_portfolio_thresholds_and_counts_only_its_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    // Retail alone: C and D stay where the whole portfolio puts them (threshold 250, not
    // Retail's own median), E stays unsurveyed, Energy's A and B are gone.
    assert_eq!(
        rapport(&db, &["report", "quadrants", "--format", "csv", "--vertical", "Retail"]),
        "account_id,name,respondents,nps,billed_revenue,potential_revenue,quadrant,low_sample\n\
         C,Gamma,10,30.0,300.00,0.00,emulate,false\n\
         D,Delta,2,-100.0,400.00,0.00,problem,true\n\
         E,Epsilon,0,,500.00,0.00,unsurveyed,false\n"
    );
    // Energy's NPS from its own 7 answers: A 9,9,6 and B 10,7,0,9: 4 promoters, 1 passive,
    // 2 detractors: 100 x 2 / 7 = 28.6; the same from the unfiltered report by vertical.
    let filtered = rapport(&db, &["report", "nps", "--format", "csv", "--vertical", "energy "]);
    assert!(filtered.contains("\nall,7,4,1,2,28.6,"), "{filtered}");
    let by_vertical = rapport(&db, &["report", "nps", "--format", "csv", "--by", "vertical"]);
    assert!(by_vertical.contains("\nEnergy,7,4,1,2,28.6,"), "{by_vertical}");
}

#[test]
fn an_xlsx_report_is_a_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let db = portfolio(dir.path());
    let file = dir.path().join("q.xlsx");
    rapport(&db, &["report", "quadrants", "--format", "xlsx", "-o", file.to_str().unwrap()]);
    let bytes = std::fs::read(&file).unwrap();
    // An XLSX file is a zip archive.
    assert_eq!(&bytes[..4], b"PK\x03\x04");
}

#[test]
fn the_comments_report_tags_each_comment_with_its_themes_and_lists_detractors_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let files = [
        ("accounts", write("a.csv", "account_id,name,vertical\nA,Alpha,Energy\nB,Beta,Retail\n")),
        (
            "contacts",
            write(
                "c.csv",
                "contact_id,account_id,name,title,role\nA0,A,Ann,CFO,executive\nA1,A,Al,,user\nB0,B,Bea,Buyer,manager\nB1,B,Bo,,\n",
            ),
        ),
        (
            "responses",
            write(
                "r.csv",
                "contact_id,wave,submitted_at,ltr,comment\n\
                 A0,2026-Q3,2026-08-01,2,\"Three late shipments, and the invoice was wrong.\"\n\
                 A1,2026-Q3,2026-08-02,9,Support answers within the hour.\n\
                 B0,2026-Q3,2026-08-03,5,=1+1 is all I have to say\n\
                 B1,2026-Q3,2026-08-04,10,\n",
            ),
        ),
    ];
    for (kind, file) in &files {
        rapport(&db, &["import", kind, file.to_str().unwrap()]);
    }
    let csv = rapport(&db, &["report", "comments", "--format", "csv"]);
    assert_eq!(
        csv,
        "account_id,account,contact,title,role,ltr,class,themes,comment,submitted_on\n\
         A,Alpha,Ann,CFO,executive,2,detractor,delivery; value,\"Three late shipments, and the invoice was wrong.\",2026-08-01\n\
         B,Beta,Bea,Buyer,manager,5,detractor,other,'=1+1 is all I have to say,2026-08-03\n\
         A,Alpha,Al,,user,9,promoter,support,Support answers within the hour.,2026-08-02\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&rapport(&db, &["report", "comments", "--format", "json"])).unwrap();
    let notes: Vec<&str> = json["notes"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    assert!(
        notes.contains(&"delivery (shipments, lead times, on time and complete): 1 comment, 1 from detractors, NPS among them -100.0."),
        "{notes:?}"
    );
    assert!(notes.contains(
        &"support (support, tickets, help when needed): 1 comment, 0 from detractors, NPS among them +100.0."
    ));
    // The same filters as every report: a vertical, or one account.
    let retail = rapport(&db, &["report", "comments", "--vertical", "Retail", "--format", "csv"]);
    assert_eq!(retail.lines().skip(1).map(|l| &l[..2]).collect::<Vec<_>>(), ["B,"]);
    let alpha = rapport(&db, &["report", "comments", "--account", "A", "--format", "csv"]);
    assert_eq!(alpha.lines().count(), 3, "{alpha}");
    // One theme's comments, with every theme still summed up in the notes.
    let value: serde_json::Value =
        serde_json::from_str(&rapport(&db, &["report", "comments", "--theme", "Value", "--format", "json"])).unwrap();
    assert_eq!(value["title"], "Comments on value, wave 2026-Q3");
    assert_eq!(value["rows"].as_array().unwrap().len(), 1);
    assert_eq!(value["rows"][0]["contact"], "Ann");
    assert_eq!(value["notes"], json["notes"]);
    let err = refused(&db, &["report", "comments", "--account", "Z"]);
    assert!(err.contains("there is no account with account_id 'Z'"), "{err}");
    let err = refused(&db, &["report", "comments", "--theme", "weather"]);
    assert!(
        err.contains(
            "there is no theme 'weather'; the themes are product, delivery, support, value, brand, promise, other"
        ),
        "{err}"
    );
}
