//! Closing the loop: a detractor's answer reaches the account owner by email (once), an
//! overdue follow-up goes to the owner's manager, an account that falls into Problem raises
//! its alerts and a quadrant event, and webhooks get signed events, retried until taken.

use std::sync::{Arc, Mutex};

use rapport_store::outbox::Delivery;
use rapport_store::report_cache::ReportCache;
use rapport_store::tasks::{TaskFilter, TaskView};
use rapport_store::users::NewUser;
use rapport_store::{Kind, Store};
use rapport_test_utils::smtp::{SmtpServer, decoded, header};
use rapport_web::delivery::Mailer;
use rapport_web::follow_up::webhook::signature;
use rapport_web::follow_up::{FollowUp, ScanSummary, Timing};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

const PUBLIC: &str = "https://rapport.example";

/// Answers given an hour ago in wave 2026-Q4: (contact, LTR, comment).
async fn answer_now(store: &Store, answers: &[(&str, u8, &str)]) {
    let at = (OffsetDateTime::now_utc() - Duration::hours(1)).format(&Rfc3339).unwrap();
    let mut csv = String::from("contact_id,wave,submitted_at,ltr,comment\n");
    for (contact, ltr, comment) in answers {
        csv.push_str(&format!("{contact},2026-Q4,{at},{ltr},\"{comment}\"\n"));
    }
    rapport_store::import::import_reader(store, Kind::Responses, csv.as_bytes(), Default::default(), &mut |_| {})
        .await
        .unwrap();
}

fn follow_up(store: &Store, smtp: Option<&SmtpServer>) -> FollowUp {
    let mailer = smtp.map(|s| Mailer::new(&s.url(), Some("rapport@meridian.example".into())).unwrap());
    let timing = Timing { retry_base: Duration::milliseconds(20), ..Timing::default() };
    FollowUp::new(store.clone(), ReportCache::new(), mailer, PUBLIC).with_timing(timing)
}

pub async fn a_detractor_reaches_the_owner_once_and_an_overdue_follow_up_reaches_the_manager(store: Store) {
    let Some(smtp) = SmtpServer::start() else { return };
    super::support::load_portfolio(&store).await;
    let manager = NewUser {
        email: "am1@test.example".into(),
        name: "User am1@test.example".into(),
        role: rapport_core::user::Role::AccountManager,
        manager_email: Some("exec@test.example".into()),
    };
    store.upsert_user(&manager).await.unwrap();
    answer_now(&store, &[("A1-2", 2, "Deliveries late again: we will look at a competitor.")]).await;
    let fu = follow_up(&store, Some(&smtp));
    // The alert is raised as if two days ago, so that its deadline passes now: messages go
    // out at the time they are decided, and the mail server sees them at once.
    let now = OffsetDateTime::now_utc() - Duration::hours(49);
    let s = fu.scan(now).await.unwrap();
    assert_eq!((s.answers, s.alerts, s.escalations), (1, 1, 0), "{s:?}");
    assert_eq!(fu.deliver_due().await.unwrap(), 1);
    let mail = smtp.messages();
    assert_eq!(mail.len(), 1);
    let m = &mail[0];
    assert_eq!(header(m, "X-RcptTo"), Some("am1@test.example"));
    assert_eq!(header(m, "Subject"), Some("Follow up with Alpha Energy: Detractor answer"));
    let text = decoded(m);
    let task = store.list_tasks(&TaskFilter::default(), now, 10).await.unwrap().remove(0);
    assert!(text.contains(&format!("{PUBLIC}/tasks/{}", task.id)), "{text}");
    assert!(text.contains("likelihood to recommend 2 (a detractor); the comment mentions competitor"), "{text}");
    assert!(text.contains("Their comment: \"Deliveries late again"), "{text}");
    assert!((task.due_at - (now + Duration::hours(48))).abs() < Duration::milliseconds(1), "due in 48 hours");

    // Scanning again, before the deadline, tells no one anything new.
    assert_eq!(fu.scan(now).await.unwrap(), ScanSummary::default());
    assert_eq!(fu.deliver_due().await.unwrap(), 0);

    // The contact answers again in the wave, angrier: the answer joins the task already open
    // (no second alert, task or email).
    let at = (OffsetDateTime::now_utc() - Duration::minutes(30)).format(&Rfc3339).unwrap();
    let csv = format!("contact_id,wave,submitted_at,ltr,comment\nA1-2,2026-Q4,{at},0,We are cancelling\n");
    rapport_store::import::import_reader(&store, Kind::Responses, csv.as_bytes(), Default::default(), &mut |_| {})
        .await
        .unwrap();
    let s = fu.scan(now).await.unwrap();
    assert_eq!((s.answers, s.alerts), (1, 0), "{s:?}");
    assert_eq!(fu.deliver_due().await.unwrap(), 0);
    assert_eq!(store.list_tasks(&TaskFilter::default(), now, 10).await.unwrap().len(), 1);
    let linked = store.task_answers(task.id).await.unwrap();
    assert_eq!(linked.iter().map(|a| a.ltr).collect::<Vec<_>>(), [2, 0]);

    // Two days later (now), still open: the owner's manager hears of it, once.
    let later = OffsetDateTime::now_utc();
    assert_eq!(fu.scan(later).await.unwrap().escalations, 1);
    assert_eq!(fu.scan(later).await.unwrap().escalations, 0);
    fu.deliver_due().await.unwrap();
    let mail = smtp.messages();
    assert_eq!(mail.len(), 2);
    assert_eq!(header(&mail[1], "X-RcptTo"), Some("exec@test.example"));
    assert_eq!(header(&mail[1], "Subject"), Some("Overdue follow-up at Alpha Energy"));
    let task = store.find_task(task.id).await.unwrap().unwrap();
    assert_eq!(task.escalated_to.as_deref(), Some("exec@test.example"));
}

/// What the webhook receiver got: (headers we check, body).
type Deliveries = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// A receiver on loopback that answers 503 to its first `fail_first` requests, then 204.
async fn receiver(fail_first: usize) -> (std::net::SocketAddr, Deliveries) {
    use axum::http::{HeaderMap, StatusCode};
    let got: Deliveries = Default::default();
    let kept = got.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                let mut got = kept.lock().unwrap();
                got.push((h("x-rapport-event"), h("x-rapport-delivery"), h("x-rapport-signature"), body));
                if got.len() <= fail_first { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::NO_CONTENT }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, got)
}

pub async fn an_account_falling_into_problem_raises_its_alerts_and_signed_events_retried_until_taken(store: Store) {
    super::support::load_portfolio(&store).await;
    let (addr, got) = receiver(2).await;
    let secret = "whsec_test_secret";
    let url = format!("http://{addr}/hooks");
    store.add_webhook(&url, secret, &rapport_core::event::EventType::ALL).await.unwrap();
    // Alpha Energy was in Emulate in 2026-Q2 (NPS 33, billed above the median); now three
    // detractors, and it is the only account surveyed in 2026-Q4.
    answer_now(&store, &[("A1-0", 3, ""), ("A1-1", 4, ""), ("A1-2", 5, "")]).await;
    let fu = follow_up(&store, None);
    let s = fu.scan(OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!((s.answers, s.moves), (3, 1), "{s:?}");
    assert_eq!(s.alerts, 3 + 2, "three detractors, the NPS fall and entering Problem");
    let every = TaskFilter { view: TaskView::All, ..TaskFilter::default() };
    let tasks = store.list_tasks(&every, OffsetDateTime::now_utc(), 20).await.unwrap();
    let kinds: Vec<Option<String>> = tasks.into_iter().map(|t| t.alert_kind).collect();
    assert!(kinds.contains(&Some("problem".into())) && kinds.contains(&Some("nps_drop".into())), "{kinds:?}");

    // 3 response.submitted, 5 alert.raised, 1 account.quadrant_changed; the receiver refuses
    // the first two attempts, which are tried again.
    let hooks = || store.outbox_log(Some(Delivery::Webhook), None, None, 20);
    for _ in 0..50 {
        fu.deliver_due().await.unwrap();
        if hooks().await.unwrap().iter().all(|m| m.status == "done") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 9 + 2);
    let mut deliveries: Vec<&str> = got.iter().map(|d| d.1.as_str()).collect();
    deliveries.sort();
    deliveries.dedup();
    assert_eq!(deliveries.len(), 9, "each delivery keeps its id when retried");
    for (event, _, sig, body) in &got {
        let t: i64 = sig.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
        assert_eq!(sig, &signature(secret, t, body), "signed with the webhook's secret");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["type"], event.as_str());
    }
    let moved = got.iter().find(|d| d.0 == "account.quadrant_changed").unwrap();
    let json: serde_json::Value = serde_json::from_str(&moved.3).unwrap();
    assert_eq!((json["data"]["from"].as_str(), json["data"]["to"].as_str()), (Some("emulate"), Some("problem")));
    assert_eq!(json["data"]["account"]["id"], "A1");
    let log = hooks().await.unwrap();
    assert!(log.iter().all(|m| m.status == "done" && m.last_status == Some(204)), "{log:?}");
    assert_eq!(log.iter().map(|m| m.attempts).sum::<i32>(), 9 + 2);
    let waiting = store.outbox_log(Some(Delivery::Email), None, None, 20).await.unwrap();
    assert_eq!(waiting.len(), 5, "the owner's notifications wait for a server with a mail server");
    assert!(waiting.iter().all(|m| m.status == "queued" && m.attempts == 0));

    // Nothing moves again until the data does.
    assert_eq!(fu.scan(OffsetDateTime::now_utc()).await.unwrap(), ScanSummary::default());
}

pub async fn follow_ups_and_plans_in_the_app_follow_ownership_and_close_with_an_outcome(store: Store) {
    let addr = super::serve(&store).await;
    answer_now(&store, &[("A2-0", 1, "<b>bold</b> switch"), ("B1-0", 0, "cancel")]).await;
    follow_up(&store, None).scan(OffsetDateTime::now_utc()).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let all = store.list_tasks(&TaskFilter::default(), now, 10).await.unwrap();
    let a2 = all.iter().find(|t| t.account_external_id == "A2").unwrap().id;
    let b1 = all.iter().find(|t| t.account_external_id == "B1").unwrap().id;

    let am1 = super::sign_in(addr, "am1@test.example").await;
    let (status, page) = super::get(&am1, addr, "/tasks").await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("/tasks/{a2}")) && !page.contains(&format!("/tasks/{b1}")), "only their accounts");
    assert!(page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"), "the script-named account is text");
    assert!(!page.contains("<script>alert"), "{page}");
    assert_eq!(super::get(&am1, addr, &format!("/tasks/{b1}")).await.0, 404, "another manager's task does not exist");
    let (_, task_page) = super::get(&am1, addr, &format!("/tasks/{a2}")).await;
    assert!(
        task_page.contains("&#60;b&#62;bold&#60;/b&#62; switch") || task_page.contains("&lt;b&gt;bold"),
        "{task_page}"
    );

    let csrf = super::support::input_value(&task_page, "csrf");
    let post = |form: Vec<(&'static str, String)>, path: String| {
        let am1 = am1.clone();
        async move { am1.post(super::url(addr, &path)).form(&form).send().await.unwrap() }
    };
    let res =
        post(vec![("csrf", csrf.clone()), ("status", "done".into()), ("outcome", " ".into())], format!("/tasks/{a2}"));
    let res = res.await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("Say what was done"));
    // A refused outcome comes back as typed (escaped), the chosen status kept, with what to fix.
    let long = format!("<i>Called</i> {}", "x".repeat(4000));
    let res =
        post(vec![("csrf", csrf.clone()), ("status", "dropped".into()), ("outcome", long)], format!("/tasks/{a2}"));
    let res = res.await;
    assert_eq!(res.status(), 400);
    let again = res.text().await.unwrap();
    assert!(again.contains("longer than 4,000 characters"), "{again}");
    assert!(again.contains("&#60;i&#62;Called&#60;/i&#62; xxx") || again.contains("&lt;i&gt;Called"), "{again}");
    assert!(again.contains(r#"<option value="dropped" selected>"#), "the chosen status is kept");
    assert_eq!(store.find_task(a2).await.unwrap().unwrap().status, "open", "nothing was stored");
    let res = post(
        vec![("csrf", csrf.clone()), ("status", "done".into()), ("outcome", "Called them; credit note sent".into())],
        format!("/tasks/{a2}"),
    );
    assert_eq!(res.await.status(), 303);
    let done = store.find_task(a2).await.unwrap().unwrap();
    assert_eq!((done.status.as_str(), done.closed_by.as_deref()), ("done", Some("am1@test.example")));

    // An action plan item from the account page, linked to the answer it responds to.
    let answer = store.task_answers(a2).await.unwrap()[0].response_id;
    let res = post(
        vec![
            ("csrf", csrf.clone()),
            ("description", "Quarterly review with their COO".into()),
            ("function", "executive".into()),
            ("due", "2099-12-15".into()),
            ("answers", format!("{answer}")),
        ],
        "/accounts/A2/tasks".into(),
    );
    assert_eq!(res.await.status(), 303);
    let (_, account) = super::get(&am1, addr, "/accounts/A2").await;
    assert!(account.contains("Quarterly review with their COO") && account.contains("Called them; credit note sent"));
    let bad = post(
        vec![
            ("csrf", csrf.clone()),
            ("description", "x".into()),
            ("function", "legal".into()),
            ("due", "2099-12-15".into()),
        ],
        "/accounts/A2/tasks".into(),
    );
    assert_eq!(bad.await.status(), 400);
    // A task nobody can close, or one overdue (and escalated) the moment it is made, is refused.
    for (owner, due, says) in [
        ("nobody@x.example", "2099-12-15", "No user has the email &#39;nobody@x.example&#39;"),
        ("", "2025-01-01", "The due date 2025-01-01 is past"),
    ] {
        let res = post(
            vec![
                ("csrf", csrf.clone()),
                ("description", "Call them".into()),
                ("function", "sales".into()),
                ("owner", owner.into()),
                ("due", due.into()),
            ],
            "/accounts/A2/tasks".into(),
        )
        .await;
        assert_eq!(res.status(), 400);
        let page = res.text().await.unwrap();
        assert!(page.contains(says), "{page}");
        // The account page again, with the item as typed and what to fix beside the form.
        assert!(page.contains("<h2>Action plan and follow-ups</h2>"), "{page}");
        assert_eq!(super::support::input_value(&page, "description"), "Call them");
        assert_eq!(super::support::input_value(&page, "due"), due);
        assert!(page.contains(r#"<option value="sales" selected>"#), "{page}");
    }
    let foreign = post(
        vec![
            ("csrf", csrf),
            ("description", "Steal".into()),
            ("function", "sales".into()),
            ("due", "2099-12-15".into()),
        ],
        "/accounts/B1/tasks".into(),
    );
    assert_eq!(foreign.await.status(), 404, "not on another manager's account");
    let (_, summary) = super::get(&am1, addr, "/tasks?view=closed").await;
    assert!(summary.contains("Called them; credit note sent") || summary.contains(&format!("/tasks/{a2}")));
}

pub async fn administrators_set_the_rules_and_webhooks_and_see_the_delivery_log(store: Store) {
    let addr = super::serve(&store).await;
    let admin = super::sign_in(addr, "admin@test.example").await;
    let (_, page) = super::get(&admin, addr, "/settings").await;
    let csrf = super::support::input_value(&page, "csrf");
    let res = admin
        .post(super::url(addr, "/settings/alerts"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("detractor", "on"),
            ("nps_drop", "15"),
            ("watch_words", "Refund, churn"),
            ("deadline_hours", "24"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let rules = store.alert_rules().await.unwrap();
    assert_eq!((rules.detractor, rules.problem, rules.nps_drop, rules.deadline_hours), (true, false, Some(15), 24));
    assert_eq!(rules.watch_words, vec!["refund", "churn"]);
    let bad = admin
        .post(super::url(addr, "/settings/alerts"))
        .form(&[("csrf", csrf.as_str()), ("deadline_hours", "0"), ("watch_words", "cancel, <b>lawyer</b>")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let again = bad.text().await.unwrap();
    assert!(again.contains("between 1 and 720 hours"), "{again}");
    assert!(again.contains(r#"action="/settings/alerts#rules""#), "{again}");
    assert!(
        again.contains("cancel, &#60;b&#62;lawyer") || again.contains("cancel, &lt;b&gt;lawyer"),
        "kept, as text: {again}"
    );
    assert!(again.contains(r#"name="deadline_hours" value="0""#), "{again}");
    assert!(!again.contains(r#"name="detractor" checked"#), "the unticked box stays unticked");
    assert_eq!(store.alert_rules().await.unwrap().deadline_hours, 24, "nothing saved");

    let res = admin
        .post(super::url(addr, "/settings/webhooks"))
        .body(format!("csrf={csrf}&url=https%3A%2F%2Fhooks.example%2Frapport&events=alert.raised&events=task.overdue"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let page = res.text().await.unwrap();
    let hooks = store.list_webhooks().await.unwrap();
    assert_eq!(hooks.len(), 1);
    assert!(page.contains(&hooks[0].secret), "the secret is shown once, on this page");
    assert_eq!(hooks[0].events.len(), 2);
    let (_, again) = super::get(&admin, addr, "/settings").await;
    assert!(!again.contains(&hooks[0].secret), "and never again");
    let bad = admin
        .post(super::url(addr, "/settings/webhooks"))
        .body(format!("csrf={csrf}&url=ftp%3A%2F%2Fx&events=alert.raised"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let again = bad.text().await.unwrap();
    assert!(again.contains(r#"name="url" required value="ftp://x""#), "the URL as typed: {again}");
    assert!(again.contains(r#"value="alert.raised" checked"#) && !again.contains(r#"value="task.overdue" checked"#));
    assert_eq!(store.list_webhooks().await.unwrap().len(), 1, "nothing added");
    // A cadence refused for its numbers comes back as typed, its survey still chosen.
    let bad = admin
        .post(super::url(addr, "/settings/cadence"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("period", "monthly"),
            ("start", "2099-01-01"),
            ("survey", "B2B relationship survey"),
            ("wave_days", "three weeks"),
            ("remind_after", "7"),
            ("reminders", "1"),
            ("review_within", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let again = bad.text().await.unwrap();
    assert!(again.contains("three weeks&#39; is not a whole number"), "{again}");
    assert!(again.contains(r#"name="wave_days" size="3" value="three weeks""#), "{again}");
    assert!(again.contains(r#"<option value="monthly" selected>"#) && again.contains(r#"value="2099-01-01""#));
    assert!(store.cadence().await.unwrap().is_none(), "nothing saved");
    let analyst = super::sign_in(addr, "analyst@test.example").await;
    let (_, page) = super::get(&analyst, addr, "/tasks").await;
    let csrf = super::support::input_value(&page, "csrf");
    let res = analyst
        .post(super::url(addr, "/settings/alerts"))
        .form(&[("csrf", csrf.as_str()), ("deadline_hours", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "only administrators change the rules");
}

pub async fn sponsors_go_to_the_highest_priority_accounts_and_more_than_three_is_flagged(store: Store) {
    let addr = super::serve(&store).await;
    // B1 has the largest billed revenue and sits in Problem in 2026-Q2: it ranks first.
    let admin = super::sign_in(addr, "admin@test.example").await;
    let (status, page) = super::get(&admin, addr, "/sponsors").await;
    assert_eq!(status, 200);
    let ranking = &page[page.find("Accounts by sponsor priority").expect("the ranking")..];
    let first = ranking.find("<td class=\"num\">1</td>").expect("a ranked list");
    assert!(ranking[first..].split("</tr>").next().unwrap().contains("/accounts/B1"), "B1 ranks first");
    assert!(!page.contains("<script>alert"), "hostile names are text");
    let csrf = super::support::input_value(&page, "csrf");
    let assign = |account: &'static str, sponsor: &'static str| {
        let (admin, csrf) = (admin.clone(), csrf.clone());
        async move {
            admin
                .post(super::url(addr, "/sponsors"))
                .form(&[("csrf", csrf.as_str()), ("account_id", account), ("sponsor", sponsor)])
                .send()
                .await
                .unwrap()
        }
    };
    for account in ["A2", "B1"] {
        assert_eq!(assign(account, "exec@test.example").await.status(), 303);
    }
    let (_, page) = super::get(&admin, addr, "/sponsors?assigned=exec%40test.example").await;
    assert!(page.contains("sponsors 3 accounts."), "three is within the guidance");
    assert!(!page.contains("the guidance is 2-3"));
    let res = assign("B2", "exec@test.example").await;
    assert_eq!(res.headers()["location"], "/sponsors?assigned=exec%40test.example");
    let (_, page) = super::get(&admin, addr, "/sponsors?assigned=exec%40test.example").await;
    assert!(page.contains("sponsors 4 accounts: the guidance is 2-3 per executive"), "four is flagged");
    assert_eq!(store.find_account_id("B2").await.unwrap().map(|_| ()), Some(()));
    let res = assign("B2", "am1@test.example").await;
    assert_eq!(res.status(), 400, "only an executive can sponsor");
    assert_eq!(assign("NOPE", "exec@test.example").await.status(), 404);
    assert_eq!(assign("B2", "").await.status(), 303, "an empty choice removes the sponsor");

    // The executive sees their accounts ringed on the dashboard; an account manager's ranking
    // holds only their own accounts; only administrators assign.
    let exec = super::sign_in(addr, "exec@test.example").await;
    let (_, dash) = super::get(&exec, addr, "/").await;
    assert!(dash.contains("Alpha Energy") && dash.contains("sponsored"), "the executive's view of their accounts");
    let am2 = super::sign_in(addr, "am2@test.example").await;
    let (_, page) = super::get(&am2, addr, "/sponsors").await;
    assert!(page.contains("/accounts/B1") && !page.contains("/accounts/A1\""), "only their accounts");
    let csrf = super::support::input_value(&page, "csrf");
    let res = am2
        .post(super::url(addr, "/sponsors"))
        .form(&[("csrf", csrf.as_str()), ("account_id", "B1"), ("sponsor", "exec@test.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

pub async fn a_briefing_splits_the_discussion_and_a_recorded_meeting_becomes_actions(store: Store) {
    let addr = super::serve(&store).await;
    let am1 = super::sign_in(addr, "am1@test.example").await;
    let (status, page) = super::get(&am1, addr, "/accounts/A1/briefing").await;
    assert_eq!(status, 200);
    for text in [
        "For the executive",
        "For the account manager",
        "Where the account stands:",
        "What can I do to improve your satisfaction and loyalty?",
        "What can the company do to improve?",
        "What is everything necessary for you to become totally satisfied?",
        "Person A1-2",
        "The portfolio's trend",
    ] {
        assert!(page.contains(text), "{text} in the briefing");
    }
    assert!(page.contains("Done in the last 90 days <small>(no review recorded;"), "no review yet");
    // The weakest experience leaves out what a survey asks as importance: a brand that matters
    // little to them (1 of 5) is nothing to fix; a delivery rated 2 is.
    store.save_survey(&rapport_core::survey::relationship_template(rapport_demo::survey::sender())).await.unwrap();
    let rated = "contact_id,wave,submitted_at,ltr,brand,delivery\n\
                 A1-0,2026-Q2,2026-05-11T10:00:00Z,9,1,2\n\
                 A1-1,2026-Q2,2026-05-11T10:00:00Z,10,1,3\n";
    rapport_store::import::import_reader(&store, Kind::Responses, rated.as_bytes(), Default::default(), &mut |_| {})
        .await
        .unwrap();
    let (_, page) = super::get(&am1, addr, "/accounts/A1/briefing").await;
    assert!(page.contains("Their weakest experience is delivery (2.5 of 5)"), "{page}");
    let (_, hostile) = super::get(&am1, addr, "/accounts/A2/briefing").await;
    assert!(!hostile.contains("<script>alert"), "the script-named account is text");

    let csrf = super::support::input_value(&page, "csrf");
    let record = |form: Vec<(&'static str, String)>| {
        let am1 = am1.clone();
        async move { am1.post(super::url(addr, "/accounts/A1/briefing")).form(&form).send().await.unwrap() }
    };
    let empty = record(vec![("csrf", csrf.clone()), ("held_on", "2026-11-20".into())]).await;
    assert_eq!(empty.status(), 400);
    let bad = record(vec![("csrf", csrf.clone()), ("held_on", "20/11/2026".into()), ("notes", "x".into())]).await;
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text().await.unwrap().contains("The meeting date: &#39;20/11/2026&#39; is not a date: write YYYY-MM-DD")
    );
    let future = record(vec![
        ("csrf", csrf.clone()),
        ("held_on", "2099-05-01".into()),
        ("notes", "An hour of notes & <more>".into()),
        ("outcomes", "service: Call back".into()),
    ])
    .await;
    assert_eq!(future.status(), 400);
    let refused = future.text().await.unwrap();
    assert!(refused.contains("The meeting date 2099-05-01 is after today"));
    // The briefing again with the meeting as typed (escaped), so nothing has to be written twice.
    assert_eq!(super::support::input_value(&refused, "held_on"), "2099-05-01");
    assert!(refused.contains(">An hour of notes &#38; &#60;more&#62;</textarea>"), "{refused}");
    assert!(refused.contains(">service: Call back</textarea>"), "{refused}");
    let res = record(vec![
        ("csrf", csrf.clone()),
        ("held_on", "2026-11-20".into()),
        ("notes", "They want <b>faster</b> deliveries".into()),
        ("outcomes", "service: Review the delivery slots\nexecutive: Call their CFO\nSend the price list".into()),
        ("due", "2026-12-31".into()),
    ])
    .await;
    assert_eq!(res.status(), 303);
    let a1 = store.find_account_id("A1").await.unwrap().unwrap();
    let filter = TaskFilter { view: TaskView::All, account_id: Some(a1), ..TaskFilter::default() };
    let mut actions: Vec<(String, String, Option<String>)> = store
        .list_tasks(&filter, OffsetDateTime::now_utc(), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.function, t.description, t.owner_email))
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        vec![
            ("executive".into(), "Call their CFO".into(), Some("exec@test.example".into())),
            ("sales".into(), "Send the price list".into(), Some("am1@test.example".into())),
            ("service".into(), "Review the delivery slots".into(), Some("am1@test.example".into())),
        ],
        "outcomes become actions: the executive's go to the sponsor"
    );
    let (_, page) = super::get(&am1, addr, "/accounts/A1/briefing").await;
    assert!(
        page.contains("They want &#60;b&#62;faster&#60;/b&#62; deliveries")
            || page.contains("They want &lt;b&gt;faster")
    );
    assert!(
        page.contains("Done since the last review <small>(2026-11-20)</small>"),
        "the next briefing starts from this one"
    );
    assert!(page.contains("Report on the 1 open executive action on the plan."));

    let am2 = super::sign_in(addr, "am2@test.example").await;
    assert_eq!(super::get(&am2, addr, "/accounts/A1/briefing").await.0, 404);
}

pub async fn a_cycle_opens_its_wave_books_the_reviews_and_reports_the_previous_actions(store: Store) {
    use rapport_core::cadence::{Cadence, CyclePeriod};
    use rapport_core::task::{Function, TaskStatus};
    use rapport_store::tasks::NewTask;
    super::support::load_portfolio(&store).await;
    let survey = rapport_core::survey::relationship_template(rapport_demo::survey::sender());
    store.save_survey(&survey).await.unwrap();
    let real_now = OffsetDateTime::now_utc();
    // Two actions written in the cycle before: one done, one still open.
    let a1 = store.find_account_id("A1").await.unwrap().unwrap();
    let action = |what: &str| NewTask {
        account_id: a1,
        description: what.into(),
        function: Function::Sales,
        owner_email: Some("am1@test.example".into()),
        due_at: real_now + Duration::days(60),
        created_by: None,
        response_ids: vec![],
    };
    let done = store.add_task(&action("Send the new price list"), real_now).await.unwrap();
    store.add_task(&action("Plan the site visit"), real_now).await.unwrap();
    store.update_task(done, TaskStatus::Done, Some("Sent"), None, real_now).await.unwrap();

    let start = real_now.date().next_day().unwrap();
    let cadence = Cadence {
        period: CyclePeriod::Quarterly,
        next_start: start,
        survey: survey.name.clone(),
        wave_days: 21,
        remind_after_days: 7,
        max_reminders: 1,
        review_within_days: 30,
    };
    store.save_cadence(Some(&cadence), Some("admin@test.example"), real_now).await.unwrap();
    let fu = follow_up(&store, None);
    assert_eq!(fu.scan(real_now).await.unwrap().cycle, None, "not before its first day");

    let then = start.midnight().assume_utc() + Duration::hours(1);
    let cycle = cadence.cycle(start);
    assert_eq!(fu.scan(then).await.unwrap().cycle.as_deref(), Some(cycle.wave.as_str()));
    let waves = store.list_waves().await.unwrap();
    let wave = waves.iter().find(|w| w.name == cycle.wave).expect("the cycle's wave");
    assert_eq!((wave.status.as_str(), wave.opens_on, wave.closes_on), ("open", Some(cycle.opens), Some(cycle.closes)));
    assert!(store.wave_progress(wave.id).await.unwrap().invited > 0);

    // A review meeting for the sponsored account, owned by its sponsor, due after the close.
    let reviews: Vec<_> = store
        .list_tasks(&TaskFilter { function: Some(Function::Executive), ..TaskFilter::default() }, then, 10)
        .await
        .unwrap();
    assert_eq!(reviews.len(), 1, "A1 is the only sponsored account");
    assert_eq!(reviews[0].owner_email.as_deref(), Some("exec@test.example"));
    assert_eq!(reviews[0].due_at.date(), cycle.reviews_due);
    assert!(reviews[0].description.starts_with("Review meeting with Alpha Energy"));

    // The administrators hear how the previous cycle's actions stand.
    let mail = store.outbox_log(Some(Delivery::Email), None, None, 10).await.unwrap();
    let report = mail.iter().find(|m| m.recipient == "admin@test.example").expect("a report to the administrator");
    assert!(report.body.contains("The previous cycle's 2 actions"), "{}", report.body);
    assert!(report.body.contains("sales: 1 closed, 1 open, 0 overdue"), "{}", report.body);

    // Once per cycle, whoever scans; the next one is a quarter later.
    assert_eq!(fu.scan(then + Duration::hours(1)).await.unwrap().cycle, None);
    assert_eq!(store.cadence().await.unwrap().unwrap().next_start, cycle.next_start);

    // A cycle missed entirely (servers down) is skipped, not sent late.
    let late = cycle.next_start.midnight().assume_utc() + Duration::days(40);
    assert_eq!(fu.scan(late).await.unwrap().cycle, None);
    assert!(!store.list_waves().await.unwrap().iter().any(|w| w.name == cadence.cycle(cycle.next_start).wave));
    assert_eq!(store.cadence().await.unwrap().unwrap().next_start, cadence.cycle(cycle.next_start).next_start);
}
