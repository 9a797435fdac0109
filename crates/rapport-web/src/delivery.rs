//! Delivering invitations and reminders by email and SMS: the worker that runs the job queue.
//!
//! `rapport serve` runs it in the background when an SMTP server is configured; `rapport wave
//! send` runs it in the foreground for one wave. Several workers (processes) may run at once:
//! the store hands each job to one of them. Sending respects a rate (messages per second);
//! a server that is unreachable or says "try again later" gets the message again with growing
//! pauses, and one that refuses it marks the invitation failed with its reason.

use std::num::NonZeroU32;
use std::sync::Arc;

use anyhow::Context;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rapport_core::survey::Survey;
use rapport_store::Store;
use rapport_store::invitations::{Channel, Invitation};
use rapport_store::jobs::{Job, JobKind, Outcome};
use time::{Duration, OffsetDateTime};

use crate::invite;
use crate::respond::SurveyCache;

/// How many times a message is tried before its invitation is marked failed.
pub const MAX_ATTEMPTS: i64 = 5;
/// How long a worker may hold a claimed job before it counts as abandoned, unless told
/// otherwise: longer than the slowest send (cut off after a minute: [`send_limit`]).
pub const DEFAULT_LEASE: Duration = Duration::minutes(2);

/// The longest a send may take: half the lease, and never more than a minute.
pub(crate) fn send_limit(lease: Duration) -> std::time::Duration {
    let minute = std::time::Duration::from_secs(60);
    std::time::Duration::try_from(lease / 2).map_or(minute, |half| half.min(minute))
}

/// Where and how to send.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The address messages come from (the survey's sender name is shown with it); the
    /// survey's own address when unset.
    from: Option<String>,
}

impl Mailer {
    /// A mailer for `url`: `smtp://user:pass@host:587` (STARTTLS required, except on a
    /// loopback host), `smtps://user:pass@host:465` (TLS from the start); `?tls=...` as lettre
    /// reads it overrides the choice.
    pub fn new(url: &str, from: Option<String>) -> anyhow::Result<Mailer> {
        let url = smtp_url(url);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .with_context(|| {
                format!(
                    "reading the SMTP URL {}: expected smtp://USER:PASSWORD@HOST:587 or smtps://USER:PASSWORD@HOST:465",
                    rapport_store::store::redact(&url)
                )
            })?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        Ok(Mailer { transport, from })
    }

    async fn send(&self, survey: &Survey, inv: &Invitation, public_url: &str, reminder: bool) -> Result<(), Failure> {
        let to = inv
            .email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .ok_or(Failure::Permanent("the contact has no email address".to_string()))?;
        let mail =
            invite::email(survey, inv, public_url, reminder).map_err(|e| Failure::Permanent(format!("{e:#}")))?;
        let address = self.from.as_deref().unwrap_or(&survey.sender.email);
        let from: Mailbox = format!("{} <{address}>", quote(&survey.sender.company))
            .parse()
            .map_err(|e| Failure::Permanent(format!("the sender address '{address}' is not valid: {e}")))?;
        let reply_to: Option<Mailbox> = survey.sender.email.parse().ok();
        let to: Mailbox = format!("{} <{to}>", quote(&inv.contact_name))
            .parse()
            .map_err(|e| Failure::Permanent(format!("the address '{to}' is not valid: {e}")))?;
        let unsubscribe = format!("{}/unsubscribe", invite::link(public_url, inv));
        let mut builder = Message::builder().from(from).to(to).subject(mail.subject);
        if let Some(r) = reply_to {
            builder = builder.reply_to(r);
        }
        // One-click unsubscribe (RFC 8058): mail clients POST to the link, which the
        // unsubscribe page accepts.
        builder = builder
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{unsubscribe}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_string(),
            ));
        let message = builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html)),
            )
            .map_err(|e| Failure::Permanent(format!("building the message: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(Failure::Permanent(format!("the mail server refused it: {e}"))),
            Err(e) => Err(Failure::Transient(format!("{e}"))),
        }
    }
}

impl Mailer {
    /// Sends a plain-text notice to a user (an alert to follow up, an escalation). Its
    /// Message-ID is `message_id` on every attempt, so that a repeat after a crash is one
    /// message to mail systems that deduplicate.
    pub(crate) async fn send_notice(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        message_id: &str,
    ) -> Result<(), Failure> {
        let address = self.from.as_deref().unwrap_or(NOTICE_FROM);
        let from: Mailbox = format!("Rapport <{address}>")
            .parse()
            .map_err(|e| Failure::Permanent(format!("the sender address '{address}' is not valid: {e}")))?;
        let to: Mailbox =
            to.trim().parse().map_err(|e| Failure::Permanent(format!("the address '{to}' is not valid: {e}")))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .message_id(Some(message_id.to_string()))
            .header(ContentType::TEXT_PLAIN)
            .body(text.to_string())
            .map_err(|e| Failure::Permanent(format!("building the message: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(Failure::Permanent(format!("the mail server refused it: {e}"))),
            Err(e) => Err(Failure::Transient(format!("{e}"))),
        }
    }
}

/// The sender of notices when RAPPORT_MAIL_FROM is not set.
const NOTICE_FROM: &str = "rapport@localhost";

/// A Twilio-style SMS gateway: a form POST of `To`, `From` and `Body` to its URL, with the
/// URL's user and password as basic authentication.
pub struct SmsGateway {
    client: reqwest::Client,
    url: reqwest::Url,
    from: String,
}

impl SmsGateway {
    /// A gateway at `url` (e.g. `https://SID:TOKEN@api.twilio.com/2010-04-01/Accounts/SID/Messages.json`)
    /// sending from the number `from`.
    pub fn new(url: &str, from: &str) -> anyhow::Result<SmsGateway> {
        let url = reqwest::Url::parse(url).with_context(|| {
            format!(
                "reading the SMS gateway URL {}: expected https://USER:TOKEN@HOST/PATH",
                rapport_store::store::redact(url)
            )
        })?;
        if from.trim().is_empty() {
            anyhow::bail!("the SMS gateway needs the number messages come from: set RAPPORT_SMS_FROM");
        }
        let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build()?;
        Ok(SmsGateway { client, url, from: from.trim().to_string() })
    }

    async fn send(&self, survey: &Survey, inv: &Invitation, public_url: &str) -> Result<(), Failure> {
        let to = inv
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .ok_or(Failure::Permanent("the contact has no phone number".to_string()))?;
        let mut url = self.url.clone();
        let user = url.username().to_string();
        let password = url.password().map(str::to_string);
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let mut request = self.client.post(url).form(&[
            ("To", to.trim()),
            ("From", self.from.as_str()),
            ("Body", invite::sms(survey, inv, public_url).as_str()),
        ]);
        if !user.is_empty() {
            request = request.basic_auth(user, password);
        }
        let response = request.send().await.map_err(|e| Failure::Transient(format!("the SMS gateway: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body: String = response.text().await.unwrap_or_default().chars().take(300).collect();
        let why = format!("the SMS gateway answered {status}: {body}");
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            Err(Failure::Transient(why))
        } else {
            Err(Failure::Permanent(why))
        }
    }
}

/// The ways a worker can deliver: email, SMS, or both.
#[derive(Default)]
pub struct Channels {
    /// Email through an SMTP server.
    pub mail: Option<Mailer>,
    /// Text messages through an HTTP gateway.
    pub sms: Option<SmsGateway>,
}

impl Channels {
    /// The invitation channels these can deliver ("email", "sms").
    pub fn names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.mail.is_some() {
            names.push(Channel::Email.as_str());
        }
        if self.sms.is_some() {
            names.push(Channel::Sms.as_str());
        }
        names
    }
}

/// A display name as an RFC 5322 quoted string.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace(['\\', '"'], "").replace(['\r', '\n'], " "))
}

/// The URL lettre reads: `smtp://` asks for STARTTLS unless the host is loopback or the URL
/// says otherwise.
fn smtp_url(url: &str) -> String {
    let loopback = ["@127.0.0.1", "//127.0.0.1", "@localhost", "//localhost", "@[::1]", "//[::1]"];
    if url.starts_with("smtp://") && !url.contains("tls=") && !loopback.iter().any(|l| url.contains(l)) {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}tls=required")
    } else {
        url.to_string()
    }
}

/// Why a message did not go out.
pub(crate) enum Failure {
    /// Try again later.
    Transient(String),
    /// Do not try again.
    Permanent(String),
}

/// Pause before attempt `n + 1` after `n` failed: 1, 5, 30 minutes, then 2 hours.
fn backoff(attempts: i64) -> Duration {
    match attempts {
        ..=1 => Duration::minutes(1),
        2 => Duration::minutes(5),
        3 => Duration::minutes(30),
        _ => Duration::hours(2),
    }
}

/// The worker: claims due jobs, delivers each at the configured rate, records the outcome.
#[derive(Clone)]
pub struct Worker {
    store: Store,
    channels: Arc<Channels>,
    public_url: String,
    limiter: Arc<DefaultDirectRateLimiter>,
    surveys: SurveyCache,
    lease: Duration,
}

impl Worker {
    /// A worker sending through `channels` at most `per_second` messages a second, with links
    /// to `public_url`.
    pub fn new(store: Store, channels: Channels, public_url: &str, per_second: u32) -> Worker {
        let rate = NonZeroU32::new(per_second.max(1)).expect("at least one a second");
        Worker {
            store,
            channels: Arc::new(channels),
            public_url: public_url.trim_end_matches('/').to_string(),
            limiter: Arc::new(RateLimiter::direct(Quota::per_second(rate))),
            surveys: SurveyCache::default(),
            lease: DEFAULT_LEASE,
        }
    }

    /// The same worker, holding each claimed job for `lease` before another may count it as
    /// abandoned (the crash tests shorten it).
    pub fn with_lease(self, lease: Duration) -> Worker {
        Worker { lease, ..self }
    }

    /// Runs the due jobs: fails abandoned jobs, queues due reminders, then delivers jobs one by one
    /// until none is due. Returns how many jobs were run.
    pub async fn run_due(&self) -> anyhow::Result<u64> {
        self.prepare().await?;
        let mut ran = 0;
        loop {
            let n = self.run_next().await?;
            if n == 0 {
                return Ok(ran);
            }
            ran += n;
        }
    }

    /// The housekeeping before a run: abandoned jobs marked failed, due reminders queued.
    pub async fn prepare(&self) -> anyhow::Result<()> {
        let now = OffsetDateTime::now_utc();
        self.store.fail_abandoned_jobs(now).await?;
        self.store.queue_reminders(now).await?;
        Ok(())
    }

    /// Claims the next due job once the rate allows, and delivers it. Returns how many jobs
    /// were run (0 or 1). One at a time, so that a worker that dies holds only the message in
    /// flight: that one is marked failed (it may have gone out), and nothing else waits for a
    /// lease to run out.
    pub async fn run_next(&self) -> anyhow::Result<u64> {
        self.limiter.until_ready().await;
        let jobs = self.store.claim_jobs(OffsetDateTime::now_utc(), self.lease, 1, &self.channels.names()).await?;
        let mut ran = 0;
        for job in jobs {
            let outcome = self.deliver(&job).await?;
            self.store.finish_job(&job, &outcome, OffsetDateTime::now_utc()).await?;
            metrics::counter!("rapport_deliveries_total", "outcome" => match outcome {
                Outcome::Sent => "sent",
                Outcome::Retry { .. } => "retry",
                Outcome::Failed { .. } => "failed",
            })
            .increment(1);
            ran += 1;
        }
        Ok(ran)
    }

    async fn deliver(&self, job: &Job) -> anyhow::Result<Outcome> {
        let Some(inv) = self.store.invitation(job.invitation_id).await? else {
            return Ok(Outcome::Failed { error: "the invitation no longer exists".into() });
        };
        // What changed since the message was queued, checked as it is about to go out.
        let what = if job.kind == JobKind::Reminder { "the reminder" } else { "the invitation" };
        if inv.answered_at.is_some() {
            return Ok(Outcome::Failed { error: format!("not sent: answered before {what} went out") });
        }
        if !inv.accepts_answers(OffsetDateTime::now_utc()) {
            return Ok(Outcome::Failed { error: format!("not sent: the wave closed before {what} went out") });
        }
        if !self.store.may_contact(inv.contact_id).await? {
            return Ok(Outcome::Failed {
                error: format!("not sent: the contact unsubscribed or opted out before {what} went out"),
            });
        }
        let Some(version) = inv.survey_version_id else {
            return Ok(Outcome::Failed { error: "the wave has no survey".into() });
        };
        let survey = self.surveys.get(&self.store, version).await?;
        let reminder = job.kind == JobKind::Reminder;
        let send = async {
            match (inv.channel(), &self.channels.mail, &self.channels.sms) {
                (Channel::Email, Some(mailer), _) => mailer.send(&survey, &inv, &self.public_url, reminder).await,
                (Channel::Sms, _, Some(sms)) => sms.send(&survey, &inv, &self.public_url).await,
                (channel, _, _) => Err(Failure::Transient(format!(
                    "this server does not send by {}: set it up to deliver",
                    channel.as_str()
                ))),
            }
        };
        // A send must end well within the lease: a mail server that stalls after accepting
        // the connection would otherwise hold it past the lease, another process would count
        // the job abandoned, and a retry could send the message twice. Whether a message cut
        // off so went out is not known, so it is marked failed, as an abandoned one is.
        let limit = send_limit(self.lease);
        let sent = tokio::time::timeout(limit, send).await.unwrap_or_else(|_| {
            Err(Failure::Permanent(format!(
                "the {} server did not finish within {} s: it may or may not have gone out; if not, retry the \
                 wave's failed invitations",
                inv.channel().as_str(),
                limit.as_secs_f64()
            )))
        });
        Ok(match sent {
            Ok(()) => Outcome::Sent,
            Err(Failure::Permanent(error)) => Outcome::Failed { error },
            Err(Failure::Transient(error)) if job.attempts >= MAX_ATTEMPTS => {
                Outcome::Failed { error: format!("gave up after {} attempts: {error}", job.attempts) }
            }
            Err(Failure::Transient(error)) => {
                Outcome::Retry { error, at: OffsetDateTime::now_utc() + backoff(job.attempts) }
            }
        })
    }

    /// The invitation channels this worker delivers.
    pub fn channels(&self) -> Vec<&'static str> {
        self.channels.names()
    }

    /// Runs the queue until `shutdown` resolves, checking for due jobs every few seconds.
    /// A batch in progress finishes before it returns.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.run_due().await {
                Ok(n) if n > 0 => tracing::info!(jobs = n, "deliveries run"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = format!("{e:#}"), "running the delivery queue failed"),
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_asks_for_starttls_except_on_loopback() {
        assert_eq!(smtp_url("smtp://u:p@mail.example:587"), "smtp://u:p@mail.example:587?tls=required");
        assert_eq!(smtp_url("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
        assert_eq!(smtp_url("smtps://u:p@mail.example"), "smtps://u:p@mail.example");
        assert_eq!(smtp_url("smtp://mail.example?tls=opportunistic"), "smtp://mail.example?tls=opportunistic");
    }

    #[test]
    fn a_send_ends_well_within_its_lease() {
        assert_eq!(send_limit(DEFAULT_LEASE), std::time::Duration::from_secs(60));
        assert_eq!(send_limit(Duration::seconds(10)), std::time::Duration::from_secs(5));
        assert_eq!(send_limit(Duration::minutes(30)), std::time::Duration::from_secs(60));
    }

    #[test]
    fn retries_wait_longer_each_time() {
        assert!(backoff(1) < backoff(2) && backoff(2) < backoff(3) && backoff(3) < backoff(4));
        assert_eq!(backoff(9), Duration::hours(2));
    }

    #[test]
    fn display_names_cannot_break_out_of_their_quotes() {
        assert_eq!(quote("O'Brien \"Sons\"\r\nBcc: x"), "\"O'Brien Sons  Bcc: x\"");
    }
}
