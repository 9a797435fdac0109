//! The account rules: after the data changes, every account of the latest wave is placed on
//! the matrix again and compared with what was seen before (a quadrant move, entering
//! Problem) and with the wave before (the NPS falling).

use rapport_core::alert::{AlertKind, AlertRules};
use rapport_core::event::EventType;
use rapport_core::quadrant::{Placement, Quadrant};
use rapport_reports::{Portfolio, ReportKind, ReportQuery};
use rapport_store::alerts::{NewAlert, QuadrantMove, RaisedAlert};
use rapport_store::webhooks::Webhook;
use serde_json::json;
use std::collections::HashSet;
use time::{Duration, OffsetDateTime};

use super::{FollowUp, messages};

/// The data version the account rules last ran on.
const MARK: &str = "follow_up.accounts_version";
/// A wave whose latest answer is older than this raises no account alerts: it is history.
const RECENT: Duration = Duration::days(30);

/// Runs the account rules if the data changed since they last ran. Returns the quadrant
/// moves recorded and the alerts raised.
pub(super) async fn check(
    fu: &FollowUp,
    rules: &AlertRules,
    hooks: &[Webhook],
    now: OffsetDateTime,
) -> anyhow::Result<(u64, u64)> {
    let store = &fu.store;
    let version = store.data_version().await?;
    if store.scanner_mark(MARK).await? == Some(version) {
        return Ok((0, 0));
    }
    let result = run(fu, rules, hooks, now).await?;
    store.set_scanner_mark(MARK, version, now).await?;
    Ok(result)
}

async fn run(fu: &FollowUp, rules: &AlertRules, hooks: &[Webhook], now: OffsetDateTime) -> anyhow::Result<(u64, u64)> {
    let (store, cache) = (&fu.store, &fu.cache);
    let portfolio = Portfolio::load(store, cache, true, &Default::default()).await?;
    let Some(latest) = portfolio.waves.last() else { return Ok((0, 0)) };
    if store.last_answer_at(latest.id).await?.is_none_or(|at| at < now - RECENT) {
        return Ok((0, 0));
    }
    let query = ReportQuery::new(ReportKind::Quadrants);
    let later = portfolio.placed(store, cache, latest.id, &query).await?;
    let earlier = match portfolio.waves.len().checked_sub(2).map(|i| &portfolio.waves[i]) {
        Some(w) => Some((w, portfolio.placed(store, cache, w.id, &query).await?)),
        None => None,
    };
    let seen = store.quadrant_states().await?;
    let deadline = Duration::hours(i64::from(rules.deadline_hours));
    let compose = |r: &RaisedAlert| messages::alert_raised(r, None, hooks, &fu.public_url);
    let measured = |p: &Placement<usize>| p.quadrant != Quadrant::Unsurveyed && !p.loyalty.low_sample;
    // Collected, then recorded in one transaction.
    let (mut moves, mut alerts, mut counted) = (Vec::new(), Vec::new(), HashSet::new());
    for (i, now_placed) in later.placements.iter().enumerate() {
        if !measured(now_placed) {
            continue;
        }
        let account = &portfolio.accounts[now_placed.account];
        let before = earlier.as_ref().map(|(_, m)| &m.placements[i]).filter(|p| measured(p));
        // An NPS fall is about the two waves, whatever was seen before.
        if let (Some(b), Some(after)) = (before.and_then(|b| b.loyalty.nps), now_placed.loyalty.nps) {
            if rules.nps_fell(b, after) {
                let (from_wave, _) = earlier.as_ref().expect("a placement before means a wave before");
                let alert = NewAlert {
                    key: format!("nps_drop:{}:{}", account.id, latest.id),
                    kind: AlertKind::NpsDrop,
                    account_id: account.id,
                    wave_id: Some(latest.id),
                    response_id: None,
                    detail: format!(
                        "{}: NPS fell from {b:.0} in {} to {after:.0} in {} (n = {})",
                        account.account.name, from_wave.name, latest.name, now_placed.loyalty.n
                    ),
                };
                alerts.push(alert);
            }
        }
        let state = seen.get(&account.id);
        let last = match state {
            Some(s) => Quadrant::parse(&s.quadrant),
            None => before.map(|b| b.quadrant),
        };
        if state.is_some() && last == Some(now_placed.quadrant) {
            continue;
        }
        let moved = last.filter(|&q| q != now_placed.quadrant);
        let mut events = Vec::new();
        let mut alert = None;
        if let Some(from) = moved {
            let changes = state.map_or(0, |s| s.changes + 1);
            let data = || {
                json!({
                    "account": { "id": account.account.account_id, "name": account.account.name },
                    "wave": latest.name,
                    "from": from.as_str(),
                    "to": now_placed.quadrant.as_str(),
                    "nps": now_placed.loyalty.nps,
                    "n": now_placed.loyalty.n,
                    "strategy": now_placed.quadrant.strategy(),
                })
            };
            let id = format!("quadrant:{}:{changes}", account.id);
            events = messages::events(hooks, EventType::QuadrantChanged, &id, now, data);
            if now_placed.quadrant == Quadrant::Problem && rules.problem {
                alert = Some(NewAlert {
                    key: format!("problem:{}:{}", account.id, latest.id),
                    kind: AlertKind::Problem,
                    account_id: account.id,
                    wave_id: Some(latest.id),
                    response_id: None,
                    detail: format!(
                        "{} moved from {} to Problem in {}: high revenue, NPS {:.0} (n = {})",
                        account.account.name,
                        from.label(),
                        latest.name,
                        now_placed.loyalty.nps.unwrap_or_default(),
                        now_placed.loyalty.n
                    ),
                });
            }
        }
        if moved.is_some() {
            counted.insert(account.id);
        }
        moves.push(QuadrantMove {
            account_id: account.id,
            wave_id: latest.id,
            from: state.cloned(),
            to: now_placed.quadrant.as_str().to_string(),
            events,
            alert,
        });
    }
    let recorded = store.move_quadrants(&moves, &alerts, deadline, now, &compose).await?;
    let moved = recorded.moved.iter().filter(|id| counted.contains(id)).count();
    Ok((moved as u64, recorded.raised.len() as u64))
}
