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

use crate::analytics::{PortfolioAccount, WaveCell, WaveInfo};
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
        let value = Arc::new(load().await?);
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

    /// [`Store::loyalty_per_account`], cached.
    pub async fn loyalty_per_account(
        &self,
        store: &Store,
        wave_id: i64,
    ) -> Result<Arc<HashMap<i64, LoyaltyCounts>>, StoreError> {
        self.get(store, Key::PerAccount(wave_id), || store.loyalty_per_account(wave_id)).await
    }

    /// [`Store::loyalty_by_segment`], cached.
    pub async fn loyalty_by_segment(
        &self,
        store: &Store,
        wave_id: Option<i64>,
        by: Option<Dimension>,
        account_id: Option<i64>,
    ) -> Result<Arc<Vec<(i64, String, LoyaltyCounts)>>, StoreError> {
        let key = Key::Segments(wave_id, by, account_id);
        self.get(store, key, || store.loyalty_by_segment(wave_id, by, account_id)).await
    }

    /// [`Store::drivers_by_segment`], cached.
    pub async fn drivers_by_segment(
        &self,
        store: &Store,
        wave_id: i64,
        by: Dimension,
    ) -> Result<Arc<BTreeMap<String, CellStats>>, StoreError> {
        self.get(store, Key::Drivers(wave_id, by), || store.drivers_by_segment(wave_id, by)).await
    }

    /// [`Store::wave_cells`], cached: what filtered views aggregate in memory.
    pub async fn wave_cells(&self, store: &Store, wave_id: i64) -> Result<Arc<Vec<WaveCell>>, StoreError> {
        self.get(store, Key::Cells(wave_id), || store.wave_cells(wave_id)).await
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
