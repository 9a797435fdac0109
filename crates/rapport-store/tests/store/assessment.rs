//! What the portfolio assessment reads: activity summed per month, the last touch, the
//! breadth of recent answers, and the versioned definition.

use std::collections::HashMap;

use rapport_core::assessment::{Definition, Month};
use rapport_core::money::Money;
use rapport_core::opportunity::Outcome;
use rapport_core::service_case::{CaseKind, Hours};
use rapport_core::task::Function;
use rapport_store::assessment::SaveDefinitionError;
use rapport_store::tasks::NewTask;
use rapport_store::{Kind, Store};
use time::OffsetDateTime;
use time::macros::date;

use super::{ACCOUNTS, CONTACTS, import};

async fn ids(store: &Store) -> HashMap<String, i64> {
    store.portfolio_accounts().await.unwrap().into_iter().map(|a| (a.account.account_id, a.id)).collect()
}

pub async fn activity_is_summed_per_month_with_the_last_touch_and_recent_breadth(store: Store) {
    import(&store, Kind::Accounts, ACCOUNTS).await.unwrap();
    import(&store, Kind::Contacts, CONTACTS).await.unwrap();
    import(
        &store,
        Kind::Revenue,
        "account_id,period,billed,booked\nA1,2026-Q1,100000,\nA1,2026-04,30000.50,\nA2,2026-Q1,,5\n",
    )
    .await
    .unwrap();
    let opportunities = "opportunity_id,account_id,amount,stage,outcome,discount_pct,opened_on,closed_on\n\
                         O1,A1,1000,Closed Won,won,10,2026-02-03,2026-03-01\n\
                         O2,A1,500,Closed Won,won,20,2026-02-20,2026-04-01\n\
                         O3,A1,700,Closed Lost,lost,,2026-02-21,2026-04-01\n\
                         O4,A1,900,Proposal,open,,,\n\
                         O5,A1,300,Proposal,open,,2026-05-02,\n";
    import(&store, Kind::Opportunities, opportunities).await.unwrap();
    let cases = "case_id,account_id,kind,opened_on,closed_on,effort_hours,billable\n\
                 S1,A1,exception,2026-03-01,2026-03-05,2.5,false\n\
                 S2,A1,exception,2026-03-10,2026-03-12,1,true\n\
                 S3,A1,exception,2026-03-15,,0.25,\n\
                 S4,A2,order_change,2026-07-01,,4,false\n";
    import(&store, Kind::ServiceCases, cases).await.unwrap();
    let answers = "contact_id,wave,submitted_at,ltr,comment\n\
                   C1,2026-Q1,2026-02-10T09:00:00Z,9,\n\
                   C2,2026-Q1,2026-02-11T09:00:00Z,7,\n\
                   C2,2026-Q2,2026-05-25T09:00:00Z,8,\n";
    import(&store, Kind::Responses, answers).await.unwrap();

    let ids = ids(&store).await;
    let activity = store.assessment_activity().await.unwrap();
    let a1 = &activity[&ids["A1"]];
    let mut revenue = a1.revenue.clone();
    revenue.sort_by_key(|(p, _)| *p);
    assert_eq!(
        revenue.iter().map(|(p, m)| (p.to_string(), *m)).collect::<Vec<_>>(),
        vec![("2026-Q1".to_string(), Money::from_units(100_000)), ("2026-04".to_string(), Money(3_000_050)),]
    );
    assert!(!activity.contains_key(&ids["A3"]), "an account without activity has no entry");
    assert!(activity[&ids["A2"]].revenue.is_empty(), "a period without a billed amount is no revenue");

    let feb = Month { year: 2026, month: 2 };
    let won = a1.opportunities.iter().find(|o| o.month == feb && o.outcome == Some(Outcome::Won)).unwrap();
    assert_eq!((won.count, won.amount, won.discount_sum, won.discounted), (2, Money::from_units(1500), 3000, 2));
    let lost = a1.opportunities.iter().find(|o| o.outcome == Some(Outcome::Lost)).unwrap();
    assert_eq!((lost.count, lost.discounted), (1, 0));
    assert_eq!(a1.opportunities.iter().map(|o| o.count).sum::<u64>(), 4, "one without an opening date is left out");

    let march = Month { year: 2026, month: 3 };
    let unpaid = a1.cases.iter().find(|c| c.month == march && !c.billable).unwrap();
    // S1 (unpaid, 4 days to resolve) and S3 (billing unknown counts as unpaid, still open).
    assert_eq!(
        (unpaid.kind, unpaid.count, unpaid.effort, unpaid.resolved, unpaid.resolve_days),
        (Some(CaseKind::Exception), 2, Hours(275), 1, 4)
    );
    let paid = a1.cases.iter().find(|c| c.billable).unwrap();
    assert_eq!((paid.count, paid.effort, paid.resolve_days), (1, Hours(100), 2));

    let now = OffsetDateTime::now_utc();
    let task = NewTask {
        account_id: ids["A2"],
        description: "Call about the order changes".into(),
        function: Function::Service,
        owner_email: Some("bo@rapport.example".into()),
        due_at: now,
        created_by: None,
        response_ids: vec![],
    };
    let version = store.data_version().await.unwrap();
    store.add_task(&task, now).await.unwrap();
    assert!(store.data_version().await.unwrap() > version, "a plan item is a touch the reports must see");
    let touches = store.last_touches().await.unwrap();
    assert_eq!(touches[&ids["A1"]], date!(2026 - 05 - 25), "the latest of answers and opportunities");
    assert_eq!(touches[&ids["A2"]], now.date(), "a plan item counts");
    assert!(!touches.contains_key(&ids["A3"]));

    let waves = store.list_waves().await.unwrap();
    let q1 = waves.iter().find(|w| w.name == "2026-Q1").unwrap().id;
    let q2 = waves.iter().find(|w| w.name == "2026-Q2").unwrap().id;
    let breadth = store.breadth_by_account(q2, &[q1, q2]).await.unwrap();
    let a1 = breadth[&ids["A1"]];
    // The latest wave: the manager alone. Across both: two people at two levels in 2026-Q1.
    assert_eq!((a1.respondents, a1.levels, a1.executive_detractors), (1, 1, 0));
    assert_eq!((a1.engaged_people, a1.engaged_levels), (2, 2));
    let earlier = store.breadth_by_account(q1, &[]).await.unwrap()[&ids["A1"]];
    assert_eq!((earlier.respondents, earlier.levels, earlier.engaged_people), (2, 2, 0));
    assert!(!breadth.contains_key(&ids["A3"]), "nobody answered at A3");
}

pub async fn the_definition_keeps_every_version_with_who_when_and_why(store: Store) {
    let built_in = store.assessment_definition().await.unwrap();
    assert_eq!((built_in.version, built_in.definition.clone()), (0, Definition::default()));
    let now = OffsetDateTime::now_utc();
    let cheaper = Definition { hourly_cost: Money::from_units(60), ..Definition::default() };
    let refused = store.save_assessment_definition(&cheaper, 0, Some("ana@rapport.example"), "  ", now).await;
    assert!(matches!(refused, Err(SaveDefinitionError::NoReason)), "{refused:?}");
    let v1 = store
        .save_assessment_definition(&cheaper, 0, Some("ana@rapport.example"), "Service costs fell", now)
        .await
        .unwrap();
    assert_eq!(v1, 1);
    // Someone who opened version 0 before that save cannot overwrite it.
    let stale =
        store.save_assessment_definition(&Definition::default(), 0, Some("bo@rapport.example"), "Back", now).await;
    assert!(matches!(stale, Err(SaveDefinitionError::Stale { current: 1, edited: 0 })), "{stale:?}");
    let current = store.assessment_definition().await.unwrap();
    assert_eq!((current.version, current.definition.hourly_cost), (1, Money::from_units(60)));
    assert_eq!(
        (current.changed_by.as_deref(), current.reason.as_str()),
        (Some("ana@rapport.example"), "Service costs fell")
    );
    let history = store.assessment_history().await.unwrap();
    assert_eq!(history.iter().map(|v| v.version).collect::<Vec<_>>(), vec![1, 0]);
    assert_eq!(store.assessment_version(0).await.unwrap().definition, Definition::default());
    assert!(store.assessment_version(7).await.is_err());
}
