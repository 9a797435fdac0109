//! What every request handler shares.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rapport_store::Store;
use rapport_store::report_cache::ReportCache;

/// Sign-in attempts per email: a burst of this many, then one more per [`SIGN_IN_REFILL`].
pub const SIGN_IN_BURST: u32 = 5;
/// How often one more sign-in attempt is allowed once the burst is spent.
pub const SIGN_IN_REFILL: Duration = Duration::from_secs(60);

/// Posts a personal link may make: a burst of this many, then one more every two seconds.
pub const PERSONAL_LINK_BURST: u32 = 20;
/// Posts an open link may make (many people answer through one QR code at an event): a burst
/// of this many, then five more a second.
pub const OPEN_LINK_BURST: u32 = 300;

/// The rate limits of the public survey routes.
pub struct AnswerLimits {
    personal: DefaultKeyedRateLimiter<i64>,
    open: DefaultKeyedRateLimiter<i64>,
}

impl AnswerLimits {
    fn new() -> AnswerLimits {
        let quota = |period: Duration, burst: u32| {
            Quota::with_period(period)
                .expect("a positive period")
                .allow_burst(NonZeroU32::new(burst).expect("a positive burst"))
        };
        AnswerLimits {
            personal: RateLimiter::keyed(quota(Duration::from_secs(2), PERSONAL_LINK_BURST)),
            open: RateLimiter::keyed(quota(Duration::from_millis(200), OPEN_LINK_BURST)),
        }
    }

    /// Whether personal link `id` may post now.
    pub fn personal(&self, id: i64) -> bool {
        self.personal.check_key(&id).is_ok()
    }

    /// Whether open link `id` may post now.
    pub fn open(&self, id: i64) -> bool {
        self.open.check_key(&id).is_ok()
    }
}

/// The server's shared state; cheap to clone, as it is several times for every request: one
/// reference count, where cloning each of its handles cost 2% of the server's processor under
/// the answer benchmark (BENCHMARKS.md, issue 4). Its parts read as fields ([`Shared`]).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Clone)]
pub struct Shared {
    /// The database.
    pub store: Store,
    /// Report inputs cached while the data is unchanged (checked per request).
    pub cache: ReportCache,
    /// Whether cookies carry the Secure flag (and the `__Host-` prefix): on unless the server
    /// listens on loopback without TLS in front.
    pub secure_cookies: bool,
    /// Sign-in attempts per email (lower-cased), per process: password guessing against one
    /// account slows to a crawl whatever address it comes from.
    pub sign_in_limits: Arc<DefaultKeyedRateLimiter<String>>,
    /// Answers posted per personal link ("r:ID") and per open link ("o:ID"), per process: one
    /// link cannot flood a wave with answers.
    pub answer_limits: Arc<AnswerLimits>,
    /// Survey definitions by version id, for the response pages.
    pub surveys: crate::respond::SurveyCache,
    /// The address respondents reach Rapport at, for personal links.
    pub public_url: Arc<str>,
    /// Serve `POST /bench/ceiling`, the parse-only yardstick of the answer benchmark.
    pub bench_ceiling: bool,
    /// Stores answers with group commit; started on first use.
    pub answers: Arc<std::sync::OnceLock<crate::respond::AnswerWriter>>,
    /// Looks personal links up with group read; started on first use.
    pub invitations: Arc<std::sync::OnceLock<crate::respond::InvitationReader>>,
    /// The invitation channels this server delivers ("email", "sms"): none unless a mail
    /// server or SMS gateway is configured and its worker runs.
    pub delivery_channels: Arc<[&'static str]>,
}

impl AppState {
    /// Appends a line to the audit log, stamped now.
    pub async fn audit(
        &self,
        actor: Option<&str>,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), rapport_store::StoreError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.store.audit(now, actor, action, target, detail).await
    }

    /// The state of a server on `store`.
    pub fn new(store: Store, secure_cookies: bool) -> AppState {
        let burst = NonZeroU32::new(SIGN_IN_BURST).expect("a positive burst");
        let quota = Quota::with_period(SIGN_IN_REFILL).expect("a positive period").allow_burst(burst);
        AppState(Arc::new(Shared {
            store,
            cache: ReportCache::new(),
            secure_cookies,
            sign_in_limits: Arc::new(RateLimiter::keyed(quota)),
            surveys: Default::default(),
            answer_limits: Arc::new(AnswerLimits::new()),
            public_url: "http://127.0.0.1:8080".into(),
            delivery_channels: Arc::new([]),
            answers: Default::default(),
            invitations: Default::default(),
            bench_ceiling: false,
        }))
    }

    /// The writer that stores answers (group commit), started on first use.
    pub fn answer_writer(&self) -> &crate::respond::AnswerWriter {
        self.answers.get_or_init(|| crate::respond::AnswerWriter::start(self.store.clone(), self.public_url.clone()))
    }

    /// The reader that looks personal links up (group read), started on first use.
    pub fn invitation_reader(&self) -> &crate::respond::InvitationReader {
        self.invitations.get_or_init(|| crate::respond::InvitationReader::start(self.store.clone()))
    }

    /// The same state with the public address links use, and the channels it delivers.
    pub fn with_delivery(self, public_url: &str, delivery_channels: Vec<&'static str>) -> AppState {
        let shared = Arc::unwrap_or_clone(self.0);
        AppState(Arc::new(Shared {
            public_url: public_url.trim_end_matches('/').into(),
            delivery_channels: delivery_channels.into(),
            ..shared
        }))
    }

    /// The same state serving `POST /bench/ceiling` or not.
    pub fn with_bench_ceiling(self, on: bool) -> AppState {
        AppState(Arc::new(Shared { bench_ceiling: on, ..Arc::unwrap_or_clone(self.0) }))
    }
}
