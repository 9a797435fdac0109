//! `rapport user add|list`: the people who sign in.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use rapport_core::contact::Email;
use rapport_core::user::Role;
use rapport_store::Store;
use rapport_store::api_tokens::TokenScope;
use rapport_store::users::NewUser;
use rapport_web::password::hash_password;

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("'{text}' is not a role: use admin, analyst, account_manager or executive"))
}

/// `rapport user ...`.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user, or update the role, name and password of an existing one. The password
    /// is asked for (twice) at a terminal, or read from the first line of standard input.
    Add(UserAddArgs),
    /// List every user with their role.
    List,
    /// Make a personal API token for a user and print it (once: only its hash is kept).
    Token(TokenArgs),
}

/// `rapport user token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// The user's email.
    pub email: String,
    /// What the token is for, e.g. "CRM sync".
    #[arg(long)]
    pub name: String,
    /// read, write or admin (admin only for administrators).
    #[arg(long, default_value = "read", value_parser = parse_scope)]
    pub scope: TokenScope,
}

fn parse_scope(text: &str) -> Result<TokenScope, String> {
    TokenScope::parse(text).ok_or_else(|| format!("'{text}' is not a scope: use read, write or admin"))
}

/// `rapport user add`.
#[derive(Debug, clap::Args)]
pub struct UserAddArgs {
    /// Sign-in email.
    pub email: String,
    /// admin, analyst, account_manager or executive.
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// Display name (default: the part of the email before @).
    #[arg(long)]
    pub name: Option<String>,
    /// Their manager's email (overdue follow-ups escalate there); the manager must exist.
    #[arg(long)]
    pub manager: Option<String>,
}

/// Runs `rapport user ...`.
pub async fn user(store: &Store, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add(args) => add(store, args).await,
        UserCommand::Token(args) => {
            let Some(login) = store.user_login(&args.email).await? else {
                bail!("there is no user {}: add one with `rapport user add`", args.email);
            };
            if args.scope == TokenScope::Admin && login.role != Role::Admin {
                bail!(
                    "only administrators' tokens can have the admin scope; {} is {}",
                    args.email,
                    login.role.as_str()
                );
            }
            let token = rapport_web::token::new_token();
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            store
                .create_api_token(login.id, &args.name, &rapport_web::token::hash_token(&token), args.scope, now)
                .await?;
            let detail = format!("{} for {} (command line)", args.scope.as_str(), args.email);
            store.audit(now, None, "api_token.create", &args.name, &detail).await?;
            say!("{token}");
            Ok(())
        }
        UserCommand::List => {
            for u in store.list_users().await? {
                say!("{:<40} {:<16} {}", u.email, u.role.as_str(), u.name);
            }
            Ok(())
        }
    }
}

async fn add(store: &Store, args: UserAddArgs) -> anyhow::Result<()> {
    let email = Email::parse(&args.email)?.as_str().to_string();
    let password = read_password()?;
    let hash = hash_password(&password)?;
    let name = args.name.unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_string());
    if let Some(manager) = &args.manager
        && store.user_login(manager).await?.is_none()
    {
        bail!("there is no user {manager} to be the manager: add them first, or leave out --manager");
    }
    store
        .upsert_user(&NewUser { email: email.clone(), name, role: args.role, manager_email: args.manager })
        .await
        .with_context(|| format!("saving the user {email}"))?;
    store.set_password_hash(&email, &hash).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    store.audit(now, None, "user.save", &email, &format!("{} (command line)", args.role.as_str())).await?;
    say!("{email} can now sign in as {}.", args.role.as_str());
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 10 characters): ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        if first != again {
            bail!("the two passwords differ: run the command again and type the same one twice");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        if password.is_empty() {
            bail!(
                "no password on standard input: pipe one in, e.g. `printf '%s\\n' \"$PASSWORD\" | rapport user add ...`"
            );
        }
        Ok(password)
    }
}
