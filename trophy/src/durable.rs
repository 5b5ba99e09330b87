//! What the durable queues ([`crate::outbox`], [`crate::fleet`]) share: their error type,
//! event preparation and delivery counters. Both feed the ingester's batching and delivery
//! engine ([`crate::ingest`]) through its source seam.

use crate::api::admin::events::BatchEvent;
use crate::ingest::Counters;
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;

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
    pub event: Box<BatchEvent>,
    /// Why it was not queued.
    pub error: QueueError,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Rejected {}

/// Checks an event as a batch would and gives it its idempotency key (kept if set), so every
/// later attempt, in this process or another, sends the same key.
pub(crate) fn prepare(mut event: BatchEvent) -> Result<(BatchEvent, Vec<u8>), Rejected> {
    if let Err(e) = event.check() {
        return Err(Rejected {
            event: Box::new(event),
            error: QueueError::new(QueueErrorKind::InvalidEvent, e.to_string()),
        });
    }
    let had_key = event.idempotency_key.is_some();
    event
        .idempotency_key
        .get_or_insert_with(|| uuid::Uuid::new_v4().to_string());
    match serde_json::to_vec(&event) {
        Ok(bytes) => Ok((event, bytes)),
        Err(e) => Err(rejected(
            event,
            had_key,
            QueueError::new(QueueErrorKind::InvalidEvent, e.to_string()),
        )),
    }
}

/// A refused event, handed back as the caller built it: without the key [`prepare`] gave it
/// when it had none (`had_key` false).
pub(crate) fn rejected(mut event: BatchEvent, had_key: bool, error: QueueError) -> Rejected {
    if !had_key {
        event.idempotency_key = None;
    }
    Rejected {
        event: Box::new(event),
        error,
    }
}

/// A snapshot of a durable queue's delivery counters (since this process started it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryStats {
    /// Events Trophy accepted.
    pub delivered: u64,
    /// Requests sent (batches, their retries and the halves of refused batches).
    pub requests: u64,
    /// Attempts that failed with a retryable fault and were sent again.
    pub retried: u64,
    /// Answers 429.
    pub http_429: u64,
    /// Events refused for good (see [`crate::ingest::DeadLetter`]).
    pub dead_lettered: u64,
}

impl DeliveryStats {
    pub(crate) fn of(c: &Counters) -> DeliveryStats {
        DeliveryStats {
            delivered: c.delivered.load(Relaxed),
            requests: c.requests.load(Relaxed),
            retried: c.retried.load(Relaxed),
            http_429: c.http_429.load(Relaxed),
            dead_lettered: c.dead_lettered.load(Relaxed),
        }
    }
}

/// Turns the crate error of a bad configuration into a queue error.
pub(crate) fn config_error(e: crate::Error) -> QueueError {
    QueueError::new(QueueErrorKind::Config, e.to_string())
}
