//! The response page, as a contact meets it: their personal link, the survey in their
//! language, saving for later, answering again, and a clear page for everything that can go
//! wrong, with nothing half-stored.

use std::net::SocketAddr;

use rapport_core::survey::relationship_template;
use rapport_store::invitations::{Invitation, WavePlan};
use rapport_store::waves::WaveStatus;
use rapport_store::{Kind, Store};
use rapport_web::respond::personal_path;
use reqwest::StatusCode;
use time::{Duration, OffsetDateTime};

use super::{client, get, serve, sign_in, url};

/// A wave of the built-in survey to every contact of the test portfolio, plus one German
/// reader at Alpha Energy; open unless `open` is false.
pub async fn wave(store: &Store, name: &str, open: bool) -> Vec<Invitation> {
    rapport_store::import::import_reader(
        store,
        Kind::Contacts,
        "contact_id,account_id,name,role,email,language\nA1-de,A1,Greta Vogel,manager,greta@alpha.example,de-AT\n"
            .as_bytes(),
        Default::default(),
        &mut |_| {},
    )
    .await
    .unwrap();
    let survey = store.save_survey(&relationship_template(rapport_demo::survey::sender())).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let plan = WavePlan {
        name,
        survey: &survey,
        opens_on: now.date(),
        closes_on: now.date() + Duration::days(14),
        accounts: None,
        roles: &[],
        exclude_days: 0,
        selection: "every contact",
        now,
    };
    let created = store.create_wave(&plan).await.unwrap();
    if open {
        store.set_wave_status(created.wave_id, WaveStatus::Open, now).await.unwrap();
    }
    store.wave_invitations(created.wave_id, 0, 100).await.unwrap()
}

fn link(addr: SocketAddr, inv: &Invitation) -> String {
    url(addr, &personal_path(inv.id, &inv.secret))
}

fn named<'a>(invs: &'a [Invitation], name: &str) -> &'a Invitation {
    invs.iter().find(|i| i.contact_name == name).unwrap_or_else(|| panic!("no invitation for {name}"))
}

async fn post(addr: SocketAddr, inv: &Invitation, form: &[(&str, &str)]) -> (StatusCode, String) {
    let res = client().post(link(addr, inv)).form(form).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn answers_of(store: &Store, inv: &Invitation) -> i64 {
    store.answer_count(inv.id).await.unwrap()
}

pub async fn a_contact_answers_from_their_personal_link_and_it_counts_at_once(store: Store) {
    let addr = serve(&store).await;
    let invs = wave(&store, "2026-Q3", true).await;
    let inv = named(&invs, "Person A1-0");
    let res = client().get(link(addr, inv)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("style-src 'sha256-") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let page = res.text().await.unwrap();
    assert!(page.len() < 30 * 1024, "the page with its CSS is {} bytes", page.len());
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains("Meridian Industrial Supply") && page.contains("cx@meridian.example"));
    // The sender's logo travels inside the page, as a data URI (one request, no image host).
    let logo = "<img src=\"data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww%2Ew3%2Eorg%2F2000%2Fsvg%22";
    assert!(page.contains(logo), "{page}");
    assert!(page.contains("How likely is it that you would recommend Meridian Industrial Supply"));
    assert!(page.contains("Do we deliver the experience our marketing and sales force promised?"));
    assert!(page.contains("<legend>") && page.contains("type=\"radio\" name=\"ltr\" value=\"10\""));
    assert!(!page.contains("<script"), "the page needs no JavaScript");

    let admin = sign_in(addr, "admin@test.example").await;
    let (status, _) = get(&admin, addr, "/reports/quadrants?wave=2026-Q3&format=csv").await;
    let before = status;
    let (status, thanks) =
        post(addr, inv, &[("ltr", "10"), ("delivery", "5"), ("comment", "Fast and friendly"), ("action", "submit")])
            .await;
    assert_eq!(status, StatusCode::OK, "{thanks}");
    assert!(thanks.contains("Thank you") && thanks.contains("will contact you within two working days"), "{thanks}");
    assert!(thanks.contains("You can change your answers with the same link until"));
    assert!(thanks.contains(logo) && thanks.contains("cx@meridian.example"), "the thank-you page shows who asked");
    let (status, csv) = get(&admin, addr, "/reports/quadrants?wave=2026-Q3&format=csv").await;
    assert_eq!(status, StatusCode::OK, "before the answer: {before}; after: {csv}");
    let alpha = csv.lines().find(|l| l.contains("Alpha Energy")).unwrap_or_else(|| panic!("{csv}"));
    assert!(alpha.contains(",100,") || alpha.contains(",100.0,"), "one promoter is an NPS of 100: {alpha}");

    // A detractor's answer is followed up: on SQLite by the time their thank-you page shows
    // (no scan runs in this server), on PostgreSQL by the follow-up scanner's next run. The
    // task is then on the owner's list and the owner's note is queued.
    let unhappy = named(&invs, "Person A1-1");
    let (status, _) =
        post(addr, unhappy, &[("ltr", "2"), ("comment", "<b>Late</b> again"), ("action", "submit")]).await;
    assert_eq!(status, StatusCode::OK);
    let scanner = rapport_web::follow_up::FollowUp::new(store.clone(), Default::default(), None, "http://127.0.0.1");
    let scan = scanner.scan(OffsetDateTime::now_utc()).await.unwrap();
    let left = if let Store::Sqlite(_) = &store { 0 } else { 2 }; // the promoter's answer too
    assert_eq!(scan.answers, left, "{scan:?}");
    let owner = sign_in(addr, "am1@test.example").await;
    let (_, tasks) = get(&owner, addr, "/tasks").await;
    assert!(tasks.contains("Follow up: Person A1-1 of Alpha Energy: likelihood to recommend 2"), "{tasks}");
    let notes = store.outbox_log(None, None, None, 10).await.unwrap();
    assert_eq!(notes.iter().map(|m| m.recipient.as_str()).collect::<Vec<_>>(), ["am1@test.example"]);
    assert!(
        notes[0].body.contains("Their comment: \"<b>Late</b> again\""),
        "plain text, as written: {}",
        notes[0].body
    );
}

pub async fn saving_keeps_a_draft_and_a_second_answer_keeps_the_first_as_history(store: Store) {
    let addr = serve(&store).await;
    let invs = wave(&store, "2026-Q3", true).await;
    let inv = named(&invs, "Person B1-1");
    let (status, saved) = post(addr, inv, &[("product", "2"), ("comment", "Half done"), ("action", "save")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(saved.contains("Your answers are saved"), "{saved}");
    assert_eq!(answers_of(&store, inv).await, 0, "a draft is not an answer");
    let (_, again) = get(&client(), addr, &personal_path(inv.id, &inv.secret)).await;
    assert!(again.contains("name=\"product\" value=\"2\" checked"), "the draft is shown again");
    assert!(again.contains(">Half done</textarea>"));

    let (status, missing) = post(addr, inv, &[("product", "2"), ("action", "submit")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.contains("This question needs an answer.") && missing.contains("href=\"#q-ltr\""), "{missing}");
    assert!(missing.contains("name=\"product\" value=\"2\" checked"), "what was valid stays filled in");
    assert_eq!(answers_of(&store, inv).await, 0);

    assert_eq!(post(addr, inv, &[("ltr", "8"), ("product", "2")]).await.0, StatusCode::OK);
    let (_, shown) = get(&client(), addr, &personal_path(inv.id, &inv.secret)).await;
    assert!(shown.contains("You answered on"), "{shown}");
    assert!(shown.contains("name=\"ltr\" value=\"8\" checked"));
    assert_eq!(post(addr, inv, &[("ltr", "2")]).await.0, StatusCode::OK);
    assert_eq!(answers_of(&store, inv).await, 2, "both answers are kept");
    let latest = store.latest_answer(inv.id).await.unwrap().unwrap();
    assert_eq!(latest.score("ltr"), Some(2));
}

pub async fn bad_input_on_the_response_page_gets_a_clear_page_and_stores_nothing(store: Store) {
    let addr = serve(&store).await;
    let invs = wave(&store, "2026-Q3", true).await;
    let inv = named(&invs, "Person A2-0");
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("ltr", "11")], "Choose a number from 0 to 10."),
        (&[("ltr", "-1"), ("support", "6")], "Choose a number from 1 to 5."),
        (&[("ltr", "5"), ("buying_role", "'; DROP TABLE responses; --")], "Choose one of the options shown."),
        (&[("ltr", "5"), ("buying_role", "use"), ("buying_role", "decide")], "Choose only one option."),
    ];
    for (form, message) in cases {
        let (status, page) = post(addr, inv, form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(page.contains(message), "{form:?}: {page}");
    }
    let too_long = "x".repeat(5000);
    let (status, page) = post(addr, inv, &[("ltr", "5"), ("comment", &too_long)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("under 4,000 characters"));

    let garbled = client().post(link(addr, inv)).header("content-type", "application/x-www-form-urlencoded");
    let res = garbled.body(b"ltr=5&comment=%FF%FE".to_vec()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("not valid UTF-8"));
    let huge = format!("ltr=5&comment={}", "a".repeat(200 * 1024));
    let res = client()
        .post(link(addr, inv))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.text().await.unwrap().contains("too large"));
    assert_eq!(answers_of(&store, inv).await, 0, "nothing of a refused form is stored");

    let forged = [
        format!("/r/{}-{}", inv.id, "0".repeat(40)),
        format!("/r/{}-{}", inv.id + 1000, inv.secret),
        format!("/r/{}-{}", inv.id, &inv.secret[..39]),
        "/r/not-a-token".to_string(),
        "/r/%3Cscript%3E".to_string(),
    ];
    for path in forged {
        let (status, page) = get(&client(), addr, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains("This link does not work"), "{path}: {page}");
        let res = client().post(url(addr, &path)).form(&[("ltr", "0")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }

    let script = "<script>alert('x')</script> =HYPERLINK(\"http://evil.example\")";
    assert_eq!(post(addr, inv, &[("ltr", "4"), ("comment", script)]).await.0, StatusCode::OK);
    let admin = sign_in(addr, "admin@test.example").await;
    let (_, account) = get(&admin, addr, "/accounts/A2?wave=2026-Q3").await;
    assert!(account.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; =HYPERLINK"), "{account}");
    assert!(!account.contains("<script>alert"), "the comment is inert text");
    let (_, page) = get(&client(), addr, &personal_path(inv.id, &inv.secret)).await;
    assert!(!page.contains("<script>alert") && page.contains("&#60;script&#62;alert"), "and on the form shown again");
}

pub async fn a_wave_that_is_not_open_says_so_and_takes_nothing(store: Store) {
    let addr = serve(&store).await;
    let invs = wave(&store, "2026-Q3", false).await;
    let inv = named(&invs, "Person A1-1");
    let (status, page) = get(&client(), addr, &personal_path(inv.id, &inv.secret)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("not open yet"), "{page}");
    store.set_wave_status(inv.wave_id, WaveStatus::Closed, OffsetDateTime::now_utc()).await.unwrap();
    let (status, page) = post(addr, inv, &[("ltr", "9")]).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(page.contains("This survey has closed") && page.contains("cx@meridian.example"), "{page}");
    assert_eq!(answers_of(&store, inv).await, 0);
}

pub async fn the_survey_speaks_the_contacts_language(store: Store) {
    let addr = serve(&store).await;
    let invs = wave(&store, "2026-Q3", true).await;
    let greta = named(&invs, "Greta Vogel");
    assert_eq!(greta.language, "de");
    let (_, page) = get(&client(), addr, &personal_path(greta.id, &greta.secret)).await;
    assert!(page.contains("<html lang=\"de\">"));
    assert!(page.contains("Wie wahrscheinlich ist es, dass Sie Meridian Industrial Supply"), "{page}");
    assert!(page.contains("Antworten senden"));
    let (status, page) = post(addr, greta, &[("ltr", "12")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Wählen Sie eine Zahl von 0 bis 10."));
}

pub async fn unsubscribing_asks_first_and_keeps_the_contact_out_of_later_waves(store: Store) {
    let addr = serve(&store).await;
    let invs = wave(&store, "2026-Q3", true).await;
    let inv = named(&invs, "Person B2-0");
    let path = format!("{}/unsubscribe", personal_path(inv.id, &inv.secret));
    let (status, page) = get(&client(), addr, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Unsubscribe from these surveys") && page.contains("<form method=\"post\">"));
    let res = client().post(url(addr, &path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("You are unsubscribed"));
    let later = wave(&store, "2026-Q4", true).await;
    assert!(later.iter().all(|i| i.contact_name != "Person B2-0"), "left out of the next wave");
    assert_eq!(later.len(), invs.len() - 1);
}

pub async fn the_surveys_pages_show_live_response_rates_and_let_analysts_run_waves(store: Store) {
    use super::support::input_value;
    let addr = serve(&store).await;
    let invs = wave(&store, "2026-Q3", true).await;
    assert_eq!(post(addr, named(&invs, "Person A1-0"), &[("ltr", "9")]).await.0, StatusCode::OK);

    let (status, _) = get(&client(), addr, "/waves").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "sign in first");
    let admin = sign_in(addr, "admin@test.example").await;
    let (status, list) = get(&admin, addr, "/waves").await;
    assert_eq!(status, StatusCode::OK);
    let row = list.split("<tr>").find(|r| r.contains("2026-Q3")).unwrap_or_else(|| panic!("{list}"));
    assert!(row.contains(&format!(">{}</td>", invs.len())) && row.contains(">1</td>"), "{row}");

    // An account manager sees the rates of their own accounts only, and cannot run waves.
    let am1 = sign_in(addr, "am1@test.example").await;
    let (status, page) = get(&am1, addr, "/waves/2026-Q3").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Alpha Energy") && !page.contains("Beta &#38; Sons") && !page.contains("Beta & Sons"),
        "{page}"
    );
    assert!(!page.contains("/send\"") && !page.contains("links.csv"));
    let csrf = input_value(&page, "csrf");
    let res = am1.post(url(addr, "/waves/2026-Q3/close")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(get(&am1, addr, "/waves/2026-Q3/links.csv").await.0, StatusCode::FORBIDDEN);

    // An analyst starts a wave for one vertical, previews it, downloads its links, closes it.
    let analyst = sign_in(addr, "analyst@test.example").await;
    let (_, list) = get(&analyst, addr, "/waves").await;
    let csrf = input_value(&list, "csrf");
    let create = |name: &'static str| {
        analyst.post(url(addr, "/waves")).form(&[
            ("csrf", csrf.as_str()),
            ("name", name),
            ("vertical", "Energy"),
            ("closes", "2099-12-31"),
            ("exclude_days", "0"),
        ])
    };
    let res = create("2026-Q4").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/waves/2026-Q4");
    let (status, page) = get(&analyst, addr, "/waves/2026-Q4").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Subject: Meridian Industrial Supply bittet um Ihre Meinung"), "Greta reads German: {page}");
    assert!(page.contains("does not send invitations"), "this test server has no SMTP server");
    // Messages queued by another process (the cadence, `rapport wave send`) wait for a server
    // that can send them, and the page says so.
    let q4 = store.list_waves().await.unwrap().into_iter().find(|w| w.name == "2026-Q4").unwrap().id;
    let queued = store.queue_invitations(q4, &["email", "sms"], time::OffsetDateTime::now_utc()).await.unwrap();
    assert!(queued > 0);
    let (_, page) = get(&analyst, addr, "/waves/2026-Q4").await;
    assert!(page.contains("emails wait for a server that sends by email"), "{page}");
    let res = create("2026-Q4").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("already exists"));
    // A misspelt vertical makes no wave that invites nobody: the form says what there is.
    let typo = analyst
        .post(url(addr, "/waves"))
        .form(&[("csrf", csrf.as_str()), ("name", "2027-Q1"), ("vertical", "Enrgy"), ("exclude_days", "0")])
        .send()
        .await
        .unwrap();
    let page = typo.text().await.unwrap();
    assert!(
        page.contains("no account matches vertical Enrgy: check the spelling (verticals: Energy, Retail)"),
        "{page}"
    );
    assert!(store.list_waves().await.unwrap().iter().all(|w| w.name != "2027-Q1"));
    // A draft that selected nobody (everyone surveyed too recently, say) is listed, to be
    // seen and closed; waves whose answers were imported are not.
    let survey = store.latest_survey("B2B relationship survey").await.unwrap().unwrap();
    let now = OffsetDateTime::now_utc();
    let nobody = WavePlan {
        name: "Nobody",
        survey: &survey,
        opens_on: now.date(),
        closes_on: now.date(),
        accounts: Some(&[]),
        roles: &[],
        exclude_days: 0,
        selection: "no account",
        now,
    };
    store.create_wave(&nobody).await.unwrap();
    let (_, list) = get(&analyst, addr, "/waves").await;
    assert!(list.contains("/waves/Nobody") && !list.contains("/waves/2026-Q1"), "{list}");
    let (status, csv) = get(&analyst, addr, "/waves/2026-Q4/links.csv").await;
    assert_eq!(status, StatusCode::OK);
    let energy = invs.iter().filter(|i| i.account_name.contains("Energy") || i.account_name.contains("script")).count();
    assert_eq!(csv.lines().count(), 1 + energy, "{csv}");
    let res = analyst.post(url(addr, "/waves/2026-Q4/send")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = analyst.post(url(addr, "/waves/2026-Q4/close")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = get(&analyst, addr, "/waves/2026-Q4").await;
    assert!(page.contains("<span class=\"tag closed\">closed</span>"));
    let (status, audit) = get(&admin, addr, "/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(audit.contains("wave.create") && audit.contains("wave.links") && audit.contains("wave.closed"), "{audit}");
}

pub async fn an_open_link_matches_the_contact_by_email_or_keeps_the_answer_for_review(store: Store) {
    use rapport_web::respond::open_path;
    let addr = serve(&store).await;
    let invs = wave(&store, "2026-Q3", true).await;
    let wave_id = invs[0].wave_id;
    let link = store.open_link(wave_id, None).await.unwrap();
    let path = open_path(link.id, &link.secret);
    let (status, page) = get(&client(), addr, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Your work email") && page.contains("name=\"_company\""));
    assert!(!page.contains("value=\"save\"") && !page.contains("unsubscribe"), "no drafts and no unsubscribing here");
    let german =
        client().get(url(addr, &path)).header("accept-language", "de-DE,de;q=0.9,en;q=0.5").send().await.unwrap();
    assert!(german.text().await.unwrap().contains("Ihre geschäftliche E-Mail-Adresse"));

    let send = |form: Vec<(&'static str, &'static str)>| {
        let path = path.clone();
        async move {
            let res = client().post(url(addr, &path)).form(&form).send().await.unwrap();
            (res.status(), res.text().await.unwrap())
        }
    };
    let (status, page) = send(vec![("ltr", "9"), ("_email", "nope")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Give your work email address") && page.contains("Tell us which company"), "{page}");
    assert!(page.contains("name=\"ltr\" value=\"9\" checked"), "the answers stay filled in");

    let greta = named(&invs, "Greta Vogel");
    let (status, thanks) = send(vec![("ltr", "9"), ("_company", "Alpha"), ("_email", "GRETA@alpha.example")]).await;
    assert_eq!(status, StatusCode::OK, "{thanks}");
    assert!(thanks.contains("Thank you") && !thanks.contains("same link"), "{thanks}");
    assert_eq!(answers_of(&store, greta).await, 1, "matched to Greta by her email, in any case");
    let (status, _) =
        send(vec![("ltr", "3"), ("_company", "<b>Walk-in Ltd</b>"), ("_email", "visitor@walkin.example")]).await;
    assert_eq!(status, StatusCode::OK, "the same thank-you page: the form tells no one who is on file");
    let unmatched = store.unmatched_answers(wave_id, 10).await.unwrap();
    assert_eq!(unmatched.len(), 1);
    assert_eq!(
        (unmatched[0].company.as_str(), unmatched[0].email.as_str(), unmatched[0].ltr),
        ("<b>Walk-in Ltd</b>", "visitor@walkin.example", 3)
    );

    // One account's link: the company is given, and only that account's contacts match.
    let a2 = store.find_account_id("A2").await.unwrap().unwrap();
    let a2_link = store.open_link(wave_id, Some(a2)).await.unwrap();
    assert_eq!(store.open_link(wave_id, Some(a2)).await.unwrap().id, a2_link.id, "one link per account");
    let a2_path = open_path(a2_link.id, &a2_link.secret);
    let (_, page) = get(&client(), addr, &a2_path).await;
    assert!(page.contains("&#60;script&#62;alert") && !page.contains("name=\"_company\""), "{page}");
    let res = client()
        .post(url(addr, &a2_path))
        .form(&[("ltr", "5"), ("_email", "greta@alpha.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(answers_of(&store, greta).await, 1, "Greta is not at A2");
    assert_eq!(store.unmatched_answers(wave_id, 10).await.unwrap().len(), 2);

    let (status, _) = get(&client(), addr, &format!("/o/{}-{}", link.id, "f".repeat(40))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // QR codes: the wave's for those who run surveys, an account's for whoever sees it.
    let admin = sign_in(addr, "admin@test.example").await;
    let res = admin.get(url(addr, "/waves/2026-Q3/qr.png")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(&res.bytes().await.unwrap()[..4], b"\x89PNG");
    let (_, page) = get(&admin, addr, "/waves/2026-Q3").await;
    assert!(
        page.contains(&path) && page.contains("visitor@walkin.example") && page.contains("&#60;b&#62;Walk-in Ltd"),
        "{page}"
    );

    // The walk-in turns out to be Greta's colleague: filed under a contact, the answer counts
    // for the account, given when it was given, and leaves the list.
    let csrf = super::support::input_value(&page, "csrf");
    let walk_in = unmatched[0].id;
    let assign = format!("/waves/2026-Q3/unmatched/{walk_in}/assign");
    let res = admin.post(url(addr, &assign)).form(&[("csrf", csrf.as_str()), ("contact", "nobody@x.example")]).send();
    let res = res.await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("No contact has the email"));
    let person = named(&invs, "Person A1-1");
    let before = answers_of(&store, person).await;
    // Person A1-1 has no email on file: give them one, as an import would.
    rapport_store::import::import_reader(
        &store,
        Kind::Contacts,
        "contact_id,account_id,name,role,email\nA1-1,A1,Person A1-1,user,a1-1@alpha.example\n".as_bytes(),
        Default::default(),
        &mut |_| {},
    )
    .await
    .unwrap();
    let form = [("csrf", csrf.as_str()), ("contact", "A1-1@alpha.example")];
    let res = admin.post(url(addr, &assign)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(answers_of(&store, person).await, before + 1);
    assert!(store.unmatched_answers(wave_id, 10).await.unwrap().iter().all(|u| u.id != walk_in));
    let am1 = sign_in(addr, "am1@test.example").await;
    let (_, respondents) = get(&am1, addr, "/accounts/A1/respondents?format=csv&wave=2026-Q3").await;
    assert!(respondents.lines().any(|l| l.starts_with("Person A1-1,") && l.contains(",3,")), "{respondents}");
    let (_, their_page) = get(&am1, addr, "/waves/2026-Q3").await;
    let their_csrf = super::support::input_value(&their_page, "csrf");
    let form = [("csrf", their_csrf.as_str()), ("contact", "A1-1@alpha.example")];
    let res = am1.post(url(addr, &assign)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "account managers do not file answers");
    assert_eq!(get(&am1, addr, "/waves/2026-Q3/qr.svg").await.0, StatusCode::FORBIDDEN);
    let (status, svg) = get(&am1, addr, "/waves/2026-Q3/qr.svg?account=A1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(svg.contains("<svg"));
    assert_eq!(get(&am1, addr, "/waves/2026-Q3/qr.svg?account=B1").await.0, StatusCode::NOT_FOUND);
}

pub async fn answers_sent_at_once_are_each_stored_once_and_counted(store: Store) {
    let addr = serve(&store).await;
    let invs = wave(&store, "2026-Q3", true).await;
    // Every contact answers at the same moment, some twice: the writer stores them in shared
    // transactions, and each request is answered only once its answer is committed.
    let mut sent = Vec::new();
    for (i, inv) in invs.iter().enumerate() {
        for round in 0..(1 + i % 2) {
            let inv = inv.clone();
            let ltr = ((i + round) % 11).to_string();
            sent.push(tokio::spawn(
                async move { post(addr, &inv, &[("ltr", ltr.as_str()), ("delivery", "4")]).await.0 },
            ));
        }
    }
    let total = sent.len();
    for s in sent {
        assert_eq!(s.await.unwrap(), StatusCode::OK);
    }
    let mut stored = 0;
    for inv in &invs {
        stored += answers_of(&store, inv).await;
    }
    assert_eq!(stored as usize, total, "every thank-you page stands for exactly one stored answer");
    let progress = store.wave_progress(invs[0].wave_id).await.unwrap();
    assert_eq!(progress.answered as usize, invs.len());
    let incremental = store.dump_analytics().await.unwrap();
    store.rebuild_analytics().await.unwrap();
    assert_eq!(store.dump_analytics().await.unwrap(), incremental, "the cells equal a rebuild");
}

pub async fn a_link_that_floods_the_wave_with_answers_is_slowed(store: Store) {
    use rapport_web::state::PERSONAL_LINK_BURST;
    let addr = serve(&store).await;
    let invs = wave(&store, "2026-Q3", true).await;
    let inv = named(&invs, "Person A1-2");
    for _ in 0..PERSONAL_LINK_BURST {
        assert_eq!(post(addr, inv, &[("ltr", "8")]).await.0, StatusCode::OK);
    }
    let (status, page) = post(addr, inv, &[("ltr", "8")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("Wait a minute"), "{page}");
    assert_eq!(answers_of(&store, inv).await, i64::from(PERSONAL_LINK_BURST), "the refused answer is not stored");
    let other = named(&invs, "Person A1-0");
    assert_eq!(post(addr, other, &[("ltr", "8")]).await.0, StatusCode::OK, "other links are not slowed");
}

pub async fn surveys_are_made_from_the_template_and_edited_as_new_versions_in_the_app(store: Store) {
    let addr = serve(&store).await;
    let admin = sign_in(addr, "admin@test.example").await;
    let (status, page) = get(&admin, addr, "/surveys").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No survey yet") && page.contains("Save the survey"), "{page}");
    let csrf = super::support::input_value(&page, "csrf");

    // The built-in survey, for the company: the first wave can be run from the browser alone.
    let form = [("csrf", csrf.as_str()), ("company", "<b>Acme</b> Supply"), ("email", "cx@acme.example")];
    let res = admin.post(url(addr, "/surveys")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, "/surveys/B2B%20relationship%20survey?saved=1");
    let (_, page) = get(&admin, addr, &location).await;
    assert!(page.contains("Saved as version 1") && page.contains("<code>ltr</code>"), "{page}");
    assert!(page.contains("&#60;b&#62;Acme&#60;/b&#62; Supply") && !page.contains("<b>Acme"), "inert text");

    // Edited: a broken definition is sent back with where it broke, nothing saved.
    let path = "/surveys/B2B%20relationship%20survey";
    let mut survey = store.latest_survey("B2B relationship survey").await.unwrap().unwrap().survey;
    let res = admin.post(url(addr, path)).form(&[("csrf", csrf.as_str()), ("definition", "{\"name\": ")]).send();
    let res = res.await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("Line 1, column") && page.contains("Nothing was saved"), "{page}");
    survey.languages.clear();
    let invalid = serde_json::to_string(&survey).unwrap();
    let res = admin.post(url(addr, path)).form(&[("csrf", csrf.as_str()), ("definition", invalid.as_str())]).send();
    let res = res.await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("The survey was not saved"));
    let mut survey = store.latest_survey("B2B relationship survey").await.unwrap().unwrap().survey;
    survey.questions[0].text.insert("en".into(), "Would you recommend us to a peer?".into());
    let edited = serde_json::to_string_pretty(&survey).unwrap();
    let res = admin.post(url(addr, path)).form(&[("csrf", csrf.as_str()), ("definition", edited.as_str())]).send();
    assert_eq!(res.await.unwrap().status(), StatusCode::SEE_OTHER);
    let latest = store.latest_survey("B2B relationship survey").await.unwrap().unwrap();
    assert_eq!(
        (latest.version, latest.survey.questions[0].text["en"].as_str()),
        (2, "Would you recommend us to a peer?")
    );

    // Account managers read the questions, and change nothing.
    let am1 = sign_in(addr, "am1@test.example").await;
    let (status, page) = get(&am1, addr, path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Would you recommend us to a peer?") && !page.contains("Save as a new version"));
    let their_csrf = super::support::input_value(&page, "csrf");
    let res = am1.post(url(addr, path)).form(&[("csrf", their_csrf.as_str()), ("definition", edited.as_str())]).send();
    assert_eq!(res.await.unwrap().status(), StatusCode::FORBIDDEN);
    let saves = store.audit_log(50, None).await.unwrap().into_iter().filter(|e| e.action == "survey.save").count();
    assert_eq!(saves, 2);
}

pub async fn an_answer_whose_follow_up_fails_is_stored_all_the_same(store: Store) {
    let addr = serve(&store).await;
    let invs = wave(&store, "2026-Q3", true).await;
    // The follow-up cannot be written (its table is gone); the answer does not depend on it.
    let sql = "DROP TABLE task_responses";
    match &store {
        Store::Sqlite(db) => sqlx::query(sql).execute(db.readers()).await.map(|_| ()),
        Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
    let unhappy = named(&invs, "Person A1-1");
    let (status, thanks) = post(addr, unhappy, &[("ltr", "1"), ("action", "submit")]).await;
    assert_eq!(status, StatusCode::OK, "{thanks}");
    assert!(thanks.contains("Thank you"), "{thanks}");
    assert_eq!(answers_of(&store, unhappy).await, 1);
    let waiting = store.pending_answers(10).await.unwrap();
    assert_eq!(waiting.len(), 1, "the answer waits for the scanner, which will say what fails");
    assert_eq!(waiting[0].ltr, 1);
}
