//! What the durable queues ([`crate::outbox`], [`crate::fleet`]) share: their error type, the
//! counters, and the delivery loop that takes batches from a store, sends them with
//! `POST /metrics/events` and acknowledges them only once Trophy accepted them.

use crate::api::admin::events::BatchEvent;
use crate::Client;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

/// What went wrong in a durable queue (the outbox or the Redis fleet).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct QueueError {
    /// The kind of failure.
    pub kind: QueueErrorKind,
    /// What happened, in words (the path or the Redis address included where it helps).
    pub message: String,
}

/// The kinds of [`QueueError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueueErrorKind {
    /// The queue is at capacity (only `try_send` reports this; `send` waits).
    Full,
    /// The store's file is damaged, or is not an outbox of this crate.
    Corrupt,
    /// The store cannot be reached or written: an I/O error, a file held by another process,
    /// Redis down or restarting.
    Unavailable,
    /// The queue was shut down.
    Closed,
    /// The event fails the checks of a batch event (empty key or user id, a value that is not
    /// finite, an empty idempotency key), or is larger than the whole capacity.
    InvalidEvent,
    /// The configuration is not usable.
    Config,
}

impl QueueError {
    pub(crate) fn new(kind: QueueErrorKind, message: impl Into<String>) -> Self {
        QueueError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            QueueErrorKind::Full => "queue full",
            QueueErrorKind::Corrupt => "queue store corrupt",
            QueueErrorKind::Unavailable => "queue store unavailable",
            QueueErrorKind::Closed => "queue closed",
            QueueErrorKind::InvalidEvent => "invalid event",
            QueueErrorKind::Config => "queue configuration",
        };
        write!(f, "{kind}: {}", self.message)
    }
}

impl std::error::Error for QueueError {}

/// An event `try_send` could not queue, handed back with the reason.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rejected {
    /// The event, unchanged.
    pub event: BatchEvent,
    /// Why it was not queued.
    pub error: QueueError,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Rejected {}

/// An event Trophy refused for good (400, 404 or 422 on a batch of that event alone).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeadLetter {
    /// The event, with the idempotency key it was sent with.
    pub event: BatchEvent,
    /// Trophy's status.
    pub status: u16,
    /// Trophy's error, in words.
    pub reason: String,
}

/// Checks an event as a batch would and gives it its idempotency key (kept if set), so every
/// later attempt, in this process or another, sends the same key.
pub(crate) fn prepare(mut event: BatchEvent) -> Result<(BatchEvent, Vec<u8>), Rejected> {
    if let Err(e) = event.check() {
        return Err(Rejected {
            event,
            error: QueueError::new(QueueErrorKind::InvalidEvent, e.to_string()),
        });
    }
    event
        .idempotency_key
        .get_or_insert_with(|| uuid::Uuid::new_v4().to_string());
    match serde_json::to_vec(&event) {
        Ok(bytes) => Ok((event, bytes)),
        Err(e) => Err(Rejected {
            event,
            error: QueueError::new(QueueErrorKind::InvalidEvent, e.to_string()),
        }),
    }
}

/// Counters of a delivery loop, readable at any time.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) delivered: AtomicU64,
    pub(crate) batches: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) in_flight: AtomicU64,
}

/// A snapshot of a durable queue's delivery counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryStats {
    /// Events Trophy accepted (each counted once, when its batch was acknowledged).
    pub delivered: u64,
    /// Batches Trophy accepted.
    pub batches: u64,
    /// Batch attempts that failed with a retryable fault and were sent again.
    pub retried: u64,
    /// Of those, the ones Trophy answered with 429.
    pub rate_limited: u64,
    /// Events Trophy refused for good.
    pub dead_lettered: u64,
    /// Events in batches being sent now.
    pub in_flight: u64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> DeliveryStats {
        DeliveryStats {
            delivered: self.delivered.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
        }
    }
}

/// How a delivery loop batches and paces.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryConfig {
    pub(crate) max_batch: usize,
    pub(crate) linger: Duration,
    pub(crate) in_flight: usize,
}

/// One event taken from a store, with the store's id for it.
#[derive(Debug, Clone)]
pub(crate) struct Leased<I> {
    pub(crate) id: I,
    pub(crate) event: BatchEvent,
}

/// A store the delivery loop drains.
pub(crate) trait Source: Send + Sync + 'static {
    /// The store's id of one event.
    type Id: Clone + Send + Sync + 'static;

    /// Up to `max` events in order, waiting at most `linger` once one is there; `None` once the
    /// store is closed and nothing is left to take.
    fn next_batch(&self, max: usize, linger: Duration) -> impl Future<Output = Option<Vec<Leased<Self::Id>>>> + Send;

    /// Waits for the right to send one tier-1 request (a fleet-wide budget); a no-op where the
    /// client's own limiter is the budget.
    fn permit(&self) -> impl Future<Output = ()> + Send;

    /// Trophy accepted these: remove them for good.
    fn accepted(&self, ids: Vec<Self::Id>) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Trophy refused these for good: move them aside.
    fn dead(&self, letters: Vec<(Self::Id, DeadLetter)>) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Takes batches from `source` until it is closed and empty, keeping up to `config.in_flight`
/// batches in flight.
pub(crate) async fn run<S: Source>(source: Arc<S>, client: Client, config: DeliveryConfig, counters: Arc<Counters>) {
    let slots = Arc::new(Semaphore::new(config.in_flight.max(1)));
    let mut tasks = JoinSet::new();
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let Some(batch) = source.next_batch(config.max_batch, config.linger).await else {
            break;
        };
        if batch.is_empty() {
            continue;
        }
        let (source, client, counters) = (source.clone(), client.clone(), counters.clone());
        tasks.spawn(async move {
            deliver(&*source, &client, batch, &counters).await;
            drop(slot);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

/// Is this the answer to a batch that holds an event Trophy will never take?
fn is_bad_batch(e: &crate::Error) -> bool {
    matches!(e.status(), Some(400 | 404 | 422))
}

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Sends one batch until Trophy accepts it, splitting it in halves when Trophy refuses it for
/// an event's sake, so the good events go through and each bad one is dead-lettered alone.
async fn deliver<S: Source>(source: &S, client: &Client, batch: Vec<Leased<S::Id>>, counters: &Counters) {
    let n = batch.len() as u64;
    counters.in_flight.fetch_add(n, Ordering::Relaxed);
    let mut parts = vec![batch];
    while let Some(part) = parts.pop() {
        let mut backoff = FIRST_BACKOFF;
        loop {
            source.permit().await;
            let events: Vec<BatchEvent> = part.iter().map(|l| l.event.clone()).collect();
            let span = tracing::debug_span!("trophy.ingest.batch", events = events.len());
            let result = client.admin().events().batch(events).send().instrument(span).await;
            match result {
                Ok(_) => {
                    // Counted before the store forgets them, so a flush that sees them gone
                    // also sees them counted.
                    counters.delivered.fetch_add(part.len() as u64, Ordering::Relaxed);
                    counters.batches.fetch_add(1, Ordering::Relaxed);
                    let ids: Vec<S::Id> = part.iter().map(|l| l.id.clone()).collect();
                    settle(|| source.accepted(ids.clone())).await;
                    break;
                }
                Err(e) if is_bad_batch(&e) => {
                    if part.len() == 1 {
                        let leased = &part[0];
                        tracing::warn!(error = %e, "trophy ingest: event refused for good, dead-lettered");
                        let letter = DeadLetter {
                            event: leased.event.clone(),
                            status: e.status().unwrap_or(0),
                            reason: e.to_string(),
                        };
                        counters.dead_lettered.fetch_add(1, Ordering::Relaxed);
                        settle(|| source.dead(vec![(leased.id.clone(), letter.clone())])).await;
                    } else {
                        let mut part = part;
                        let back = part.split_off(part.len() / 2);
                        parts.push(back);
                        parts.push(part);
                    }
                    break;
                }
                Err(e) => {
                    counters.retried.fetch_add(1, Ordering::Relaxed);
                    if e.is_rate_limited() {
                        counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                    }
                    let wait = e
                        .headers()
                        .and_then(crate::transport::retry_after)
                        .map_or(backoff, |ra| ra.max(backoff).min(MAX_BACKOFF * 6));
                    tracing::debug!(error = %e, wait_ms = wait.as_millis() as u64, "trophy ingest: batch retried");
                    tokio::time::sleep(wait).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
    counters.in_flight.fetch_sub(n, Ordering::Relaxed);
}

/// Repeats a store update until it succeeds: an accepted batch that stays in the store would
/// be sent again (harmless, the keys are the same) but must not block the loop for good.
async fn settle<F, Fut>(mut op: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), QueueError>>,
{
    let mut backoff = FIRST_BACKOFF;
    while let Err(e) = op().await {
        tracing::warn!(error = %e, "trophy ingest: could not record a delivered batch; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
