//! The web app over real HTTP on loopback, on SQLite and PostgreSQL: sign-in, sessions and
//! CSRF, who may see what (every route for every role), escaping, downloads.

#[path = "web/assessment.rs"]
mod assessment;
#[path = "web/delivery.rs"]
mod delivery;
#[path = "web/follow_up.rs"]
mod follow_up;
#[path = "web/hostile.rs"]
mod hostile;
#[path = "web/respond.rs"]
mod respond;
mod support;
#[path = "web/users.rs"]
mod users;

use std::net::SocketAddr;

use assessment::*;
use delivery::*;
use follow_up::*;
use hostile::*;
use rapport_store::Store;
use rapport_test_utils::{cases, run_on_both};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use respond::*;
use support::{FORMULA_NAME, PASSWORD, SCRIPT_NAME, input_value, load_portfolio, start};
use users::*;

fn main() {
    run_on_both(cases![
        every_route_answers_each_role_as_the_authorization_matrix_says,
        an_account_manager_sees_only_their_own_accounts_everywhere,
        sign_in_starts_a_fresh_session_and_sign_out_ends_it,
        a_wrong_password_or_unknown_email_is_refused_alike,
        forms_without_their_csrf_token_are_refused,
        the_first_run_creates_the_administrator,
        hostile_names_and_comments_are_inert_text_on_pages_and_in_downloads,
        the_dashboard_shows_the_figures_of_the_reports,
        downloads_follow_the_view_filters,
        every_response_carries_the_security_headers,
        bad_input_gets_a_clear_error_page,
        a_share_link_shows_a_read_only_view_until_it_is_revoked,
        a_share_link_never_shows_more_than_its_maker_sees,
        an_expired_share_link_shows_nothing,
        the_migration_and_segment_views_draw_what_the_reports_count,
        an_executive_sees_the_accounts_they_sponsor_highlighted,
        cached_pages_follow_new_answers_and_each_viewers_scope,
        repeated_sign_in_attempts_for_one_email_are_slowed,
        the_audit_log_records_sign_ins_exports_and_shares,
        operators_see_readiness_and_metrics,
        a_contact_answers_from_their_personal_link_and_it_counts_at_once,
        an_answer_whose_follow_up_fails_is_stored_all_the_same,
        saving_keeps_a_draft_and_a_second_answer_keeps_the_first_as_history,
        bad_input_on_the_response_page_gets_a_clear_page_and_stores_nothing,
        a_wave_that_is_not_open_says_so_and_takes_nothing,
        the_survey_speaks_the_contacts_language,
        unsubscribing_asks_first_and_keeps_the_contact_out_of_later_waves,
        the_surveys_pages_show_live_response_rates_and_let_analysts_run_waves,
        an_open_link_matches_the_contact_by_email_or_keeps_the_answer_for_review,
        answers_sent_at_once_are_each_stored_once_and_counted,
        a_link_that_floods_the_wave_with_answers_is_slowed,
        invitations_go_out_by_email_once_each_in_the_contacts_language,
        an_unreachable_mail_server_is_tried_again_later,
        reminders_go_to_those_who_have_not_answered_as_often_as_set,
        what_changed_since_queueing_is_checked_as_each_message_goes_out,
        a_mail_server_that_stalls_is_cut_off_within_the_lease,
        text_messages_go_through_the_sms_gateway_and_refusals_are_recorded,
        a_detractor_reaches_the_owner_once_and_an_overdue_follow_up_reaches_the_manager,
        an_account_falling_into_problem_raises_its_alerts_and_signed_events_retried_until_taken,
        follow_ups_and_plans_in_the_app_follow_ownership_and_close_with_an_outcome,
        administrators_set_the_rules_and_webhooks_and_see_the_delivery_log,
        sponsors_go_to_the_highest_priority_accounts_and_more_than_three_is_flagged,
        a_briefing_splits_the_discussion_and_a_recorded_meeting_becomes_actions,
        a_cycle_opens_its_wave_books_the_reviews_and_reports_the_previous_actions,
        the_portfolio_assessment_follows_scope_and_the_definition_is_versioned,
        hostile_values_go_in_everywhere_and_come_out_inert,
        surveys_are_made_from_the_template_and_edited_as_new_versions_in_the_app,
        administrators_add_people_give_new_passwords_and_remove_sign_ins,
    ]);
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("an HTTP client")
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

async fn sign_in(addr: SocketAddr, email: &str) -> reqwest::Client {
    let c = client();
    let page = c.get(url(addr, "/sign-in")).send().await.unwrap().text().await.unwrap();
    let csrf = input_value(&page, "csrf");
    let res = c
        .post(url(addr, "/sign-in"))
        .form(&[("email", email), ("password", PASSWORD), ("csrf", &csrf), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signing in as {email}");
    c
}

async fn get(c: &reqwest::Client, addr: SocketAddr, path: &str) -> (StatusCode, String) {
    let res = c.get(url(addr, path)).send().await.unwrap();
    let status = res.status();
    (status, res.text().await.unwrap_or_default())
}

async fn serve(store: &Store) -> SocketAddr {
    load_portfolio(store).await;
    start(store).await
}

async fn every_route_answers_each_role_as_the_authorization_matrix_says(store: Store) {
    let addr = serve(&store).await;
    const OK: u16 = 200;
    const SIGN_IN: u16 = 303;
    const NOT_FOUND: u16 = 404;
    // Route, then the status for: anonymous, admin, analyst, executive, am1 (owns A*), am2 (owns B*).
    const FORBIDDEN: u16 = 403;
    let matrix: [(&str, [u16; 6]); 53] = [
        ("/waves/no-such-wave/links.csv", [SIGN_IN, NOT_FOUND, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN]),
        ("/waves/no-such-wave/qr.svg", [SIGN_IN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
        ("/waves/no-such-wave/qr.png?account=B1", [SIGN_IN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
        ("/surveys", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/surveys/no-such-survey", [SIGN_IN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
        ("/ideal", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/reports/portfolio", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/reports/ideal?compare=0&format=csv", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/reports/squeaky-wheel?since=2026-Q1", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/reports/risk?format=xlsx", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/reports/relationships?until=nonsense", [SIGN_IN, 400, 400, 400, 400, 400]),
        ("/accounts/A1/briefing", [SIGN_IN, OK, OK, OK, OK, NOT_FOUND]),
        ("/accounts/B1/briefing", [SIGN_IN, OK, OK, OK, NOT_FOUND, OK]),
        ("/sponsors", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/tasks", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/tasks?view=overdue&function=sales", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/tasks?view=nonsense", [SIGN_IN, 400, 400, 400, 400, 400]),
        ("/tasks/999999", [SIGN_IN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
        ("/settings", [SIGN_IN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN]),
        ("/waves", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/waves/no-such-wave", [SIGN_IN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
        ("/charts/trend.svg?vertical=Retail", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/accounts/A1/chart.svg", [SIGN_IN, OK, OK, OK, OK, NOT_FOUND]),
        ("/audit", [SIGN_IN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN]),
        ("/tokens", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/users", [SIGN_IN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN]),
        ("/password", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/sign-in", [OK, OK, OK, OK, OK, OK]),
        ("/setup", [SIGN_IN, SIGN_IN, SIGN_IN, SIGN_IN, SIGN_IN, SIGN_IN]),
        ("/readyz", [OK, OK, OK, OK, OK, OK]),
        ("/metrics", [OK, OK, OK, OK, OK, OK]),
        ("/static/app.css", [OK, OK, OK, OK, OK, OK]),
        ("/static/table.js", [OK, OK, OK, OK, OK, OK]),
        ("/api/v1/openapi.json", [OK, OK, OK, OK, OK, OK]),
        ("/accounts/A1/respondents?format=csv", [SIGN_IN, OK, OK, OK, OK, NOT_FOUND]),
        ("/accounts/B2/respondents?format=xlsx&wave=2026-Q1", [SIGN_IN, OK, OK, OK, NOT_FOUND, OK]),
        ("/shares", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/s/0123456789abcdef", [NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
        ("/", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/?vertical=Energy&wave=2026-Q1", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/charts/matrix.svg", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/accounts/A1", [SIGN_IN, OK, OK, OK, OK, NOT_FOUND]),
        ("/accounts/B1", [SIGN_IN, OK, OK, OK, NOT_FOUND, OK]),
        ("/accounts/NOPE", [SIGN_IN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
        ("/reports", [SIGN_IN, SIGN_IN, SIGN_IN, SIGN_IN, SIGN_IN, SIGN_IN]),
        ("/reports/quadrants", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/reports/migration?format=csv", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/reports/nps?by=vertical&format=xlsx", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/reports/drivers", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/reports/comments?format=csv", [SIGN_IN, OK, OK, OK, OK, OK]),
        ("/reports/nonsense", [SIGN_IN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
        ("/healthz", [OK, OK, OK, OK, OK, OK]),
        ("/no/such/page", [NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND]),
    ];
    let mut clients = vec![("anonymous", client())];
    for email in
        ["admin@test.example", "analyst@test.example", "exec@test.example", "am1@test.example", "am2@test.example"]
    {
        clients.push((email, sign_in(addr, email).await));
    }
    let mut wrong = Vec::new();
    for (path, expected) in matrix {
        for ((who, c), want) in clients.iter().zip(expected) {
            let (status, _) = get(c, addr, path).await;
            // /reports redirects everyone who is signed in to its first report.
            let want = if path == "/reports" && *who != "anonymous" { 303 } else { want };
            if status.as_u16() != want {
                wrong.push(format!("GET {path} as {who}: {status}, expected {want}"));
            }
        }
    }
    // Every form route, posted without its CSRF token: the anonymous are sent to sign in,
    // everyone else is refused, whatever their role.
    for path in [
        "/sign-out",
        "/shares",
        "/shares/1/revoke",
        "/waves",
        "/waves/x/send",
        "/waves/x/open",
        "/waves/x/close",
        "/waves/x/unmatched/1/assign",
        "/surveys",
        "/surveys/x",
        "/tasks/1",
        "/accounts/A1/tasks",
        "/settings/alerts",
        "/settings/webhooks",
        "/settings/webhooks/1/remove",
        "/ideal",
        "/users",
        "/users/1",
        "/users/1/password",
        "/users/1/remove",
        "/password",
    ] {
        for ((who, c), want) in clients.iter().zip([SIGN_IN, 403, 403, 403, 403, 403]) {
            let res = c
                .post(url(addr, path))
                .form(&[("csrf", "forged"), ("kind", "dashboard"), ("target", ""), ("days", "7")])
                .send()
                .await
                .unwrap();
            if res.status().as_u16() != want {
                wrong.push(format!("POST {path} as {who}: {}, expected {want}", res.status()));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

async fn an_account_manager_sees_only_their_own_accounts_everywhere(store: Store) {
    let addr = serve(&store).await;
    let am1 = sign_in(addr, "am1@test.example").await;
    let (_, dashboard) = get(&am1, addr, "/").await;
    assert!(dashboard.contains("Alpha Energy"), "{dashboard}");
    assert!(!dashboard.contains("Beta &amp; Sons"), "am1 sees am2's account on the dashboard");
    // Another owner in the URL does not widen the scope.
    let (_, csv) = get(&am1, addr, "/reports/quadrants?format=csv&owner=am2@test.example").await;
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");
    let (_, csv) = get(&am1, addr, "/reports/quadrants?format=csv").await;
    let ids: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(ids.len(), 2, "{csv}");
    assert!(ids.contains(&"A1") && ids.contains(&"A2"), "{csv}");
    // Aggregates too: am1's NPS is over A1 and A2 only: 9,10,6,10,10: 4 promoters, 1 detractor: 60.0.
    let (_, nps) = get(&am1, addr, "/reports/nps?format=csv").await;
    assert!(nps.contains("\nall,5,4,0,1,60.0,"), "{nps}");
    let (_, svg) = get(&am1, addr, "/charts/matrix.svg").await;
    assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
    // Comments too: only B1's contacts (am2's account) commented.
    let (_, comments) = get(&am1, addr, "/reports/comments?format=csv").await;
    assert_eq!(comments.lines().count(), 1, "only the header: {comments}");
    let am2 = sign_in(addr, "am2@test.example").await;
    let (_, comments) = get(&am2, addr, "/reports/comments?format=csv").await;
    assert_eq!(comments.lines().skip(1).filter(|l| l.starts_with("B1,")).count(), 2, "{comments}");
    // Narrowed to a theme: B1's comments use no theme's words.
    let (_, other) = get(&am2, addr, "/reports/comments?format=csv&theme=other").await;
    assert_eq!(other, comments);
    let (_, delivery) = get(&am2, addr, "/reports/comments?format=csv&theme=delivery").await;
    assert_eq!(delivery.lines().count(), 1, "only the header: {delivery}");
    let (status, page) = get(&am2, addr, "/reports/comments?theme=weather").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("there is no theme &#39;weather&#39;"), "{page}");
    let (_, page) = get(&am2, addr, "/reports/comments?theme=other").await;
    assert!(page.contains("<option selected>other</option>"), "the theme picked stays picked");
    // The owner filter is not offered to an account manager.
    assert!(!dashboard.contains("name=\"owner\""));
}

async fn sign_in_starts_a_fresh_session_and_sign_out_ends_it(store: Store) {
    let addr = serve(&store).await;
    let c = client();
    let page = c.get(url(addr, "/sign-in?next=/accounts/A1")).send().await.unwrap().text().await.unwrap();
    assert_eq!(input_value(&page, "next"), "/accounts/A1");
    let csrf = input_value(&page, "csrf");
    let res = c
        .post(url(addr, "/sign-in"))
        .form(&[("email", "ADMIN@test.example"), ("password", PASSWORD), ("csrf", &csrf), ("next", "/accounts/A1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/accounts/A1", "back where the user was going");
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("rapport_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    let (status, dashboard) = get(&c, addr, "/").await;
    assert_eq!(status, 200);
    let csrf = input_value(&dashboard, "csrf");
    let res = c.post(url(addr, "/sign-out")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The old token is gone from the database: replaying it signs no one in.
    let token = cookie.split(';').next().unwrap().to_string();
    let replay = client().get(url(addr, "/")).header("cookie", token).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert!(replay.headers()["location"].to_str().unwrap().starts_with("/sign-in"));
    // A redirect target on another site is not followed.
    let c = client();
    let page = c.get(url(addr, "/sign-in")).send().await.unwrap().text().await.unwrap();
    let csrf = input_value(&page, "csrf");
    let res = c
        .post(url(addr, "/sign-in"))
        .form(&[("email", "admin@test.example"), ("password", PASSWORD), ("csrf", &csrf), ("next", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/");
}

async fn a_wrong_password_or_unknown_email_is_refused_alike(store: Store) {
    let addr = serve(&store).await;
    let mut pages = Vec::new();
    for (email, password) in [("admin@test.example", "wrong password!"), ("nobody@test.example", PASSWORD)] {
        let c = client();
        let page = c.get(url(addr, "/sign-in")).send().await.unwrap().text().await.unwrap();
        let csrf = input_value(&page, "csrf");
        let res = c
            .post(url(addr, "/sign-in"))
            .form(&[("email", email), ("password", password), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let html = res.text().await.unwrap();
        assert!(html.contains("That email and password do not match"), "{html}");
        pages.push(html.replace(email, ""));
        assert_eq!(get(&c, addr, "/").await.0, StatusCode::SEE_OTHER, "still signed out");
    }
}

async fn forms_without_their_csrf_token_are_refused(store: Store) {
    let addr = serve(&store).await;
    // Sign-in without the form's cookie (a cross-site post).
    let res = client()
        .post(url(addr, "/sign-in"))
        .form(&[("email", "admin@test.example"), ("password", PASSWORD), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Sign-out with a wrong token keeps the session.
    let c = sign_in(addr, "admin@test.example").await;
    let res = c.post(url(addr, "/sign-out")).form(&[("csrf", "0".repeat(64).as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("reload the page"));
    assert_eq!(get(&c, addr, "/").await.0, StatusCode::OK);
}

async fn the_first_run_creates_the_administrator(store: Store) {
    let addr = start(&store).await;
    let c = client();
    let res = c.get(url(addr, "/sign-in")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/setup");
    let page = c.get(url(addr, "/setup")).send().await.unwrap().text().await.unwrap();
    let csrf = input_value(&page, "csrf");
    let form = |password: &'static str, confirm: &'static str| {
        vec![
            ("name", "Ada Admin".to_string()),
            ("email", "ada@test.example".to_string()),
            ("password", password.to_string()),
            ("confirm", confirm.to_string()),
            ("csrf", csrf.clone()),
        ]
    };
    let res = c.post(url(addr, "/setup")).form(&form("short", "short")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = res.text().await.unwrap();
    assert!(page.contains("at least 10 characters"), "{page}");
    let csrf = input_value(&page, "csrf");
    let res = c
        .post(url(addr, "/setup"))
        .form(&[
            ("name", "Ada Admin"),
            ("email", "ada@test.example"),
            ("password", "a long enough secret"),
            ("confirm", "a long enough secret"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, page) = get(&c, addr, "/").await;
    assert_eq!(status, 200);
    assert!(page.contains("No survey answers yet"), "an empty portfolio says what to do next: {page}");
    // Set-up is closed once someone can sign in.
    assert_eq!(client().get(url(addr, "/setup")).send().await.unwrap().headers()["location"], "/sign-in");
}

async fn hostile_names_and_comments_are_inert_text_on_pages_and_in_downloads(store: Store) {
    let addr = serve(&store).await;
    let c = sign_in(addr, "admin@test.example").await;
    for path in ["/", "/reports/quadrants", "/accounts/A2", "/accounts/B1", "/charts/matrix.svg"] {
        let (status, body) = get(&c, addr, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!body.contains("<script>alert"), "a live script tag on {path}");
        assert!(!body.contains("<img src=x"), "a live img tag on {path}");
    }
    let (_, account) = get(&c, addr, "/accounts/A2").await;
    assert!(
        account.contains("&#60;script&#62;alert(&#39;pwned&#39;)&#60;/script&#62; Ltd")
            || account.contains("&lt;script&gt;"),
        "{account}"
    );
    let (_, b1) = get(&c, addr, "/accounts/B1").await;
    assert!(b1.contains("=SUM(A1:A9)"), "the comment is shown as written: {b1}");
    let (_, respondents) = get(&c, addr, "/accounts/B1/respondents?format=csv").await;
    assert_eq!(
        respondents,
        "name,title,role,ltr,class,comment,ratings,submitted_on\n\
         Person B1-0,Director,executive,0,detractor,<img src=x onerror=alert(1)> =SUM(A1:A9),,2026-05-10\n\
         Person B1-1,Director,user,3,detractor,<img src=x onerror=alert(1)> =SUM(A1:A9),,2026-05-10\n"
    );
    let (_, a2) = get(&c, addr, "/accounts/A2/respondents?format=csv").await;
    assert!(a2.contains("Person A2-0"), "{a2}");
    let (_, csv) = get(&c, addr, "/reports/quadrants?format=csv").await;
    assert!(csv.contains("\"'=HYPERLINK("), "formula neutralised in CSV: {csv}");
    assert!(csv.contains(SCRIPT_NAME), "text kept as written in CSV: {csv}");
    let _ = FORMULA_NAME;
}

async fn the_dashboard_shows_the_figures_of_the_reports(store: Store) {
    let addr = serve(&store).await;
    let c = sign_in(addr, "analyst@test.example").await;
    let (_, page) = get(&c, addr, "/").await;
    // 9 answers in 2026-Q2: NPS 22.2; in 2026-Q1: A1 9,9,9 A2 5,5 B1 9,9 B2 7,7: 5 promoters,
    // 2 detractors of 9: 33.3; the change is -11.1.
    assert!(page.contains("class=\"big\">+22.2<"), "{page}");
    assert!(page.contains("▼ 11.1 since 2026-Q1"), "{page}");
    let (_, nps) = get(&c, addr, "/reports/nps?format=csv").await;
    assert!(nps.contains("\nall,9,5,1,3,22.2,"), "{nps}");
    // Revenue at risk: Problem is low loyalty and billed at or above the median (mean of
    // 200,000 and 1,000,000 = 600,000): B1 (NPS -100, billed 3,000,000).
    assert!(page.contains("class=\"big\">$3M<") && page.contains("$3,000,000 billed: "), "{page}");
    // Every surveyed account is a bubble linking to its page.
    assert_eq!(page.matches("<circle class=\"bubble").count(), 4);
    assert!(page.contains("href=\"/accounts/A1\""));
    // Movers are accounts with enough answers in both waves: A1 (3 and 3) fell from 100 to
    // 33.3; B1 (0 and 3 from two people) and A2 swung by 200 on two answers each, which is noise.
    let movers = &page[page.find("<section class=\"movers\">").unwrap()..];
    let movers = &movers[..movers.find("</section>").unwrap()];
    assert!(movers.contains("href=\"/accounts/A1\"") && movers.contains("▼ 66.7"), "{movers}");
    assert!(
        !movers.contains("200.0") && movers.contains("No account with enough answers in both waves gained"),
        "{movers}"
    );
    // A wave just created, with no answer yet, is offered in the wave select, but the one
    // shown stays selected, so that applying another filter keeps showing it.
    respond::wave(&store, "2026-Q3", false).await;
    for path in ["/", "/reports/nps", "/reports/quadrants?vertical=Retail"] {
        let (_, page) = get(&c, addr, path).await;
        assert!(page.contains("<option selected>2026-Q2</option>"), "{path}: {page}");
        assert!(page.contains("<option>2026-Q3</option>"), "{path}: {page}");
    }
    let (_, page) = get(&c, addr, "/reports/nps?wave=2026-Q1").await;
    assert!(page.contains("<option selected>2026-Q1</option>") && page.contains("<option>2026-Q2</option>"));

    // A report's table reads as words, the file's column names on hover; quadrants by name.
    let (_, page) = get(&c, addr, "/reports/quadrants").await;
    assert!(page.contains(r#"<th title="billed_revenue" class="num">Billed revenue</th>"#), "{page}");
    assert!(page.contains(r#"<th title="account_id">Account ID</th>"#), "{page}");
    assert!(page.contains("<td>Emulate</td>") || page.contains("<td>Problem</td>"), "{page}");
    assert!(!page.contains("<td>emulate</td>") && !page.contains("<td>problem</td>"), "{page}");
}

async fn downloads_follow_the_view_filters(store: Store) {
    let addr = serve(&store).await;
    let c = sign_in(addr, "admin@test.example").await;
    let res = c.get(url(addr, "/reports/quadrants?vertical=Retail&format=xlsx")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("rapport-quadrants.xlsx"));
    assert_eq!(&res.bytes().await.unwrap()[..4], b"PK\x03\x04");
    let (_, csv) = get(&c, addr, "/reports/quadrants?vertical=Retail&wave=2026-Q1&format=csv").await;
    let ids: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(ids.len(), 2, "{csv}");
    assert!(ids.iter().all(|id| id.starts_with('B')), "{csv}");
    let res = c.get(url(addr, "/charts/matrix.svg?vertical=Energy")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let svg = res.text().await.unwrap();
    assert_eq!(svg.matches("<circle").count(), 2);
    // The file keeps its colours without the app's stylesheet: A1 Emulate green, A2 Growth blue.
    assert!(svg.contains("fill=\"#2f9e6a\"") && svg.contains("fill=\"#3b7dd8\""), "{svg}");
    assert!(svg.starts_with("<?xml"), "a standalone SVG file");
    for path in ["/charts/trend.svg", "/accounts/A1/chart.svg"] {
        let res = c.get(url(addr, path)).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], "image/svg+xml", "{path}");
        let svg = res.text().await.unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("stroke=\"#27466e\""), "{path}: {svg}");
    }
}

async fn every_response_carries_the_security_headers(store: Store) {
    let addr = serve(&store).await;
    for path in ["/sign-in", "/healthz", "/nope"] {
        let res = client().get(url(addr, path)).send().await.unwrap();
        let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.headers()["referrer-policy"], "same-origin");
    }
}

async fn bad_input_gets_a_clear_error_page(store: Store) {
    let addr = serve(&store).await;
    let c = sign_in(addr, "admin@test.example").await;
    let (status, page) = get(&c, addr, "/?wave=2031-Q9").await;
    assert_eq!(status, 400);
    assert!(page.contains("there is no wave named &#39;2031-Q9&#39;") || page.contains("no wave named"), "{page}");
    assert!(page.contains("2026-Q1, 2026-Q2"), "the page lists the waves there are: {page}");
    let (status, page) = get(&c, addr, "/reports/nps?by=shoe_size").await;
    assert_eq!(status, 400);
    assert!(page.contains("shoe_size"), "{page}");
    let (status, _) = get(&c, addr, "/reports/quadrants?format=pdf").await;
    assert_eq!(status, 400);
}

/// Makes a share link as `c` and returns its path (/s/TOKEN).
async fn share(
    c: &reqwest::Client,
    addr: SocketAddr,
    kind: &str,
    target: &str,
    hide: bool,
) -> Result<String, StatusCode> {
    let (_, page) = get(c, addr, "/shares").await;
    let csrf = input_value(&page, "csrf");
    let mut form =
        vec![("csrf", csrf), ("kind", kind.to_string()), ("target", target.to_string()), ("days", "7".into())];
    if hide {
        form.push(("hide_people", "yes".into()));
    }
    let res = c.post(url(addr, "/shares")).form(&form).send().await.unwrap();
    if res.status() != StatusCode::CREATED {
        return Err(res.status());
    }
    let page = res.text().await.unwrap();
    let link = input_value(&page.replace("class=\"share-url\" readonly value=", "name=\"url\" value="), "url");
    Ok(link[link.find("/s/").expect("a /s/ link")..].to_string())
}

async fn a_share_link_shows_a_read_only_view_until_it_is_revoked(store: Store) {
    let addr = serve(&store).await;
    let admin = sign_in(addr, "admin@test.example").await;
    let dashboard = share(&admin, addr, "dashboard", "vertical=Energy", true).await.unwrap();
    let anonymous = client();
    let (status, page) = get(&anonymous, addr, &dashboard).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Shared view, read only"), "{page}");
    assert!(page.contains("Alpha Energy") && !page.contains("Beta &amp; Sons"), "the link keeps its filter");
    assert!(!page.contains("Sign out") && !page.contains("href=\"/accounts/"), "nothing behind the page: {page}");
    let account = share(&admin, addr, "account", "B1", true).await.unwrap();
    let (status, page) = get(&anonymous, addr, &account).await;
    assert_eq!(status, 200);
    assert!(page.contains("Respondent 1") && !page.contains("Person B1-0"), "names hidden: {page}");
    assert!(!page.contains("SUM(A1:A9)"), "comments hidden");
    let shown = share(&admin, addr, "account", "B1", false).await.unwrap();
    assert!(get(&anonymous, addr, &shown).await.1.contains("Person B1-0"));
    // The list shows the links; revoking one ends it.
    let (_, list) = get(&admin, addr, "/shares").await;
    assert_eq!(list.matches("action=\"/shares/").count(), 3, "{list}");
    let id = list.split("action=\"/shares/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let csrf = input_value(&list, "csrf");
    let res = admin.post(url(addr, &format!("/shares/{id}/revoke"))).form(&[("csrf", csrf)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Links are listed newest first: the revoked one is the last made.
    assert_eq!(get(&anonymous, addr, &shown).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&anonymous, addr, &account).await.0, StatusCode::OK);
}

async fn a_share_link_never_shows_more_than_its_maker_sees(store: Store) {
    let addr = serve(&store).await;
    let am1 = sign_in(addr, "am1@test.example").await;
    assert_eq!(share(&am1, addr, "account", "B1", false).await, Err(StatusCode::NOT_FOUND));
    let link = share(&am1, addr, "dashboard", "", false).await.unwrap();
    let (_, page) = get(&client(), addr, &link).await;
    assert!(page.contains("Alpha Energy") && !page.contains("Beta &amp; Sons"), "{page}");
    // Someone else's link cannot be revoked by am2.
    let am2 = sign_in(addr, "am2@test.example").await;
    let (_, list) = get(&am2, addr, "/shares").await;
    assert!(!list.contains("action=\"/shares/"), "am2 does not see am1's links");
    let csrf = input_value(&list, "csrf");
    let res = am2.post(url(addr, "/shares/1/revoke")).form(&[("csrf", csrf)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(&client(), addr, &link).await.0, StatusCode::OK);

    // What the maker may see is read when the link is opened, not when it was made: an
    // analyst's link narrows once the analyst becomes an account manager (of no account).
    let analyst = sign_in(addr, "analyst@test.example").await;
    let theirs = share(&analyst, addr, "dashboard", "", false).await.unwrap();
    assert!(get(&client(), addr, &theirs).await.1.contains("Alpha Energy"), "the whole portfolio");
    let now_am = rapport_store::users::NewUser {
        email: "analyst@test.example".into(),
        name: "Analyst".into(),
        role: rapport_core::user::Role::AccountManager,
        manager_email: None,
    };
    store.upsert_user(&now_am).await.unwrap();
    let (_, page) = get(&client(), addr, &theirs).await;
    assert!(!page.contains("Alpha Energy"), "{page}");
}

async fn an_expired_share_link_shows_nothing(store: Store) {
    use rapport_store::share_links::{NewShareLink, ShareKind};
    let addr = serve(&store).await;
    let token = rapport_web::token::new_token();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    store
        .create_share_link(&NewShareLink {
            token_hash: &rapport_web::token::hash_token(&token),
            kind: ShareKind::Dashboard,
            target: "",
            owned_by: None,
            hide_people: false,
            created_by: 1,
            now: now - 86_400,
            expires_at: now - 1,
        })
        .await
        .unwrap();
    let (status, page) = get(&client(), addr, &format!("/s/{token}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("has expired or was revoked"), "{page}");
}

async fn the_migration_and_segment_views_draw_what_the_reports_count(store: Store) {
    let addr = serve(&store).await;
    let c = sign_in(addr, "analyst@test.example").await;
    // 2026-Q1 (threshold 600,000): A1 and B1 Emulate, A2 and B2 Decision. 2026-Q2: A1 Emulate,
    // A2 and B2 Growth, B1 Problem.
    let (_, page) = get(&c, addr, "/reports/migration").await;
    assert!(page.contains("Where accounts went, 2026-Q1 → 2026-Q2"), "{page}");
    assert!(page.contains("<td class=\"num cell better\">2</td>"), "Decision to Growth: {page}");
    assert!(page.contains("<td class=\"num cell worse\">1</td>"), "Emulate to Problem");
    assert!(page.contains("<td class=\"num cell same\">1</td>"), "A1 stayed in Emulate");
    assert!(page.contains("moved into Problem: $3,000,000"), "{page}");
    // NPS by vertical as bars: Energy 9,10,6,10,10 = 60.0; Retail 0,3,8,9 = -25.0.
    let (_, page) = get(&c, addr, "/reports/nps?by=vertical").await;
    assert!(page.contains("class=\"chart bars\""), "{page}");
    assert!(page.contains("Energy: +60.0 (n 5)") && page.contains("Retail: -25.0 (n 4)"), "{page}");
}

async fn an_executive_sees_the_accounts_they_sponsor_highlighted(store: Store) {
    let addr = serve(&store).await;
    let exec = sign_in(addr, "exec@test.example").await;
    let (_, page) = get(&exec, addr, "/").await;
    assert!(page.contains("Accounts you sponsor"), "{page}");
    let section = page.split("Accounts you sponsor").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(section.contains("Alpha Energy") && !section.contains("Beta"), "{section}");
    // A1 is Emulate in 2026-Q2, ringed as the executive's own.
    assert_eq!(page.matches("class=\"bubble emulate sponsored\"").count(), 1, "{page}");
    let (_, account) = get(&exec, addr, "/accounts/A1").await;
    assert!(account.contains("Executive sponsor") && account.contains("exec@test.example"));
    let analyst = sign_in(addr, "analyst@test.example").await;
    let (_, page) = get(&analyst, addr, "/").await;
    assert!(!page.contains("Accounts you sponsor") && !page.contains("sponsored\""));
}

async fn cached_pages_follow_new_answers_and_each_viewers_scope(store: Store) {
    use rapport_store::import::{ImportOptions, import_reader};
    let addr = serve(&store).await;
    let admin = sign_in(addr, "admin@test.example").await;
    let am2 = sign_in(addr, "am2@test.example").await;
    assert!(get(&admin, addr, "/").await.1.contains("class=\"big\">+22.2<"));
    assert!(get(&admin, addr, "/reports/nps?format=csv").await.1.contains("\nall,9,5,1,3,22.2,"));
    // am2's view of the same URL is theirs, not the admin's cached one: B1 0,3 and B2 8,9.
    let (_, mine) = get(&am2, addr, "/").await;
    assert!(mine.contains("class=\"big\">-25.0<") && !mine.contains("Alpha Energy"), "{mine}");
    // A new answer changes the figures at once: B1's detractor at 0 becomes a promoter.
    let csv = "contact_id,wave,submitted_at,ltr,comment\nB1-0,2026-Q2,2026-05-20T10:00:00Z,10,\n";
    import_reader(&store, rapport_store::Kind::Responses, csv.as_bytes(), ImportOptions::default(), &mut |_| {})
        .await
        .unwrap();
    // 9 answers: 6 promoters, 1 passive, 2 detractors: 44.4.
    let (_, page) = get(&admin, addr, "/").await;
    assert!(page.contains("class=\"big\">+44.4<"), "{page}");
    let (_, csv) = get(&admin, addr, "/reports/nps?format=csv").await;
    assert!(csv.contains("\nall,9,6,1,2,44.4,"), "reports are not served stale either: {csv}");
}

async fn repeated_sign_in_attempts_for_one_email_are_slowed(store: Store) {
    let addr = serve(&store).await;
    let attempt = |email: &'static str, password: &'static str| async move {
        let c = client();
        let page = c.get(url(addr, "/sign-in")).send().await.unwrap().text().await.unwrap();
        let csrf = input_value(&page, "csrf");
        let res = c
            .post(url(addr, "/sign-in"))
            .form(&[("email", email), ("password", password), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    };
    for _ in 0..rapport_web::state::SIGN_IN_BURST {
        assert_eq!(attempt("admin@test.example", "guess guess guess").await.0, StatusCode::UNAUTHORIZED);
    }
    // The burst is spent: even the right password waits, in any case of the email.
    let (status, page) = attempt("ADMIN@test.example", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("Too many sign-in attempts"), "{page}");
    // Other people are not affected.
    assert_eq!(attempt("analyst@test.example", PASSWORD).await.0, StatusCode::SEE_OTHER);
}

async fn the_audit_log_records_sign_ins_exports_and_shares(store: Store) {
    let addr = serve(&store).await;
    let c = client();
    let page = c.get(url(addr, "/sign-in")).send().await.unwrap().text().await.unwrap();
    let csrf = input_value(&page, "csrf");
    c.post(url(addr, "/sign-in"))
        .form(&[("email", "analyst@test.example"), ("password", "not the password"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let analyst = sign_in(addr, "analyst@test.example").await;
    get(&analyst, addr, "/reports/nps?by=vertical&format=xlsx").await;
    share(&analyst, addr, "account", "A1", true).await.unwrap();
    let admin = sign_in(addr, "admin@test.example").await;
    let (status, log) = get(&admin, addr, "/audit").await;
    assert_eq!(status, 200);
    let rows: Vec<&str> = log.split("<tr><td>").skip(1).collect();
    let has = |who: &str, what: &str, detail: &str| {
        rows.iter().any(|r| r.contains(&format!("<td>{who}</td><td>{what}</td>")) && r.contains(detail))
    };
    assert!(has("analyst@test.example", "sign_in.refused", "wrong email or password"), "{log}");
    assert!(has("analyst@test.example", "sign_in", ""), "{log}");
    assert!(has("analyst@test.example", "export", "xlsx by=vertical"), "{log}");
    assert!(has("analyst@test.example", "share_link.create", "names hidden"), "{log}");
    assert!(has("admin@test.example", "sign_in", ""), "the newest first: {log}");
    assert!(rows[0].contains("admin@test.example"), "newest first");
}

async fn operators_see_readiness_and_metrics(store: Store) {
    let addr = serve(&store).await;
    let c = sign_in(addr, "admin@test.example").await;
    get(&c, addr, "/accounts/A1").await;
    get(&c, addr, "/accounts/B1").await;
    let (status, body) = get(&client(), addr, "/readyz").await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "ready"));
    let (status, metrics) = get(&client(), addr, "/metrics").await;
    assert_eq!(status, 200);
    // By route pattern, not by account id.
    assert!(
        metrics.contains("rapport_http_requests_total{method=\"GET\",route=\"/accounts/{account_id}\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rapport_http_request_duration_seconds_bucket{route=\"/accounts/{account_id}\",le=\"0.005\"}"),
        "{metrics}"
    );
    assert!(!metrics.contains("/accounts/A1"));
    assert!(metrics.contains("rapport_queue_jobs{queue=\"outbox\",status=\"queued\"} 0"), "queue depth: {metrics}");
    assert!(metrics.contains("rapport_queue_jobs{queue=\"invitations\",status=\"failed\"} 0"), "{metrics}");

    // Each request counts (the recorder is the process's: other tests may add to it too).
    let account_pages = |metrics: &str| -> u64 {
        let line = "rapport_http_requests_total{method=\"GET\",route=\"/accounts/{account_id}\",status=\"200\"} ";
        let at = metrics.find(line).map(|at| at + line.len()).expect("the account pages are counted");
        metrics[at..].split_whitespace().next().unwrap().parse().unwrap()
    };
    let before = account_pages(&metrics);
    assert!(before >= 2, "{metrics}");
    get(&c, addr, "/accounts/A1").await;
    get(&c, addr, "/accounts/A2").await;
    let (_, metrics) = get(&client(), addr, "/metrics").await;
    assert!(account_pages(&metrics) >= before + 2, "{metrics}");
}
