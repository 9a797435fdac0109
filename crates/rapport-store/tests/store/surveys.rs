//! Surveys, waves, invitations and the answers given through them.

use rapport_core::answer::{Answers, Intent};
use rapport_core::contact::RoleLevel;
use rapport_core::survey::{Sender, Survey, relationship_template};
use rapport_store::Store;
use rapport_store::invitations::{Invitation, WaveCreated, WavePlan};
use rapport_store::surveys::SurveyVersion;
use rapport_store::waves::WaveStatus;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::{ACCOUNTS, CONTACTS, import};
use rapport_store::Kind;

fn template() -> Survey {
    relationship_template(Sender {
        company: "Acme Industrial".into(),
        contact_name: "CX team".into(),
        email: "cx@acme.example".into(),
        phone: "+1 555 0100".into(),
        logo_svg: None,
    })
}

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

async fn portfolio(store: &Store) -> SurveyVersion {
    import(store, Kind::Accounts, ACCOUNTS).await.expect("accounts");
    import(store, Kind::Contacts, CONTACTS).await.expect("contacts");
    store.save_survey(&template()).await.expect("survey")
}

async fn create(
    store: &Store,
    name: &str,
    survey: &SurveyVersion,
    roles: &[RoleLevel],
    now: OffsetDateTime,
) -> WaveCreated {
    let plan = WavePlan {
        name,
        survey,
        opens_on: now.date(),
        closes_on: now.date() + Duration::days(21),
        accounts: None,
        roles,
        exclude_days: 30,
        selection: "every contact",
        now,
    };
    store.create_wave(&plan).await.expect("wave")
}

async fn invitations(store: &Store, wave_id: i64) -> Vec<Invitation> {
    store.wave_invitations(wave_id, 0, 100).await.expect("invitations")
}

/// The test portfolio with wave 2026-Q4 open to every contact: the survey, the wave, the
/// invitations.
async fn open_wave(store: &Store) -> (SurveyVersion, i64, Vec<Invitation>) {
    let survey = portfolio(store).await;
    let wave = create(store, "2026-Q4", &survey, &[], NOW).await.wave_id;
    store.set_wave_status(wave, WaveStatus::Open, NOW).await.unwrap();
    let invs = invitations(store, wave).await;
    (survey, wave, invs)
}

fn answers(survey: &Survey, form: &[(&str, &str)]) -> Answers {
    survey.read_answers(form.iter().copied(), Intent::Submit).expect("valid answers")
}

pub async fn a_survey_keeps_every_version_a_wave_was_sent_with(store: Store) {
    let v1 = store.save_survey(&template()).await.unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(store.save_survey(&template()).await.unwrap(), v1, "an unchanged definition is not a new version");
    let mut changed = template();
    changed.questions[1].text.insert("en".into(), "How good are our products?".into());
    let v2 = store.save_survey(&changed).await.unwrap();
    assert_eq!((v2.version, v2.survey.clone()), (2, changed));
    assert_eq!(store.latest_survey("B2B relationship survey").await.unwrap().unwrap(), v2);
    assert_eq!(store.survey_version(v1.id).await.unwrap(), v1, "the old version is kept as it was");
    assert_eq!(store.list_surveys().await.unwrap(), [v2]);
    let mut broken = template();
    broken.questions.remove(0);
    let err = store.save_survey(&broken).await.unwrap_err();
    assert!(format!("{err:#}").contains("exactly one"), "{err:#}");
}

pub async fn a_wave_invites_each_selected_contact_once_by_the_right_channel(store: Store) {
    let survey = portfolio(&store).await;
    import(
        &store,
        Kind::Contacts,
        "contact_id,account_id,name,role,email,phone,opted_out,language\n\
         C4,A2,Phone Only,user,,+1 555 0199,false,de-CH\n\
         C5,A2,No Means No,manager,no@helix.example,,true,\n\
         C6,A3,Unreachable,manager,,,false,\n",
    )
    .await
    .unwrap();
    let created = create(&store, "2026-Q4", &survey, &[], NOW).await;
    assert_eq!(created.total(), 5);
    assert_eq!(created.invited.get("email"), Some(&3));
    assert_eq!(created.invited.get("sms"), Some(&1));
    assert_eq!(created.invited.get("link"), Some(&1));
    assert_eq!(created.opted_out, 1);
    let invs = invitations(&store, created.wave_id).await;
    let phone_only = invs.iter().find(|i| i.contact_name == "Phone Only").unwrap();
    assert_eq!((phone_only.language.as_str(), phone_only.channel.as_str()), ("de", "sms"));
    assert!(invs.iter().all(|i| i.secret.len() == 40 && i.secret.chars().all(|c| c.is_ascii_hexdigit())));
    let mut secrets: Vec<&str> = invs.iter().map(|i| i.secret.as_str()).collect();
    secrets.dedup();
    assert_eq!(secrets.len(), 5, "every invitation has its own secret");
    assert_eq!(invs[0].wave_status(), WaveStatus::Draft);
    assert!(!invs[0].accepts_answers(NOW), "nothing is answered before the wave opens");

    let clash = WavePlan {
        name: "2026-Q4",
        survey: &survey,
        opens_on: NOW.date(),
        closes_on: NOW.date(),
        accounts: None,
        roles: &[],
        exclude_days: 0,
        selection: "",
        now: NOW,
    };
    let again = store.create_wave(&clash).await;
    assert!(format!("{:#}", again.unwrap_err()).contains("already exists"));

    // A week later, everyone was just invited: the 30-day rule leaves them all out.
    let later =
        create(&store, "2026-Q4b", &survey, &[RoleLevel::Executive, RoleLevel::Manager], NOW + Duration::days(7)).await;
    assert_eq!((later.total(), later.recent), (0, 3), "C1, C2 and C6 are executives or managers");
    let much_later = create(&store, "2027-Q1", &survey, &[RoleLevel::Executive], NOW + Duration::days(40)).await;
    assert_eq!(much_later.total(), 1, "only the one executive");
}

pub async fn an_answer_counts_at_once_and_a_second_one_replaces_it_keeping_history(store: Store) {
    let survey = portfolio(&store).await;
    let wave = create(&store, "2026-Q4", &survey, &[], NOW).await.wave_id;
    store.set_wave_status(wave, WaveStatus::Open, NOW).await.unwrap();
    let inv = invitations(&store, wave).await.into_iter().find(|i| i.contact_name == "Ana Ruiz").unwrap();
    assert!(inv.accepts_answers(NOW));
    assert!(!inv.accepts_answers(NOW + Duration::days(22)), "not after the last day");

    let first = answers(&survey.survey, &[("ltr", "9"), ("product", "4"), ("comment", "<b>Great</b>")]);
    store.record_answer(&inv, &survey.survey, &first, NOW).await.unwrap();
    let cells = store.wave_cells(wave).await.unwrap().to_cells().unwrap();
    assert_eq!(cells.len(), 1);
    assert_eq!((cells[0].stats.loyalty.promoters, cells[0].stats.loyalty.detractors), (1, 0));

    let second = answers(&survey.survey, &[("ltr", "3"), ("buying_role", "decide")]);
    store.record_answer(&inv, &survey.survey, &second, NOW + Duration::minutes(5)).await.unwrap();
    let cells = store.wave_cells(wave).await.unwrap().to_cells().unwrap();
    assert_eq!(
        (cells[0].stats.loyalty.promoters, cells[0].stats.loyalty.detractors),
        (0, 1),
        "the latest answer counts"
    );
    assert_eq!(store.answer_count(inv.id).await.unwrap(), 2, "both answers are kept");
    assert_eq!(store.latest_answer(inv.id).await.unwrap(), Some(second));

    let incremental = store.dump_analytics().await.unwrap();
    store.rebuild_analytics().await.unwrap();
    assert_eq!(store.dump_analytics().await.unwrap(), incremental, "the same figures as a rebuild");
    let progress = store.wave_progress(wave).await.unwrap();
    assert_eq!((progress.invited, progress.answered, progress.opened), (3, 1, 1));
}

/// The cells as maintained equal the cells a rebuild computes from all answers (and the
/// rebuild leaves them so: the next step starts from a clean base).
async fn assert_cells_equal_a_rebuild(store: &Store, step: &str) {
    let maintained = store.dump_analytics().await.unwrap();
    store.rebuild_analytics().await.unwrap();
    assert_eq!(store.dump_analytics().await.unwrap(), maintained, "{step}: the cells differ from a rebuild");
}

pub async fn answers_are_counted_by_difference_and_always_equal_a_rebuild(store: Store) {
    use rapport_store::invitations::NewAnswer;
    let (survey, wave, invs) = open_wave(&store).await;
    let v = &survey.survey;
    let inv = |name: &str| invs.iter().find(|i| i.contact_name == name).unwrap().clone();
    let (ana, tom) = (inv("Ana Ruiz"), inv("Tom Lee"));
    let cell = |cells: &[rapport_store::analytics::WaveCell], role: RoleLevel| {
        cells.iter().find(|c| c.account_id == ana.account_id && c.role == Some(role)).map(|c| c.stats.clone())
    };

    // One batch in which Ana answers twice: only her later answer counts, and the rating she
    // left out the second time is not counted for her.
    let batch = [
        NewAnswer::new(&ana, v, &answers(v, &[("ltr", "9"), ("product", "4")]), NOW).unwrap(),
        NewAnswer::new(&tom, v, &answers(v, &[("ltr", "7"), ("product", "2")]), NOW).unwrap(),
        NewAnswer::new(&ana, v, &answers(v, &[("ltr", "3")]), NOW + Duration::minutes(1)).unwrap(),
    ];
    store.record_answers(&batch, None).await.unwrap();
    let cells = store.wave_cells(wave).await.unwrap().to_cells().unwrap();
    let exec = cell(&cells, RoleLevel::Executive).unwrap();
    assert_eq!((exec.loyalty.promoters, exec.loyalty.detractors, exec.loyalty.ltr_sum), (0, 1, 3));
    assert!(!exec.drivers.contains_key("product"), "her latest answer rates no product");
    assert_eq!(cell(&cells, RoleLevel::Manager).unwrap().drivers["product"].sum_x, 2);
    assert_cells_equal_a_rebuild(&store, "a batch with a contact answering twice").await;

    // Ana rates the product after all: the driver row comes back; then she drops it again.
    store
        .record_answer(&ana, v, &answers(v, &[("ltr", "8"), ("product", "5")]), NOW + Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!(cell(&store.wave_cells(wave).await.unwrap().to_cells().unwrap(), RoleLevel::Executive).unwrap().drivers["product"].n, 1);
    store.record_answer(&ana, v, &answers(v, &[("ltr", "10")]), NOW + Duration::minutes(3)).await.unwrap();
    let exec = cell(&store.wave_cells(wave).await.unwrap().to_cells().unwrap(), RoleLevel::Executive).unwrap();
    assert!(!exec.drivers.contains_key("product"));
    assert_eq!(exec.loyalty.promoters, 1);
    assert_cells_equal_a_rebuild(&store, "a driver rated, then left out").await;

    // An answer dated before the one counted joins the history and changes no figure.
    let before = store.dump_analytics().await.unwrap();
    store.record_answer(&ana, v, &answers(v, &[("ltr", "0")]), NOW - Duration::days(1)).await.unwrap();
    assert_eq!(store.dump_analytics().await.unwrap(), before, "an older answer is history only");
    assert_eq!(store.answer_count(ana.id).await.unwrap(), 5);
    assert_cells_equal_a_rebuild(&store, "an older answer").await;

    // Ana becomes a manager in the CRM: the import moves her answer to the manager cell, and
    // her next answer replaces it there.
    import(&store, Kind::Contacts, &CONTACTS.replace("CFO,executive", "CFO,manager")).await.unwrap();
    let cells = store.wave_cells(wave).await.unwrap().to_cells().unwrap();
    assert!(cell(&cells, RoleLevel::Executive).is_none(), "no executive has answered any more");
    assert_eq!(cell(&cells, RoleLevel::Manager).unwrap().loyalty.n(), 2);
    assert_cells_equal_a_rebuild(&store, "a role changed by an import").await;
    store.record_answer(&ana, v, &answers(v, &[("ltr", "6")]), NOW + Duration::minutes(4)).await.unwrap();
    let manager = cell(&store.wave_cells(wave).await.unwrap().to_cells().unwrap(), RoleLevel::Manager).unwrap();
    assert_eq!((manager.loyalty.n(), manager.loyalty.detractors), (2, 1));
    assert_cells_equal_a_rebuild(&store, "an answer after the role change").await;

    // A cell out of step with the answers (here: emptied behind Rapport's back) is never
    // patched by difference: the account is recomputed from its answers.
    let sql = "DELETE FROM wave_account_stats";
    match &store {
        Store::Sqlite(db) => sqlx::query(sql).execute(db.readers()).await.map(|_| ()),
        Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
    store.record_answer(&tom, v, &answers(v, &[("ltr", "9")]), NOW + Duration::minutes(5)).await.unwrap();
    let manager = cell(&store.wave_cells(wave).await.unwrap().to_cells().unwrap(), RoleLevel::Manager).unwrap();
    assert_eq!((manager.loyalty.n(), manager.loyalty.promoters), (2, 1), "Ana's 6 and Tom's 9");
    assert_cells_equal_a_rebuild(&store, "a cell out of step").await;

    // Tom answers twice in one batch, half a second apart, with the cells out of step again
    // (the general path on SQLite too): his invitation is answered at the later time, though
    // its stored text ("...:00.5Z") sorts before the earlier one's ("...:00Z").
    match &store {
        Store::Sqlite(db) => sqlx::query(sql).execute(db.readers()).await.map(|_| ()),
        Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
    let (early, late) = (NOW + Duration::minutes(6), NOW + Duration::minutes(6) + Duration::milliseconds(500));
    let batch = [
        NewAnswer::new(&tom, v, &answers(v, &[("ltr", "5")]), late).unwrap(),
        NewAnswer::new(&tom, v, &answers(v, &[("ltr", "4")]), early).unwrap(),
    ];
    store.record_answers(&batch, None).await.unwrap();
    assert_eq!(store.invitation(tom.id).await.unwrap().unwrap().answered_at, Some(late));
    assert_cells_equal_a_rebuild(&store, "two answers half a second apart").await;

    // Tom moves to Helix in the CRM: the answers he gave stay Northwind's, and the ones he
    // gives now count for Helix, each account with the latest answer it was given.
    let moved = CONTACTS.replace("CFO,executive", "CFO,manager").replace("C2,A1,Tom Lee", "C2,A2,Tom Lee");
    import(&store, Kind::Contacts, &moved).await.unwrap();
    let tom = store.invitation(tom.id).await.unwrap().unwrap();
    assert_ne!(tom.account_id, ana.account_id, "the invitation follows Tom to Helix");
    for (minute, ltr) in [(7, "2"), (8, "10")] {
        store.record_answer(&tom, v, &answers(v, &[("ltr", ltr)]), NOW + Duration::minutes(minute)).await.unwrap();
    }
    let cells = store.wave_cells(wave).await.unwrap().to_cells().unwrap();
    let manager_at = |account: i64| {
        let c = cells.iter().find(|c| c.account_id == account && c.role == Some(RoleLevel::Manager)).unwrap();
        (c.stats.loyalty.n(), c.stats.loyalty.promoters, c.stats.loyalty.ltr_sum)
    };
    assert_eq!(manager_at(ana.account_id), (2, 0, 6 + 5), "Ana's 6 and Tom's last answer at Northwind");
    assert_eq!(manager_at(tom.account_id), (1, 1, 10), "Tom's latest answer at Helix");
    assert_cells_equal_a_rebuild(&store, "a contact moved to another account").await;
}

pub async fn partial_answers_wait_in_the_invitation_until_the_answer(store: Store) {
    let survey = portfolio(&store).await;
    let wave = create(&store, "2026-Q4", &survey, &[], NOW).await.wave_id;
    let inv = invitations(&store, wave).await.remove(0);
    store.mark_opened(inv.id, NOW).await.unwrap();
    let partial = survey.survey.read_answers([("product", "2")], Intent::Save).unwrap();
    store.save_draft(inv.id, &partial).await.unwrap();
    let saved = store.invitation(inv.id).await.unwrap().unwrap();
    assert_eq!(serde_json::from_str::<Answers>(saved.draft.as_deref().unwrap()).unwrap(), partial);
    assert_same_in_a_batch(&store, &saved).await;
    assert_eq!(store.wave_progress(wave).await.unwrap().partial, 1);
    assert!(store.wave_cells(wave).await.unwrap().is_empty(), "a saved draft is not an answer");

    let full = answers(&survey.survey, &[("ltr", "7"), ("product", "2")]);
    store.record_answer(&saved, &survey.survey, &full, NOW).await.unwrap();
    let answered = store.invitation(inv.id).await.unwrap().unwrap();
    assert_eq!(store.wave_progress(wave).await.unwrap().partial, 0);
    assert_same_in_a_batch(&store, &answered).await;
    assert!(answered.closes_on.is_some());
    assert_eq!((answered.draft, answered.answered_at), (None, Some(NOW)));
}

/// The response page looks links up in batches (on SQLite by a path of its own): every field
/// (the wave's last day, the draft, the answer's time) reads as one link read alone, and an
/// unknown link is left out.
async fn assert_same_in_a_batch(store: &Store, link: &Invitation) {
    let batch = store.invitations(&[link.id, link.id + 1000]).await.unwrap();
    assert_eq!(format!("{batch:?}"), format!("{:?}", [link]));
}

pub async fn an_unsubscribed_contact_stays_out_whatever_a_later_import_says(store: Store) {
    let survey = portfolio(&store).await;
    let wave = create(&store, "2026-Q3", &survey, &[], NOW - Duration::days(90)).await.wave_id;
    let ana = invitations(&store, wave).await.into_iter().find(|i| i.contact_name == "Ana Ruiz").unwrap();
    store.unsubscribe(ana.contact_id, NOW).await.unwrap();
    import(&store, Kind::Contacts, CONTACTS).await.unwrap();
    let next = create(&store, "2026-Q4", &survey, &[], NOW).await;
    assert_eq!((next.total(), next.opted_out), (2, 1));
    let names: Vec<String> = invitations(&store, next.wave_id).await.into_iter().map(|i| i.contact_name).collect();
    assert!(!names.contains(&"Ana Ruiz".to_string()));

    // A wave made before someone unsubscribed sends them nothing more: neither its invitation
    // nor its reminders.
    let then = NOW + Duration::days(60);
    let later = create(&store, "2027-Q1", &survey, &[], then).await.wave_id;
    store.set_wave_status(later, WaveStatus::Open, then).await.unwrap();
    let tom = invitations(&store, later).await.into_iter().find(|i| i.contact_name == "Tom Lee").unwrap();
    assert!(store.may_contact(tom.contact_id).await.unwrap());
    store.unsubscribe(tom.contact_id, then).await.unwrap();
    assert!(!store.may_contact(tom.contact_id).await.unwrap());
    assert_eq!(store.queue_invitations(later, &["email"], then).await.unwrap(), 1, "only Mia's");
}

pub async fn a_delivery_job_is_claimed_once_and_never_run_twice(store: Store) {
    use rapport_store::jobs::Outcome;
    const EMAIL: &[&str] = &["email"];
    let survey = portfolio(&store).await;
    import(&store, Kind::Contacts, "contact_id,account_id,name,role,phone\nC4,A2,Phone Only,user,+1 555 0199\n")
        .await
        .unwrap();
    let wave = create(&store, "2026-Q4", &survey, &[], NOW).await.wave_id;
    assert_eq!(store.queue_invitations(wave, &["email", "sms"], NOW).await.unwrap(), 4);
    assert_eq!(store.queue_invitations(wave, &["email", "sms"], NOW).await.unwrap(), 0, "queueing again adds nothing");
    // A worker takes only what it can send: the text message waits for one with a gateway.
    assert!(store.claim_jobs(NOW, Duration::minutes(1), 10, &[]).await.unwrap().is_empty());
    let claimed = store.claim_jobs(NOW, Duration::minutes(1), 10, EMAIL).await.unwrap();
    assert_eq!(claimed.len(), 3);
    assert!(
        store.claim_jobs(NOW, Duration::minutes(1), 10, EMAIL).await.unwrap().is_empty(),
        "no job is handed out twice"
    );
    let text = store.claim_jobs(NOW, Duration::minutes(1), 10, &["sms", "email"]).await.unwrap();
    assert_eq!(text.len(), 1);
    store.finish_job(&text[0], &Outcome::Sent, NOW).await.unwrap();

    // The worker died: its jobs are not run again (the message may have gone out) but say so.
    assert_eq!(store.fail_abandoned_jobs(NOW + Duration::minutes(2)).await.unwrap(), 3);
    // If it comes back after all, it no longer holds them: a retry it asks for is not queued.
    let late = Outcome::Retry { error: "the server said try later".into(), at: NOW };
    store.finish_job(&claimed[0], &late, NOW + Duration::minutes(2)).await.unwrap();
    assert!(store.claim_jobs(NOW + Duration::minutes(3), Duration::minutes(1), 10, EMAIL).await.unwrap().is_empty());
    assert_eq!(store.wave_progress(wave).await.unwrap().failed, 3);
    let failed = store.failed_invitations(wave, 10).await.unwrap();
    assert!(failed.iter().all(|(_, _, why)| why.contains("may have been delivered")), "{failed:?}");

    // Sending the failed ones again is a deliberate act.
    assert_eq!(store.requeue_failed(wave, NOW).await.unwrap(), 3);
    let again = store.claim_jobs(NOW + Duration::minutes(4), Duration::minutes(1), 10, EMAIL).await.unwrap();
    assert_eq!(again.len(), 3);
    assert!(again.iter().all(|j| j.attempts == 1), "a fresh start");
    // Nor does a late failure from it touch the jobs that replaced them.
    store.finish_job(&claimed[1], &Outcome::Failed { error: "late".into() }, NOW).await.unwrap();
    assert_eq!(store.queue_counts(Some(wave)).await.unwrap().running, 3, "the new claims stand");
    for job in &again {
        store.finish_job(job, &Outcome::Sent, NOW).await.unwrap();
    }
    let progress = store.wave_progress(wave).await.unwrap();
    assert_eq!((progress.sent, progress.failed), (4, 0));
    let counts = store.queue_counts(Some(wave)).await.unwrap();
    assert_eq!((counts.done, counts.queued, counts.running), (4, 0, 0));
}

pub async fn a_bounce_marks_the_invitation_and_stops_its_reminders(store: Store) {
    use rapport_store::jobs::Outcome;
    let survey = portfolio(&store).await;
    let wave = create(&store, "2026-Q4", &survey, &[], NOW).await.wave_id;
    store.set_wave_status(wave, WaveStatus::Open, NOW).await.unwrap();
    store.queue_invitations(wave, &["email"], NOW).await.unwrap();
    for job in store.claim_jobs(NOW, Duration::minutes(1), 10, &["email"]).await.unwrap() {
        store.finish_job(&job, &Outcome::Sent, NOW).await.unwrap();
    }
    let reported = [
        (" ANA.RUIZ@northwind.example ".to_string(), "bounced: 550 no such user".to_string()),
        ("nobody@nowhere.example".to_string(), "bounced".to_string()),
    ];
    assert_eq!(store.mark_bounced(wave, &reported).await.unwrap(), [1, 0]);
    let progress = store.wave_progress(wave).await.unwrap();
    assert_eq!((progress.sent, progress.bounced), (2, 1));
    let listed = store.failed_invitations(wave, 10).await.unwrap();
    assert_eq!(
        listed,
        [("Ana Ruiz".to_string(), "ana.ruiz@northwind.example".to_string(), "bounced: 550 no such user".to_string())]
    );
    store.set_reminders(wave, 0, 1).await.unwrap();
    assert_eq!(store.queue_reminders(NOW + Duration::days(1)).await.unwrap(), 2, "no reminder to a bounced address");
}

/// The follow-up an answer writer applies: the default rules; a note to the owner per alert
/// raised, and a `response.submitted` event per answer, as the web layer would say them.
fn follow_up_by_default() -> std::sync::Arc<rapport_store::alerts::AnswerFollowUp> {
    use rapport_store::outbox::{Delivery, Message};
    let message = |key: String, delivery: Delivery, to: &str, body: String| Message {
        key,
        delivery,
        webhook_id: None,
        recipient: to.to_string(),
        subject: "test".to_string(),
        body,
    };
    std::sync::Arc::new(rapport_store::alerts::AnswerFollowUp {
        rules: Default::default(),
        raised: Box::new(move |r, answer| {
            let said = answer.map(|a| format!("{} said {}", a.contact_name, a.ltr)).unwrap_or_default();
            vec![message(format!("note:{}", r.task_id), Delivery::Email, r.owner_email.as_deref().unwrap_or("-"), said)]
        }),
        stored: Box::new(move |a| {
            vec![message(format!("event:{}", a.response_id), Delivery::Email, "events@test.example", a.ltr.to_string())]
        }),
    })
}

/// What the follow-up scanner leaves to do after answers were stored with the rules: nothing
/// on SQLite, where they are followed up in their own transaction; on PostgreSQL it settles
/// them, in a transaction beside the answers'.
async fn scanned(store: &Store, follow_up: &rapport_store::alerts::AnswerFollowUp) {
    let (settled, _) = store.follow_up_pending(100, follow_up, OffsetDateTime::now_utc()).await.unwrap();
    if let Store::Sqlite(_) = store {
        assert_eq!(settled, 0, "nothing waits for the scanner on SQLite");
    }
}

/// The likelihood to recommend of each answer a task responds to.
async fn linked_scores(store: &Store, task_id: i64) -> Vec<i32> {
    store.task_answers(task_id).await.unwrap().iter().map(|a| a.ltr).collect()
}

pub async fn answers_stored_under_the_rules_are_followed_up_at_once(store: Store) {
    use rapport_store::alerts::AlertFilter;
    use rapport_store::invitations::NewAnswer;
    use rapport_store::tasks::TaskFilter;
    let (survey, _, invs) = open_wave(&store).await;
    let v = &survey.survey;
    let inv = |name: &str| invs.iter().find(|i| i.contact_name == name).unwrap().clone();
    let (ana, tom, mia) = (inv("Ana Ruiz"), inv("Tom Lee"), inv("Mia Chen"));
    let follow_up = follow_up_by_default();
    let now = OffsetDateTime::now_utc();
    let answer = |i: &Invitation, form: &[(&str, &str)], at| NewAnswer::new(i, v, &answers(v, form), at).unwrap();
    let every_task = TaskFilter { view: rapport_store::tasks::TaskView::All, ..TaskFilter::default() };

    // Ana is a detractor, Tom a promoter: her alert, its task, its link to her answer and the
    // owner's note exist as soon as the batch is stored (on PostgreSQL, once scanned).
    let batch = [answer(&ana, &[("ltr", "3"), ("comment", "Late again")], now), answer(&tom, &[("ltr", "9")], now)];
    store.record_answers(&batch, Some(&follow_up)).await.unwrap();
    scanned(&store, &follow_up).await;
    assert!(store.pending_answers(10).await.unwrap().is_empty());
    let alerts = store.list_alerts(&AlertFilter::default(), 10).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, "detractor");
    assert!(
        alerts[0].detail.starts_with("Ana Ruiz of Northwind Logistics: likelihood to recommend 3"),
        "{}",
        alerts[0].detail
    );
    let tasks = store.list_tasks(&every_task, now, 10).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].owner_email.as_deref(), Some("ana@rapport.example"), "the account owner follows up");
    assert_eq!(linked_scores(&store, tasks[0].id).await, [3]);
    let log = store.outbox_log(None, None, None, 10).await.unwrap();
    let mut bodies: Vec<&str> = log.iter().map(|m| m.body.as_str()).collect();
    bodies.sort_unstable();
    assert_eq!(bodies, ["3", "9", "Ana Ruiz said 3"], "two events and the owner's note");

    // Ana answers twice more in one batch and Mia for the first time, both detractors: one new
    // alert (Mia's); Ana's says what her latest answer said, and her task gathers every answer.
    // On SQLite this batch takes the general path (a cell out of step), which must agree.
    if let Store::Sqlite(db) = &store {
        sqlx::query("DELETE FROM wave_account_stats").execute(db.readers()).await.unwrap();
    }
    let later = now + Duration::seconds(1);
    let batch = [
        answer(&ana, &[("ltr", "2")], later),
        answer(&mia, &[("ltr", "5")], later),
        answer(&ana, &[("ltr", "1"), ("comment", "Switching")], later + Duration::seconds(1)),
    ];
    store.record_answers(&batch, Some(&follow_up)).await.unwrap();
    scanned(&store, &follow_up).await;
    let alerts = store.list_alerts(&AlertFilter::default(), 10).await.unwrap();
    assert_eq!(alerts.len(), 2, "one alert per contact and wave");
    let anas = alerts.iter().find(|a| a.detail.starts_with("Ana Ruiz")).unwrap();
    assert!(anas.detail.contains("likelihood to recommend 1"), "{}", anas.detail);
    assert_eq!(linked_scores(&store, anas.task_id.unwrap()).await, [3, 2, 1]);
    assert_eq!(store.outbox_log(None, None, None, 10).await.unwrap().len(), 3 + 3 + 1, "events and Mia's note");

    // The same through the in-place path: Tom turns detractor in a batch of his own.
    store.record_answers(&[answer(&tom, &[("ltr", "0")], later)], Some(&follow_up)).await.unwrap();
    scanned(&store, &follow_up).await;
    assert_eq!(store.list_alerts(&AlertFilter::default(), 10).await.unwrap().len(), 3);

    // An answer stored without the rules (another writer) waits for the scanner, which
    // follows it up the same way; an answer given 40 days ago is history and raises nothing.
    store.record_answers(&[answer(&tom, &[("ltr", "2")], later + Duration::seconds(2))], None).await.unwrap();
    store.record_answers(&[answer(&mia, &[("ltr", "0")], now - Duration::days(40))], Some(&follow_up)).await.unwrap();
    assert_eq!(store.pending_answers(10).await.unwrap().len(), 1);
    let (settled, raised) = store.follow_up_pending(10, &follow_up, now).await.unwrap();
    assert_eq!((settled, raised.len()), (1, 0), "Tom's answer joins his follow-up");
    let toms = store.list_alerts(&AlertFilter::default(), 10).await.unwrap();
    let toms = toms.iter().find(|a| a.detail.starts_with("Tom Lee")).unwrap();
    assert_eq!(linked_scores(&store, toms.task_id.unwrap()).await, [0, 2]);
    assert_eq!(store.outbox_log(None, None, None, 20).await.unwrap().len(), 7 + 2 + 1, "no event for history");
    assert_cells_equal_a_rebuild(&store, "answers followed up as they are stored").await;
}

/// Runs `sql` on the database as another program would, foreign keys checked.
async fn run_sql(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(db) => sqlx::query(sql).execute(db.readers()).await.map(drop).unwrap(),
        Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop).unwrap(),
    }
}

pub async fn an_answer_whose_contact_went_away_meanwhile_is_refused_and_nothing_of_its_batch_is_stored(store: Store) {
    use rapport_store::alerts::AlertFilter;
    use rapport_store::invitations::NewAnswer;
    let (survey, _, invs) = open_wave(&store).await;
    let v = &survey.survey;
    let inv = |name: &str| invs.iter().find(|i| i.contact_name == name).unwrap().clone();
    let (ana, mia) = (inv("Ana Ruiz"), inv("Mia Chen"));
    let follow_up = follow_up_by_default();
    let now = OffsetDateTime::now_utc();
    let answer = |i: &Invitation, ltr: &str| NewAnswer::new(i, v, &answers(v, &[("ltr", ltr)]), now).unwrap();

    // Mia's invitation was looked up, then her contact was removed (with her invitation)
    // before her answer was written: the batch is refused whole.
    run_sql(&store, &format!("DELETE FROM contacts WHERE id = {}", mia.contact_id)).await;
    let err = store.record_answers(&[answer(&ana, "2"), answer(&mia, "1")], Some(&follow_up)).await.unwrap_err();
    assert!(matches!(err, rapport_store::StoreError::Conflict { .. }), "{err:#}");
    assert_eq!(store.answer_count(ana.id).await.unwrap(), 0, "nothing of the batch is stored");
    assert!(store.list_alerts(&AlertFilter::default(), 10).await.unwrap().is_empty());
    assert!(store.outbox_log(None, None, None, 10).await.unwrap().is_empty());

    // Ana's answer alone is stored and followed up.
    store.record_answers(&[answer(&ana, "2")], Some(&follow_up)).await.unwrap();
    scanned(&store, &follow_up).await;
    assert_eq!(store.answer_count(ana.id).await.unwrap(), 1);
    assert_eq!(store.list_alerts(&AlertFilter::default(), 10).await.unwrap().len(), 1);
    assert_cells_equal_a_rebuild(&store, "after a refused batch").await;
}

/// Answers are followed up under webhooks read before them (up to a second before on SQLite,
/// where they are followed up as they are stored; by the scanner on PostgreSQL): a webhook
/// removed meanwhile gets no events, and the answer is stored and followed up all the same.
pub async fn a_webhook_removed_after_the_rules_were_read_gets_no_events(store: Store) {
    use rapport_store::invitations::NewAnswer;
    use rapport_store::outbox::{Delivery, Message};
    let (survey, _, invs) = open_wave(&store).await;
    let v = &survey.survey;
    let hook = store.add_webhook("https://hooks.example/rapport", "s3cret", &[]).await.unwrap();
    let follow_up = std::sync::Arc::new(rapport_store::alerts::AnswerFollowUp {
        rules: Default::default(),
        raised: Box::new(|_, _| Vec::new()),
        stored: Box::new(move |a| {
            vec![Message {
                key: format!("event:{}", a.response_id),
                delivery: Delivery::Webhook,
                webhook_id: Some(hook),
                recipient: "https://hooks.example/rapport".to_string(),
                subject: "response.submitted".to_string(),
                body: a.ltr.to_string(),
            }]
        }),
    });
    let now = OffsetDateTime::now_utc();
    let answer = |i: &Invitation| NewAnswer::new(i, v, &answers(v, &[("ltr", "9")]), now).unwrap();
    store.record_answers(&[answer(&invs[0])], Some(&follow_up)).await.unwrap();
    scanned(&store, &follow_up).await;
    assert_eq!(store.outbox_log(None, None, None, 10).await.unwrap().len(), 1, "the event while the hook stands");
    assert!(store.remove_webhook(hook).await.unwrap());
    store.record_answers(&[answer(&invs[1])], Some(&follow_up)).await.unwrap();
    scanned(&store, &follow_up).await;
    assert_eq!(store.answer_count(invs[1].id).await.unwrap(), 1, "the answer is stored");
    assert!(store.outbox_log(None, None, None, 10).await.unwrap().is_empty(), "no event for a removed hook");
    let (waiting, _) = store.follow_up_pending(100, &follow_up, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(waiting, 0, "nothing is left waiting for the scanner");
}
