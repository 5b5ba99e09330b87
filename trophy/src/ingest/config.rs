//! The settings of delivery, the same for every backend: batching, in-flight requests, pacing,
//! retries, the give-up age and the dead-letter callback.

use super::dispatch;
#[cfg(any(feature = "outbox", feature = "redis"))]
use super::engine::Keyed;
use super::engine::{Engine, EngineConfig};
use super::memory::DeadLetterFn;
use super::pacer::Pace;
use super::stats::Counters;
use super::{DeadLetter, MAX_BATCH};
use crate::{Client, Error, Result, RetryConfig};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
#[cfg(any(feature = "outbox", feature = "redis"))]
use tokio::sync::watch;
#[cfg(any(feature = "outbox", feature = "redis"))]
use tokio::task::JoinHandle;

/// Settings of an [`Ingester`](super::Ingester): how it delivers, whatever its backend.
///
/// ```
/// use std::time::Duration;
/// use trophy::ingest::IngestConfig;
///
/// let config = IngestConfig::default()
///     .capacity(50_000)
///     .linger(Duration::from_millis(50))
///     .give_up_after(Duration::from_secs(600))
///     .on_dead_letter(|letter| eprintln!("{}: {}", letter.event.key, letter.message));
/// ```
#[derive(Clone)]
#[must_use]
pub struct IngestConfig {
    pub(crate) capacity: usize,
    pub(crate) max_batch: usize,
    pub(crate) linger: Duration,
    pub(crate) max_in_flight: usize,
    pub(crate) rate_limited: bool,
    pub(crate) give_up_after: Duration,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) on_dead_letter: Option<DeadLetterFn>,
}

impl fmt::Debug for IngestConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IngestConfig")
            .field("capacity", &self.capacity)
            .field("max_batch", &self.max_batch)
            .field("linger", &self.linger)
            .field("max_in_flight", &self.max_in_flight)
            .field("rate_limited", &self.rate_limited)
            .field("give_up_after", &self.give_up_after)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("on_dead_letter", &self.on_dead_letter.is_some())
            .finish()
    }
}

impl Default for IngestConfig {
    /// Capacity 20,000 events, batches of 1,000, linger 20 ms, 4 batches in flight, rate
    /// limited, give up after 1 hour, backoff from 200 ms to 10 s, the client's attempt timeout,
    /// no dead-letter callback.
    fn default() -> Self {
        IngestConfig {
            capacity: 20_000,
            max_batch: MAX_BATCH,
            linger: Duration::from_millis(20),
            max_in_flight: 4,
            rate_limited: true,
            give_up_after: Duration::from_secs(3600),
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            attempt_timeout: None,
            on_dead_letter: None,
        }
    }
}

impl IngestConfig {
    /// The most events held, queued and in flight together (at least `max_batch`).
    pub fn capacity(mut self, events: usize) -> Self {
        self.capacity = events;
        self
    }

    /// The most events per request, 1 to 1,000.
    pub fn max_batch(mut self, events: usize) -> Self {
        self.max_batch = events;
        self
    }

    /// How long the oldest queued event may wait for a batch to fill.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// How many requests may be under way at once (at least 1).
    pub fn max_in_flight(mut self, requests: usize) -> Self {
        self.max_in_flight = requests;
        self
    }

    /// Whether every request waits for its turn of the client's tier-1 pacer, and teaches it
    /// with its 429s (default `true`). With `false`, requests follow the client's own setting.
    pub fn rate_limited(mut self, on: bool) -> Self {
        self.rate_limited = on;
        self
    }

    /// How old the oldest event of a failing batch may get before the batch is dead-lettered
    /// instead of retried.
    pub fn give_up_after(mut self, age: Duration) -> Self {
        self.give_up_after = age;
        self
    }

    /// The backoff after a failure (5xx, timeout), doubled for each later one up to `max`;
    /// jittered. 429s do not count: they slow the pacer instead.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// The time limit of one request (default: the client's per-attempt timeout).
    pub fn attempt_timeout(mut self, limit: Duration) -> Self {
        self.attempt_timeout = Some(limit);
        self
    }

    /// Called once for every dead-lettered event, from the ingester's task: keep it short
    /// (hand the letter to a channel for slow work).
    pub fn on_dead_letter(mut self, callback: impl Fn(DeadLetter) + Send + Sync + 'static) -> Self {
        self.on_dead_letter = Some(Arc::new(callback));
        self
    }

    /// The delivery engine these settings describe.
    pub(crate) fn engine(&self, client: &Client, counters: Arc<Counters>, pace: Arc<dyn Pace>) -> Engine {
        Engine {
            client: client.clone(),
            config: EngineConfig {
                rate_limited: self.rate_limited,
                backoff: RetryConfig::standard()
                    .initial_backoff(self.initial_backoff)
                    .max_backoff(self.max_backoff),
                give_up_after: self.give_up_after,
                attempt_timeout: self.attempt_timeout.unwrap_or(client.inner.timeouts.per_attempt),
            },
            counters,
            pace,
        }
    }

    /// Starts the batching and delivery of these settings over another source (the outbox,
    /// the fleet's stream) on the current runtime: the task returns what a stop left
    /// undelivered; `true` on the sender stops it.
    #[cfg(any(feature = "outbox", feature = "redis"))]
    pub(crate) fn spawn_over<S: dispatch::Source>(
        &self,
        client: &Client,
        source: Arc<S>,
        counters: Arc<Counters>,
        pace: Arc<dyn Pace>,
    ) -> Result<(JoinHandle<Vec<Keyed>>, watch::Sender<bool>)> {
        self.check()?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Config("durable ingestion must start within a Tokio runtime".into()))?;
        let engine = Arc::new(self.engine(client, counters, pace));
        let (stop, stop_rx) = watch::channel(false);
        let task = runtime.spawn(dispatch::run(source, engine, self.dispatch(), stop_rx));
        Ok((task, stop))
    }

    /// How the dispatch loop batches.
    pub(crate) fn dispatch(&self) -> dispatch::DispatchConfig {
        dispatch::DispatchConfig {
            max_batch: self.max_batch,
            linger: self.linger,
            max_in_flight: self.max_in_flight,
        }
    }

    /// The dead-letter callback, if any.
    #[cfg(any(feature = "outbox", feature = "redis"))]
    pub(crate) fn dead_letter_callback(&self) -> Option<DeadLetterFn> {
        self.on_dead_letter.clone()
    }

    /// The most events per request.
    #[cfg(any(feature = "outbox", feature = "redis"))]
    pub(crate) fn batch_size(&self) -> usize {
        self.max_batch
    }

    /// The most events held in memory (a fleet worker's read-ahead).
    #[cfg(feature = "redis")]
    pub(crate) fn capacity_hint(&self) -> usize {
        self.capacity
    }

    pub(crate) fn check(&self) -> Result<()> {
        if !(1..=MAX_BATCH).contains(&self.max_batch) {
            return Err(Error::invalid("max_batch", format!("must be from 1 to {MAX_BATCH}")));
        }
        if self.capacity < self.max_batch {
            return Err(Error::invalid("capacity", "must be at least max_batch"));
        }
        if self.max_in_flight == 0 {
            return Err(Error::invalid("max_in_flight", "must be at least 1"));
        }
        if self.attempt_timeout == Some(Duration::ZERO) {
            return Err(Error::invalid("attempt_timeout", "must be more than zero"));
        }
        Ok(())
    }
}
