//! An in-process cache of what reports read, valid while the database's `data_version` is
//! unchanged.
//!
//! Every transaction that changes report data bumps `data_version` (imports, the demo,
//! rebuilds, waves). Each lookup reads that number first (one tiny query) and drops the whole
//! cache when it moved, so a cached figure is never stale, whichever process wrote the change:
//! several `rapport serve` processes on one PostgreSQL stay correct without talking to each
//! other. Warm reports are then a merge in memory.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use rapport_core::loyalty::LoyaltyCounts;
use rapport_core::segment::Dimension;
use rapport_core::stats::CellStats;

use crate::analytics::{PortfolioAccount, WaveCells, WaveInfo};
use crate::error::StoreError;
use crate::store::Store;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Accounts,
    Waves,
    PerAccount(i64),
    Segments(Option<i64>, Option<Dimension>, Option<i64>),
    Drivers(i64, Dimension),
    Cells(i64),
    Invitations(i64),
    Contacts,
    Derived(String),
}

/// The most entries kept; past it the cache starts over (distinct filtered views each add
/// one, and a long-running server must not grow without bound).
const MAX_ENTRIES: usize = 2048;

#[derive(Default)]
struct State {
    version: Option<i64>,
    entries: HashMap<Key, Arc<dyn Any + Send + Sync>>,
}

/// Report inputs cached per process; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct ReportCache {
    state: Arc<Mutex<State>>,
}

impl ReportCache {
    /// An empty cache.
    pub fn new() -> ReportCache {
        ReportCache::default()
    }

    async fn get<T, E, F>(&self, store: &Store, key: Key, load: impl FnOnce() -> F) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        E: From<StoreError>,
        F: Future<Output = Result<T, E>>,
    {
        let version = store.data_version().await?;
        {
            let mut state = self.state.lock().expect("the report cache lock is never poisoned");
            if state.version != Some(version) {
                state.entries.clear();
                state.version = Some(version);
            }
            if let Some(hit) = state.entries.get(&key).and_then(|v| Arc::clone(v).downcast::<T>().ok()) {
                return Ok(hit);
            }
        }
        let started = std::time::Instant::now();
        let value = Arc::new(load().await?);
        // What a report waited for the first time after a change: `--log rapport_store=debug`.
        tracing::debug!(input = ?key, ms = started.elapsed().as_secs_f64() * 1e3, "report input loaded");
        let mut state = self.state.lock().expect("the report cache lock is never poisoned");
        // Keep it only if nothing changed while it loaded.
        if state.version == Some(version) {
            if state.entries.len() >= MAX_ENTRIES {
                state.entries.clear();
            }
            state.entries.insert(key, value.clone());
        }
        Ok(value)
    }

    /// Anything computed from the data (a placed matrix, a page's figures), cached under `key`
    /// until the data changes. Keys are free text: name them after what they hold and every
    /// input that changes the result.
    pub async fn derived<T, E, F>(&self, store: &Store, key: String, load: impl FnOnce() -> F) -> Result<Arc<T>, E>
    where
        T: Send + Sync + 'static,
        E: From<StoreError>,
        F: Future<Output = Result<T, E>>,
    {
        self.get(store, Key::Derived(key), load).await
    }

    /// [`Store::portfolio_accounts`], cached.
    pub async fn accounts(&self, store: &Store) -> Result<Arc<Vec<PortfolioAccount>>, StoreError> {
        self.get(store, Key::Accounts, || store.portfolio_accounts()).await
    }

    /// [`Store::list_waves`], cached.
    pub async fn waves(&self, store: &Store) -> Result<Arc<Vec<WaveInfo>>, StoreError> {
        self.get(store, Key::Waves, || store.list_waves()).await
    }

    /// [`Store::wave_cells`], cached: what every figure of a wave is summed from.
    pub async fn wave_cells(&self, store: &Store, wave_id: i64) -> Result<Arc<WaveCells>, StoreError> {
        self.get(store, Key::Cells(wave_id), || store.wave_cells(wave_id)).await
    }

    /// Loyalty counts per account in one wave (all role levels merged), by internal id,
    /// summed from the wave's cells and cached.
    pub async fn loyalty_per_account(
        &self,
        store: &Store,
        wave_id: i64,
    ) -> Result<Arc<HashMap<i64, LoyaltyCounts>>, StoreError> {
        self.get(store, Key::PerAccount(wave_id), || async {
            let cells = self.wave_cells(store, wave_id).await?;
            in_background(move || Ok(cells.loyalty_per_account())).await
        })
        .await
    }

    /// Loyalty counts per (wave, segment), cached: for one wave of the whole portfolio, summed
    /// from the wave's cells; otherwise (every wave, or one account) summed by the database
    /// ([`Store::loyalty_by_segment`]).
    pub async fn loyalty_by_segment(
        &self,
        store: &Store,
        wave_id: Option<i64>,
        by: Option<Dimension>,
        account_id: Option<i64>,
    ) -> Result<Arc<Vec<(i64, String, LoyaltyCounts)>>, StoreError> {
        let key = Key::Segments(wave_id, by, account_id);
        match (wave_id, account_id) {
            (Some(wave_id), None) => {
                self.get(store, key, || async {
                    let stats = self.segment_stats(store, wave_id, by, false).await?;
                    Ok(stats.into_iter().map(|(segment, s)| (wave_id, segment, s.loyalty)).collect())
                })
                .await
            }
            _ => self.get(store, key, || store.loyalty_by_segment(wave_id, by, account_id)).await,
        }
    }

    /// Driver sums and loyalty per segment for one wave, ready for the key driver analysis,
    /// summed from the wave's cells and cached.
    pub async fn drivers_by_segment(
        &self,
        store: &Store,
        wave_id: i64,
        by: Dimension,
    ) -> Result<Arc<BTreeMap<String, CellStats>>, StoreError> {
        self.get(store, Key::Drivers(wave_id, by), || self.segment_stats(store, wave_id, Some(by), true)).await
    }

    /// The whole portfolio's statistics per segment in one wave ([`WaveCells::by_segment`]).
    async fn segment_stats(
        &self,
        store: &Store,
        wave_id: i64,
        by: Option<Dimension>,
        with_drivers: bool,
    ) -> Result<BTreeMap<String, CellStats>, StoreError> {
        let (accounts, cells) = self.accounts_and_cells(store, wave_id).await?;
        in_background(move || cells.by_segment(&accounts, by, None, with_drivers)).await
    }

    /// [`ReportCache::accounts`] and [`ReportCache::wave_cells`], read at once: the cells on
    /// a task of their own, so that each read has a connection and a core (a future joined
    /// on one task decodes PostgreSQL's rows on one thread, one read after the other).
    pub async fn accounts_and_cells(
        &self,
        store: &Store,
        wave_id: i64,
    ) -> Result<(Arc<Vec<PortfolioAccount>>, Arc<WaveCells>), StoreError> {
        let cells = {
            let (cache, store) = (self.clone(), store.clone());
            tokio::spawn(async move { cache.wave_cells(&store, wave_id).await })
        };
        let accounts = self.accounts(store).await?;
        let cells = cells.await.map_err(|e| {
            StoreError::Other(anyhow::Error::new(e).context("reading a wave's analytics cells stopped"))
        })??;
        Ok((accounts, cells))
    }

    /// [`Store::invitations_per_account`], cached, as a map.
    pub async fn invitations_per_account(
        &self,
        store: &Store,
        wave_id: i64,
    ) -> Result<Arc<HashMap<i64, i64>>, StoreError> {
        self.get(store, Key::Invitations(wave_id), || async {
            Ok(store.invitations_per_account(wave_id).await?.into_iter().collect())
        })
        .await
    }

    /// [`Store::contacts_per_account`], cached, as a map.
    pub async fn contacts_per_account(&self, store: &Store) -> Result<Arc<HashMap<i64, i64>>, StoreError> {
        self.get(store, Key::Contacts, || async { Ok(store.contacts_per_account().await?.into_iter().collect()) }).await
    }
}

/// Runs a pass over a wave's cells on the blocking pool: summing the drivers of 257,000 cells
/// takes tens of milliseconds, too long to hold up a server's async workers.
async fn in_background<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("summing a wave's analytics cells stopped")))?
}
