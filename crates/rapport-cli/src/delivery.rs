//! The delivery settings `serve` and `wave send` share: the SMTP server, the sender, the rate
//! and the public address links point to.

use rapport_store::Store;
use rapport_web::delivery::{Mailer, Worker};

/// The address respondents reach Rapport at.
#[derive(Debug, Clone, clap::Args)]
pub struct PublicUrl {
    /// The address respondents reach Rapport at, used in personal links, e.g.
    /// https://surveys.example.com.
    #[arg(long = "public-url", env = "RAPPORT_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
}

/// How invitations are sent.
#[derive(Debug, Clone, clap::Args)]
pub struct DeliveryArgs {
    /// The SMTP server invitations go through: smtp://USER:PASSWORD@HOST:587 (STARTTLS) or
    /// smtps://USER:PASSWORD@HOST:465 (TLS). Email delivery is off without it.
    #[arg(long, env = "RAPPORT_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The address invitations come from (default: the survey's sender email); replies go to
    /// the survey's sender.
    #[arg(long, env = "RAPPORT_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// At most this many messages a second.
    #[arg(long, env = "RAPPORT_SEND_RATE", default_value_t = 10)]
    pub send_rate: u32,
    /// Where links point.
    #[command(flatten)]
    pub public: PublicUrl,
}

impl DeliveryArgs {
    /// The worker these settings describe, or None when no SMTP server is set.
    pub fn worker(&self, store: &Store) -> anyhow::Result<Option<Worker>> {
        let Some(url) = &self.smtp_url else { return Ok(None) };
        let mailer = Mailer::new(url, self.mail_from.clone())?;
        Ok(Some(Worker::new(store.clone(), mailer, &self.public.url, self.send_rate)))
    }
}
