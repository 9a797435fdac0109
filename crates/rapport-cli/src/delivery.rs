//! The delivery settings `serve` and `wave send` share: the SMTP server, the sender, the rate
//! and the public address links point to.

use rapport_store::Store;
use rapport_store::report_cache::ReportCache;
use rapport_web::delivery::{Channels, Mailer, SmsGateway, Worker};
use rapport_web::follow_up::FollowUp;

/// The address respondents reach Rapport at.
#[derive(Debug, Clone, clap::Args)]
pub struct PublicUrl {
    /// The address respondents reach Rapport at, used in personal links, e.g.
    /// https://surveys.example.com (default: the address `rapport serve` listens on, else
    /// http://127.0.0.1:8080).
    #[arg(long = "public-url", env = "RAPPORT_PUBLIC_URL")]
    pub url: Option<String>,
}

impl PublicUrl {
    /// The address links point to.
    pub fn get(&self) -> &str {
        self.url.as_deref().unwrap_or("http://127.0.0.1:8080")
    }
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
    /// A Twilio-style SMS gateway (form POST of To, From, Body), e.g.
    /// https://SID:TOKEN@api.twilio.com/2010-04-01/Accounts/SID/Messages.json. SMS delivery is
    /// off without it.
    #[arg(long, env = "RAPPORT_SMS_URL", hide_env_values = true)]
    pub sms_url: Option<String>,
    /// The number text messages come from.
    #[arg(long, env = "RAPPORT_SMS_FROM", default_value = "")]
    pub sms_from: String,
    /// At most this many messages a second.
    #[arg(long, env = "RAPPORT_SEND_RATE", default_value_t = 10)]
    pub send_rate: u32,
    /// Where links point.
    #[command(flatten)]
    pub public: PublicUrl,
}

impl DeliveryArgs {
    /// The worker these settings describe, or None when neither an SMTP server nor an SMS
    /// gateway is set.
    pub fn worker(&self, store: &Store) -> anyhow::Result<Option<Worker>> {
        let channels = Channels {
            mail: self.smtp_url.as_deref().map(|url| Mailer::new(url, self.mail_from.clone())).transpose()?,
            sms: self.sms_url.as_deref().map(|url| SmsGateway::new(url, &self.sms_from)).transpose()?,
        };
        if channels.mail.is_none() && channels.sms.is_none() {
            return Ok(None);
        }
        Ok(Some(Worker::new(store.clone(), channels, self.public.get(), self.send_rate)))
    }

    /// The follow-up work (alert rules, escalations, notifications, webhooks) with these
    /// settings: notifications go out through the SMTP server when one is set.
    pub fn follow_up(&self, store: &Store, cache: ReportCache) -> anyhow::Result<FollowUp> {
        let mailer = self.smtp_url.as_deref().map(|url| Mailer::new(url, self.mail_from.clone())).transpose()?;
        Ok(FollowUp::new(store.clone(), cache, mailer, self.public.get()))
    }
}
