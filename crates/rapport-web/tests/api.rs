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
        waves_are_created_sent_and_closed_over_the_api_by_those_who_run_surveys,
        account_strategy_and_settings_are_changed_over_the_api_by_whom_the_app_allows,
        every_api_route_answers_each_role_as_the_app_does,
        administrators_manage_users_over_the_api_as_in_the_app,
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
    let (status, _, theirs) = call(addr, Some(&am1), "/api/v1/reports/trends?account=B1").await;
    assert_eq!(status, 404, "another manager's account, by id");
    // The same answer as for an id no account has: ids cannot be probed.
    let (status, _, none) = call(addr, Some(&am1), "/api/v1/reports/trends?account=ZZ9").await;
    assert_eq!(status, 404);
    assert_eq!(theirs["detail"].as_str().unwrap().replace("B1", "ZZ9"), none["detail"].as_str().unwrap());
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
    // A row that left out a field the others have would clear it: refused, nothing stored.
    let uneven = serde_json::json!([
        {"account_id": "A1", "name": "Alpha Energy Group", "billed_revenue": 1000000},
        {"account_id": "C1", "name": "Gamma", "vertical": "Energy", "strategic": true, "Tier": "Gold"}
    ]);
    let (status, body) = post(addr, &t, "/api/v1/bulk/accounts", &uneven).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("row 0 has no 'vertical', 'strategic', 'Tier' that other rows have"),
        "{body}"
    );
    // Every row with the same fields; the text sent is the text stored, whatever it starts
    // with, and a field name with semicolons is just a name.
    let rows = serde_json::json!([
        {"account_id": "A1", "name": "Alpha Energy Group", "billed_revenue": 1000000, "vertical": "Energy", "a;b;c;d": null},
        {"account_id": "C1", "name": "'=Gamma", "billed_revenue": null, "vertical": "Energy", "a;b;c;d": "x"}
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
    let (_, _, c1) = call(addr, Some(&t), "/api/v1/accounts/C1").await;
    assert_eq!(c1["name"], "'=Gamma");
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
    // A client that gives up waiting and retries at once: the two calls overlap, and still
    // only one runs. The other is told the first is running (409, Retry-After), or, if it came
    // in after, gets the first one's response.
    let many: Vec<Value> =
        (0..5_000).map(|i| serde_json::json!({"account_id": format!("R{i}"), "name": format!("Retry {i}")})).collect();
    let many = Value::Array(many);
    let (a, b) = tokio::join!(send("sync-43", many.clone()), send("sync-43", many.clone()));
    let mut ran = 0;
    for res in [a, b] {
        let replayed = res.headers().get("idempotent-replayed").is_some();
        match res.status().as_u16() {
            200 if !replayed => {
                ran += 1;
                assert_eq!(res.json::<Value>().await.unwrap()["inserted"], 5_000);
            }
            200 => assert_eq!(res.json::<Value>().await.unwrap()["inserted"], 5_000, "the first call's response"),
            409 => {
                assert_eq!(res.headers()["retry-after"], "1");
                let body: Value = res.json().await.unwrap();
                assert!(body["detail"].as_str().unwrap().contains("still running"), "{body}");
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ran, 1, "exactly one of two overlapping calls with one key runs");
    let after = send("sync-43", many).await;
    assert_eq!(after.headers()["idempotent-replayed"], "true");
    assert_eq!(after.json::<Value>().await.unwrap()["inserted"], 5_000);
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
    let item = serde_json::json!({"description": "Review their SLA", "function": "service", "due": "2099-12-15"});
    let (status, task) = post(addr, &am1, "/api/v1/accounts/A1/tasks", &item).await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!((task["owner"].as_str(), task["status"].as_str()), (Some("am1@test.example"), Some("open")));
    assert_eq!(task["due_at"], "2099-12-15T23:59:59Z");
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
        &serde_json::json!({"description": "x", "function": "legal", "due": "2099-12-15"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().starts_with("function: 'legal' is not one of sales"), "{problem}");
    for (body, says) in [
        (
            serde_json::json!({"description": "x", "function": "sales", "due": "2025-01-01"}),
            "the due date 2025-01-01 is past",
        ),
        (
            serde_json::json!({"description": "x", "function": "sales", "due": "2099-01-01", "owner": "nobody@x.example"}),
            "no user has the email 'nobody@x.example'",
        ),
    ] {
        let (status, problem) = post(addr, &am1, "/api/v1/accounts/A1/tasks", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(problem["detail"].as_str().unwrap().starts_with(says), "{problem}");
    }
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
        let more = serde_json::json!({"description": format!("Step {n}"), "function": "sales", "due": "2099-12-20"});
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

async fn send(
    addr: SocketAddr,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().request(method, format!("http://{addr}{path}")).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, serde_json::from_str(&res.text().await.unwrap()).unwrap_or(Value::Null))
}

/// The actions of the audit log, oldest first, with who did them.
async fn audited(store: &Store) -> Vec<(String, String)> {
    let mut log = store.audit_log(1000, None).await.unwrap();
    log.reverse();
    log.into_iter().map(|e| (e.action, e.actor.unwrap_or_default())).collect()
}

async fn waves_are_created_sent_and_closed_over_the_api_by_those_who_run_surveys(store: Store) {
    let addr = serve(&store).await;
    let analyst = token(&store, "analyst@test.example", TokenScope::Write).await;
    let am1 = token(&store, "am1@test.example", TokenScope::Write).await;

    // The survey first: saved as version 1, and saving it unchanged makes no new version.
    let survey =
        serde_json::to_value(rapport_core::survey::relationship_template(rapport_demo::survey::sender())).unwrap();
    let (status, saved) = post(addr, &analyst, "/api/v1/surveys", &survey).await;
    assert_eq!((status, saved["version"].as_i64()), (StatusCode::CREATED, Some(1)), "{saved}");
    let (status, again) = post(addr, &analyst, "/api/v1/surveys", &survey).await;
    assert_eq!((status, again["version"].as_i64()), (StatusCode::OK, Some(1)));
    let mut nameless = survey.clone();
    nameless["name"] = Value::from(" ");
    let (status, problem) = post(addr, &analyst, "/api/v1/surveys", &nameless).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("has no name"), "{problem}");
    assert_eq!(post(addr, &am1, "/api/v1/surveys", &survey).await.0, StatusCode::FORBIDDEN, "managers run no surveys");

    // A wave of the Energy accounts' executives, who have an email address now.
    let crm = token(&store, "admin@test.example", TokenScope::Write).await;
    let emails = serde_json::json!([
        {"contact_id": "A1-0", "account_id": "A1", "name": "Person A1-0", "role": "executive", "email": "a1@client.example"},
        {"contact_id": "A2-0", "account_id": "A2", "name": "Person A2-0", "role": "executive", "email": "a2@client.example"}
    ]);
    assert_eq!(post(addr, &crm, "/api/v1/bulk/contacts", &emails).await.0, StatusCode::OK);
    let new =
        serde_json::json!({"name": "2027-Q1", "vertical": "Energy", "roles": ["executive"], "closes": "2099-03-31"});
    assert_eq!(post(addr, &am1, "/api/v1/waves", &new).await.0, StatusCode::FORBIDDEN);
    let (status, created) = post(addr, &analyst, "/api/v1/waves", &new).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["wave"]["status"], "draft");
    assert_eq!(created["wave"]["closes_on"], "2099-03-31");
    assert_eq!(created["survey_version"], 1);
    assert_eq!(created["selection"], "vertical Energy, role executive");
    assert_eq!(created["invited"]["email"], 2, "one executive in each of A1 and A2: {created}");
    let (status, problem) = post(addr, &analyst, "/api/v1/waves", &new).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("already exists"), "{problem}");
    let (status, problem) =
        post(addr, &analyst, "/api/v1/waves", &serde_json::json!({"name": "X", "roles": ["boss"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().starts_with("roles: 'boss' is not one of"), "{problem}");
    // A far-off year is a typing slip: refused, not a closing day computed past the calendar.
    let (status, problem) =
        post(addr, &analyst, "/api/v1/waves", &serde_json::json!({"name": "X", "opens": "9999-12-31"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().starts_with("opens: '9999-12-31' is outside the years"), "{problem}");

    // Until someone answers in it, the new wave does not become the reports' latest wave.
    let (_, _, quadrants) = call(addr, Some(&analyst), "/api/v1/reports/quadrants").await;
    assert!(quadrants["title"].as_str().unwrap().contains("2026-Q2"), "{}", quadrants["title"]);

    // Its invitations: the analyst sees every one with its personal link, a page at a time;
    // an account manager sees their accounts' without links.
    let (status, _, first) = call(addr, Some(&analyst), "/api/v1/waves/2027-Q1/invitations?limit=1").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["items"][0]["status"], "pending");
    assert!(first["items"][0]["link"].as_str().unwrap().contains("/r/"), "{first}");
    let cursor = first["next_cursor"].as_i64().expect("a second page");
    let path = format!("/api/v1/waves/2027-Q1/invitations?limit=1&after={cursor}");
    let (_, _, second) = call(addr, Some(&analyst), &path).await;
    assert_eq!((second["items"].as_array().unwrap().len(), second["next_cursor"].is_null()), (1, true));
    let am2 = token(&store, "am2@test.example", TokenScope::Read).await;
    let (_, _, none) = call(addr, Some(&am2), "/api/v1/waves/2027-Q1/invitations").await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0, "am2 owns no Energy account");
    let (_, _, mine) = call(addr, Some(&am1), "/api/v1/waves/2027-Q1/invitations?answered=false").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    assert!(mine["items"][0]["link"].is_null(), "no personal links for managers: {mine}");
    let (status, _, problem) = call(addr, Some(&am1), "/api/v1/waves/2027-Q1/invitations?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("pending, sent, failed, bounced"));

    let wave_id = store.list_waves().await.unwrap().into_iter().find(|w| w.name == "2027-Q1").unwrap().id;
    let first = store.wave_invitations(wave_id, 0, 1).await.unwrap().remove(0);
    let survey_def = rapport_core::survey::relationship_template(rapport_demo::survey::sender());
    let answer = survey_def.read_answers([("ltr", "10")], rapport_core::answer::Intent::Submit).unwrap();
    store.record_answer(&first, &survey_def, &answer, time::OffsetDateTime::now_utc()).await.unwrap();
    let (_, _, quadrants) = call(addr, Some(&analyst), "/api/v1/reports/quadrants").await;
    assert!(quadrants["title"].as_str().unwrap().contains("2027-Q1"), "answered, it is: {}", quadrants["title"]);

    // This server sends nothing, and says so; one that sends email queues each invitation once.
    let (status, problem) = post(addr, &analyst, "/api/v1/waves/2027-Q1/send", &Value::Null).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("RAPPORT_SMTP_URL"), "{problem}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mailing = listener.local_addr().unwrap();
    let state =
        rapport_web::state::AppState::new(store.clone(), false).with_delivery("http://rapport.test", vec!["email"]);
    tokio::spawn(async move { axum::serve(listener, rapport_web::router(state)).await });
    let (status, sent) = post(mailing, &analyst, "/api/v1/waves/2027-Q1/send", &Value::Null).await;
    // Two invitations by email, one of them answered already: one goes out.
    assert_eq!(
        (status, sent["queued"].as_u64(), sent["wave"]["status"].as_str()),
        (StatusCode::OK, Some(1), Some("open"))
    );
    assert_eq!(post(mailing, &analyst, "/api/v1/waves/2027-Q1/send", &Value::Null).await.1["queued"], 0, "never twice");
    assert_eq!(post(mailing, &am1, "/api/v1/waves/2027-Q1/send", &Value::Null).await.0, StatusCode::FORBIDDEN);

    // The mail provider's bounce report: the invitation is marked, an unknown address is named.
    // A NUL in a reason or an address (PostgreSQL stores none) is no reason to refuse the report.
    let report = serde_json::json!([{"email": "A1@client.example", "reason": "550 5.1.1\u{0}unknown user"},
                                    {"email": "nobody@else.example"}, {"email": "x\u{0}@else.example"}]);
    assert_eq!(post(addr, &am1, "/api/v1/waves/2027-Q1/bounces", &report).await.0, StatusCode::FORBIDDEN);
    let (status, bounced) = post(addr, &analyst, "/api/v1/waves/2027-Q1/bounces", &report).await;
    assert_eq!(status, StatusCode::OK, "{bounced}");
    assert_eq!(bounced, serde_json::json!({"marked": 1, "unknown": ["nobody@else.example", "x\u{0}@else.example"]}));
    let (_, _, listed) = call(addr, Some(&analyst), "/api/v1/waves/2027-Q1/invitations?status=bounced").await;
    assert_eq!(listed["items"][0]["email"], "a1@client.example", "{listed}");

    // Closed, it takes no answers and sends nothing more; it can be opened again.
    let (status, closed) = post(addr, &analyst, "/api/v1/waves/2027-Q1/close", &Value::Null).await;
    assert_eq!((status, closed["status"].as_str()), (StatusCode::OK, Some("closed")));
    let (status, problem) = post(mailing, &analyst, "/api/v1/waves/2027-Q1/send", &Value::Null).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("is closed"));
    assert_eq!(post(addr, &analyst, "/api/v1/waves/2027-Q1/open", &Value::Null).await.1["status"], "open");
    assert_eq!(post(addr, &analyst, "/api/v1/waves/NOPE/close", &Value::Null).await.0, StatusCode::NOT_FOUND);
    let (_, _, waves) = call(addr, Some(&am1), "/api/v1/waves").await;
    assert_eq!(waves.as_array().unwrap().last().unwrap()["status"], "open");

    // An open-link answer from someone not on file is listed for those who run surveys.
    let link = store.open_link(wave_id, None).await.unwrap();
    let stranger = rapport_store::open_links::Respondent {
        company: "<b>Gamma</b> =1+1",
        email: "who@gamma.example",
        name: None,
        language: "en",
    };
    let answers = rapport_core::survey::relationship_template(rapport_demo::survey::sender())
        .read_answers([("ltr", "3")], rapport_core::answer::Intent::Submit)
        .unwrap();
    store.record_unmatched(&link, &stranger, &answers, time::OffsetDateTime::now_utc()).await.unwrap();
    let (status, _, unmatched) = call(addr, Some(&analyst), "/api/v1/waves/2027-Q1/unmatched").await;
    assert_eq!(status, StatusCode::OK, "{unmatched}");
    assert_eq!((unmatched[0]["company"].as_str(), unmatched[0]["ltr"].as_i64()), (Some("<b>Gamma</b> =1+1"), Some(3)));
    assert_eq!(call(addr, Some(&am1), "/api/v1/waves/2027-Q1/unmatched").await.0, StatusCode::FORBIDDEN);
    // Filed under the contact it came from, it counts for their account and leaves the list.
    let id = unmatched[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/waves/2027-Q1/unmatched/{id}/assign");
    let (status, problem) = post(addr, &analyst, &path, &serde_json::json!({"contact": "who@nowhere.example"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("No contact has the email"), "{problem}");
    let (status, filed) = post(addr, &analyst, &path, &serde_json::json!({"contact": "a2@client.example"})).await;
    assert_eq!((status, filed["account_id"].as_str()), (StatusCode::OK, Some("A2")), "{filed}");
    let (_, _, left) = call(addr, Some(&analyst), "/api/v1/waves/2027-Q1/unmatched").await;
    assert!(left.as_array().unwrap().is_empty(), "{left}");
    let (_, _, answered) = call(addr, Some(&am1), "/api/v1/accounts/A2/answers?wave=2027-Q1").await;
    assert!(answered.to_string().contains("\"ltr\":3"), "{answered}");
    assert_eq!(
        post(addr, &analyst, &path, &serde_json::json!({"contact": "a2@client.example"})).await.0,
        StatusCode::NOT_FOUND
    );

    let analyst_did: Vec<String> =
        audited(&store).await.into_iter().filter(|(_, who)| who == "analyst@test.example").map(|(a, _)| a).collect();
    assert_eq!(
        analyst_did,
        [
            "survey.save",
            "wave.create",
            "wave.send",
            "wave.send",
            "wave.bounces",
            "wave.closed",
            "wave.open",
            "unmatched.assign"
        ]
    );
}

async fn account_strategy_and_settings_are_changed_over_the_api_by_whom_the_app_allows(store: Store) {
    use reqwest::Method;
    let addr = serve(&store).await;
    store.save_survey(&rapport_core::survey::relationship_template(rapport_demo::survey::sender())).await.unwrap();
    let admin = token(&store, "admin@test.example", TokenScope::Admin).await;
    let admin_write = token(&store, "admin@test.example", TokenScope::Write).await;
    let am1 = token(&store, "am1@test.example", TokenScope::Write).await;
    let am2 = token(&store, "am2@test.example", TokenScope::Write).await;

    // A review meeting: its notes, and each agreed action on the plan (executive actions go to
    // the sponsor, the others to the owner).
    let review = serde_json::json!({
        "held_on": "2026-11-20", "notes": "They want <b>faster</b> delivery", "due": "2026-12-31",
        "actions": [{"function": "executive", "description": "Call their CFO"}, {"function": "service", "description": "Fix the slots"}]
    });
    assert_eq!(post(addr, &am2, "/api/v1/accounts/A1/reviews", &review).await.0, StatusCode::NOT_FOUND, "not theirs");
    let (status, recorded) = post(addr, &am1, "/api/v1/accounts/A1/reviews", &review).await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    assert_eq!(
        (recorded["held_on"].as_str(), recorded["recorded_by"].as_str()),
        (Some("2026-11-20"), Some("am1@test.example"))
    );
    let (_, _, reviews) = call(addr, Some(&am1), "/api/v1/accounts/A1/reviews").await;
    assert_eq!(reviews[0]["notes"], "They want <b>faster</b> delivery", "kept as written, JSON is not HTML");
    let (_, _, plan) = call(addr, Some(&am1), "/api/v1/tasks?account=A1&kind=plans").await;
    let mut owners: Vec<(String, String, String)> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["function"].as_str().unwrap().into(),
                t["owner"].as_str().unwrap().into(),
                t["due_at"].as_str().unwrap().into(),
            )
        })
        .collect();
    owners.sort();
    assert_eq!(
        owners,
        [
            ("executive".into(), "exec@test.example".into(), "2026-12-31T23:59:59Z".into()),
            ("service".into(), "am1@test.example".into(), "2026-12-31T23:59:59Z".into())
        ]
    );
    let bad_action =
        serde_json::json!({"held_on": "2026-11-20", "actions": [{"function": "legal", "description": "x"}]});
    let (status, problem) = post(addr, &am1, "/api/v1/accounts/A1/reviews", &bad_action).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().starts_with("actions[0].function: 'legal'"), "{problem}");
    let (status, problem) =
        post(addr, &am1, "/api/v1/accounts/A1/reviews", &serde_json::json!({"held_on": "2026-11-20"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("both are empty"), "{problem}");

    // The sponsor: administrators, with the admin scope, and only an executive who signs in.
    let sponsor = serde_json::json!({"sponsor": "exec@test.example"});
    assert_eq!(
        send(addr, &admin_write, Method::PUT, "/api/v1/accounts/A2/sponsor", Some(&sponsor)).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(addr, &am1, Method::PUT, "/api/v1/accounts/A2/sponsor", Some(&sponsor)).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, account) = send(addr, &admin, Method::PUT, "/api/v1/accounts/A2/sponsor", Some(&sponsor)).await;
    assert_eq!((status, account["sponsor_email"].as_str()), (StatusCode::OK, Some("exec@test.example")), "{account}");
    // Sponsorship across the portfolio: who sponsors what, and the accounts by priority.
    let (status, _, sponsors) = call(addr, Some(&admin), "/api/v1/sponsors?limit=1").await;
    assert_eq!(status, StatusCode::OK, "{sponsors}");
    assert_eq!(sponsors["executives"][0]["email"], "exec@test.example");
    assert_eq!(sponsors["executives"][0]["accounts"], serde_json::json!(["A2", "A1"]), "by name");
    assert_eq!(sponsors["wave"], "2026-Q2");
    assert_eq!((sponsors["accounts"][0]["rank"].as_u64(), sponsors["next_cursor"].as_u64()), (Some(1), Some(1)));
    let (_, _, last) = call(addr, Some(&admin), "/api/v1/sponsors?after=3").await;
    assert_eq!((last["accounts"][0]["rank"].as_u64(), last["next_cursor"].as_u64()), (Some(4), None));
    let (_, _, theirs) = call(addr, Some(&am2), "/api/v1/sponsors").await;
    let ranked: Vec<&str> =
        theirs["accounts"].as_array().unwrap().iter().map(|a| a["account_id"].as_str().unwrap()).collect();
    assert_eq!(ranked, ["B1", "B2"], "a manager ranks their own accounts: {theirs}");
    assert!(theirs["executives"][0]["accounts"].as_array().unwrap().is_empty(), "and sees no one else's");
    // ... but the executive's load, and each account's points, are the same whoever looks.
    assert_eq!(
        (sponsors["executives"][0]["sponsored"].as_u64(), theirs["executives"][0]["sponsored"].as_u64()),
        (Some(2), Some(2))
    );
    let (_, _, all) = call(addr, Some(&admin), "/api/v1/sponsors").await;
    let points = |list: &Value, id: &str| {
        list["accounts"].as_array().unwrap().iter().find(|a| a["account_id"] == id).unwrap()["points"].clone()
    };
    let (_, _, am1_view) = call(addr, Some(&am1), "/api/v1/sponsors").await;
    for (id, view) in [("B1", &theirs), ("B2", &theirs), ("A1", &am1_view), ("A2", &am1_view)] {
        assert_eq!(points(&all, id), points(view, id), "{id}: {all} {view}");
    }

    let not_exec = serde_json::json!({"sponsor": "am2@test.example"});
    let (status, problem) = send(addr, &admin, Method::PUT, "/api/v1/accounts/A2/sponsor", Some(&not_exec)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"].as_str().unwrap().contains("is an account manager in Rapport, not an executive"),
        "{problem}"
    );
    let (_, problem) = send(
        addr,
        &admin,
        Method::PUT,
        "/api/v1/accounts/A2/sponsor",
        Some(&serde_json::json!({"sponsor": "x@y.example"})),
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("is not an executive who signs in"), "{problem}");
    let nobody = serde_json::json!({"sponsor": null});
    let (_, account) = send(addr, &admin, Method::PUT, "/api/v1/accounts/A2/sponsor", Some(&nobody)).await;
    assert!(account["sponsor_email"].is_null(), "{account}");

    // The alert rules: everyone reads them, administrators change them.
    let (_, _, rules) = call(addr, Some(&am1), "/api/v1/settings/alert-rules").await;
    assert_eq!(rules["detractor"], true);
    let changed = serde_json::json!({"detractor": true, "nps_drop": 15, "problem": false, "watch_words": ["lawyer", " "], "deadline_hours": 24});
    assert_eq!(
        send(addr, &am1, Method::PUT, "/api/v1/settings/alert-rules", Some(&changed)).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, saved) = send(addr, &admin, Method::PUT, "/api/v1/settings/alert-rules", Some(&changed)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["watch_words"], serde_json::json!(["lawyer"]));
    assert_eq!(store.alert_rules().await.unwrap().nps_drop, Some(15));
    let (status, problem) =
        send(addr, &admin, Method::PUT, "/api/v1/settings/alert-rules", Some(&serde_json::json!({"detractor": true})))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("missing field"), "{problem}");

    // The cadence: set, read, stopped.
    let cadence = serde_json::json!({"period": "quarterly", "next_start": "2027-01-04", "survey": "B2B relationship survey",
        "wave_days": 21, "remind_after_days": 7, "max_reminders": 2, "review_within_days": 30});
    let (status, set) = send(addr, &admin, Method::PUT, "/api/v1/settings/cadence", Some(&cadence)).await;
    assert_eq!((status, set["cadence"]["next_start"].as_str()), (StatusCode::OK, Some("2027-01-04")), "{set}");
    let (_, _, read) = call(addr, Some(&am1), "/api/v1/settings/cadence").await;
    assert_eq!(read["cadence"]["period"], "quarterly");
    let mut unknown = cadence.clone();
    unknown["survey"] = Value::from("Pulse");
    let (status, problem) = send(addr, &admin, Method::PUT, "/api/v1/settings/cadence", Some(&unknown)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("no survey named 'Pulse'"), "{problem}");
    assert_eq!(send(addr, &admin, Method::DELETE, "/api/v1/settings/cadence", None).await.0, StatusCode::NO_CONTENT);
    assert!(call(addr, Some(&am1), "/api/v1/settings/cadence").await.2["cadence"].is_null());

    // Webhooks: the secret once, then never again; removed once.
    let hook = serde_json::json!({"url": "https://hooks.example/rapport", "events": ["alert.raised"]});
    assert_eq!(post(addr, &am1, "/api/v1/webhooks", &hook).await.0, StatusCode::FORBIDDEN);
    // A retry with the same Idempotency-Key gets the first answer back and makes no second hook.
    let mut answers = Vec::new();
    for _ in 0..2 {
        let res = reqwest::Client::new()
            .post(format!("http://{addr}/api/v1/webhooks"))
            .bearer_auth(&admin)
            .header("Idempotency-Key", "hook-1")
            .json(&hook)
            .send()
            .await
            .unwrap();
        answers.push((res.status(), res.json::<Value>().await.unwrap()));
    }
    let (status, made) = answers[0].clone();
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(answers[1], answers[0], "the retry is answered with the first call's answer");
    let id = made["webhook"]["id"].as_i64().unwrap();
    let (_, _, hooks) = call(addr, Some(&admin), "/api/v1/webhooks").await;
    assert_eq!(hooks.as_array().unwrap().len(), 1, "{hooks}");
    assert_eq!(hooks[0]["events"], serde_json::json!(["alert.raised"]));
    assert!(hooks[0].get("secret").is_none(), "{hooks}");
    let (status, problem) =
        post(addr, &admin, "/api/v1/webhooks", &serde_json::json!({"url": "ftp://x", "events": ["*"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("must start with https://"), "{problem}");
    let path = format!("/api/v1/webhooks/{id}");
    assert_eq!(send(addr, &admin, Method::DELETE, &path, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(send(addr, &admin, Method::DELETE, &path, None).await.0, StatusCode::NOT_FOUND);

    // The assessment definition: a new version from the current one, with a reason; an edit of
    // an older version is a conflict, not applied over the newer one.
    let change = serde_json::json!({"base_version": 0, "reason": "Loyalty first",
        "criteria": [{"kind": "loyalty", "weight": 60, "best": 60.0, "worst": -40.0}]});
    // First a preview: who would move, and nothing saved.
    let only_loyalty: Vec<Value> = [
        "payment_days",
        "exceptions_per_million",
        "service_requests_per_million",
        "order_changes_per_million",
        "margin_pct",
        "opportunity_flow",
        "growth",
    ]
    .iter()
    .map(|k| serde_json::json!({"kind": k, "weight": 0, "best": 1.0, "worst": 0.0}))
    .chain([serde_json::json!({"kind": "loyalty", "weight": 100, "best": 50.0, "worst": -50.0})])
    .collect();
    let what_if = serde_json::json!({"base_version": 0, "criteria": only_loyalty});
    let (status, preview) = post(addr, &admin, "/api/v1/assessment/definition/preview", &what_if).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    // Scored on loyalty alone, an NPS of -100 is worth nothing and B1 falls to poor; A1's NPS
    // of 33.3 on a scale from -50 to 50 is worth 83.3.
    let movers = preview["movers"].as_array().unwrap();
    assert_eq!((movers[0]["account_id"].as_str(), movers[0]["band_after"].as_str()), (Some("B1"), Some("poor")));
    let a1 = movers.iter().find(|m| m["account_id"] == "A1").unwrap();
    assert!((a1["score_after"].as_f64().unwrap() - 250.0 / 3.0).abs() < 1e-9, "{a1}");
    assert_eq!(
        post(addr, &admin_write, "/api/v1/assessment/definition/preview", &what_if).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(store.assessment_definition().await.unwrap().version, 0, "a preview saves nothing");
    let (status, v1) = send(addr, &admin, Method::PUT, "/api/v1/assessment/definition", Some(&change)).await;
    assert_eq!(
        (status, v1["version"].as_i64(), v1["changed_by"].as_str()),
        (StatusCode::OK, Some(1), Some("admin@test.example")),
        "{v1}"
    );
    let loyalty = v1["criteria"].as_array().unwrap().iter().find(|c| c["kind"] == "loyalty").unwrap();
    assert_eq!(loyalty["weight"], 60);
    let (status, problem) = send(addr, &admin, Method::PUT, "/api/v1/assessment/definition", Some(&change)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(problem["detail"].as_str().unwrap().contains("changed since you opened it"), "{problem}");
    let unexplained = serde_json::json!({"base_version": 1, "reason": "", "neglect_days": 60});
    let (status, problem) = send(addr, &admin, Method::PUT, "/api/v1/assessment/definition", Some(&unexplained)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("say why"), "{problem}");
    let wrong = serde_json::json!({"base_version": 1, "reason": "x", "criteria": [{"kind": "luck", "weight": 1, "best": 1.0, "worst": 0.0}]});
    let (status, problem) = send(addr, &admin, Method::PUT, "/api/v1/assessment/definition", Some(&wrong)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().starts_with("criteria[0].kind: 'luck' is not one of"), "{problem}");
    assert_eq!(call(addr, Some(&am1), "/api/v1/assessment/definition").await.2["current"]["version"], 1);

    // The audit log over the API: newest first, a page at a time, for administrators.
    let (status, _, newest) = call(addr, Some(&admin), "/api/v1/audit?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{newest}");
    let actions: Vec<&str> =
        newest["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["definition.change", "webhook.delete"]);
    assert_eq!(newest["items"][0]["detail"], "version 1: Loyalty first");
    let cursor = newest["next_cursor"].as_i64().unwrap();
    let (_, _, older) = call(addr, Some(&admin), &format!("/api/v1/audit?limit=1&before={cursor}")).await;
    assert_eq!(older["items"][0]["action"], "webhook.create");
    assert_eq!(call(addr, Some(&admin_write), "/api/v1/audit").await.0, StatusCode::FORBIDDEN, "admin scope only");
    let (status, _, problem) = call(addr, Some(&admin), "/api/v1/deliveries?kind=sms").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("use email or webhook"), "{problem}");
    let (status, _, log) = call(addr, Some(&admin), "/api/v1/deliveries?kind=webhook").await;
    assert_eq!((status, log["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "nothing happened to send");

    let admin_did: Vec<String> =
        audited(&store).await.into_iter().filter(|(_, who)| who == "admin@test.example").map(|(a, _)| a).collect();
    assert_eq!(
        admin_did,
        [
            "sponsor.assign",
            "sponsor.assign",
            "alert_rules.change",
            "cadence.change",
            "cadence.change",
            "webhook.create",
            "webhook.delete",
            "definition.change"
        ]
    );
}

async fn every_api_route_answers_each_role_as_the_app_does(store: Store) {
    use reqwest::Method;
    let addr = serve(&store).await;
    // Each role with the widest scope it may have; a body that is wrong on purpose, so that a
    // 400 means "allowed in, and told what to fix" and nothing changes.
    let mut tokens = vec![("admin", token(&store, "admin@test.example", TokenScope::Admin).await)];
    for (who, email) in [("analyst", "analyst"), ("executive", "exec"), ("am1", "am1"), ("am2", "am2")] {
        tokens.push((who, token(&store, &format!("{email}@test.example"), TokenScope::Write).await));
    }
    const OK: u16 = 200;
    const GONE: u16 = 204;
    const BAD: u16 = 400;
    const NO: u16 = 403;
    const NONE: u16 = 404;
    let empty = serde_json::json!({});
    // Method, route, body, then the status for: admin, analyst, executive, am1 (owns A*), am2 (owns B*).
    let matrix: Vec<(Method, &str, Option<&Value>, [u16; 5])> = vec![
        (Method::GET, "/api/v1/accounts", None, [OK, OK, OK, OK, OK]),
        (Method::GET, "/api/v1/accounts/A1", None, [OK, OK, OK, OK, NONE]),
        (Method::GET, "/api/v1/accounts/B1/answers", None, [OK, OK, OK, NONE, OK]),
        (Method::GET, "/api/v1/accounts/A2/reviews", None, [OK, OK, OK, OK, NONE]),
        (Method::POST, "/api/v1/accounts/A2/reviews", Some(&empty), [BAD, BAD, BAD, BAD, NONE]),
        (Method::POST, "/api/v1/accounts/B2/tasks", Some(&empty), [BAD, BAD, BAD, NONE, BAD]),
        (Method::PATCH, "/api/v1/tasks/999999", Some(&empty), [NONE, NONE, NONE, NONE, NONE]),
        (Method::PUT, "/api/v1/accounts/A1/sponsor", Some(&empty), [BAD, NO, NO, NO, NO]),
        (Method::GET, "/api/v1/surveys", None, [OK, OK, OK, OK, OK]),
        (Method::POST, "/api/v1/surveys", Some(&empty), [BAD, BAD, NO, NO, NO]),
        (Method::GET, "/api/v1/waves", None, [OK, OK, OK, OK, OK]),
        (Method::POST, "/api/v1/waves", Some(&empty), [BAD, BAD, NO, NO, NO]),
        (Method::POST, "/api/v1/waves/NOPE/send", None, [NONE, NONE, NO, NO, NO]),
        (Method::POST, "/api/v1/waves/NOPE/open", None, [NONE, NONE, NO, NO, NO]),
        (Method::POST, "/api/v1/waves/NOPE/close", None, [NONE, NONE, NO, NO, NO]),
        (Method::GET, "/api/v1/waves/NOPE/invitations", None, [NONE, NONE, NONE, NONE, NONE]),
        (Method::GET, "/api/v1/waves/NOPE/unmatched", None, [NONE, NONE, NO, NO, NO]),
        (Method::POST, "/api/v1/waves/NOPE/bounces", Some(&empty), [NONE, NONE, NO, NO, NO]),
        (Method::POST, "/api/v1/waves/NOPE/unmatched/1/assign", Some(&empty), [BAD, BAD, NO, NO, NO]),
        (Method::GET, "/api/v1/audit", None, [OK, NO, NO, NO, NO]),
        (Method::GET, "/api/v1/sponsors", None, [OK, OK, OK, OK, OK]),
        (Method::GET, "/api/v1/deliveries", None, [OK, NO, NO, NO, NO]),
        (Method::GET, "/api/v1/alerts", None, [OK, OK, OK, OK, OK]),
        (Method::GET, "/api/v1/tasks", None, [OK, OK, OK, OK, OK]),
        (Method::GET, "/api/v1/settings/alert-rules", None, [OK, OK, OK, OK, OK]),
        (Method::PUT, "/api/v1/settings/alert-rules", Some(&empty), [BAD, NO, NO, NO, NO]),
        (Method::GET, "/api/v1/settings/cadence", None, [OK, OK, OK, OK, OK]),
        (Method::PUT, "/api/v1/settings/cadence", Some(&empty), [BAD, NO, NO, NO, NO]),
        (Method::DELETE, "/api/v1/settings/cadence", None, [GONE, NO, NO, NO, NO]),
        (Method::GET, "/api/v1/webhooks", None, [OK, NO, NO, NO, NO]),
        (Method::POST, "/api/v1/webhooks", Some(&empty), [BAD, NO, NO, NO, NO]),
        (Method::DELETE, "/api/v1/webhooks/999999", None, [NONE, NO, NO, NO, NO]),
        (Method::GET, "/api/v1/users", None, [OK, NO, NO, NO, NO]),
        (Method::POST, "/api/v1/users", Some(&empty), [BAD, NO, NO, NO, NO]),
        (Method::PUT, "/api/v1/users/999999", Some(&empty), [BAD, NO, NO, NO, NO]),
        (Method::POST, "/api/v1/users/999999/password", None, [NONE, NO, NO, NO, NO]),
        (Method::DELETE, "/api/v1/users/999999/sign-in", None, [NONE, NO, NO, NO, NO]),
        (Method::GET, "/api/v1/assessment/definition", None, [OK, OK, OK, OK, OK]),
        (Method::PUT, "/api/v1/assessment/definition", Some(&empty), [BAD, NO, NO, NO, NO]),
        (Method::POST, "/api/v1/assessment/definition/preview", Some(&empty), [BAD, NO, NO, NO, NO]),
        (Method::GET, "/api/v1/reports/risk", None, [OK, OK, OK, OK, OK]),
        (Method::POST, "/api/v1/bulk/accounts", Some(&empty), [BAD, NO, NO, NO, NO]),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, expected) in &matrix {
        for ((who, t), want) in tokens.iter().zip(expected) {
            let (status, answer) = send(addr, t, method.clone(), path, *body).await;
            if status.as_u16() != *want {
                wrong.push(format!("{method} {path} as {who}: {status}, expected {want}: {answer}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(store.audit_log(10, None).await.unwrap().iter().all(|e| e.action != "webhook.delete"), "nothing removed");
}

async fn administrators_manage_users_over_the_api_as_in_the_app(store: Store) {
    use reqwest::Method;
    let addr = serve(&store).await;
    let admin = token(&store, "admin@test.example", TokenScope::Admin).await;
    let (status, _, list) = call(addr, Some(&admin), "/api/v1/users").await;
    assert_eq!(status, 200);
    let admin_id = list.as_array().unwrap().iter().find(|u| u["email"] == "admin@test.example").unwrap()["id"].clone();
    assert_eq!(list[0]["can_sign_in"], true, "{list}");
    // Added with a password, in the answer once.
    let new = serde_json::json!({"email": "Kofi@test.example", "name": "Kofi Mensah", "role": "analyst",
        "manager_email": "exec@test.example"});
    let (status, made) = post(addr, &admin, "/api/v1/users", &new).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        (made["user"]["role"].as_str(), made["user"]["manager_email"].as_str()),
        (Some("analyst"), Some("exec@test.example"))
    );
    assert!(made["user"]["last_sign_in_at"].is_null(), "never signed in: {made}");
    let password = made["password"].as_str().unwrap();
    assert_eq!(password.len(), 23);
    let login = store.user_login("kofi@test.example").await.unwrap().unwrap();
    assert!(rapport_web::password::verify_password(password, login.password_hash.as_deref().unwrap()));
    let id = made["user"]["id"].as_i64().unwrap();
    // The same email in another case, an unknown role or manager: what to fix, no one added.
    let again = serde_json::json!({"email": "kofi@TEST.example", "name": "K", "role": "analyst"});
    let (status, problem) = post(addr, &admin, "/api/v1/users", &again).await;
    assert_eq!(status, 400);
    assert!(problem["detail"].as_str().unwrap().contains("is already a user"), "{problem}");
    let boss = serde_json::json!({"email": "b@test.example", "name": "B", "role": "boss"});
    assert!(
        post(addr, &admin, "/api/v1/users", &boss).await.1["detail"].as_str().unwrap().contains("'boss' is not a role")
    );
    assert_eq!(store.list_users().await.unwrap().len(), list.as_array().unwrap().len() + 1);
    // A new role; the last administrator stays one.
    let change = serde_json::json!({"name": "Kofi A. Mensah", "role": "executive"});
    let (status, changed) = send(addr, &admin, Method::PUT, &format!("/api/v1/users/{id}"), Some(&change)).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!((changed["name"].as_str(), changed["role"].as_str()), (Some("Kofi A. Mensah"), Some("executive")));
    assert!(changed["manager_email"].is_null(), "no manager given: none");
    let demote = serde_json::json!({"name": "Admin", "role": "analyst"});
    let (status, problem) = send(addr, &admin, Method::PUT, &format!("/api/v1/users/{admin_id}"), Some(&demote)).await;
    assert_eq!(status, 400);
    assert!(problem["detail"].as_str().unwrap().contains("last administrator"), "{problem}");
    // A new password replaces the old one; a retry with its key gets the same answer.
    let reset = |key: &'static str| {
        let admin = admin.clone();
        async move {
            let res = reqwest::Client::new()
                .post(format!("http://{addr}/api/v1/users/{id}/password"))
                .bearer_auth(admin)
                .header("Idempotency-Key", key)
                .send()
                .await
                .unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, first) = reset("reset-1").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(reset("reset-1").await.1["password"], first["password"], "replayed, not reset twice");
    let login = store.user_login("kofi@test.example").await.unwrap().unwrap();
    assert!(rapport_web::password::verify_password(
        first["password"].as_str().unwrap(),
        login.password_hash.as_deref().unwrap()
    ));
    // Someone who left: no sign-in, their token refused; not the caller themselves.
    let theirs = token(&store, "kofi@test.example", TokenScope::Read).await;
    assert_eq!(call(addr, Some(&theirs), "/api/v1/accounts").await.0, 200);
    let (status, _) = send(addr, &admin, Method::DELETE, &format!("/api/v1/users/{id}/sign-in"), None).await;
    assert_eq!(status, 204);
    assert_eq!(call(addr, Some(&theirs), "/api/v1/accounts").await.0, 401);
    let (_, _, list) = call(addr, Some(&admin), "/api/v1/users").await;
    assert_eq!(list.as_array().unwrap().iter().find(|u| u["id"] == id).unwrap()["can_sign_in"], false);
    let (status, _) = send(addr, &admin, Method::DELETE, &format!("/api/v1/users/{admin_id}/sign-in"), None).await;
    assert_eq!(status, 400, "not their own");
    let actions: Vec<String> = store.audit_log(20, None).await.unwrap().into_iter().map(|e| e.action).collect();
    for action in ["user.create", "user.change", "user.password_reset", "user.remove_sign_in"] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}
