//! `rapport serve`: the web app; `--demo` fills an empty database with the demo portfolio first
//! and prints how to sign in.

use std::net::SocketAddr;

use anyhow::Context;
use rapport_core::user::Role;
use rapport_store::Kind;
use rapport_store::Store;
use rapport_store::users::UserSummary;
use rapport_web::AppState;
use rapport_web::follow_up::Timing;
use rapport_web::password::hash_password;

use crate::demo::{DemoArgs, demo};

/// Whether cookies get the Secure flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CookieSecure {
    /// Secure unless the server listens on a loopback address (a laptop, or a proxy on the
    /// same host that terminates TLS should say `always`).
    Auto,
    /// Always Secure: the app is reached over HTTPS.
    Always,
    /// Never: only for plain-HTTP set-ups on a trusted network.
    Never,
}

/// `rapport serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "RAPPORT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Fill an empty database with the demo portfolio first, and give every demo user a fresh
    /// password, printed at start.
    #[arg(long)]
    pub demo: bool,
    /// Cookies with the Secure flag: auto, always or never.
    #[arg(long, env = "RAPPORT_COOKIE_SECURE", value_enum, default_value_t = CookieSecure::Auto)]
    pub cookie_secure: CookieSecure,
    /// Also serve POST /bench/ceiling, a handler that parses an answer form and stores
    /// nothing: the yardstick of bench/answers.sh.
    #[arg(long, hide = true)]
    pub bench_ceiling: bool,
    /// Invitation and reminder delivery, run in the background.
    #[command(flatten)]
    pub delivery: crate::delivery::DeliveryArgs,
    /// Seconds a process may hold a claimed delivery before it counts as abandoned: another
    /// process takes over a notification or webhook, and an invitation is marked failed (the
    /// crash tests shorten it).
    #[arg(long, hide = true, default_value_t = 120)]
    pub job_lease_secs: i64,
    /// Seconds before the first retry of a failed webhook delivery or notification.
    #[arg(long, hide = true, default_value_t = 30)]
    pub retry_base_secs: i64,
}

/// Runs `rapport serve`.
pub async fn serve(store: &Store, mut args: ServeArgs) -> anyhow::Result<()> {
    if args.demo {
        prepare_demo(store).await?;
    } else if store.users_with_password().await? == 0 {
        say!(
            "No one can sign in yet: open http://{}/setup to create the first administrator, or run `rapport user add EMAIL --role admin`.",
            args.listen
        );
    }
    let secure_cookies = match args.cookie_secure {
        CookieSecure::Always => true,
        CookieSecure::Never => false,
        CookieSecure::Auto => !args.listen.ip().is_loopback(),
    };
    // Links point where this server listens unless told otherwise.
    args.delivery.public.url.get_or_insert_with(|| format!("http://{}", args.listen));
    let lease = time::Duration::seconds(args.job_lease_secs.max(1));
    let worker = args.delivery.worker(store)?.map(|w| w.with_lease(lease));
    let channels = worker.as_ref().map(|w| w.channels()).unwrap_or_default();
    let state = AppState::new(store.clone(), secure_cookies)
        .with_delivery(args.delivery.public.get(), channels)
        .with_bench_ceiling(args.bench_ceiling);
    if worker.is_none() {
        say!(
            "Delivery is off: set RAPPORT_SMTP_URL (email) or RAPPORT_SMS_URL (text messages) to send invitations and reminders from this server."
        );
    }
    let timing =
        Timing { lease, retry_base: time::Duration::seconds(args.retry_base_secs.max(1)), ..Timing::default() };
    let follow_up = args.delivery.follow_up(store, state.cache.clone())?.with_timing(timing);
    say!("Rapport is listening on http://{} (Ctrl-C stops it).", args.listen);
    rapport_web::serve(state, args.listen, worker, follow_up).await
}

/// The demo portfolio on first start; fresh passwords for its users on every start.
async fn prepare_demo(store: &Store) -> anyhow::Result<()> {
    if store.count(Kind::Accounts).await? == 0 {
        say!("Creating the demo portfolio (first start only)...");
        demo(store, DemoArgs { seed: 7, accounts: 500 }).await?;
    }
    let password = rapport_web::token::new_token()[..16].to_string();
    let hash = hash_password(&password)?;
    let users = store.list_users().await?;
    for u in &users {
        store
            .set_password_hash(&u.email, &hash)
            .await
            .with_context(|| format!("setting the password of {}", u.email))?;
    }
    say!("Demo users (password for each: {password}):");
    let accounts = store.portfolio_accounts().await?;
    let sponsors: Vec<&str> = accounts.iter().filter_map(|a| a.account.sponsor_email.as_deref()).collect();
    for (role, email) in demo_sign_ins(&users, &sponsors) {
        say!("  {:<16} {}", role.as_str(), email);
    }
    Ok(())
}

/// One user of each role to sign in as: the first by email, except that the executive is one
/// who sponsors accounts (`sponsors`: every account's sponsor), so that their dashboard shows
/// the accounts they sponsor.
fn demo_sign_ins<'a>(users: &'a [UserSummary], sponsors: &[&str]) -> Vec<(Role, &'a str)> {
    let sponsors_any = |u: &&UserSummary| sponsors.iter().any(|s| s.trim().eq_ignore_ascii_case(&u.email));
    Role::ALL
        .into_iter()
        .filter_map(|role| {
            let mut of_role = users.iter().filter(|u| u.role == role);
            let first = of_role.clone().next();
            let shown = if role == Role::Executive { of_role.find(sponsors_any).or(first) } else { first };
            shown.map(|u| (role, u.email.as_str()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(email: &str, role: Role) -> UserSummary {
        UserSummary {
            id: 0,
            email: email.into(),
            name: email.into(),
            role,
            manager_email: None,
            can_sign_in: true,
            last_sign_in_at: None,
        }
    }

    #[test]
    fn the_demo_executive_to_sign_in_as_sponsors_accounts() {
        let users = [
            user("adaeze@x.example", Role::Executive),
            user("admin@x.example", Role::Admin),
            user("marcus@x.example", Role::Executive),
            user("victoria@x.example", Role::Executive),
        ];
        let shown = demo_sign_ins(&users, &["Marcus@x.example ", "victoria@x.example"]);
        assert_eq!(shown, [(Role::Admin, "admin@x.example"), (Role::Executive, "marcus@x.example")]);
        let nobody_sponsors = demo_sign_ins(&users, &[]);
        assert_eq!(nobody_sponsors[1], (Role::Executive, "adaeze@x.example"));
    }
}
