//! Group read (PostgreSQL): the personal links that arrive together are looked up together,
//! in one query. Every answer first needs its invitation (the secret to compare, the wave's
//! state, the survey version), and each query is a round trip to the database server; under
//! load those round trips, not the database, were what answers waited for. Like the group
//! commit beside it, this only gathers what is already waiting: a lone request is looked up at
//! once, and every lookup reads the invitation as it is now.
//!
//! On SQLite there is no round trip to save: each request looks its link up itself, in place,
//! on one of the store's lookup connections, a few microseconds a link. Handing each link to
//! a reader task and its invitation back cost each answer two more wake-ups on the busy async
//! workers and kept every lookup waiting for one task: 5-10% fewer answers a second
//! (BENCHMARKS.md, issue 4).

use std::collections::HashMap;
use std::sync::Arc;

use rapport_store::invitations::Invitation;
use rapport_store::{Backend, Store};
use tokio::sync::{mpsc, oneshot};

/// The most invitations read in one batch.
const MAX_BATCH: usize = 256;
/// Lookups waiting for the reader before senders wait (backpressure).
const QUEUE: usize = 8192;

type Reply = oneshot::Sender<Result<Option<Invitation>, String>>;

/// The handle request handlers look invitations up through; cheap to clone.
#[derive(Clone)]
pub struct InvitationReader(Way);

#[derive(Clone)]
enum Way {
    /// Each lookup on the caller's task (SQLite).
    InPlace(Store),
    /// Through the reader task, which reads what waits together (PostgreSQL).
    Grouped(Arc<mpsc::Sender<(i64, Reply)>>),
}

impl InvitationReader {
    /// The reader for `store`; on PostgreSQL this starts the reader task (call from within
    /// the runtime).
    pub fn start(store: Store) -> InvitationReader {
        if store.backend() == Backend::Sqlite {
            return InvitationReader(Way::InPlace(store));
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, rx));
        InvitationReader(Way::Grouped(Arc::new(tx)))
    }

    /// The invitation with this id, as stored now (None when there is none).
    pub async fn find(&self, id: i64) -> anyhow::Result<Option<Invitation>> {
        let queue = match &self.0 {
            Way::InPlace(store) => return Ok(store.invitations(&[id]).await?.pop()),
            Way::Grouped(queue) => queue,
        };
        let (reply, done) = oneshot::channel();
        if queue.send((id, reply)).await.is_err() {
            anyhow::bail!("the invitation reader has stopped");
        }
        match done.await {
            Ok(Ok(found)) => Ok(found),
            Ok(Err(e)) => Err(anyhow::anyhow!("reading the invitation: {e}")),
            Err(_) => Err(anyhow::anyhow!("the invitation reader stopped before answering")),
        }
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<(i64, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let started = std::time::Instant::now();
        match store.invitations(&ids).await {
            Ok(found) => {
                metrics::histogram!("rapport_invitation_read_size").record(ids.len() as f64);
                metrics::histogram!("rapport_invitation_read_seconds").record(started.elapsed().as_secs_f64());
                let by_id: HashMap<i64, Invitation> = found.into_iter().map(|i| (i.id, i)).collect();
                for (id, reply) in batch.drain(..) {
                    // A copy each: the same link may be in one batch twice.
                    let _ = reply.send(Ok(by_id.get(&id).cloned()));
                }
            }
            Err(e) => {
                let why = format!("{e:#}");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(why.clone()));
                }
            }
        }
    }
}
