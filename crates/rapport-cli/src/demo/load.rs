//! Loads the generated portfolio into the store.

use std::io::IsTerminal;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rapport_demo::{DemoConfig, accounts, users, waves};
use rapport_store::Store;
use rapport_store::record::Record;
use rapport_store::users::NewUser;
use rapport_store::waves::WaveStatus;
use rapport_store::writer::{WriteOutcome, Writer};

/// `rapport demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The random seed: the same seed and size always give the same portfolio.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// How many accounts (about 10 contacts and 4 waves of answers each).
    #[arg(long, default_value_t = 500)]
    pub accounts: usize,
}

/// Runs `rapport demo`: users, four quarterly waves, and the accounts with everything they
/// hold, in one transaction (re-running it with the same seed changes nothing).
pub async fn demo(store: &Store, args: DemoArgs) -> anyhow::Result<()> {
    let cfg = DemoConfig { seed: args.seed, accounts: args.accounts };
    let people = users(&cfg);
    for u in &people {
        store
            .upsert_user(&NewUser {
                email: u.email.clone(),
                name: u.name.clone(),
                role: u.role,
                manager_email: u.manager_email.clone(),
            })
            .await
            .with_context(|| format!("creating the demo user {}", u.email))?;
    }
    // The built-in survey, from the demo's supplier: `rapport wave create` works on the demo.
    store.save_survey(&rapport_core::survey::relationship_template(rapport_demo::survey::sender())).await?;
    let today = time::OffsetDateTime::now_utc().date();
    for w in waves() {
        let status = if w.closes_on < today { WaveStatus::Closed } else { WaveStatus::Open };
        store.upsert_wave(&w.name, Some(w.opens_on), Some(w.closes_on), status).await?;
    }

    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new(cfg.accounts as u64);
        b.set_style(
            ProgressStyle::with_template("{spinner} demo portfolio [{bar:30}] {pos}/{len} accounts ({eta})")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        b
    });
    let mut writer = Writer::begin(store, 20).await?;
    writer.trust_unique_keys();
    for (i, a) in accounts(&cfg).enumerate() {
        writer.push(0, Record::Account(a.account)).await?;
        for c in a.contacts {
            writer.push(0, Record::Contact(c)).await?;
        }
        for r in a.revenue {
            writer.push(0, Record::Revenue(r)).await?;
        }
        for o in a.opportunities {
            writer.push(0, Record::Opportunity(o)).await?;
        }
        for s in a.service_cases {
            writer.push(0, Record::ServiceCase(s)).await?;
        }
        for r in a.responses {
            writer.push(0, Record::Response(r)).await?;
        }
        if let Some(b) = &bar
            && i % 256 == 0
        {
            b.set_position(i as u64);
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match writer.finish(true).await? {
        WriteOutcome::Written { counts, .. } => {
            say!("Demo portfolio ready (seed {}, {} users):", cfg.seed, people.len());
            for (kind, c) in counts {
                say!("  {:<14} {:>9} rows ({} new, {} updated)", kind.as_str(), c.rows, c.inserted, c.updated);
            }
            Ok(())
        }
        WriteOutcome::Rejected { errors, .. } => {
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            anyhow::bail!("the demo generator produced a record the store refused: {first}")
        }
    }
}
