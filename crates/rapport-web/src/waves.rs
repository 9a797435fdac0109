//! Waves as people start them, from the command line or the web app alike: who is selected,
//! the wave created with its invitations, the personal links handed out as a CSV file, and
//! the bounces the mail provider reports afterwards.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::bail;
use rapport_core::account::Account;
use rapport_core::contact::RoleLevel;
use rapport_reports::AccountFilter;
use rapport_store::Store;
use rapport_store::formula::guard;
use rapport_store::invitations::{WaveCreated, WavePlan};
use rapport_store::surveys::SurveyVersion;
use time::{Date, Duration, OffsetDateTime};

use crate::invite;

/// The survey a wave asks unless told otherwise.
pub const DEFAULT_SURVEY: &str = "B2B relationship survey";
/// Contacts surveyed this recently are left out unless told otherwise.
pub const DEFAULT_EXCLUDE_DAYS: u32 = 30;
/// How long a wave takes answers unless told otherwise.
pub const DEFAULT_LENGTH: Duration = Duration::days(21);

/// A wave to create.
#[derive(Debug, Clone)]
pub struct NewWave {
    /// Its name, e.g. 2026-Q4.
    pub name: String,
    /// The survey's name (its latest version is kept with the wave).
    pub survey: String,
    /// First day of answers (default today).
    pub opens: Option<Date>,
    /// Last day of answers (default three weeks after the first).
    pub closes: Option<Date>,
    /// Only contacts at these levels (all when empty).
    pub roles: Vec<RoleLevel>,
    /// Leave out contacts surveyed in the last this many days.
    pub exclude_days: u32,
    /// Which accounts.
    pub filter: AccountFilter,
}

/// What creating a wave did, in words and numbers.
#[derive(Debug, Clone)]
pub struct Created {
    /// The invitations made and the contacts left out.
    pub created: WaveCreated,
    /// The survey version asked.
    pub survey: SurveyVersion,
    /// First day of answers.
    pub opens: Date,
    /// Last day of answers.
    pub closes: Date,
    /// The selection in words.
    pub selection: String,
}

/// Creates the wave: checks the request, selects the accounts, makes the invitations.
pub async fn create(store: &Store, req: &NewWave, now: OffsetDateTime) -> anyhow::Result<Created> {
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        bail!("a wave needs a name of up to 60 characters, e.g. 2027-Q1");
    }
    let Some(survey) = store.latest_survey(&req.survey).await? else {
        bail!(
            "there is no survey named '{}': save the built-in one with `rapport survey add --template --company \
             \"Your company\" --email surveys@your.domain`, or list them with `rapport survey list`",
            req.survey
        );
    };
    let opens = req.opens.unwrap_or(now.date());
    let closes = req.closes.unwrap_or(opens + DEFAULT_LENGTH);
    if closes < opens {
        bail!("the last day of answers ({closes}) is before the first ({opens}): choose a later closing date");
    }
    let accounts: Option<Vec<i64>> = if req.filter.is_empty() {
        None
    } else {
        let all = store.portfolio_accounts().await?;
        let chosen: Vec<i64> = all.iter().filter(|a| req.filter.matches(&a.account)).map(|a| a.id).collect();
        if chosen.is_empty() {
            // Most likely a misspelt vertical, region or owner: say what there is rather than
            // make a wave that invites nobody.
            let known = |what: &str, value: &Option<String>, of: &dyn Fn(&Account) -> Option<String>| {
                value.as_ref()?;
                let values: BTreeSet<String> = all.iter().filter_map(|a| of(&a.account)).collect();
                let shown: Vec<String> = values.iter().take(12).cloned().collect();
                let more = values.len().saturating_sub(shown.len());
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                Some(format!("{what}: {}{more}", shown.join(", ")))
            };
            let f = &req.filter;
            let hints: Vec<String> = [
                known("verticals", &f.vertical, &|a| a.vertical.clone()),
                known("regions", &f.region, &|a| a.region.clone()),
                known("owners", &f.owner, &|a| a.owner_email.clone()),
            ]
            .into_iter()
            .flatten()
            .collect();
            bail!(
                "no account matches {}: check the spelling{}",
                describe(req),
                if hints.is_empty() { String::new() } else { format!(" ({})", hints.join("; ")) }
            );
        }
        Some(chosen)
    };
    let selection = describe(req);
    let plan = WavePlan {
        name,
        survey: &survey,
        opens_on: opens,
        closes_on: closes,
        accounts: accounts.as_deref(),
        roles: &req.roles,
        exclude_days: req.exclude_days,
        selection: &selection,
        now,
    };
    let created = store.create_wave(&plan).await?;
    Ok(Created { created, survey, opens, closes, selection })
}

/// The selection in words, e.g. "vertical Energy, role executive/manager".
fn describe(req: &NewWave) -> String {
    let f = &req.filter;
    let mut parts: Vec<String> = [
        ("vertical", &f.vertical),
        ("region", &f.region),
        ("owner", &f.owner),
        ("relationship style", &f.relationship_style),
        ("accounts of", &f.owned_by),
    ]
    .into_iter()
    .filter_map(|(label, v)| v.as_ref().map(|v| format!("{label} {v}")))
    .collect();
    if !req.roles.is_empty() {
        let roles: Vec<&str> = req.roles.iter().map(|r| r.as_str()).collect();
        parts.push(format!("role {}", roles.join("/")));
    }
    if parts.is_empty() { "every contact".to_string() } else { parts.join(", ") }
}

/// Writes every personal link of the wave as CSV (names kept inert for spreadsheets).
/// Returns how many.
pub async fn write_links(store: &Store, wave_id: i64, public_url: &str, out: impl Write) -> anyhow::Result<u64> {
    let mut out = csv::Writer::from_writer(out);
    out.write_record(["account_name", "contact_name", "email", "phone", "language", "channel", "link"])?;
    let (mut after, mut written) = (0, 0u64);
    loop {
        let page = store.wave_invitations(wave_id, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for inv in &page {
            let link = invite::link(public_url, inv);
            out.write_record([
                guard(&inv.account_name).as_ref(),
                guard(&inv.contact_name).as_ref(),
                guard(inv.email.as_deref().unwrap_or_default()).as_ref(),
                guard(inv.phone.as_deref().unwrap_or_default()).as_ref(),
                &inv.language,
                &inv.channel,
                &link,
            ])?;
            written += 1;
        }
    }
    out.flush()?;
    Ok(written)
}

/// What the mail provider said of an address that bounced, as invitations keep it.
pub fn bounce_reason(reported: Option<&str>) -> String {
    // As a provider's report or a file gives it: control characters (a NUL PostgreSQL would
    // refuse) become spaces.
    let reported = reported.map(|r| r.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>());
    match reported.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => format!("bounced: {r}"),
        None => "bounced (reported by the mail provider)".to_string(),
    }
}

/// Marks the wave's email invitations to each reported address bounced (with its reason):
/// how many were marked, and the addresses that matched none (other waves, or typos).
pub async fn record_bounces(
    store: &Store,
    wave_id: i64,
    reported: &[(String, String)],
) -> anyhow::Result<(u64, Vec<String>)> {
    let counts = store.mark_bounced(wave_id, reported).await?;
    let unknown = reported.iter().zip(&counts).filter(|(_, n)| **n == 0).map(|((email, _), _)| email.clone()).collect();
    Ok((counts.iter().sum(), unknown))
}
