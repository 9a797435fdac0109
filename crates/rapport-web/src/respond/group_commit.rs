//! Group commit: the answers that arrive together are stored in one transaction, and each is
//! answered only after that transaction is durable. One sync to disk then serves a whole
//! batch instead of one answer, which is what lets a server take thousands of durable answers
//! a second (BENCHMARKS.md). A batch that fails is retried answer by answer, so one bad
//! answer never costs the others theirs. On SQLite the same transaction follows the answers
//! up (their alerts, tasks and notifications, under the alert rules and webhooks read at most
//! a second before), so that nothing waits for a second writer; on PostgreSQL the follow-up
//! scanner does, beside (see `Store::record_answers`).
//!
//! The writer is a thread of its own rather than a task: it takes the next batch as soon as
//! one is stored, and on SQLite runs the batch's transaction itself. As a task it handed each
//! batch to the blocking pool and waited to be woken on an async worker, both cores busy with
//! requests, which cost 15% of each batch's time (BENCHMARKS.md, issue 4).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rapport_store::Store;
use rapport_store::alerts::AnswerFollowUp;
use rapport_store::invitations::NewAnswer;
use tokio::sync::{mpsc, oneshot};

/// The most answers stored in one transaction.
const MAX_BATCH: usize = 1024;
/// Answers waiting for the writer before senders wait (backpressure).
const QUEUE: usize = 8192;
/// How long the alert rules and webhooks read for the follow-up serve before they are read
/// again: a change made in the app applies to the answers stored a second later.
const RULES_FOR: std::time::Duration = std::time::Duration::from_secs(1);

type Reply = oneshot::Sender<Result<(), String>>;

/// The handle request handlers send answers through; cheap to clone.
#[derive(Clone)]
pub struct AnswerWriter {
    queue: Arc<mpsc::Sender<(NewAnswer, Reply)>>,
    /// Answers sent and not yet stored (or refused).
    pending: Arc<AtomicUsize>,
}

impl AnswerWriter {
    /// Starts the writer thread on `store` (call from within the runtime); notifications link
    /// to `public_url`. The thread ends once every handle to it is dropped and what was sent is
    /// stored.
    pub fn start(store: Store, public_url: Arc<str>) -> AnswerWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        let pending = Arc::new(AtomicUsize::new(0));
        let runtime = tokio::runtime::Handle::current();
        let counted = pending.clone();
        std::thread::Builder::new()
            .name("answer-writer".into())
            .spawn(move || {
                // Entered, so that what the store starts from here (its checkpoints) runs on
                // the runtime.
                let _entered = runtime.enter();
                run(&runtime, store, public_url, rx, &counted);
            })
            .expect("the operating system starts a thread");
        AnswerWriter { queue: Arc::new(tx), pending }
    }

    /// Waits (up to `limit`) until every answer sent so far is stored: at shutdown, after the
    /// last request, before the database closes. Even an answer whose sender hung up is kept.
    pub async fn drain(&self, limit: std::time::Duration) {
        let started = std::time::Instant::now();
        while self.pending.load(Ordering::Acquire) > 0 && started.elapsed() < limit {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Stores the answer; returns once it is committed (or says why it could not be).
    pub async fn write(&self, answer: NewAnswer) -> anyhow::Result<()> {
        let (reply, done) = oneshot::channel();
        self.pending.fetch_add(1, Ordering::AcqRel);
        if self.queue.send((answer, reply)).await.is_err() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            anyhow::bail!("the answer writer has stopped");
        }
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow::anyhow!("storing the answer: {e}")),
            Err(_) => Err(anyhow::anyhow!("the answer writer stopped before storing the answer")),
        }
    }
}

/// The follow-up the writer applies, read again when it is older than [`RULES_FOR`].
struct Rules {
    store: Store,
    public_url: Arc<str>,
    read: Option<(std::time::Instant, Arc<AnswerFollowUp>)>,
}

impl Rules {
    /// The current follow-up; None where the store leaves answers to the follow-up scanner,
    /// or when the rules cannot be read (the answers then wait for the scanner too).
    async fn current(&mut self) -> Option<Arc<AnswerFollowUp>> {
        if !self.store.follows_up_as_it_stores() {
            return None;
        }
        if let Some((at, f)) = &self.read {
            if at.elapsed() < RULES_FOR {
                return Some(f.clone());
            }
        }
        let read = async { anyhow::Ok((self.store.alert_rules().await?, self.store.list_webhooks().await?)) };
        match read.await {
            Ok((rules, hooks)) => {
                let f = Arc::new(crate::follow_up::answer_follow_up(rules, hooks, &self.public_url));
                self.read = Some((std::time::Instant::now(), f.clone()));
                Some(f)
            }
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "reading the alert rules failed; answers wait for the follow-up scanner"
                );
                self.read = None;
                None
            }
        }
    }
}

fn run(
    runtime: &tokio::runtime::Handle,
    store: Store,
    public_url: Arc<str>,
    mut rx: mpsc::Receiver<(NewAnswer, Reply)>,
    pending: &AtomicUsize,
) {
    let mut rules = Rules { store: store.clone(), public_url, read: None };
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.blocking_recv_many(&mut batch, MAX_BATCH) > 0 {
        let size = batch.len();
        let (answers, replies): (Vec<NewAnswer>, Vec<Reply>) = batch.drain(..).unzip();
        let follow_up = runtime.block_on(rules.current());
        let started = std::time::Instant::now();
        match store.record_answers_here(runtime, &answers, follow_up.as_ref()) {
            Ok(()) => {
                metrics::histogram!("rapport_answer_batch_size").record(size as f64);
                metrics::histogram!("rapport_answer_batch_seconds").record(started.elapsed().as_secs_f64());
                for reply in replies {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) => {
                if size > 1 {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        answers = size,
                        "a batch of answers failed; storing each alone"
                    );
                }
                // A lone answer's failure is its own: it is not stored again as it was.
                let mut failed = (size == 1).then_some(e);
                for (answer, reply) in answers.iter().zip(replies) {
                    let one = std::slice::from_ref(answer);
                    let mut result = match failed.take() {
                        Some(e) => Err(e),
                        None => store.record_answers_here(runtime, one, follow_up.as_ref()),
                    };
                    if let (Err(e), Some(_)) = (&result, &follow_up) {
                        // An answer is never refused for its follow-up: stored without it, it
                        // waits for the scanner, which says what fails there.
                        tracing::warn!(
                            error = format!("{e:#}"),
                            "storing an answer with its follow-up failed; storing it without"
                        );
                        result = store.record_answers_here(runtime, one, None);
                    }
                    let _ = reply.send(result.map_err(|e| format!("{e:#}")));
                }
            }
        }
        pending.fetch_sub(size, Ordering::AcqRel);
    }
}
