//! Group read: the personal links that arrive together are looked up together (one query on
//! PostgreSQL; on SQLite one statement kept prepared, on a connection of its own). Every
//! answer first needs its invitation (the secret to compare, the wave's state, the survey
//! version), and each query is a round trip to a database connection's thread; under load
//! those round trips, not the database, were what answers waited for. Like the group commit
//! beside it, this only gathers what is already waiting: a lone request is looked up at once,
//! and every lookup reads the invitation as it is now.

use std::collections::HashMap;
use std::sync::Arc;

use rapport_store::Store;
use rapport_store::invitations::Invitation;
use tokio::sync::{mpsc, oneshot};

/// The most invitations read in one batch. On SQLite a batch is read in place on an async
/// worker at a few microseconds a link, so a burst holds a worker for at most about a
/// millisecond.
const MAX_BATCH: usize = 256;
/// Lookups waiting for the reader before senders wait (backpressure).
const QUEUE: usize = 8192;

type Reply = oneshot::Sender<Result<Option<Invitation>, String>>;

/// The handle request handlers look invitations up through; cheap to clone.
#[derive(Clone)]
pub struct InvitationReader {
    queue: Arc<mpsc::Sender<(i64, Reply)>>,
}

impl InvitationReader {
    /// Starts the reader task on `store` (call from within the runtime).
    pub fn start(store: Store) -> InvitationReader {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, rx));
        InvitationReader { queue: Arc::new(tx) }
    }

    /// The invitation with this id, as stored now (None when there is none).
    pub async fn find(&self, id: i64) -> anyhow::Result<Option<Invitation>> {
        let (reply, done) = oneshot::channel();
        if self.queue.send((id, reply)).await.is_err() {
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
