//! Administrators manage the people who sign in; everyone changes their own password.

use rapport_core::user::Role;
use rapport_store::Store;
use reqwest::StatusCode;

/// The password shown once on the users page after it was made.
fn shown_password(page: &str) -> String {
    let start = page.find(r#"class="share-url" readonly value=""#).expect("a password is shown") + 34;
    page[start..].split('"').next().unwrap().to_string()
}

async fn sign_in_with(addr: std::net::SocketAddr, email: &str, password: &str) -> (StatusCode, reqwest::Client) {
    let c = super::client();
    let page = c.get(super::url(addr, "/sign-in")).send().await.unwrap().text().await.unwrap();
    let csrf = super::support::input_value(&page, "csrf");
    let res = c
        .post(super::url(addr, "/sign-in"))
        .form(&[("email", email), ("password", password), ("csrf", &csrf), ("next", "/")])
        .send()
        .await
        .unwrap();
    (res.status(), c)
}

async fn user_id(store: &Store, email: &str) -> i64 {
    store.list_users().await.unwrap().into_iter().find(|u| u.email == email).expect("the user").id
}

pub async fn administrators_add_people_give_new_passwords_and_remove_sign_ins(store: Store) {
    let addr = super::serve(&store).await;
    let admin = super::sign_in(addr, "admin@test.example").await;
    let (status, page) = super::get(&admin, addr, "/users").await;
    assert_eq!(status, 200);
    assert!(page.contains("am1@test.example") && page.contains(r#"href="/users" aria-current="page""#), "{page}");
    let csrf = super::support::input_value(&page, "csrf");
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let admin = admin.clone();
        async move { admin.post(super::url(addr, &path)).form(&form).send().await.unwrap() }
    };
    let person = |email: &str, name: &str, role: &str, manager: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("email", email.to_string()),
            ("name", name.to_string()),
            ("role", role.to_string()),
            ("manager", manager.to_string()),
        ]
    };

    // Added with a password shown once; the name is text wherever it shows.
    let res =
        post("/users".into(), person("New.Person@test.example", "Nia <b>Okafor</b>", "analyst", "admin@test.example"))
            .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let page = res.text().await.unwrap();
    let password = shown_password(&page);
    assert_eq!(password.len(), 23, "{password}");
    assert!(!page.contains("<b>Okafor</b>"), "escaped: {page}");
    let id = user_id(&store, "New.Person@test.example").await;
    let listed = store.list_users().await.unwrap().into_iter().find(|u| u.id == id).unwrap();
    assert_eq!(
        (listed.role, listed.manager_email.as_deref(), listed.can_sign_in),
        (Role::Analyst, Some("admin@test.example"), true)
    );
    let (status, nia) = sign_in_with(addr, "new.person@test.example", &password).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the shown password signs in");
    let signed_in = store.list_users().await.unwrap().into_iter().find(|u| u.id == id).unwrap().last_sign_in_at;
    assert!(signed_in.is_some_and(|t| t > 1_700_000_000), "{signed_in:?}");
    let listed = super::get(&admin, addr, "/users").await.1;
    assert!(listed.contains("<td>never</td>") && listed.contains(" UTC</td>"), "last sign-ins: {listed}");
    assert_eq!(super::get(&nia, addr, "/users").await.0, StatusCode::FORBIDDEN, "only administrators");
    assert!(!super::get(&admin, addr, "/users").await.1.contains(&password), "shown only once");

    // Refused additions come back as typed, with what to fix, and add no one.
    let res = post("/users".into(), person("NEW.PERSON@test.example", "Someone Else", "executive", "")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let again = res.text().await.unwrap();
    assert!(again.contains("NEW.PERSON@test.example is already a user"), "{again}");
    assert!(
        again.contains(r#"value="Someone Else""#) && again.contains(r#"<option value="executive" selected>"#),
        "{again}"
    );
    let res = post("/users".into(), person("not an email", "Kofi Mensah", "analyst", "")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains(r#"value="Kofi Mensah""#));
    let res = post("/users".into(), person("kofi@test.example", "Kofi Mensah", "analyst", "nobody@test.example")).await;
    assert!(res.text().await.unwrap().contains("There is no user nobody@test.example to be the manager"));
    let before = store.list_users().await.unwrap().len();

    // A new role and manager; no one is their own manager.
    let change = |role: &str, manager: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Nia Okafor".to_string()),
            ("role", role.into()),
            ("manager", manager.into()),
        ]
    };
    assert_eq!(post(format!("/users/{id}"), change("account_manager", "exec@test.example")).await.status(), 303);
    let listed = store.list_users().await.unwrap().into_iter().find(|u| u.id == id).unwrap();
    assert_eq!((listed.name.as_str(), listed.role), ("Nia Okafor", Role::AccountManager));
    assert_eq!(listed.manager_email.as_deref(), Some("exec@test.example"));
    let res = post(format!("/users/{id}"), change("analyst", "new.person@test.example")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("cannot be their own manager"));
    assert_eq!(store.list_users().await.unwrap().len(), before, "nothing added by the refusals");

    // The last administrator who can sign in stays one, and keeps their sign-in.
    let admin_id = user_id(&store, "admin@test.example").await;
    let res = post(format!("/users/{admin_id}"), change("analyst", "")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("the last administrator who can sign in"));
    let res = post(format!("/users/{admin_id}/remove"), vec![("csrf", csrf.clone())]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Nor do they make themselves a password they would never see.
    let res = post(format!("/users/{admin_id}/password"), vec![("csrf", csrf.clone())]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("Change your own password under Your password"));
    assert_eq!(super::get(&admin, addr, "/users").await.0, StatusCode::OK, "still signed in");
    assert_eq!(store.list_users().await.unwrap().into_iter().find(|u| u.id == admin_id).unwrap().role, Role::Admin);

    // They change their own password: the current one is checked, and other browsers sign out.
    let (_, other_browser) = sign_in_with(addr, "new.person@test.example", &password).await;
    let own = super::get(&nia, addr, "/password").await.1;
    let own_csrf = super::support::input_value(&own, "csrf");
    let change_own = |current: &str, new: &str, confirm: &str| {
        let nia = nia.clone();
        let form = [
            ("csrf", own_csrf.clone()),
            ("current", current.into()),
            ("password", new.into()),
            ("confirm", confirm.into()),
        ];
        async move { nia.post(super::url(addr, "/password")).form(&form).send().await.unwrap() }
    };
    let res = change_own("wrong password", "a brand new password", "a brand new password").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("not your current password"));
    let res = change_own(&password, "a brand new password", "a brand new passw0rd").await;
    assert!(res.text().await.unwrap().contains("The two new passwords differ"));
    let res = change_own(&password, "a brand new password", "a brand new password").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        super::get(&nia, addr, "/password?changed").await.1.contains("Your password was changed"),
        "still signed in here"
    );
    assert_eq!(super::get(&other_browser, addr, "/").await.0, StatusCode::SEE_OTHER, "signed out elsewhere");
    assert_eq!(sign_in_with(addr, "new.person@test.example", &password).await.0, StatusCode::UNAUTHORIZED);

    // A new password from an administrator ends their sessions.
    let res = post(format!("/users/{id}/password"), vec![("csrf", csrf.clone())]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let reset = shown_password(&res.text().await.unwrap());
    assert_eq!(super::get(&nia, addr, "/").await.0, StatusCode::SEE_OTHER, "signed out by the reset");
    let (status, nia) = sign_in_with(addr, "new.person@test.example", &reset).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // Someone who left: no sign-in, no session, no API token; what they own stays.
    let tokens = super::get(&nia, addr, "/tokens").await.1;
    let form =
        [("csrf", super::support::input_value(&tokens, "csrf")), ("name", "CRM sync".into()), ("scope", "read".into())];
    let made = nia.post(super::url(addr, "/tokens")).form(&form).send().await.unwrap().text().await.unwrap();
    let token = shown_password(&made);
    let api = |token: String| async move {
        reqwest::Client::new()
            .get(super::url(addr, "/api/v1/accounts"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(api(token.clone()).await, StatusCode::OK);
    assert_eq!(post(format!("/users/{id}/remove"), vec![("csrf", csrf.clone())]).await.status(), 303);
    assert_eq!(super::get(&nia, addr, "/").await.0, StatusCode::SEE_OTHER);
    assert_eq!(store.user_login("new.person@test.example").await.unwrap().unwrap().password_hash, None, "no sign-in");
    assert_eq!(api(token).await, StatusCode::UNAUTHORIZED);
    let listed = store.list_users().await.unwrap().into_iter().find(|u| u.id == id).unwrap();
    assert!(!listed.can_sign_in);
    assert!(super::get(&admin, addr, "/users").await.1.contains("no sign-in"));

    let (_, audit) = super::get(&admin, addr, "/audit").await;
    for action in ["user.create", "user.change", "user.password_change", "user.password_reset", "user.remove_sign_in"] {
        assert!(audit.contains(action), "{action} in the audit log");
    }
}
