//! Batching event ingestion at Trophy's real limit.
//!
//! Trophy allows each organisation 5 tier-1 requests per second, and a single metric event
//! (`POST /metrics/{key}/event`) is one of them: sent one by one, events go out at 5 per second.
//! The Admin API's `POST /metrics/events` takes up to 1,000 events per request, so the ceiling
//! is 5,000 events per second. An [`Ingester`] queues events in memory, sends them in batches
//! of up to 1,000 within the client's tier-1 budget, and makes sure each is counted once.
//!
//! ```no_run
//! # async fn run() -> Result<(), trophy::Error> {
//! use std::time::Duration;
//! use trophy::api::admin::events::BatchEvent;
//! use trophy::ingest::{IngestConfig, Ingester};
//!
//! let client = trophy::Client::from_env()?; // an admin key
//! let ingester = Ingester::new(&client, IngestConfig::default())?;
//! ingester
//!     .send(BatchEvent::new("words-written", "user-1", 750.0))
//!     .await
//!     .map_err(|e| e.into_event())
//!     .expect("the ingester is open");
//! let report = ingester.shutdown(Duration::from_secs(10)).await;
//! assert!(report.undelivered.is_empty());
//! # Ok(()) }
//! ```
//!
//! # How events travel
//!
//! * [`Ingester::send`] checks the event as a single event is checked (metric key, user id,
//!   finite value, attribute keys), gives it an idempotency key unless it has one, and queues
//!   it. The queue holds at most [`IngestConfig::capacity`] events, queued and in flight
//!   together: `send` waits for space, [`Ingester::try_send`] hands the event back.
//! * A batch goes out when it is full ([`IngestConfig::max_batch`]), when its oldest event has
//!   waited [`IngestConfig::linger`], or at once while a [`Ingester::flush`] or
//!   [`Ingester::shutdown`] waits. It first waits for an in-flight slot
//!   ([`IngestConfig::max_in_flight`]) and its turn of the pacer; events arriving meanwhile
//!   join it.
//! * **Rate limit.** Every request, first attempt or retry, waits for its turn of the client's
//!   tier-1 pacer (see [`crate::ClientBuilder::rate_limits`]; without that setting the pacers
//!   run at Trophy's published rates, 5 and 50 per second): no burst, a 6 % margin, and a rate
//!   that adapts to 429s ("Rate limits and pacing" in the [crate docs](crate)). Build the
//!   client with `.rate_limits(RateLimits::trophy())` and its other tier-1 calls (single
//!   events, completions, the Admin API) take their turns from the same pacer, so the ingester
//!   and the rest of your code never exceed Trophy's limit together. Clones of a client share
//!   the pacers.
//! * **Failures.** A 429 is a pacing signal: the pacer slows down, and the batch waits for
//!   `Retry-After` (jittered) and its next turn. Timeouts, connection failures, 408 and 5xx
//!   are retried without limit of attempts, with exponential backoff (and `Retry-After`), each
//!   attempt taking a new turn, until the oldest event of the batch is older than
//!   [`IngestConfig::give_up_after`]. Every attempt carries the same keys, so an attempt whose
//!   answer was lost is not counted twice.
//!   A batch refused with 400, 404, 413 or 422 is split in halves, and halves again, until the
//!   events Trophy refuses are alone; they go to the dead-letter callback
//!   ([`IngestConfig::on_dead_letter`]) with Trophy's status and message, the others are
//!   delivered. A batch refused whatever its events (401, 403) is dead-lettered whole.
//! * **Nothing is dropped silently.** Every event ends delivered, dead-lettered (counted, logged
//!   at `warn`, and passed to the callback), or listed as undelivered by
//!   [`Ingester::shutdown`]. Undelivered events keep their keys: sending them again, even if
//!   Trophy had in fact processed them, counts them once.
//!
//! # Dropping without shutdown
//!
//! When the last handle is dropped without [`Ingester::shutdown`], intake closes and the
//! background task goes on delivering what is queued as long as the Tokio runtime runs; a
//! `warn` event says how many events were queued. If the runtime stops first, an `error`
//! event says how many were lost. Call `shutdown` to know.
//!
//! # Visibility
//!
//! [`Ingester::stats`] returns counters to read or export (queued, in flight, delivered,
//! retried, dead-lettered, 429s, the age of the oldest queued event). Each batch runs in a
//! `trophy.ingest.batch` tracing span (events, requests, delivered, dead-lettered), around the
//! `trophy.call` spans of its requests.

pub(crate) mod dispatch;
pub(crate) mod engine;
mod queue;

use crate::api::admin::events::BatchEvent;
use crate::observability::Refusal;
use crate::{Client, Error, InvalidInput, Result, RetryConfig};
use dispatch::Source as _;
use engine::{ClientPace, Engine, EngineConfig, Keyed, Pace};
use queue::{DeadLetterFn, MemQueue, Refused};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The most events Trophy takes in one batch.
pub const MAX_BATCH: usize = 1000;

/// Settings of an [`Ingester`].
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
    capacity: usize,
    max_batch: usize,
    linger: Duration,
    max_in_flight: usize,
    rate_limited: bool,
    give_up_after: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
    attempt_timeout: Option<Duration>,
    on_dead_letter: Option<DeadLetterFn>,
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
    fn engine(&self, client: &Client, counters: Arc<Counters>, pace: Arc<dyn Pace>) -> Engine {
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
        let dispatch = dispatch::DispatchConfig {
            max_batch: self.max_batch,
            linger: self.linger,
            max_in_flight: self.max_in_flight,
        };
        let (stop, stop_rx) = watch::channel(false);
        let task = runtime.spawn(dispatch::run(source, engine, dispatch, stop_rx));
        Ok((task, stop))
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
    #[cfg(any(feature = "outbox", feature = "redis"))]
    pub(crate) fn capacity_hint(&self) -> usize {
        self.capacity
    }

    fn check(&self) -> Result<()> {
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

/// Why an event was refused for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadLetterKind {
    /// Trophy refused this event on its own (400, 404, 413 or 422 for a batch of one).
    Rejected,
    /// Trophy refused the batch whatever its events (401, 403, or another final answer).
    Refused,
    /// Still failing (429, 5xx, timeouts) when the event reached the give-up age.
    GaveUp,
}

/// An event refused for good, with Trophy's answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeadLetter {
    /// The event, with the idempotency key it was sent with.
    pub event: BatchEvent,
    /// Why.
    pub kind: DeadLetterKind,
    /// The last HTTP status, when there was one.
    pub status: Option<u16>,
    /// Trophy's error message, or what failed.
    pub message: String,
    /// How long the event was in the ingester.
    pub age: Duration,
}

/// Counters of an [`Ingester`], for reading or export to a metrics system.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct IngestStats {
    /// Events accepted by `send`/`try_send` so far.
    pub enqueued: u64,
    /// Events waiting for a batch.
    pub queued: usize,
    /// Events in batches under way.
    pub in_flight: usize,
    /// Events Trophy accepted.
    pub delivered: u64,
    /// Events dead-lettered.
    pub dead_lettered: u64,
    /// Requests sent (first attempts, retries and bisected halves).
    pub requests: u64,
    /// Requests retried after a retryable failure.
    pub retried: u64,
    /// 429 answers received.
    pub http_429: u64,
    /// Refused batches split in two.
    pub bisections: u64,
    /// How long the oldest queued event has waited.
    pub oldest_queued_age: Option<Duration>,
    /// Median time from `send` to Trophy's acceptance, over every delivered event so far
    /// (from a histogram with buckets 12 % wide: the bucket's upper bound).
    pub latency_p50: Option<Duration>,
    /// 99th percentile of the same.
    pub latency_p99: Option<Duration>,
    /// The pacer's sending rate now, in tier-1 requests per second (see "Rate limits and
    /// pacing" in the crate docs): the configured rate less its margin, lower after 429s.
    pub send_rate: f64,
}

#[derive(Debug)]
pub(crate) struct Counters {
    /// The same counts, and more, for the application's metrics recorder.
    pub(crate) metrics: crate::observability::Ingest,
    pub(crate) enqueued: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) http_429: AtomicU64,
    pub(crate) bisections: AtomicU64,
    pub(crate) latency: Latency,
}

impl Counters {
    pub(crate) fn new(backend: crate::observability::Backend) -> Counters {
        Counters {
            metrics: crate::observability::Ingest::new(backend),
            enqueued: AtomicU64::default(),
            delivered: AtomicU64::default(),
            dead_lettered: AtomicU64::default(),
            requests: AtomicU64::default(),
            retried: AtomicU64::default(),
            http_429: AtomicU64::default(),
            bisections: AtomicU64::default(),
            latency: Latency::default(),
        }
    }
}

/// Number of buckets of [`Latency`]: bucket `i` holds latencies up to `100 µs × 2^(i/6)`, the
/// last one everything longer (about 2^(127/6) × 100 µs ≈ 4 days).
const LATENCY_BUCKETS: usize = 128;

/// A histogram of delivery latencies, cheap enough to record every event.
#[derive(Debug)]
pub(crate) struct Latency([AtomicU64; LATENCY_BUCKETS]);

impl Default for Latency {
    fn default() -> Self {
        Latency(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

impl Latency {
    fn bound(i: usize) -> Duration {
        Duration::from_secs_f64(100e-6 * 2f64.powf(i as f64 / 6.0))
    }

    pub(crate) fn record(&self, latency: Duration, count: u64) {
        let units = latency.as_secs_f64() / 100e-6;
        let i = if units <= 1.0 {
            0
        } else {
            ((units.log2() * 6.0).ceil() as usize).min(LATENCY_BUCKETS - 1)
        };
        self.0[i].fetch_add(count, Relaxed);
    }

    fn quantile(&self, q: f64) -> Option<Duration> {
        let counts: Vec<u64> = self.0.iter().map(|c| c.load(Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64 * q).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(Latency::bound(i));
            }
        }
        None
    }
}

/// What [`Ingester::shutdown`] could not do.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Events neither delivered nor dead-lettered by the deadline, with their idempotency
    /// keys: store them and send them again later (a repeat of an event Trophy did process
    /// counts once).
    pub undelivered: Vec<BatchEvent>,
    /// The counters at the end.
    pub stats: IngestStats,
}

/// What [`Ingester::flush_within`] left pending.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FlushReport {
    /// Events queued before the call that were neither delivered nor dead-lettered by the
    /// deadline; they stay queued.
    pub pending: usize,
    /// The counters at the end.
    pub stats: IngestStats,
}

/// Why [`Ingester::send`] or [`Ingester::try_send`] did not queue an event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendErrorKind {
    /// The queue is full (`try_send` only).
    Full,
    /// The ingester is shut down, or shutting down.
    Closed,
    /// The event is not valid.
    Invalid(InvalidInput),
}

/// An event that was not queued, handed back with the reason.
#[derive(Debug, Clone)]
pub struct SendError {
    kind: SendErrorKind,
    event: Box<BatchEvent>,
}

impl SendError {
    /// Why it was refused.
    pub fn kind(&self) -> &SendErrorKind {
        &self.kind
    }

    /// The event, unchanged.
    pub fn into_event(self) -> BatchEvent {
        *self.event
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SendErrorKind::Full => write!(
                f,
                "ingest queue is full; event for metric {:?} not queued",
                self.event.key
            ),
            SendErrorKind::Closed => write!(
                f,
                "ingester is shut down; event for metric {:?} not queued",
                self.event.key
            ),
            SendErrorKind::Invalid(i) => write!(f, "invalid event: {}: {}", i.field, i.reason),
        }
    }
}

impl std::error::Error for SendError {}

/// A batching ingester of metric events: see the [module docs](self).
///
/// Cheap to clone, `Send + Sync`; all clones feed one queue.
#[derive(Clone)]
pub struct Ingester {
    shared: Arc<Shared>,
}

impl fmt::Debug for Ingester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ingester").field("stats", &self.stats()).finish()
    }
}

struct Shared {
    queue: Arc<MemQueue>,
    counters: Arc<Counters>,
    worker: tokio::sync::Mutex<Option<JoinHandle<Vec<Keyed>>>>,
    stop: watch::Sender<bool>,
    key_prefix: String,
    next_key: AtomicU64,
    pace: Arc<dyn Pace>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if self.queue.is_closed() {
            return;
        }
        let (queued, in_flight, _) = self.queue.sizes();
        self.queue.close();
        if queued + in_flight > 0 {
            tracing::warn!(
                queued,
                in_flight,
                "trophy ingester dropped without shutdown(): its task keeps delivering these events while the runtime runs"
            );
        }
    }
}

/// Logs events lost when the runtime drops the ingester's task before it finished.
struct WorkerGuard {
    queue: Arc<MemQueue>,
    done: bool,
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        self.queue.retire();
        if self.done {
            return;
        }
        let (queued, in_flight, _) = self.queue.sizes();
        if queued + in_flight > 0 {
            tracing::error!(
                queued,
                in_flight,
                "trophy ingester task stopped (runtime shut down) before delivering these events; they are lost"
            );
        }
    }
}

impl Ingester {
    /// Starts an ingester on the current Tokio runtime, sending through `client` (which needs an
    /// admin key).
    ///
    /// Errors: [`Error::InvalidInput`] for bad settings or an application key, and
    /// [`Error::Config`] outside a Tokio runtime.
    pub fn new(client: &Client, config: IngestConfig) -> Result<Ingester> {
        config.check()?;
        if client.inner.api_key.is_application_key() {
            return Err(Error::invalid(
                "api_key",
                "the ingester uses the Admin API: build the client with an admin key, not an application key (app_)",
            ));
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Config("Ingester::new must be called within a Tokio runtime".into()))?;
        let counters = Arc::new(Counters::new(crate::observability::Backend::Memory));
        let queue = Arc::new(MemQueue::new(
            config.capacity,
            config.max_batch,
            counters.clone(),
            config.on_dead_letter.clone(),
        ));
        let pace: Arc<dyn Pace> = Arc::new(ClientPace(client.clone()));
        let engine = Arc::new(config.engine(client, counters.clone(), pace.clone()));
        let (stop, stop_rx) = watch::channel(false);
        let dispatch = dispatch::DispatchConfig {
            max_batch: config.max_batch,
            linger: config.linger,
            max_in_flight: config.max_in_flight,
        };
        let guard = WorkerGuard {
            queue: queue.clone(),
            done: false,
        };
        let source = queue.clone();
        let worker = runtime.spawn(async move {
            let mut guard = guard;
            let left = dispatch::run(source, engine, dispatch, stop_rx).await;
            guard.done = true;
            left
        });
        Ok(Ingester {
            shared: Arc::new(Shared {
                queue,
                counters,
                worker: tokio::sync::Mutex::new(Some(worker)),
                stop,
                key_prefix: format!("ing-{}-", uuid::Uuid::new_v4().simple()),
                next_key: AtomicU64::new(0),
                pace,
            }),
        })
    }

    /// Checks and keys the event, then queues it, waiting while the queue is full.
    pub async fn send(&self, event: BatchEvent) -> Result<(), SendError> {
        let generated = event.idempotency_key.is_none();
        let event = self.prepare(event)?;
        self.shared
            .queue
            .push(event)
            .await
            .map_err(|r| self.refused(r, generated))
    }

    /// Like [`send`](Self::send), but hands the event back at once when the queue is full.
    pub fn try_send(&self, event: BatchEvent) -> Result<(), SendError> {
        let generated = event.idempotency_key.is_none();
        let event = self.prepare(event)?;
        self.shared
            .queue
            .try_push(event)
            .map_err(|r| self.refused(r, generated))
    }

    /// Returns once every event queued before the call is delivered or dead-lettered. Batches
    /// go out without lingering while it waits. After a [`shutdown`](Self::shutdown), it
    /// returns at once (what was left is in the shutdown's report).
    pub async fn flush(&self) {
        self.shared.queue.flush(None).await;
    }

    /// Like [`flush`](Self::flush), but waits at most `within` (as
    /// [`shutdown`](Self::shutdown) does): returns how many of the events queued before the
    /// call are still pending, neither delivered nor dead-lettered, when it returns (`0`: all
    /// are done). Pending events stay queued and keep being delivered; nothing is dropped.
    ///
    /// ```no_run
    /// # async fn run(ingester: trophy::ingest::Ingester) {
    /// use std::time::Duration;
    /// let report = ingester.flush_within(Duration::from_secs(5)).await;
    /// if report.pending > 0 {
    ///     eprintln!("{} events not delivered yet; Trophy may be down", report.pending);
    /// }
    /// # }
    /// ```
    pub async fn flush_within(&self, within: Duration) -> FlushReport {
        let pending = self.shared.queue.flush(Some(later(Instant::now(), within))).await;
        FlushReport {
            pending,
            stats: self.stats(),
        }
    }

    /// Stops intake, delivers what is queued for at most `within`, and reports what it could
    /// not deliver by then (requests still under way at the deadline are abandoned; their
    /// events are reported undelivered). Later calls, from any clone, return the counters and
    /// no events.
    pub async fn shutdown(&self, within: Duration) -> ShutdownReport {
        self.shared.queue.close();
        let worker = self.shared.worker.lock().await.take();
        let mut undelivered = Vec::new();
        if let Some(mut worker) = worker {
            let left = match tokio::time::timeout(within, &mut worker).await {
                Ok(r) => r,
                Err(_) => {
                    self.shared.stop.send_replace(true);
                    worker.await
                }
            };
            undelivered = left.unwrap_or_default();
        }
        undelivered.sort_by_key(|k| k.ticket);
        ShutdownReport {
            undelivered: undelivered.into_iter().map(|k| k.event).collect(),
            stats: self.stats(),
        }
    }

    /// The counters now.
    pub fn stats(&self) -> IngestStats {
        let c = &self.shared.counters;
        let (queued, in_flight, oldest) = self.shared.queue.sizes();
        IngestStats {
            enqueued: c.enqueued.load(Relaxed),
            queued,
            in_flight,
            delivered: c.delivered.load(Relaxed),
            dead_lettered: c.dead_lettered.load(Relaxed),
            requests: c.requests.load(Relaxed),
            retried: c.retried.load(Relaxed),
            http_429: c.http_429.load(Relaxed),
            bisections: c.bisections.load(Relaxed),
            oldest_queued_age: oldest,
            latency_p50: c.latency.quantile(0.5),
            latency_p99: c.latency.quantile(0.99),
            send_rate: self.shared.pace.rate(),
        }
    }

    fn prepare(&self, mut event: BatchEvent) -> Result<BatchEvent, SendError> {
        if let Err(Error::InvalidInput(i)) = event.check() {
            self.shared.counters.metrics.refused(Refusal::Invalid);
            return Err(SendError {
                kind: SendErrorKind::Invalid(i),
                event: Box::new(event),
            });
        }
        if event.idempotency_key.is_none() {
            let n = self.shared.next_key.fetch_add(1, Relaxed);
            event.idempotency_key = Some(format!("{}{n:x}", self.shared.key_prefix));
        }
        Ok(event)
    }

    /// The error for a refused event, handed back as the caller gave it (without the key the
    /// ingester generated).
    fn refused(&self, Refused(why, mut event): Refused, generated_key: bool) -> SendError {
        if generated_key {
            event.idempotency_key = None;
        }
        let (kind, metric) = match why {
            queue::Refusal::Full => (SendErrorKind::Full, Refusal::Full),
            queue::Refusal::Closed => (SendErrorKind::Closed, Refusal::Closed),
        };
        self.shared.counters.metrics.refused(metric);
        SendError { kind, event }
    }
}

/// `t + d`, or about 30 years after `t` when that does not fit.
fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .unwrap_or_else(|| t + Duration::from_secs(86_400 * 365 * 30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_quantiles_come_from_bucket_bounds_within_twelve_percent() {
        let l = Latency::default();
        assert_eq!(l.quantile(0.99), None);
        l.record(Duration::from_millis(10), 98);
        l.record(Duration::from_millis(500), 2);
        let p50 = l.quantile(0.5).unwrap();
        let p99 = l.quantile(0.99).unwrap();
        assert!(
            p50 >= Duration::from_millis(10) && p50 < Duration::from_micros(11_300),
            "{p50:?}"
        );
        assert!(
            p99 >= Duration::from_millis(500) && p99 < Duration::from_millis(565),
            "{p99:?}"
        );
        l.record(Duration::ZERO, 1);
        l.record(Duration::MAX, 1);
        assert_eq!(l.quantile(1.0), Some(Latency::bound(LATENCY_BUCKETS - 1)));
    }
}
