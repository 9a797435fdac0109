//! The JSON API over real HTTP on loopback, on SQLite and PostgreSQL: tokens and their scopes,
//! the same ownership rules as the web app, paging, problem details, the OpenAPI document.

mod support;

use std::net::SocketAddr;

use rapport_store::Store;
use rapport_store::api_tokens::TokenScope;
use rapport_test_utils::{cases, run_on_both};
use reqwest::StatusCode;
use serde_json::Value;
use support::{PASSWORD, input_value, load_portfolio, start};

fn main() {
    run_on_both(cases![
        a_token_made_in_the_app_reads_the_api_until_it_is_revoked,
        calls_without_a_valid_token_get_a_problem_detail,
        an_account_managers_token_sees_only_their_accounts,
        accounts_come_in_pages_with_a_cursor,
        reports_are_json_with_the_figures_of_the_cli,
        bad_parameters_get_a_problem_detail_that_says_what_to_fix,
        the_openapi_document_describes_every_endpoint,
        bulk_upserts_store_rows_like_an_import_and_name_each_bad_row,
        bulk_writes_need_an_administrators_write_token,
        an_accounts_contacts_and_answers_follow_the_same_rules,
        a_retried_call_with_its_idempotency_key_is_answered_once,
        surveys_and_wave_progress_are_read_with_the_same_scope,
        action_plans_are_written_and_read_over_the_api_with_the_same_ownership,
        alerts_are_listed_newest_first_within_each_tokens_scope,
        the_assessment_reports_and_definition_are_read_within_each_tokens_scope,
    ]);
}

async fn serve(store: &Store) -> SocketAddr {
    load_portfolio(store).await;
    start(store).await
}

/// A token for `email`, made directly in the store.
async fn token(store: &Store, email: &str, scope: TokenScope) -> String {
    let login = store.user_login(email).await.unwrap().unwrap();
    let token = rapport_web::token::new_token();
    store.create_api_token(login.id, "test", &rapport_web::token::hash_token(&token), scope, 0).await.unwrap();
    token
}

async fn call(addr: SocketAddr, token: Option<&str>, path: &str) -> (StatusCode, String, Value) {
    let mut req = reqwest::Client::new().get(format!("http://{addr}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let content_type = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body = res.text().await.unwrap();
    (status, content_type, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|a| a["account_id"].as_str().unwrap().to_string()).collect()
}

async fn a_token_made_in_the_app_reads_the_api_until_it_is_revoked(store: Store) {
    let addr = serve(&store).await;
    let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = c.get(format!("http://{addr}/sign-in")).send().await.unwrap().text().await.unwrap();
    let csrf = input_value(&page, "csrf");
    c.post(format!("http://{addr}/sign-in"))
        .form(&[("email", "analyst@test.example"), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let page = c.get(format!("http://{addr}/tokens")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("<option>admin</option>"), "an analyst cannot give a token admin scope");
    let csrf = input_value(&page, "csrf");
    let res = c
        .post(format!("http://{addr}/tokens"))
        .form(&[("csrf", csrf.as_str()), ("name", "CRM sync"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let page = res.text().await.unwrap();
    let token = input_value(&page.replace("class=\"share-url\" readonly value=", "name=\"token\" value="), "token");
    assert_eq!(token.len(), 64);
    let (status, _, body) = call(addr, Some(&token), "/api/v1/accounts").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), ["A1", "A2", "B1", "B2"]);
    let page = c.get(format!("http://{addr}/tokens")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("CRM sync") && !page.contains(">never<"), "last used is shown: {page}");
    let id = page.split("action=\"/tokens/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let csrf = input_value(&page, "csrf");
    let res = c.post(format!("http://{addr}/tokens/{id}/revoke")).form(&[("csrf", csrf)]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, content_type, body) = call(addr, Some(&token), "/api/v1/accounts").await;
    assert_eq!(status, 401);
    assert_eq!(content_type, "application/problem+json");
    assert!(body["detail"].as_str().unwrap().contains("revoked"), "{body}");
}

async fn calls_without_a_valid_token_get_a_problem_detail(store: Store) {
    let addr = serve(&store).await;
    let res = reqwest::get(format!("http://{addr}/api/v1/accounts")).await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"rapport\"");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], 401);
    assert_eq!(body["title"], "Unauthorized");
    assert!(body["detail"].as_str().unwrap().contains("Authorization: Bearer"), "{body}");
    let (status, _, _) = call(addr, Some("0123456789abcdef"), "/api/v1/waves").await;
    assert_eq!(status, 401);
    let (status, content_type, body) = call(addr, None, "/api/v1/nothing-here").await;
    assert_eq!((status.as_u16(), content_type.as_str()), (404, "application/problem+json"), "{body}");
}

async fn an_account_managers_token_sees_only_their_accounts(store: Store) {
    let addr = serve(&store).await;
    let am1 = token(&store, "am1@test.example", TokenScope::Write).await;
    let (_, _, page) = call(addr, Some(&am1), "/api/v1/accounts?owner=am2@test.example").await;
    assert!(ids(&page).is_empty(), "another owner's filter does not widen the scope: {page}");
    let (_, _, page) = call(addr, Some(&am1), "/api/v1/accounts").await;
    assert_eq!(ids(&page), ["A1", "A2"]);
    let (status, _, body) = call(addr, Some(&am1), "/api/v1/accounts/B1").await;
    assert_eq!(status, 404, "{body}");
    let (status, _, body) = call(addr, Some(&am1), "/api/v1/accounts/A1").await;
    assert_eq!(status, 200);
    assert_eq!(body["billed_revenue"], "1000000.00");
    assert_eq!(body["sponsor_email"], "exec@test.example");
    let (_, _, report) = call(addr, Some(&am1), "/api/v1/reports/quadrants").await;
    let rows: Vec<&str> =
        report["rows"].as_array().unwrap().iter().map(|r| r["account_id"].as_str().unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|id| id.starts_with('A')), "{report}");
    let (status, _, _) = call(addr, Some(&am1), "/api/v1/reports/trends?account=B1").await;
    assert_eq!(status, 404, "another manager's account, by id");
}

async fn accounts_come_in_pages_with_a_cursor(store: Store) {
    let addr = serve(&store).await;
    let t = token(&store, "admin@test.example", TokenScope::Read).await;
    let (_, _, first) = call(addr, Some(&t), "/api/v1/accounts?limit=3").await;
    assert_eq!(ids(&first), ["A1", "A2", "B1"]);
    assert_eq!(first["next_cursor"], "B1");
    let (_, _, second) = call(addr, Some(&t), "/api/v1/accounts?limit=3&after=B1").await;
    assert_eq!(ids(&second), ["B2"]);
    assert!(second["next_cursor"].is_null());
    let (_, _, energy) = call(addr, Some(&t), "/api/v1/accounts?vertical=energy").await;
    assert_eq!(ids(&energy), ["A1", "A2"]);
}

async fn reports_are_json_with_the_figures_of_the_cli(store: Store) {
    let addr = serve(&store).await;
    let t = token(&store, "exec@test.example", TokenScope::Read).await;
    let (status, _, nps) = call(addr, Some(&t), "/api/v1/reports/nps?by=vertical").await;
    assert_eq!(status, 200, "{nps}");
    assert_eq!(nps["columns"][0], "segment");
    let energy = nps["rows"].as_array().unwrap().iter().find(|r| r["segment"] == "Energy").unwrap();
    assert_eq!(energy["nps"], 60.0);
    assert_eq!(energy["responses"], 5);
    let (_, _, waves) = call(addr, Some(&t), "/api/v1/waves").await;
    assert_eq!(waves[1]["name"], "2026-Q2");
    let (_, _, migration) = call(addr, Some(&t), "/api/v1/reports/migration?from=2026-Q1&wave=2026-Q2").await;
    let b1 = migration["rows"].as_array().unwrap().iter().find(|r| r["account_id"] == "B1").unwrap();
    assert_eq!((b1["from"].as_str(), b1["to"].as_str()), (Some("emulate"), Some("problem")));
}

async fn bad_parameters_get_a_problem_detail_that_says_what_to_fix(store: Store) {
    let addr = serve(&store).await;
    let t = token(&store, "admin@test.example", TokenScope::Read).await;
    for (path, status, says) in [
        ("/api/v1/reports/quadrants?wave=2030-Q1", 400, "2026-Q1, 2026-Q2"),
        ("/api/v1/reports/nps?by=shoe_size", 400, "shoe_size"),
        ("/api/v1/reports/magic", 404, "quadrants, migration"),
        ("/api/v1/accounts?limit=0", 400, "limit must be 1 to 1000"),
        ("/api/v1/accounts?limit=many", 400, "limit"),
    ] {
        let (got, content_type, body) = call(addr, Some(&t), path).await;
        assert_eq!(got.as_u16(), status, "{path}: {body}");
        assert_eq!(content_type, "application/problem+json", "{path}");
        assert!(body["detail"].as_str().unwrap().contains(says), "{path}: {body}");
    }
}

async fn the_openapi_document_describes_every_endpoint(store: Store) {
    let addr = serve(&store).await;
    let doc: Value = reqwest::get(format!("http://{addr}/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
    for path in ["/api/v1/accounts", "/api/v1/accounts/{account_id}", "/api/v1/waves", "/api/v1/reports/{name}"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} is documented");
    }
    assert!(doc["paths"]["/api/v1/bulk/{kind}"]["post"].is_object());
    for status in ["401", "403"] {
        let response = &doc["paths"]["/api/v1/waves"]["get"]["responses"][status];
        assert!(response["content"]["application/problem+json"].is_object(), "{status}: {response}");
    }
    assert_eq!(doc["components"]["securitySchemes"]["token"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

async fn post(addr: SocketAddr, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let res =
        reqwest::Client::new().post(format!("http://{addr}{path}")).bearer_auth(token).json(body).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn bulk_upserts_store_rows_like_an_import_and_name_each_bad_row(store: Store) {
    let addr = serve(&store).await;
    let t = token(&store, "admin@test.example", TokenScope::Write).await;
    let rows = serde_json::json!([
        {"account_id": "A1", "name": "Alpha Energy Group", "billed_revenue": 1000000},
        {"account_id": "C1", "name": "Gamma", "vertical": "Energy", "strategic": true, "Tier": "Gold"}
    ]);
    let (status, body) = post(addr, &t, "/api/v1/bulk/accounts", &rows).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["rows"].as_u64(), body["inserted"].as_u64(), body["updated"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    // The same rows again change nothing: a retried call is harmless.
    let (_, again) = post(addr, &t, "/api/v1/bulk/accounts", &rows).await;
    assert_eq!(
        (again["inserted"].as_u64(), again["updated"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(0), Some(2))
    );
    let (_, _, a1) = call(addr, Some(&t), "/api/v1/accounts/A1").await;
    assert_eq!(a1["name"], "Alpha Energy Group");
    assert_eq!(a1["owner_email"], "am1@test.example", "fields a call leaves out are kept");
    // Bad rows: every one named by its index, nothing stored. Row 1's comment spans lines.
    let answers = serde_json::json!([
        {"contact_id": "A1-0", "wave": "2026-Q3", "ltr": 9},
        {"contact_id": "A1-1", "wave": "2026-Q3", "ltr": 8, "comment": "two\nlines"},
        {"contact_id": "NOPE", "wave": "2026-Q3", "ltr": 7},
        {"contact_id": "A1-2", "wave": "2026-Q3", "ltr": 11}
    ]);
    let (status, body) = post(addr, &t, "/api/v1/bulk/responses", &answers).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["total"], 2);
    let errors = body["errors"].as_array().unwrap();
    assert_eq!((errors[0]["row"].as_u64(), errors[0]["value"].as_str()), (Some(2), Some("NOPE")), "{body}");
    assert_eq!((errors[1]["row"].as_u64(), errors[1]["field"].as_str()), (Some(3), Some("ltr")), "{body}");
    let (_, _, waves) = call(addr, Some(&t), "/api/v1/waves").await;
    assert_eq!(waves.as_array().unwrap().len(), 2, "no wave 2026-Q3 was created: nothing was stored");
    let (status, body) =
        post(addr, &t, "/api/v1/bulk/accounts", &serde_json::json!([{"account_id": "X", "name": ["a"]}])).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = post(addr, &t, "/api/v1/bulk/planets", &serde_json::json!([{"id": 1}])).await;
    assert_eq!(status, 404);
}

async fn bulk_writes_need_an_administrators_write_token(store: Store) {
    let addr = serve(&store).await;
    let rows = serde_json::json!([{"account_id": "A1", "name": "Renamed"}]);
    for (email, scope) in [
        ("admin@test.example", TokenScope::Read),
        ("analyst@test.example", TokenScope::Write),
        ("am1@test.example", TokenScope::Write),
    ] {
        let t = token(&store, email, scope).await;
        let (status, body) = post(addr, &t, "/api/v1/bulk/accounts", &rows).await;
        assert_eq!(status, 403, "{email} with {scope:?}: {body}");
    }
    let t = token(&store, "admin@test.example", TokenScope::Read).await;
    assert_eq!(call(addr, Some(&t), "/api/v1/accounts/A1").await.2["name"], "Alpha Energy");
}

async fn an_accounts_contacts_and_answers_follow_the_same_rules(store: Store) {
    let addr = serve(&store).await;
    let am2 = token(&store, "am2@test.example", TokenScope::Read).await;
    let (status, _, contacts) = call(addr, Some(&am2), "/api/v1/accounts/B1/contacts").await;
    assert_eq!(status, 200);
    assert_eq!(contacts[0]["role"], "executive", "executives first: {contacts}");
    let (_, _, answers) = call(addr, Some(&am2), "/api/v1/accounts/B1/answers").await;
    // 2026-Q2: B1 answered 0 and 3, lowest first, comments as written.
    let ltrs: Vec<u64> = answers.as_array().unwrap().iter().map(|a| a["ltr"].as_u64().unwrap()).collect();
    assert_eq!(ltrs, [0, 3]);
    assert_eq!(answers[0]["comment"], "<img src=x onerror=alert(1)> =SUM(A1:A9)");
    let (_, _, earlier) = call(addr, Some(&am2), "/api/v1/accounts/B1/answers?wave=2026-Q1").await;
    assert_eq!(earlier[0]["ltr"], 9);
    for path in ["contacts", "revenue", "opportunities", "service-cases", "answers"] {
        let (status, _, body) = call(addr, Some(&am2), &format!("/api/v1/accounts/A1/{path}")).await;
        assert_eq!(status, 404, "{path} of another manager's account: {body}");
    }
    let (status, _, _) = call(addr, Some(&am2), "/api/v1/accounts/B1/answers?wave=1999-Q1").await;
    assert_eq!(status, 400);
}

async fn a_retried_call_with_its_idempotency_key_is_answered_once(store: Store) {
    let addr = serve(&store).await;
    let t = token(&store, "admin@test.example", TokenScope::Write).await;
    let send = |key: &'static str, body: Value| {
        let t = t.clone();
        async move {
            reqwest::Client::new()
                .post(format!("http://{addr}/api/v1/bulk/accounts"))
                .bearer_auth(t)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let rows = serde_json::json!([{"account_id": "N1", "name": "New One"}]);
    let first = send("sync-42", rows.clone()).await;
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["inserted"], 1);
    // The retry is answered from memory: the same body, not "0 inserted, 1 unchanged".
    let again = send("sync-42", rows.clone()).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    // The same key for another request is refused.
    let other = send("sync-42", serde_json::json!([{"account_id": "N2", "name": "Other"}])).await;
    assert_eq!(other.status(), 422);
    let other: Value = other.json().await.unwrap();
    assert!(other["detail"].as_str().unwrap().contains("use a new key"), "{other}");
    // Without a key, calls simply run.
    let (status, plain) = post(addr, &t, "/api/v1/bulk/accounts", &rows).await;
    assert_eq!((status.as_u16(), plain["unchanged"].as_u64()), (200, Some(1)));
}

async fn surveys_and_wave_progress_are_read_with_the_same_scope(store: Store) {
    use rapport_store::invitations::WavePlan;
    let addr = serve(&store).await;
    let survey =
        store.save_survey(&rapport_core::survey::relationship_template(rapport_demo::survey::sender())).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let plan = WavePlan {
        name: "2026-Q3",
        survey: &survey,
        opens_on: now.date(),
        closes_on: now.date(),
        accounts: None,
        roles: &[],
        exclude_days: 0,
        selection: "every contact",
        now,
    };
    let wave = store.create_wave(&plan).await.unwrap().wave_id;
    let invs = store.wave_invitations(wave, 0, 100).await.unwrap();
    let a1 = invs.iter().find(|i| i.contact_name == "Person A1-0").unwrap();
    let answers = survey.survey.read_answers([("ltr", "9")], rapport_core::answer::Intent::Submit).unwrap();
    store.record_answer(a1, &survey.survey, &answers, now).await.unwrap();

    let analyst = token(&store, "analyst@test.example", TokenScope::Read).await;
    let (status, _, surveys) = call(addr, Some(&analyst), "/api/v1/surveys").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(surveys[0]["name"], "B2B relationship survey");
    assert_eq!(surveys[0]["version"], 1);
    assert_eq!(surveys[0]["definition"]["questions"][0]["key"], "ltr");

    let (status, _, progress) = call(addr, Some(&analyst), "/api/v1/waves/2026-Q3/progress").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((progress["invited"].as_u64(), progress["answered"].as_u64()), (Some(invs.len() as u64), Some(1)));
    assert_eq!(progress["status"], "draft");

    let (_, _, owners) = call(addr, Some(&analyst), "/api/v1/waves/2026-Q3/response-rates?by=owner").await;
    let keys: Vec<&str> = owners.as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["am2@test.example", "am1@test.example"], "lowest rate first");
    let am1 = token(&store, "am1@test.example", TokenScope::Read).await;
    let (_, _, mine) = call(addr, Some(&am1), "/api/v1/waves/2026-Q3/response-rates").await;
    let accounts: Vec<&str> = mine.as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(accounts, ["A2", "A1"], "an account manager sees only their accounts");
    let a1_rate = &mine.as_array().unwrap()[1];
    assert_eq!((a1_rate["invited"].as_i64(), a1_rate["answered"].as_i64()), (Some(3), Some(1)));

    let (status, content_type, problem) = call(addr, Some(&analyst), "/api/v1/waves/2026-Q1/progress").await;
    assert_eq!((status, content_type.as_str()), (StatusCode::NOT_FOUND, "application/problem+json"));
    assert!(problem["detail"].as_str().unwrap().contains("sent from Rapport"));
    let (status, _, problem) = call(addr, Some(&analyst), "/api/v1/waves/2026-Q3/response-rates?by=region").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("use account or owner"));
    assert_eq!(call(addr, None, "/api/v1/surveys").await.0, StatusCode::UNAUTHORIZED);
}

async fn patch(addr: SocketAddr, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let res = reqwest::Client::new().patch(format!("http://{addr}{path}")).bearer_auth(token).json(body).send().await;
    let res = res.unwrap();
    let status = res.status();
    (status, serde_json::from_str(&res.text().await.unwrap()).unwrap_or(Value::Null))
}

async fn action_plans_are_written_and_read_over_the_api_with_the_same_ownership(store: Store) {
    let addr = serve(&store).await;
    let am1 = token(&store, "am1@test.example", TokenScope::Write).await;
    let am2 = token(&store, "am2@test.example", TokenScope::Write).await;
    let reader = token(&store, "admin@test.example", TokenScope::Read).await;
    let item = serde_json::json!({"description": "Review their SLA", "function": "service", "due": "2026-12-15"});
    let (status, task) = post(addr, &am1, "/api/v1/accounts/A1/tasks", &item).await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!((task["owner"].as_str(), task["status"].as_str()), (Some("am1@test.example"), Some("open")));
    assert_eq!(task["due_at"], "2026-12-15T23:59:59Z");
    let id = task["id"].as_i64().unwrap();

    // Another manager's token: neither their account nor their task exists.
    assert_eq!(post(addr, &am2, "/api/v1/accounts/A1/tasks", &item).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(addr, Some(&am2), &format!("/api/v1/tasks/{id}")).await.0, StatusCode::NOT_FOUND);
    let (_, _, theirs) = call(addr, Some(&am2), "/api/v1/tasks?view=all").await;
    assert!(theirs["items"].as_array().unwrap().is_empty(), "{theirs}");
    let done = serde_json::json!({"status": "done", "outcome": "Signed"});
    assert_eq!(patch(addr, &am2, &format!("/api/v1/tasks/{id}"), &done).await.0, StatusCode::NOT_FOUND);
    assert_eq!(post(addr, &reader, "/api/v1/accounts/A1/tasks", &item).await.0, StatusCode::FORBIDDEN, "read scope");

    // Bad bodies say what to fix.
    let (status, problem) = post(
        addr,
        &am1,
        "/api/v1/accounts/A1/tasks",
        &serde_json::json!({"description": "x", "function": "legal", "due": "2026-12-15"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().starts_with("function: 'legal' is not one of sales"), "{problem}");
    let (status, problem) =
        patch(addr, &am1, &format!("/api/v1/tasks/{id}"), &serde_json::json!({"status": "done"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("records what was done"), "{problem}");

    let (status, closed) = patch(addr, &am1, &format!("/api/v1/tasks/{id}"), &done).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!((closed["status"].as_str(), closed["closed_by"].as_str()), (Some("done"), Some("am1@test.example")));
    let (_, _, page) = call(addr, Some(&reader), "/api/v1/tasks?view=closed&function=service").await;
    assert_eq!(page["items"][0]["outcome"], "Signed");
    let (status, _, none) = call(addr, Some(&reader), "/api/v1/tasks?view=all&account=NOPE").await;
    assert_eq!((status, none["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "unknown: nothing");
    let (_, _, hidden) = call(addr, Some(&am2), "/api/v1/tasks?view=all&account=A1").await;
    assert_eq!(hidden["items"].as_array().map(Vec::len), Some(0), "another manager's account: nothing either");
    let (status, _, problem) = call(addr, Some(&reader), "/api/v1/tasks?view=later").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("use open, overdue, closed or all"));

    // Pages with a cursor, newest first.
    for n in 0..3 {
        let more = serde_json::json!({"description": format!("Step {n}"), "function": "sales", "due": "2026-12-20"});
        assert_eq!(post(addr, &am1, "/api/v1/accounts/A2/tasks", &more).await.0, StatusCode::CREATED);
    }
    let (_, _, first) = call(addr, Some(&reader), "/api/v1/tasks?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_i64().expect("a next page");
    let (_, _, second) = call(addr, Some(&reader), &format!("/api/v1/tasks?limit=2&before={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null());
}

async fn alerts_are_listed_newest_first_within_each_tokens_scope(store: Store) {
    let addr = serve(&store).await;
    let at = (time::OffsetDateTime::now_utc() - time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let csv = format!(
        "contact_id,wave,submitted_at,ltr,comment\nA1-0,2026-Q4,{at},2,Slow\nB1-0,2026-Q4,{at},9,We may cancel\n"
    );
    rapport_store::import::import_reader(
        &store,
        rapport_store::Kind::Responses,
        csv.as_bytes(),
        Default::default(),
        &mut |_| {},
    )
    .await
    .unwrap();
    let fu = rapport_web::follow_up::FollowUp::new(store.clone(), Default::default(), None, "http://rapport.example");
    assert_eq!(fu.scan(time::OffsetDateTime::now_utc()).await.unwrap().alerts, 2);

    let admin = token(&store, "admin@test.example", TokenScope::Read).await;
    let (status, _, page) = call(addr, Some(&admin), "/api/v1/alerts").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let kinds: Vec<(&str, &str)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["account_id"].as_str().unwrap(), a["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&("A1", "detractor")) && kinds.contains(&("B1", "watch_words")), "{kinds:?}");
    assert_eq!(page["items"][0]["task_status"], "open");
    let task = page["items"][0]["task_id"].as_i64().unwrap();
    assert_eq!(call(addr, Some(&admin), &format!("/api/v1/tasks/{task}")).await.0, StatusCode::OK);

    let am1 = token(&store, "am1@test.example", TokenScope::Read).await;
    let (_, _, mine) = call(addr, Some(&am1), "/api/v1/alerts").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["account_id"], "A1", "only their accounts");
    let (_, _, none) = call(addr, Some(&am1), "/api/v1/alerts?account=B1").await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let (_, _, drops) = call(addr, Some(&admin), "/api/v1/alerts?kind=nps_drop").await;
    assert!(drops["items"].as_array().unwrap().is_empty());
    let (status, _, problem) = call(addr, Some(&admin), "/api/v1/alerts?kind=angry").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("use detractor, watch_words, nps_drop or problem"));
    let (_, _, first) = call(addr, Some(&admin), "/api/v1/alerts?limit=1").await;
    let cursor = first["next_cursor"].as_i64().expect("a second page");
    let (_, _, second) = call(addr, Some(&admin), &format!("/api/v1/alerts?limit=1&before={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_ne!(second["items"][0]["id"], first["items"][0]["id"]);
}

async fn the_assessment_reports_and_definition_are_read_within_each_tokens_scope(store: Store) {
    let addr = serve(&store).await;
    let am1 = token(&store, "am1@test.example", TokenScope::Read).await;
    let (status, _, risk) = call(addr, Some(&am1), "/api/v1/reports/risk?since=2026-Q1&until=2026-Q4").await;
    assert_eq!(status, 200, "{risk}");
    assert_eq!(risk["columns"][0], "account_id");
    let ids: Vec<&str> = risk["rows"].as_array().unwrap().iter().map(|r| r["account_id"].as_str().unwrap()).collect();
    assert!(!ids.is_empty() && ids.iter().all(|id| id.starts_with('A')), "am1's accounts only: {ids:?}");
    let (_, _, portfolio) = call(addr, Some(&am1), "/api/v1/reports/portfolio").await;
    assert_eq!(portfolio["rows"].as_array().unwrap().len(), 2, "{portfolio}");
    assert_eq!(portfolio["rows"][0]["verdict"], "keep", "no cost on file: all margin");
    let (status, content_type, problem) = call(addr, Some(&am1), "/api/v1/reports/ideal?compare=9").await;
    assert_eq!((status.as_u16(), content_type.as_str()), (400, "application/problem+json"));
    assert!(problem["detail"].as_str().unwrap().contains("no definition version 9"), "{problem}");
    let (status, _, problem) = call(addr, Some(&am1), "/api/v1/reports/portfolio?since=next+year").await;
    assert_eq!(status, 400, "{problem}");

    let (status, _, definition) = call(addr, Some(&am1), "/api/v1/assessment/definition").await;
    assert_eq!(status, 200, "{definition}");
    assert_eq!(definition["current"]["version"], 0);
    assert_eq!(definition["current"]["hourly_cost"], "85.00");
    assert_eq!(definition["current"]["criteria"].as_array().unwrap().len(), 8);
    assert_eq!(definition["history"].as_array().unwrap().len(), 1);
}
