//! Batching event ingestion at Trophy's real limit, in memory, through a durable outbox, or
//! across a fleet of processes sharing Redis: one [`Ingester`] whose backend is chosen when it
//! is built, with the same calls for every backend.
//!
//! Trophy allows each organisation 5 tier-1 requests per second, and a single metric event
//! (`POST /metrics/{key}/event`) is one of them: sent one by one, events go out at 5 per second.
//! The Admin API's `POST /metrics/events` takes up to 1,000 events per request, so the ceiling
//! is 5,000 events per second. An [`Ingester`] queues events, sends them in batches of up to
//! 1,000 within the tier-1 budget, and makes sure each is counted once.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use trophy::api::admin::events::BatchEvent;
//! use trophy::ingest::{IngestConfig, Ingester};
//!
//! let client = trophy::Client::from_env()?; // an admin key
//! let ingester = Ingester::builder(&client)
//!     .config(IngestConfig::default())
//!     .build() // in memory; or .outbox(..) or .fleet(..) before .build()
//!     .await?;
//! let key = ingester
//!     .send(BatchEvent::new("words-written", "user-1", 750.0))
//!     .await?;
//! let report = ingester.shutdown(Duration::from_secs(10)).await;
//! assert!(report.undelivered.is_empty());
//! # let _ = key; Ok(()) }
//! ```
//!
//! # Backends
//!
//! Like a Kafka producer, one type whose delivery guarantees are chosen by configuration:
//!
//! | built with | events live | `send` returns once the event is | delivered by |
//! |---|---|---|---|
//! | [`IngestBuilder::memory`] (the default), or [`Ingester::new`] | in memory | queued | this process |
//! | [`IngestBuilder::outbox`] (feature `outbox`) | in a SQLite file ([`outbox`]) | on disk (fsynced) | this process, and the next one to open the file |
//! | [`IngestBuilder::fleet`] (feature `redis`) | in a Redis Stream ([`fleet`]) | in Redis | the fleet's [`Worker`]s, started with [`IngestBuilder::worker`] |
//!
//! Every backend has the same calls: [`Ingester::send`] and [`Ingester::try_send`] return the
//! event's idempotency key or an [`IngestError`] (with its [`IngestErrorKind`], and the event
//! handed back); [`Ingester::flush`], [`Ingester::flush_within`], [`Ingester::stats`]
//! ([`IngestStats`], the backend's own figures in [`BackendStats`]) and
//! [`Ingester::shutdown`] ([`ShutdownReport`]). The delivery settings ([`IngestConfig`]) are
//! the same too. The rest of this page describes delivery, which is the same in every
//! backend; the [`outbox`] and [`fleet`] modules describe their stores.
//!
//! # How events travel
//!
//! * [`Ingester::send`] checks the event as a single event is checked (metric key, user id,
//!   finite value, attribute keys), gives it an idempotency key unless it has one, and queues
//!   it (in memory, on disk, or in Redis). In memory, the queue holds at most [`IngestConfig::capacity`] events, queued and in flight
//!   together: `send` waits for space, [`Ingester::try_send`] hands the event back. The outbox
//!   and the fleet bound what they store in their own way ([`outbox::OutboxConfig`],
//!   [`fleet::FleetConfig`]).
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
//!   the pacers. A fleet's workers take their turns from the fleet's pacer instead, whose
//!   state lives in Redis ([`fleet`]).
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
//! In memory, when the last handle is dropped without [`Ingester::shutdown`], intake closes and the
//! background task goes on delivering what is queued as long as the Tokio runtime runs; a
//! `warn` event says how many events were queued. If the runtime stops first, an `error`
//! event says how many were lost. Call `shutdown` to know. The outbox keeps what it holds on
//! disk for the next open; a fleet worker's unfinished entries are claimed by another worker.
//!
//! # Visibility
//!
//! [`Ingester::stats`] returns counters to read or export (queued, in flight, delivered,
//! retried, dead-lettered, 429s, the age of the oldest queued event). Each batch runs in a
//! `trophy.ingest.batch` tracing span (events, requests, delivered, dead-lettered), around the
//! `trophy.call` spans of its requests.

mod config;
pub(crate) mod dispatch;
pub(crate) mod engine;
mod error;
#[cfg(feature = "redis")]
pub mod fleet;
mod memory;
#[cfg(feature = "outbox")]
pub mod outbox;
pub(crate) mod pacer;
mod stats;

pub use config::IngestConfig;
pub use error::{IngestError, IngestErrorKind};
#[cfg(feature = "redis")]
pub use fleet::Worker;
pub use stats::{BackendStats, FleetStats, FlushReport, IngestStats, OutboxStats, ShutdownReport};

use crate::api::admin::events::BatchEvent;
use crate::Client;
use std::fmt;
use std::time::Duration;
use tokio::time::Instant;

/// The most events Trophy takes in one batch.
pub const MAX_BATCH: usize = 1000;

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

/// A batching ingester of metric events, over the backend chosen when it was built: see the
/// [module docs](self).
///
/// Cheap to clone, `Send + Sync`; all clones feed one queue.
#[derive(Clone)]
pub struct Ingester {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Memory(memory::Memory),
    #[cfg(feature = "outbox")]
    Outbox(outbox::Outbox),
    #[cfg(feature = "redis")]
    Fleet(fleet::Producer),
}

/// Runs the same expression over whichever backend this is.
macro_rules! each {
    ($self:expr, $b:ident => $e:expr) => {
        match &$self.backend {
            Backend::Memory($b) => $e,
            #[cfg(feature = "outbox")]
            Backend::Outbox($b) => $e,
            #[cfg(feature = "redis")]
            Backend::Fleet($b) => $e,
        }
    };
}

impl fmt::Debug for Ingester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = match &self.backend {
            Backend::Memory(_) => "memory",
            #[cfg(feature = "outbox")]
            Backend::Outbox(_) => "outbox",
            #[cfg(feature = "redis")]
            Backend::Fleet(_) => "fleet",
        };
        f.debug_struct("Ingester")
            .field("backend", &backend)
            .field("stats", &self.stats())
            .finish()
    }
}

/// Builds an [`Ingester`] (or a fleet [`Worker`]): the delivery settings, and the backend.
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::ingest::IngestError> {
/// use std::time::Duration;
/// use trophy::ingest::{IngestConfig, Ingester};
///
/// let ingester = Ingester::builder(&client)
///     .config(IngestConfig::default().linger(Duration::from_millis(50)))
///     .memory()
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct IngestBuilder {
    client: Client,
    config: Option<IngestConfig>,
    choice: Choice,
}

#[derive(Debug, Clone)]
enum Choice {
    Memory,
    #[cfg(feature = "outbox")]
    Outbox(outbox::OutboxConfig),
    #[cfg(feature = "redis")]
    Fleet(Box<fleet::FleetConfig>),
}

impl IngestBuilder {
    /// The delivery settings: batching, retries, give-up age, pacing and the dead-letter
    /// callback (default: [`IngestConfig::default`]; for a fleet worker,
    /// [`fleet::FleetConfig::default_delivery`]).
    pub fn config(mut self, config: IngestConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Events wait in memory (the default): fastest, and lost if the process dies.
    pub fn memory(mut self) -> Self {
        self.choice = Choice::Memory;
        self
    }

    /// Events wait in a durable outbox file: on disk before `send` returns, delivered by this
    /// process and, after a crash, by the next to open the file. See [`outbox`].
    #[cfg(feature = "outbox")]
    #[cfg_attr(docsrs, doc(cfg(feature = "outbox")))]
    pub fn outbox(mut self, config: outbox::OutboxConfig) -> Self {
        self.choice = Choice::Outbox(config);
        self
    }

    /// Events go to the fleet's Redis Stream, for the fleet's [`Worker`]s (in any process) to
    /// deliver within one shared budget. See [`fleet`].
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn fleet(mut self, config: fleet::FleetConfig) -> Self {
        self.choice = Choice::Fleet(Box::new(config));
        self
    }

    /// Starts the ingester: in memory at once; opens the outbox (and starts delivering what it
    /// holds), or connects to the fleet's Redis. Must be called inside a Tokio runtime.
    ///
    /// Errors: [`IngestErrorKind::Config`] for bad settings, an application key (the ingester
    /// uses the Admin API) or no runtime; [`IngestErrorKind::Corrupt`] for a damaged or foreign
    /// outbox file; [`IngestErrorKind::Unavailable`] when the outbox file cannot be opened or
    /// Redis cannot be reached.
    pub async fn build(self) -> Result<Ingester, IngestError> {
        let config = self.config.unwrap_or_default();
        let backend = match self.choice {
            Choice::Memory => {
                Backend::Memory(memory::Memory::start(&self.client, &config).map_err(IngestError::config)?)
            }
            #[cfg(feature = "outbox")]
            Choice::Outbox(outbox) => Backend::Outbox(outbox::Outbox::open(self.client, outbox, config).await?),
            #[cfg(feature = "redis")]
            Choice::Fleet(fleet) => return Ingester::fleet_producer(*fleet).await,
        };
        Ok(Ingester { backend })
    }

    /// Starts a fleet [`Worker`], which delivers what the fleet's producers send (built with
    /// [`fleet`](Self::fleet); [`IngestErrorKind::Config`] otherwise).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub async fn worker(self) -> Result<Worker, IngestError> {
        match self.choice {
            Choice::Fleet(fleet) => {
                let config = self.config.unwrap_or_else(fleet::FleetConfig::default_delivery);
                Worker::start(self.client, *fleet, config).await
            }
            _ => Err(IngestError::new(
                IngestErrorKind::Config,
                "a worker delivers a fleet's stream: choose the fleet with .fleet(..) first",
            )),
        }
    }
}

impl Ingester {
    /// A builder of an ingester sending through `client` (which needs an admin key).
    pub fn builder(client: &Client) -> IngestBuilder {
        IngestBuilder {
            client: client.clone(),
            config: None,
            choice: Choice::Memory,
        }
    }

    /// Connects a fleet producer, which needs no Trophy client: its `send` appends to the
    /// fleet's Redis stream and the fleet's [`Worker`]s (in any process) deliver. The same as
    /// `Ingester::builder(&client).fleet(config).build()`, whose client and delivery settings a
    /// producer never uses. See [`fleet`].
    ///
    /// Errors: [`IngestErrorKind::Config`] for bad settings (or a Redis user that may not run
    /// what a producer needs), [`IngestErrorKind::Unavailable`] when Redis cannot be reached.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), trophy::ingest::IngestError> {
    /// use trophy::api::admin::events::BatchEvent;
    /// use trophy::ingest::{fleet::FleetConfig, Ingester};
    ///
    /// let ingester = Ingester::fleet_producer(FleetConfig::new("redis://127.0.0.1:6379/")).await?;
    /// let key = ingester.send(BatchEvent::new("words-written", "user-1", 750.0)).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub async fn fleet_producer(config: fleet::FleetConfig) -> Result<Ingester, IngestError> {
        Ok(Ingester {
            backend: Backend::Fleet(fleet::Producer::connect(config).await?),
        })
    }

    /// Starts an in-memory ingester at once (no `.await`): the same as
    /// `Ingester::builder(client).config(config).build()`.
    ///
    /// Errors: [`IngestErrorKind::Config`] for bad settings, an application key, or outside a
    /// Tokio runtime.
    pub fn new(client: &Client, config: IngestConfig) -> Result<Ingester, IngestError> {
        let memory = memory::Memory::start(client, &config).map_err(IngestError::config)?;
        Ok(Ingester {
            backend: Backend::Memory(memory),
        })
    }

    /// Checks and keys the event (its idempotency key is kept if set), then queues it, waiting
    /// while the queue is full (and, for the fleet, while Redis is down if so configured).
    /// Returns the event's idempotency key once it is queued: in memory, on disk (the outbox)
    /// or in Redis (the fleet).
    pub async fn send(&self, event: BatchEvent) -> Result<String, IngestError> {
        each!(self, b => b.send(event).await)
    }

    /// Like [`send`](Self::send), but hands the event back at once, with
    /// [`IngestErrorKind::Full`], when the queue is full. The durable backends still wait for
    /// their store (the disk, Redis).
    pub async fn try_send(&self, event: BatchEvent) -> Result<String, IngestError> {
        match &self.backend {
            Backend::Memory(b) => b.try_send(event),
            #[cfg(feature = "outbox")]
            Backend::Outbox(b) => b.try_send(event).await,
            #[cfg(feature = "redis")]
            Backend::Fleet(b) => b.try_send(event).await,
        }
    }

    /// Returns once every event sent before the call is delivered or dead-lettered. Batches go
    /// out without lingering while it waits (for a fleet producer: once the fleet's workers
    /// have delivered them). In memory, after a [`shutdown`](Self::shutdown), it returns at
    /// once (what was left is in the shutdown's report); the outbox answers
    /// [`IngestErrorKind::Closed`].
    pub async fn flush(&self) -> Result<(), IngestError> {
        match &self.backend {
            Backend::Memory(b) => {
                b.flush().await;
                Ok(())
            }
            #[cfg(feature = "outbox")]
            Backend::Outbox(b) => b.flush().await,
            #[cfg(feature = "redis")]
            Backend::Fleet(b) => b.flush_until(None).await.map(drop),
        }
    }

    /// Like [`flush`](Self::flush), but waits at most `within` (as
    /// [`shutdown`](Self::shutdown) does): says how many of the events sent before the call
    /// are still pending, neither delivered nor dead-lettered, when it returns (`0`: all are
    /// done). Pending events stay queued and keep being delivered; nothing is dropped.
    ///
    /// ```no_run
    /// # async fn run(ingester: trophy::ingest::Ingester) -> Result<(), trophy::ingest::IngestError> {
    /// use std::time::Duration;
    /// let report = ingester.flush_within(Duration::from_secs(5)).await?;
    /// if report.pending > 0 {
    ///     eprintln!("{} events not delivered yet; Trophy may be down", report.pending);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn flush_within(&self, within: Duration) -> Result<FlushReport, IngestError> {
        match &self.backend {
            Backend::Memory(b) => Ok(b.flush_within(within).await),
            #[cfg(feature = "outbox")]
            Backend::Outbox(b) => b.flush_within(within).await,
            #[cfg(feature = "redis")]
            Backend::Fleet(b) => b.flush_within(within).await,
        }
    }

    /// Stops intake, delivers what is queued for at most `within`, and reports what it could
    /// not deliver by then (requests still under way at the deadline are abandoned). In
    /// memory, those events are in [`ShutdownReport::undelivered`]; the outbox keeps them on
    /// disk for its next open ([`ShutdownReport::left_in_store`]); a fleet producer only stops
    /// intake (the workers deliver). Later calls, from any clone, return the counters and no
    /// events.
    pub async fn shutdown(&self, within: Duration) -> ShutdownReport {
        each!(self, b => b.shutdown(within).await)
    }

    /// The counters now.
    pub fn stats(&self) -> IngestStats {
        each!(self, b => b.stats())
    }

    /// The events refused for good (by Trophy, or by the give-up age), oldest first, as the
    /// outbox keeps them until [`clear_dead_letters`](Self::clear_dead_letters). The other
    /// backends keep none ([`IngestErrorKind::Unsupported`]): in memory, use
    /// [`IngestConfig::on_dead_letter`]; the fleet files them in the `<stream>:dead` stream.
    pub async fn dead_letters(&self) -> Result<Vec<StoredDeadLetter>, IngestError> {
        match &self.backend {
            #[cfg(feature = "outbox")]
            Backend::Outbox(b) => b.dead_letters().await,
            _ => Err(unsupported_dead_letters()),
        }
    }

    /// Removes every dead letter the outbox keeps ([`IngestErrorKind::Unsupported`] for the
    /// other backends).
    pub async fn clear_dead_letters(&self) -> Result<(), IngestError> {
        match &self.backend {
            #[cfg(feature = "outbox")]
            Backend::Outbox(b) => b.clear_dead_letters().await,
            _ => Err(unsupported_dead_letters()),
        }
    }
}

fn unsupported_dead_letters() -> IngestError {
    IngestError::new(
        IngestErrorKind::Unsupported,
        "only the outbox keeps dead letters (in memory: IngestConfig::on_dead_letter; the fleet: the <stream>:dead stream)",
    )
}

/// An event refused for good as a durable backend stores it, and as
/// [`Ingester::dead_letters`] reads it back.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct StoredDeadLetter {
    /// The event with its idempotency key; `None` when the stored event no longer decoded.
    pub event: Option<BatchEvent>,
    /// Trophy's status, when Trophy answered.
    pub status: Option<u16>,
    /// Why, in words.
    pub message: String,
}

/// `t + d`, or about 30 years after `t` when that does not fit.
pub(crate) fn later(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .unwrap_or_else(|| t + Duration::from_secs(86_400 * 365 * 30))
}
