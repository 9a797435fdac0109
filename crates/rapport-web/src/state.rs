//! What every request handler shares.

use rapport_store::Store;
use rapport_store::report_cache::ReportCache;

/// The server's shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Report inputs cached while the data is unchanged (checked per request).
    pub cache: ReportCache,
    /// Whether cookies carry the Secure flag (and the `__Host-` prefix): on unless the server
    /// listens on loopback without TLS in front.
    pub secure_cookies: bool,
}
