//! Invitations and reminders by email through a real SMTP server (aiosmtpd) started by the
//! test: each message once, in the contact's language, with the personal link and a way to
//! unsubscribe; a mail server that cannot be reached is tried again later.

use rapport_core::answer::Intent;
use rapport_store::invitations::Invitation;
use rapport_store::{Kind, Store};
use rapport_test_utils::smtp::{SmtpServer, decoded, header};
use rapport_web::delivery::{Channels, Mailer, SmsGateway, Worker};
use rapport_web::respond::personal_path;
use time::OffsetDateTime;

use super::respond::wave;

const PUBLIC: &str = "https://surveys.example";

/// The test portfolio with email addresses for three contacts (one at the account whose name
/// is a script, one reading German), in an open wave.
async fn emailable_wave(store: &Store) -> Vec<Invitation> {
    super::support::load_portfolio(store).await;
    rapport_store::import::import_reader(
        store,
        Kind::Contacts,
        "contact_id,account_id,name,email,language\n\
         A1-0,A1,Person A1-0,a10@alpha.example,\n\
         A2-0,A2,Person A2-0,a20@alpha.example,en\n"
            .as_bytes(),
        Default::default(),
        &mut |_| {},
    )
    .await
    .unwrap();
    wave(store, "2026-Q3", true).await
}

/// The invitation's contact answers (likelihood to recommend 9), now.
async fn answer(store: &Store, invitation_id: i64) {
    let answered = store.invitation(invitation_id).await.unwrap().unwrap();
    let survey = store.survey_version(answered.survey_version_id.unwrap()).await.unwrap().survey;
    let answers = survey.read_answers([("ltr", "9")], Intent::Submit).unwrap();
    store.record_answer(&answered, &survey, &answers, OffsetDateTime::now_utc()).await.unwrap();
}

fn worker(store: &Store, smtp_url: &str) -> Worker {
    let channels = Channels { mail: Some(Mailer::new(smtp_url, None).unwrap()), sms: None };
    Worker::new(store.clone(), channels, PUBLIC, 1000)
}

pub async fn invitations_go_out_by_email_once_each_in_the_contacts_language(store: Store) {
    let Some(smtp) = SmtpServer::start() else { return };
    let invs = emailable_wave(&store).await;
    let wave_id = invs[0].wave_id;
    let now = OffsetDateTime::now_utc();
    assert_eq!(store.queue_invitations(wave_id, &["email"], now).await.unwrap(), 3);
    assert_eq!(worker(&store, &smtp.url()).run_due().await.unwrap(), 3);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 3);
    for inv in invs.iter().filter(|i| i.channel == "email") {
        let address = inv.email.as_deref().unwrap();
        let m = messages.iter().find(|m| header(m, "X-RcptTo") == Some(address)).unwrap_or_else(|| panic!("{address}"));
        let text = decoded(m);
        let link = format!("{PUBLIC}{}", personal_path(inv.id, &inv.secret));
        assert!(text.contains(&link), "{address}: {text}");
        assert_eq!(header(m, "List-Unsubscribe"), Some(format!("<{link}/unsubscribe>").as_str()));
        assert_eq!(header(m, "From"), Some("\"Meridian Industrial Supply\" <cx@meridian.example>"));
        assert!(m.contains("multipart/alternative") && m.contains("text/plain") && m.contains("text/html"));
        let subject = header(m, "Subject").unwrap();
        if inv.language == "de" {
            assert!(text.contains("Guten Tag Greta Vogel"), "{text}");
        } else {
            assert_eq!(subject, "Meridian Industrial Supply would like your view: four minutes");
            assert!(text.contains(&format!("Hello {},", inv.contact_name)));
        }
        let html = text.split("Content-Type: text/html").nth(1).expect("an HTML part");
        assert!(!html.contains("<script>alert"), "names are escaped in the HTML part: {html}");
    }
    let a2 = messages.iter().find(|m| header(m, "X-RcptTo") == Some("a20@alpha.example")).unwrap();
    let a2 = decoded(a2);
    let (plain, html) = a2.split_once("Content-Type: text/html").unwrap();
    assert!(html.contains("&#60;script&#62;alert"), "the script-named account is inert text in HTML");
    assert!(plain.contains("<script>alert('pwned')</script> Ltd"), "and as written in plain text");

    // Sending again sends nothing twice.
    assert_eq!(store.queue_invitations(wave_id, &["email"], now).await.unwrap(), 0);
    assert_eq!(worker(&store, &smtp.url()).run_due().await.unwrap(), 0);
    assert_eq!(smtp.messages().len(), 3);
    let progress = store.wave_progress(wave_id).await.unwrap();
    assert_eq!((progress.sent, progress.failed), (3, 0));
}

pub async fn an_unreachable_mail_server_is_tried_again_later(store: Store) {
    let invs = emailable_wave(&store).await;
    let wave_id = invs[0].wave_id;
    store.queue_invitations(wave_id, &["email"], OffsetDateTime::now_utc()).await.unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let w = worker(&store, &format!("smtp://127.0.0.1:{closed_port}"));
    assert_eq!(w.run_due().await.unwrap(), 3);
    let counts = store.queue_counts(Some(wave_id)).await.unwrap();
    assert_eq!((counts.queued, counts.done, counts.failed), (3, 0, 0), "waiting for a later attempt");
    assert_eq!(w.run_due().await.unwrap(), 0, "not before the pause is over");
    let progress = store.wave_progress(wave_id).await.unwrap();
    assert_eq!((progress.sent, progress.failed), (0, 0), "nothing counts as sent or failed yet");
}

pub async fn what_changed_since_queueing_is_checked_as_each_message_goes_out(store: Store) {
    let Some(smtp) = SmtpServer::start() else { return };
    let invs = emailable_wave(&store).await;
    let wave_id = invs[0].wave_id;
    let now = OffsetDateTime::now_utc();
    assert_eq!(store.queue_invitations(wave_id, &["email"], now).await.unwrap(), 3);
    // Queued, then: one contact answers through an open link, another unsubscribes.
    let by_name = |name: &str| invs.iter().find(|i| i.contact_name == name).unwrap().clone();
    answer(&store, by_name("Person A1-0").id).await;
    store.unsubscribe(by_name("Person A2-0").contact_id, now).await.unwrap();
    assert_eq!(worker(&store, &smtp.url()).run_due().await.unwrap(), 3);
    assert_eq!(smtp.messages().len(), 1, "only the third contact's invitation went out");
    let mut failed: Vec<String> =
        store.failed_invitations(wave_id, 10).await.unwrap().into_iter().map(|(_, _, why)| why).collect();
    failed.sort();
    assert_eq!(
        failed,
        [
            "not sent: answered before the invitation went out",
            "not sent: the contact unsubscribed or opted out before the invitation went out"
        ]
    );

    // A wave closed while its invitations wait sends none of them.
    let next = wave(&store, "2026-Q4", true).await[0].wave_id;
    assert!(store.queue_invitations(next, &["email"], now).await.unwrap() > 0);
    store.set_wave_status(next, rapport_store::waves::WaveStatus::Closed, now).await.unwrap();
    assert!(worker(&store, &smtp.url()).run_due().await.unwrap() > 0);
    assert_eq!(smtp.messages().len(), 1, "nothing more went out");
    let why = store.failed_invitations(next, 10).await.unwrap();
    assert!(why.iter().all(|(_, _, w)| w == "not sent: the wave closed before the invitation went out"), "{why:?}");
}

pub async fn a_mail_server_that_stalls_is_cut_off_within_the_lease(store: Store) {
    let invs = emailable_wave(&store).await;
    let wave_id = invs[0].wave_id;
    store.queue_invitations(wave_id, &["email"], OffsetDateTime::now_utc()).await.unwrap();
    // Accepts the connection and never says a word.
    let stalled = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://127.0.0.1:{}", stalled.local_addr().unwrap().port());
    let w = worker(&store, &url).with_lease(time::Duration::seconds(2));
    let started = std::time::Instant::now();
    assert_eq!(w.run_next().await.unwrap(), 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "cut off at half the lease");
    let failed = store.failed_invitations(wave_id, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].2.starts_with("the email server did not finish within 1 s: it may or may not have gone out"));
    drop(stalled);
}

pub async fn reminders_go_to_those_who_have_not_answered_as_often_as_set(store: Store) {
    let Some(smtp) = SmtpServer::start() else { return };
    let invs = emailable_wave(&store).await;
    let wave_id = invs[0].wave_id;
    let w = worker(&store, &smtp.url());
    store.queue_invitations(wave_id, &["email"], OffsetDateTime::now_utc()).await.unwrap();
    w.run_due().await.unwrap();
    answer(&store, invs.iter().find(|i| i.contact_name == "Person A1-0").unwrap().id).await;

    store.set_reminders(wave_id, 0, 1).await.unwrap();
    assert_eq!(w.run_due().await.unwrap(), 2, "one reminder to each of the two who have not answered");
    let reminders: Vec<String> = smtp
        .messages()
        .into_iter()
        .filter(|m| header(m, "Subject").is_some_and(|s| s.starts_with("Reminder:") || s.contains("Erinnerung")))
        .collect();
    assert_eq!(
        reminders.len(),
        1 + 1,
        "{:?}",
        smtp.messages().iter().map(|m| header(m, "Subject")).collect::<Vec<_>>()
    );
    assert!(reminders.iter().all(|m| header(m, "X-RcptTo") != Some("a10@alpha.example")), "not to who answered");
    assert_eq!(w.run_due().await.unwrap(), 0, "at most one reminder, as set");
    assert_eq!(smtp.messages().len(), 5);
}

/// What the gateway received: the Authorization header and the form of each request.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// A Twilio-style gateway on loopback: keeps every form it gets with its Authorization
/// header; refuses the number +1 555 0000 as a permanent error.
async fn sms_receiver() -> (std::net::SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>)>>>)
{
    use axum::http::{HeaderMap, StatusCode};
    let got: Received = Default::default();
    let kept = got.clone();
    let app = axum::Router::new().route(
        "/2010-04-01/Accounts/AC1/Messages.json",
        axum::routing::post(move |headers: HeaderMap, axum::Form(form): axum::Form<Vec<(String, String)>>| {
            let kept = kept.clone();
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                let refused = form.iter().any(|(k, v)| k == "To" && v == "+1 555 0000");
                kept.lock().unwrap().push((auth, form));
                if refused {
                    (StatusCode::BAD_REQUEST, "invalid 'To' number")
                } else {
                    (StatusCode::CREATED, "{\"sid\":\"SM1\"}")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, got)
}

pub async fn text_messages_go_through_the_sms_gateway_and_refusals_are_recorded(store: Store) {
    super::support::load_portfolio(&store).await;
    rapport_store::import::import_reader(
        &store,
        Kind::Contacts,
        "contact_id,account_id,name,phone\nA1-1,A1,Person A1-1,+1 555 0101\nB2-1,B2,Person B2-1,+1 555 0000\n"
            .as_bytes(),
        Default::default(),
        &mut |_| {},
    )
    .await
    .unwrap();
    let invs = wave(&store, "2026-Q3", true).await;
    let (addr, got) = sms_receiver().await;
    let gateway =
        SmsGateway::new(&format!("http://AC1:secret@{addr}/2010-04-01/Accounts/AC1/Messages.json"), "+1 555 0199")
            .unwrap();
    let w = Worker::new(store.clone(), Channels { mail: None, sms: Some(gateway) }, PUBLIC, 1000);
    assert_eq!(w.channels(), ["sms"]);
    let wave_id = invs[0].wave_id;
    assert_eq!(store.queue_invitations(wave_id, &w.channels(), OffsetDateTime::now_utc()).await.unwrap(), 2);
    assert_eq!(w.run_due().await.unwrap(), 2);
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let to_a1 =
        got.iter().find(|(_, f)| f.contains(&("To".into(), "+1 555 0101".into()))).expect("the message to A1-1");
    assert_eq!(to_a1.0, "Basic QUMxOnNlY3JldA==", "the URL's user and password as basic authentication");
    assert!(to_a1.1.contains(&("From".into(), "+1 555 0199".into())));
    let inv = invs.iter().find(|i| i.contact_name == "Person A1-1").unwrap();
    let body = &to_a1.1.iter().find(|(k, _)| k == "Body").unwrap().1;
    assert!(body.contains(&format!("{PUBLIC}{}", personal_path(inv.id, &inv.secret))), "{body}");
    assert!(body.starts_with("Meridian Industrial Supply:"), "{body}");
    let progress = store.wave_progress(wave_id).await.unwrap();
    assert_eq!((progress.sent, progress.failed), (1, 1));
    let failed = store.failed_invitations(wave_id, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].2.contains("400") && failed[0].2.contains("invalid 'To' number"), "{failed:?}");
}
