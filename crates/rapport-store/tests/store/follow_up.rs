//! Closing the loop: answers waiting for the alert rules, alerts raised once with their task
//! and messages, the outbox, escalation of overdue tasks, action plan items.

use rapport_core::alert::AlertKind;
use rapport_core::task::{Function, TaskStatus};
use rapport_core::user::Role;
use rapport_store::alerts::{
    AlertFilter, NewAlert, PendingAnswer, QuadrantMove, QuadrantState, RaisedAlert, SettledAnswer,
};
use rapport_store::outbox::{Attempt, Delivery, Message};
use rapport_store::reviews::NewReview;
use rapport_store::tasks::{NewTask, TaskError, TaskFilter, TaskView};
use rapport_store::users::NewUser;
use rapport_store::{Kind, Store};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{ACCOUNTS, CONTACTS, import};

fn ago(days: i64) -> String {
    (OffsetDateTime::now_utc() - Duration::days(days)).format(&Rfc3339).unwrap()
}

/// Accounts and contacts, an answer from last year (history) and three from this week.
async fn answered(store: &Store) {
    import(store, Kind::Accounts, ACCOUNTS).await.unwrap();
    import(store, Kind::Contacts, CONTACTS).await.unwrap();
    let csv = format!(
        "contact_id,wave,submitted_at,ltr,comment\n\
         C1,2025-Q4,{},2,Old complaint\n\
         C1,2026-Q4,{},3,We may switch supplier\n\
         C2,2026-Q4,{},9,\n\
         C3,2026-Q4,{},10,Great\n",
        ago(365),
        ago(2),
        ago(1),
        ago(1)
    );
    import(store, Kind::Responses, &csv).await.unwrap();
}

fn note(key: &str, to: &str) -> Message {
    Message {
        key: key.to_string(),
        delivery: Delivery::Email,
        webhook_id: None,
        recipient: to.to_string(),
        subject: format!("About {key}"),
        body: "text".to_string(),
    }
}

/// The follow-up an answer belongs to: its contact in its wave, as the scanner keys it.
fn follow_up(a: &PendingAnswer) -> String {
    format!("contact:{}:wave:{}", a.contact_id, a.wave_id)
}

fn settled(pending: &[PendingAnswer]) -> Vec<SettledAnswer> {
    pending.iter().map(|a| SettledAnswer { response_id: a.response_id, follow_up: follow_up(a) }).collect()
}

/// An alert about an account as a whole (no wave, no answer).
fn account_alert(key: String, kind: AlertKind, account_id: i64, detail: String) -> NewAlert {
    NewAlert { key, kind, account_id, wave_id: None, response_id: None, detail }
}

fn detractor_alert(a: &PendingAnswer, detail: &str) -> NewAlert {
    NewAlert {
        key: follow_up(a),
        kind: AlertKind::Detractor,
        account_id: a.account_id,
        wave_id: Some(a.wave_id),
        response_id: Some(a.response_id),
        detail: detail.into(),
    }
}

pub async fn recent_answers_wait_for_the_rules_and_an_alert_is_raised_once(store: Store) {
    answered(&store).await;
    let pending = store.pending_answers(100).await.unwrap();
    assert_eq!(pending.len(), 3, "last year's answer is history and raises nothing");
    let detractor = pending.iter().find(|a| a.ltr == 3).unwrap();
    assert_eq!((detractor.contact_name.as_str(), detractor.wave_name.as_str()), ("Ana Ruiz", "2026-Q4"));
    let alert = detractor_alert(detractor, "likelihood to recommend 3");
    let compose = |r: &RaisedAlert| vec![note(&format!("task:{}", r.task_id), r.owner_email.as_deref().unwrap())];
    let now = OffsetDateTime::now_utc();
    let raised = store
        .settle_answers(&settled(&pending), std::slice::from_ref(&alert), &[], Duration::hours(48), now, &compose)
        .await
        .unwrap();
    assert_eq!(raised.len(), 1);
    let r = &raised[0];
    assert_eq!(r.owner_email.as_deref(), Some("ana@rapport.example"), "the account owner follows up");
    assert_eq!(r.due_at, now + Duration::hours(48));
    assert!(store.pending_answers(100).await.unwrap().is_empty(), "settled answers leave the list");

    // The same alert again (another process, a rescan) adds nothing: no task, no message.
    let again = store.raise_alert(&alert, Duration::hours(48), now, &compose).await.unwrap();
    assert_eq!(again, None);
    let tasks = store.list_tasks(&TaskFilter::default(), now, 100).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!((tasks[0].alert_kind.as_deref(), tasks[0].function.as_str()), (Some("detractor"), "sales"));
    let linked = store.task_answers(tasks[0].id).await.unwrap();
    assert_eq!(linked[0].comment.as_deref(), Some("We may switch supplier"));
    let log = store.outbox_log(None, None, None, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].recipient, "ana@rapport.example");
}

pub async fn a_contacts_second_answer_in_a_wave_joins_the_follow_up_the_first_opened(store: Store) {
    answered(&store).await;
    let compose = |r: &RaisedAlert| vec![note(&format!("task:{}", r.task_id), r.owner_email.as_deref().unwrap())];
    let (deadline, now) = (Duration::hours(48), OffsetDateTime::now_utc());
    let pending = store.pending_answers(100).await.unwrap();
    let first = pending.iter().find(|a| a.ltr == 3).unwrap();
    let alert = detractor_alert(first, "score 3");
    store.settle_answers(&settled(&pending), &[alert], &[], deadline, now, &compose).await.unwrap();

    // Ana answers again in the same wave, twice (lower, then with a longer comment), and
    // C2 for the first time as a detractor: one new alert, for C2; Ana's answers join her task.
    let csv = format!(
        "contact_id,wave,submitted_at,ltr,comment\n\
         C1,2026-Q4,{},2,Switching\n\
         C1,2026-Q4,{},1,Switching: the last three deliveries were late\n\
         C2,2026-Q4,{},4,\n",
        (now - Duration::hours(2)).format(&Rfc3339).unwrap(),
        (now - Duration::hours(1)).format(&Rfc3339).unwrap(),
        (now - Duration::hours(1)).format(&Rfc3339).unwrap(),
    );
    import(&store, Kind::Responses, &csv).await.unwrap();
    let again = store.pending_answers(100).await.unwrap();
    assert_eq!(again.len(), 3);
    let alerts: Vec<NewAlert> = again.iter().map(|a| detractor_alert(a, &format!("score {}", a.ltr))).collect();
    let raised = store.settle_answers(&settled(&again), &alerts, &[], deadline, now, &compose).await.unwrap();
    assert_eq!(raised.iter().map(|r| r.detail.as_str()).collect::<Vec<_>>(), ["score 4"], "only C2's is new");

    let tasks = store.list_tasks(&TaskFilter::default(), now, 100).await.unwrap();
    assert_eq!(tasks.len(), 2, "one task per contact and wave");
    let alerts = store.list_alerts(&AlertFilter::default(), 10).await.unwrap();
    let ana = alerts.iter().find(|a| a.detail == "score 1").expect("Ana's alert says what her latest answer said");
    let linked = store.task_answers(ana.task_id.unwrap()).await.unwrap();
    assert_eq!(linked.iter().map(|a| a.ltr).collect::<Vec<_>>(), [3, 2, 1], "her task shows every answer since");
    let log = store.outbox_log(None, None, None, 10).await.unwrap();
    assert_eq!(log.len(), 2, "one email per follow-up, none for an answer that joins one");
}

pub async fn quadrant_moves_are_recorded_together_and_a_stale_one_is_left_out(store: Store) {
    answered(&store).await;
    let pending = store.pending_answers(100).await.unwrap();
    let account = |ext: &str| pending.iter().find(|a| a.account_external_id == ext).unwrap().account_id;
    let (a1, a2, wave) = (account("A1"), account("A2"), pending[0].wave_id);
    let alert = |key: &str, account_id: i64| NewAlert {
        key: key.to_string(),
        kind: AlertKind::Problem,
        account_id,
        wave_id: Some(wave),
        response_id: None,
        detail: format!("{key} in words"),
    };
    let placed =
        |account_id: i64, from: Option<(&str, i32)>, to: &str, event: &str, raises: Option<NewAlert>| QuadrantMove {
            account_id,
            wave_id: wave,
            from: from.map(|(q, changes)| QuadrantState { quadrant: q.to_string(), changes }),
            to: to.to_string(),
            events: vec![note(event, "hooks@e.example")],
            alert: raises,
        };
    let compose = |r: &RaisedAlert| vec![note(&format!("alert:{}", r.detail), "ana@rapport.example")];
    let (deadline, now) = (Duration::hours(48), OffsetDateTime::now_utc());

    // First seen: both recorded in one go, with their events and the alert of one.
    let first = [placed(a1, None, "problem", "e1", Some(alert("p1", a1))), placed(a2, None, "emulate", "e2", None)];
    let recorded = store.move_quadrants(&first, &[], deadline, now, &compose).await.unwrap();
    assert_eq!(recorded.moved.len(), 2);
    assert_eq!(recorded.raised.iter().map(|r| r.detail.as_str()).collect::<Vec<_>>(), ["p1 in words"]);
    let seen = store.quadrant_states().await.unwrap();
    assert_eq!((seen[&a1].quadrant.as_str(), seen[&a1].changes), ("problem", 0));

    // Seen again: A2 was read before another process moved it (its count of changes is
    // stale), so its move, its event and its alert are left out; A1's move and an alert
    // about the waves are recorded.
    let again = [
        placed(a1, Some(("problem", 0)), "decision", "e3", None),
        placed(a2, Some(("emulate", 5)), "growth", "e4", Some(alert("p2", a2))),
    ];
    let recorded = store.move_quadrants(&again, &[alert("drop", a1)], deadline, now, &compose).await.unwrap();
    assert_eq!(recorded.moved, [a1]);
    assert_eq!(recorded.raised.iter().map(|r| r.detail.as_str()).collect::<Vec<_>>(), ["drop in words"]);
    let seen = store.quadrant_states().await.unwrap();
    assert_eq!((seen[&a1].quadrant.as_str(), seen[&a1].changes), ("decision", 1));
    assert_eq!((seen[&a2].quadrant.as_str(), seen[&a2].changes), ("emulate", 0), "the stale move changed nothing");
    let mut queued: Vec<String> =
        store.outbox_log(None, None, None, 20).await.unwrap().into_iter().map(|m| m.key).collect();
    queued.sort();
    assert_eq!(queued, ["alert:drop in words", "alert:p1 in words", "e1", "e2", "e3"]);
}

pub async fn a_run_of_the_account_rules_larger_than_one_transaction_is_recorded_whole(store: Store) {
    use rapport_store::alerts::MOVES_PER_TX;
    answered(&store).await;
    let wave = store.pending_answers(1).await.unwrap()[0].wave_id;
    // More accounts than two transactions of the rules take, so that parts meet at two edges.
    let n = 2 * MOVES_PER_TX + 50;
    let mut csv = String::from("account_id,name\n");
    for i in 0..n {
        csv.push_str(&format!("B{i},Bravo {i}\n"));
    }
    import(&store, Kind::Accounts, &csv).await.unwrap();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(store.find_account_id(&format!("B{i}")).await.unwrap().unwrap());
    }
    let moves: Vec<QuadrantMove> = ids
        .iter()
        .enumerate()
        .map(|(i, &account_id)| QuadrantMove {
            account_id,
            wave_id: wave,
            from: None,
            to: "growth".to_string(),
            events: vec![note(&format!("moved:{i}"), "hooks@e.example")],
            alert: (i % 2 == 0)
                .then(|| account_alert(format!("problem:{i}"), AlertKind::Problem, account_id, format!("account {i}"))),
        })
        .collect();
    let falls: Vec<NewAlert> = ids
        .iter()
        .enumerate()
        .take(MOVES_PER_TX + 1)
        .map(|(i, &account_id)| {
            account_alert(format!("nps_drop:{i}"), AlertKind::NpsDrop, account_id, format!("fall {i}"))
        })
        .collect();
    let compose = |_: &RaisedAlert| Vec::new();
    let now = OffsetDateTime::now_utc();
    let recorded = store.move_quadrants(&moves, &falls, Duration::hours(48), now, &compose).await.unwrap();
    assert_eq!(recorded.moved, ids, "every account, in order");
    assert_eq!(recorded.raised.len(), n.div_ceil(2) + MOVES_PER_TX + 1);
    assert_eq!(store.quadrant_states().await.unwrap().len(), n);
    assert_eq!(store.outbox_log(None, None, None, 1000).await.unwrap().len(), n, "one event per move");

    // The same run again (a process that read the same states) records nothing twice.
    let again = store.move_quadrants(&moves, &falls, Duration::hours(48), now, &compose).await.unwrap();
    assert_eq!((again.moved.len(), again.raised.len()), (0, 0));
}

pub async fn outbox_messages_go_to_one_worker_and_return_when_it_dies(store: Store) {
    let now = OffsetDateTime::now_utc();
    let messages = [note("a", "x@e.example"), note("b", "y@e.example"), note("a", "z@e.example")];
    assert_eq!(store.enqueue(&messages, now).await.unwrap(), 2, "a key is queued once");
    let lease = Duration::seconds(30);
    let first = store.claim_outbox(&[Delivery::Email], now, lease, 1).await.unwrap();
    let second = store.claim_outbox(&[Delivery::Email], now, lease, 5).await.unwrap();
    assert_eq!((first.len(), second.len()), (1, 1));
    assert_ne!(first[0].id, second[0].id);
    assert!(store.claim_outbox(&[Delivery::Webhook], now, lease, 5).await.unwrap().is_empty());

    // The first is delivered; the second's worker dies: after its lease it is queued again.
    store.finish_outbox(first[0].id, &Attempt::Delivered { status: None }, now).await.unwrap();
    assert_eq!(store.requeue_abandoned_outbox(now).await.unwrap(), 0, "a live lease is kept");
    assert_eq!(store.requeue_abandoned_outbox(now + Duration::seconds(31)).await.unwrap(), 1);
    let retaken = store.claim_outbox(&[Delivery::Email], now + Duration::seconds(31), lease, 5).await.unwrap();
    assert_eq!((retaken[0].id, retaken[0].attempts), (second[0].id, 2));

    // A failed attempt waits for its retry time.
    let at = now + Duration::minutes(1);
    let retry = Attempt::Retry { error: "450 try later".into(), status: None, at };
    store.finish_outbox(retaken[0].id, &retry, now).await.unwrap();
    assert!(store.claim_outbox(&[Delivery::Email], now, lease, 5).await.unwrap().is_empty());
    assert_eq!(store.claim_outbox(&[Delivery::Email], at, lease, 5).await.unwrap().len(), 1);
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.done, counts.running), (1, 1));
}

pub async fn overdue_tasks_escalate_once_to_the_manager_or_else_the_sponsor(store: Store) {
    answered(&store).await;
    let user = |email: &str, manager: Option<&str>| NewUser {
        email: email.into(),
        name: email.into(),
        role: Role::AccountManager,
        manager_email: manager.map(String::from),
    };
    store.upsert_user(&user("head@rapport.example", None)).await.unwrap();
    store.upsert_user(&user("ana@rapport.example", Some("head@rapport.example"))).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let a1 = store.find_account_id("A1").await.unwrap().unwrap();
    let a2 = store.find_account_id("A2").await.unwrap().unwrap();
    let plan = |account_id, owner: &str, due| NewTask {
        account_id,
        description: "Call the CFO".into(),
        function: Function::Executive,
        owner_email: Some(owner.into()),
        due_at: due,
        created_by: Some("head@rapport.example".into()),
        response_ids: vec![],
    };
    let late = store.add_task(&plan(a1, "ana@rapport.example", now - Duration::hours(1)), now).await.unwrap();
    store.add_task(&plan(a1, "ana@rapport.example", now + Duration::days(3)), now).await.unwrap();
    let no_manager = store.add_task(&plan(a2, "bo@rapport.example", now - Duration::hours(2)), now).await.unwrap();
    set_sponsor(&store, "A2", "Helix Biomedical", "ceo@rapport.example").await;

    let due = store.due_escalations(now, 10).await.unwrap();
    let to: Vec<(i64, Option<&str>)> = due.iter().map(|e| (e.task.id, e.recipient())).collect();
    assert_eq!(to, vec![(no_manager, Some("ceo@rapport.example")), (late, Some("head@rapport.example"))]);
    assert!(
        store
            .escalate_task(late, Some("head@rapport.example"), &[note("esc", "head@rapport.example")], now)
            .await
            .unwrap()
    );
    assert!(!store.escalate_task(late, Some("head@rapport.example"), &[], now).await.unwrap(), "once only");
    assert_eq!(store.due_escalations(now, 10).await.unwrap().len(), 1);
    // Read as due, then closed by its owner before the escalation is written: nothing goes out.
    store.update_task(no_manager, TaskStatus::Done, Some("Called"), Some("bo@rapport.example"), now).await.unwrap();
    let messages = [note("esc2", "ceo@rapport.example")];
    assert!(!store.escalate_task(no_manager, Some("ceo@rapport.example"), &messages, now).await.unwrap());
    assert_eq!(store.outbox_log(None, None, None, 10).await.unwrap().len(), 1, "only the first escalation's note");
    let overdue = TaskFilter { view: TaskView::Overdue, ..TaskFilter::default() };
    assert_eq!(store.list_tasks(&overdue, now, 10).await.unwrap().len(), 1);
    let mine = TaskFilter { view: TaskView::All, scope: Some("bo@rapport.example".into()), ..TaskFilter::default() };
    assert_eq!(store.list_tasks(&mine, now, 10).await.unwrap().len(), 1, "an account manager sees their accounts");
    let named_sponsor =
        TaskFilter { view: TaskView::All, scope: Some("ceo@rapport.example".into()), ..TaskFilter::default() };
    assert!(
        store.list_tasks(&named_sponsor, now, 10).await.unwrap().is_empty(),
        "owning, not sponsoring, is the scope"
    );
}

/// Sets an account's sponsor through the accounts import, as a user would.
async fn set_sponsor(store: &Store, account: &str, name: &str, sponsor: &str) {
    let csv = format!("account_id,name,sponsor_email\n{account},{name},{sponsor}\n");
    import(store, Kind::Accounts, &csv).await.unwrap();
}

pub async fn plan_items_link_the_accounts_own_answers_and_close_with_an_outcome(store: Store) {
    answered(&store).await;
    let now = OffsetDateTime::now_utc();
    let a1 = store.find_account_id("A1").await.unwrap().unwrap();
    let pending = store.pending_answers(100).await.unwrap();
    let own = pending.iter().find(|a| a.account_id == a1).unwrap().response_id;
    let foreign = pending.iter().find(|a| a.account_id != a1).unwrap().response_id;
    let item = |ids: Vec<i64>| NewTask {
        account_id: a1,
        description: "Fix the delivery slot".into(),
        function: Function::Service,
        owner_email: None,
        due_at: now + Duration::days(7),
        created_by: Some("ana@rapport.example".into()),
        response_ids: ids,
    };
    let err = store.add_task(&item(vec![own, foreign]), now).await.unwrap_err();
    assert!(matches!(err, TaskError::ForeignAnswer(id) if id == foreign), "{err}");
    assert!(store.list_tasks(&TaskFilter::default(), now, 10).await.unwrap().is_empty(), "nothing half-written");
    let id = store.add_task(&item(vec![own]), now).await.unwrap();
    assert_eq!(store.task_answers(id).await.unwrap().len(), 1);

    let t = store.update_task(id, TaskStatus::InProgress, None, Some("ana@rapport.example"), now).await.unwrap();
    assert_eq!((t.status(), t.closed_at), (TaskStatus::InProgress, None));
    let t = store.update_task(id, TaskStatus::Done, Some("New slot agreed"), Some("ana@rapport.example"), now).await;
    let t = t.unwrap();
    assert_eq!(
        (t.status(), t.outcome.as_deref(), t.closed_by.as_deref()),
        (TaskStatus::Done, Some("New slot agreed"), Some("ana@rapport.example"))
    );
    let closed = |since| TaskFilter { view: TaskView::Closed, closed_since: Some(since), ..TaskFilter::default() };
    assert_eq!(store.list_tasks(&closed(now - Duration::days(1)), now, 10).await.unwrap().len(), 1);
    assert!(store.list_tasks(&closed(now + Duration::days(1)), now, 10).await.unwrap().is_empty());
    let service = TaskFilter { view: TaskView::All, function: Some(Function::Service), ..TaskFilter::default() };
    assert_eq!(store.list_tasks(&service, now, 10).await.unwrap().len(), 1);
    assert!(matches!(
        store.update_task(9999, TaskStatus::Done, Some("x"), None, now).await,
        Err(TaskError::NoTask(9999))
    ));
}

pub async fn a_review_meeting_and_its_actions_are_stored_whole_or_not_at_all(store: Store) {
    answered(&store).await;
    let now = OffsetDateTime::now_utc();
    let a1 = store.find_account_id("A1").await.unwrap().unwrap();
    let pending = store.pending_answers(100).await.unwrap();
    let foreign = pending.iter().find(|a| a.account_id != a1).unwrap().response_id;
    let action = |what: &str, ids: Vec<i64>| NewTask {
        account_id: a1,
        description: what.into(),
        function: Function::Executive,
        owner_email: Some("ceo@rapport.example".into()),
        due_at: now + Duration::days(30),
        created_by: Some("ana@rapport.example".into()),
        response_ids: ids,
    };
    let review = |day: time::Date, actions| NewReview {
        account_id: a1,
        held_on: day,
        notes: "Went well".into(),
        recorded_by: Some("ana@rapport.example".into()),
        actions,
    };
    let day = time::macros::date!(2026 - 11 - 20);
    let refused =
        store.record_review(&review(day, vec![action("Call", vec![]), action("Bad", vec![foreign])]), now).await;
    assert!(matches!(refused, Err(TaskError::ForeignAnswer(_))));
    assert!(store.reviews_of(a1).await.unwrap().is_empty(), "nothing half-written");
    assert!(store.list_tasks(&TaskFilter::default(), now, 10).await.unwrap().is_empty());

    store.record_review(&review(day, vec![action("Call the CFO", vec![])]), now).await.unwrap();
    store.record_review(&review(day.next_day().unwrap(), vec![]), now).await.unwrap();
    let reviews = store.reviews_of(a1).await.unwrap();
    assert_eq!(reviews.iter().map(|r| r.held_on).collect::<Vec<_>>(), vec![day.next_day().unwrap(), day]);
    let tasks = store.list_tasks(&TaskFilter::default(), now, 10).await.unwrap();
    assert_eq!(
        (tasks.len(), tasks[0].description.as_str(), tasks[0].function.as_str()),
        (1, "Call the CFO", "executive")
    );
}
