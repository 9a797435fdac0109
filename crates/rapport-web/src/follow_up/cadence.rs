//! Opening the cadence's cycles: when a cycle's first day comes, its wave is created and
//! opened (invitations queued, reminders set), a review meeting is booked for every
//! sponsored account, and the administrators hear how the previous cycle's actions stand.

use std::collections::BTreeMap;

use rapport_core::cadence::Cadence;
use rapport_core::task::{Function, TaskStatus};
use rapport_core::user::Role;
use rapport_store::invitations::Channel;
use rapport_store::outbox::{Delivery, Message};
use rapport_store::tasks::{NewTask, TaskFilter, TaskView};
use rapport_store::waves::WaveStatus;
use time::OffsetDateTime;

use super::FollowUp;
use crate::waves::{DEFAULT_EXCLUDE_DAYS, NewWave};

/// Opens the cycle that is due, if one is. Returns the name of the wave it started.
pub(super) async fn run(fu: &FollowUp, now: OffsetDateTime) -> anyhow::Result<Option<String>> {
    let store = &fu.store;
    let Some(current) = store.cadence().await? else { return Ok(None) };
    if now.date() < current.next_start {
        return Ok(None);
    }
    let cycle = current.cycle(current.next_start);
    let next = Cadence { next_start: cycle.next_start, ..current.clone() };
    if cycle.closes < now.date() {
        // A cycle missed entirely (the servers were down): it is history, not a wave to send now.
        store.open_cycle(&current, &next, &[], &[], now).await?;
        return Ok(None);
    }

    // The wave, unless a process that stopped half-way made it already.
    let waves = store.list_waves().await?;
    let wave_id = match waves.iter().find(|w| w.name == cycle.wave) {
        Some(w) => w.id,
        None => {
            let req = NewWave {
                name: cycle.wave.clone(),
                survey: current.survey.clone(),
                opens: Some(cycle.opens),
                closes: Some(cycle.closes),
                roles: vec![],
                exclude_days: DEFAULT_EXCLUDE_DAYS,
                filter: Default::default(),
            };
            crate::waves::create(store, &req, now).await?.created.wave_id
        }
    };
    store.set_reminders(wave_id, current.remind_after_days, current.max_reminders).await?;
    store.set_wave_status(wave_id, WaveStatus::Open, now).await?;
    store.queue_invitations(wave_id, &[Channel::Email.as_str(), Channel::Sms.as_str()], now).await?;

    // A review meeting for every sponsored account, due after the wave closes.
    let due = cycle.reviews_due.with_hms(23, 59, 59).expect("a valid time").assume_utc();
    let reviews: Vec<NewTask> = store
        .portfolio_accounts()
        .await?
        .into_iter()
        .filter_map(|a| {
            let sponsor = a.account.sponsor_email.clone().filter(|s| !s.trim().is_empty())?;
            Some(NewTask {
                account_id: a.id,
                description: format!(
                    "Review meeting with {} after the {} wave: prepare with the briefing, record what was agreed",
                    a.account.name, cycle.wave
                ),
                function: Function::Executive,
                owner_email: Some(sponsor),
                due_at: due,
                created_by: Some("cadence".to_string()),
                response_ids: vec![],
            })
        })
        .collect();

    // How the previous cycle's actions stand, for the administrators.
    let since = cycle.previous_start.midnight().assume_utc();
    let until = cycle.opens.midnight().assume_utc();
    let all = TaskFilter { view: TaskView::All, ..TaskFilter::default() };
    let previous: Vec<_> = store
        .list_tasks(&all, now, 1_000_000)
        .await?
        .into_iter()
        .filter(|t| t.created_at >= since && t.created_at < until)
        .collect();
    let mut by_function: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for t in &previous {
        let e = by_function.entry(t.function.clone()).or_default();
        match t.status() {
            TaskStatus::Done | TaskStatus::Dropped => e[0] += 1,
            _ if t.is_overdue(now) => e[2] += 1,
            _ => e[1] += 1,
        }
    }
    let mut text = format!(
        "The {} cycle has started: wave {} takes answers from {} to {}, and {} review meetings are booked for {}.\n\n",
        current.period.as_str(),
        cycle.wave,
        cycle.opens,
        cycle.closes,
        reviews.len(),
        cycle.reviews_due
    );
    if previous.is_empty() {
        text.push_str(&format!("No actions were written in the previous cycle (from {}).\n", cycle.previous_start));
    } else {
        text.push_str(&format!("The previous cycle's {} actions (from {}):\n", previous.len(), cycle.previous_start));
        for (f, [closed, open, overdue]) in &by_function {
            text.push_str(&format!("  {f}: {closed} closed, {open} open, {overdue} overdue\n"));
        }
    }
    text.push_str(&format!("\nEvery open and overdue action: {}/tasks\n", fu.public_url));
    let messages: Vec<Message> = store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Admin)
        .map(|u| Message {
            key: format!("email:cycle:{}:{}", cycle.wave, u.email.to_lowercase()),
            delivery: Delivery::Email,
            webhook_id: None,
            recipient: u.email,
            subject: format!("Cycle {}: the previous cycle's actions", cycle.wave),
            body: text.clone(),
        })
        .collect();
    Ok(store.open_cycle(&current, &next, &reviews, &messages, now).await?.then_some(cycle.wave))
}
