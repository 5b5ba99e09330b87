//! Metrics for every call and every queued event, through the [`metrics`](https://docs.rs/metrics)
//! facade (feature `metrics`, off by default).
//!
//! The SDK only records; your application installs a recorder (Prometheus, OpenTelemetry,
//! StatsD, ...) and exports. With no recorder installed, every recording does nothing; with
//! the feature off, the `metrics` crate is not even a dependency and the recording calls
//! compile to nothing. The names below are `pub const`s in every build, so dashboards and
//! tests can refer to them.
//!
//! **Install the recorder before building clients, ingesters, outboxes and workers**: the
//! queues register their metrics once, when they start (as usual with the `metrics` facade,
//! metrics registered before a recorder exists record nothing).
//!
//! ```no_run
//! // Cargo.toml: trophy = { version = "0.1", features = ["metrics"] }
//! //             metrics-exporter-prometheus = "0.18"
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! metrics_exporter_prometheus::PrometheusBuilder::new()
//!     .with_http_listener(([127, 0, 0, 1], 9000))
//!     .install()?; // within a Tokio runtime: serves /metrics from it
//! trophy::observability::describe(); // units and help texts for the exporter
//! let client = trophy::Client::from_env()?;
//! # Ok(()) }
//! ```
//!
//! `cargo run -p trophy --example metrics --features metrics` runs an ingester against the
//! emulator with Trophy's rate limits and prints the scrape.
//!
//! # The metrics
//!
//! Labels have bounded values only: operation ids (85), the API, a status class, a backend, a
//! reason. No user id, no metric key, no idempotency key ever becomes a label.
//!
//! | name | type | unit | labels | OpenTelemetry equivalent |
//! |---|---|---|---|---|
//! | [`REQUESTS`] `trophy.client.requests` | counter | requests | `operation`, `api`, `status_class` | — (the count of `http.client.request.duration`) |
//! | [`REQUEST_DURATION`] `trophy.client.request.duration` | histogram | seconds | `operation`, `api`, `status_class` | `http.client.request.duration`; for `operation="admin_metrics_batch_events"`, `messaging.client.operation.duration` (`messaging.operation.type=send`) |
//! | [`RETRIES`] `trophy.client.retries` | counter | retries | `operation`, `reason` | — |
//! | [`RATE_LIMIT_WAIT`] `trophy.client.rate_limit.wait` | histogram | seconds | `limiter` | — |
//! | [`RATE_LIMIT_RATE`] `trophy.client.rate_limit.rate` | gauge | requests per second | `limiter` | — |
//! | [`EVENTS_ACCEPTED`] `trophy.ingest.events.accepted` | counter | events | `backend` | — (enqueued locally; for `fleet`, `messaging.client.sent.messages` to Redis) |
//! | [`EVENTS_REFUSED`] `trophy.ingest.events.refused` | counter | events | `backend`, `reason` | — |
//! | [`EVENTS_DELIVERED`] `trophy.ingest.events.delivered` | counter | events | `backend` | `messaging.client.sent.messages` (no `error.type`) |
//! | [`EVENTS_REPLAYED`] `trophy.ingest.events.replayed` | counter | events | `backend` | — |
//! | [`EVENTS_DEAD_LETTERED`] `trophy.ingest.events.dead_lettered` | counter | events | `backend`, `reason` | `messaging.client.sent.messages` with `error.type` = `reason` |
//! | [`QUEUE_DEPTH`] `trophy.ingest.queue.depth` | gauge | events | `backend` | — |
//! | [`QUEUE_BYTES`] `trophy.ingest.queue.bytes` | gauge | bytes | `backend` (`outbox`) | — |
//! | [`BATCH_SIZE`] `trophy.ingest.batch.size` | histogram | events | `backend` | — (`messaging.batch.message_count` as a distribution) |
//! | [`BATCHES_IN_FLIGHT`] `trophy.ingest.batches.in_flight` | gauge | batches | `backend` | — |
//! | [`DELIVERY_LATENCY`] `trophy.ingest.delivery.latency` | histogram | seconds | `backend` | — |
//! | [`FLEET_TAKEOVERS`] `trophy.ingest.fleet.takeovers` | counter | entries | — | — |
//!
//! Label values:
//!
//! - `operation`: the operation id of the OpenAPI documents, e.g. `metrics_event`,
//!   `admin_metrics_batch_events` (85 in all); `api`: `app` or `admin`.
//! - `status_class`: `2xx`, `3xx`, `4xx` or `5xx`; `429` on its own (Trophy's rate limit);
//!   `timeout` or `connection` when no answer came.
//! - retry `reason`: `429`, `5xx` (also 408), `timeout`, `connect` (a connection that failed or
//!   broke).
//! - `limiter`: `tier1` and `tier2` (the client's own token buckets, see
//!   [`crate::ClientBuilder::rate_limit`]), `fleet` (the fleet's shared budget in Redis).
//! - `backend`: the backend of the [`crate::ingest::Ingester`]: `memory`, `outbox`
//!   (`trophy::ingest::outbox`), `fleet` (`trophy::ingest::fleet`, producers and workers).
//! - refused `reason`: `full` (`try_send` on a full queue), `closed`, `invalid` (the event
//!   fails the checks), `unavailable` (the outbox's file or the fleet's Redis failed).
//! - dead-letter `reason`: `rejected` (Trophy refused the event itself), `refused` (Trophy
//!   refused the whole batch: 401, 403), `gave_up` (still failing at the give-up age),
//!   `undecodable` (a stored entry that is no event any more).
//!
//! What each one counts:
//!
//! - **Requests** are HTTP requests (attempts), from every call and from the ingest backends,
//!   counted when the answer (or the failure) is known; the duration is that of the attempt.
//! - **Retries** are attempts sent again after a retryable failure, by calls and by the ingest
//!   engine (whose retries are unlimited until the give-up age).
//! - **Rate-limit wait** is the wait one token imposed (zero when one was free): each request
//!   subject to a limiter records one value.
//! - **Rate-limit rate** is the rate the pacer runs at now: the configured tier rates of the
//!   client, or the fleet's `requests_per_second`.
//! - **Accepted** events are those `send`/`try_send` queued; **refused** ones were handed back.
//!   Every accepted event ends delivered, dead-lettered, or (at a shutdown's deadline) reported
//!   undelivered or left in the store.
//! - **Replayed** events were delivered again after attempts whose answers were lost (5xx,
//!   timeout, broken connection): once per such attempt. When a lost attempt had reached Trophy,
//!   Trophy applied the events then and answers their repeat as a replay, so this is the number
//!   of replays Trophy saw (an upper bound, when a failure came before Trophy processed
//!   anything).
//! - **Queue depth**: `memory`, the events an ingester holds (queued and in flight);
//!   `outbox`, the events on disk not yet accepted by Trophy (and `queue.bytes` their size);
//!   `fleet`, the entries of the stream not yet acknowledged (acknowledged entries are deleted),
//!   as last read by this process (producers while they send, workers at each acknowledgement).
//!   With several ingesters in one process, `memory` is their sum; an outbox or a fleet sets
//!   its value.
//! - **Batch size**: events per batch taken from the queue (the halves of a refused batch are
//!   not batches of their own). **Batches in flight**: batches being delivered now.
//! - **Delivery latency**: from `send` to Trophy's acceptance, per event. `outbox`: from the
//!   write of the oldest event of the batch (or from the open, for events of an earlier run);
//!   `fleet`: from the producer's `XADD` (the time in the entry's id, Redis's clock) to the
//!   acknowledgement.
//! - **Fleet takeovers**: entries a worker claimed from a consumer idle longer than
//!   `claim_idle` (a dead worker's entries).
//!
//! # Tracing
//!
//! Independently of this feature, every call runs in a `trophy.call` span (`operation`,
//! `method`, `path` template, `attempt`, `status`), and every ingest batch in a
//! `trophy.ingest.batch` span (`events`, `requests`, `delivered`, `dead_lettered`) around the
//! `trophy.call` spans of its requests. Retries are logged at `DEBUG`, dead letters at `WARN`.

/// HTTP requests (attempts): counter; labels `operation`, `api`, `status_class`.
pub const REQUESTS: &str = "trophy.client.requests";
/// Duration of one HTTP request (attempt), in seconds: histogram; labels `operation`, `api`,
/// `status_class`.
pub const REQUEST_DURATION: &str = "trophy.client.request.duration";
/// Attempts sent again after a retryable failure: counter; labels `operation`, `reason`.
pub const RETRIES: &str = "trophy.client.retries";
/// Time a request waited for a rate-limit token, in seconds: histogram; label `limiter`.
pub const RATE_LIMIT_WAIT: &str = "trophy.client.rate_limit.wait";
/// The rate a limiter paces requests at now, in requests per second: gauge; label `limiter`.
pub const RATE_LIMIT_RATE: &str = "trophy.client.rate_limit.rate";
/// Events accepted by `send`/`try_send`: counter; label `backend`.
pub const EVENTS_ACCEPTED: &str = "trophy.ingest.events.accepted";
/// Events handed back by `send`/`try_send`: counter; labels `backend`, `reason`.
pub const EVENTS_REFUSED: &str = "trophy.ingest.events.refused";
/// Events Trophy accepted: counter; label `backend`.
pub const EVENTS_DELIVERED: &str = "trophy.ingest.events.delivered";
/// Events delivered again after attempts whose answers were lost: counter; label `backend`.
pub const EVENTS_REPLAYED: &str = "trophy.ingest.events.replayed";
/// Events refused for good: counter; labels `backend`, `reason`.
pub const EVENTS_DEAD_LETTERED: &str = "trophy.ingest.events.dead_lettered";
/// Events held and not yet delivered (see the module docs per backend): gauge; label `backend`.
pub const QUEUE_DEPTH: &str = "trophy.ingest.queue.depth";
/// Bytes of events held (the outbox): gauge; label `backend`.
pub const QUEUE_BYTES: &str = "trophy.ingest.queue.bytes";
/// Events per batch: histogram; label `backend`.
pub const BATCH_SIZE: &str = "trophy.ingest.batch.size";
/// Batches being delivered: gauge; label `backend`.
pub const BATCHES_IN_FLIGHT: &str = "trophy.ingest.batches.in_flight";
/// From `send` to Trophy's acceptance, in seconds, per event: histogram; label `backend`.
pub const DELIVERY_LATENCY: &str = "trophy.ingest.delivery.latency";
/// Fleet entries taken over from idle consumers: counter.
pub const FLEET_TAKEOVERS: &str = "trophy.ingest.fleet.takeovers";

/// The ingest backend of a metric (label `backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Memory,
    #[cfg(feature = "outbox")]
    Outbox,
    #[cfg(feature = "redis")]
    Fleet,
}

impl Backend {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn label(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            #[cfg(feature = "outbox")]
            Backend::Outbox => "outbox",
            #[cfg(feature = "redis")]
            Backend::Fleet => "fleet",
        }
    }
}

/// A rate limiter (label `limiter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) enum Limiter {
    Tier1,
    Tier2,
    #[cfg(feature = "redis")]
    Fleet,
}

impl Limiter {
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn label(self) -> &'static str {
        match self {
            Limiter::Tier1 => "tier1",
            Limiter::Tier2 => "tier2",
            #[cfg(feature = "redis")]
            Limiter::Fleet => "fleet",
        }
    }
}

impl From<crate::ratelimit::Tier> for Limiter {
    fn from(tier: crate::ratelimit::Tier) -> Limiter {
        match tier {
            crate::ratelimit::Tier::One => Limiter::Tier1,
            crate::ratelimit::Tier::Two => Limiter::Tier2,
        }
    }
}

/// How an attempt ended, as far as metrics care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) enum Answer {
    /// An HTTP status.
    Status(u16),
    /// No answer in time.
    Timeout,
    /// The connection failed or broke.
    Connection,
}

#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
impl Answer {
    /// The answer an error stands for.
    pub(crate) fn of(error: &crate::Error) -> Answer {
        match error {
            crate::Error::Timeout(_) => Answer::Timeout,
            crate::Error::Connection(_) => Answer::Connection,
            other => other.status().map_or(Answer::Connection, Answer::Status),
        }
    }

    /// Label `status_class`.
    fn class(self) -> &'static str {
        match self {
            Answer::Status(429) => "429",
            Answer::Status(200..=299) => "2xx",
            Answer::Status(300..=399) => "3xx",
            Answer::Status(400..=499) => "4xx",
            Answer::Status(_) => "5xx",
            Answer::Timeout => "timeout",
            Answer::Connection => "connection",
        }
    }

    /// Label `reason` of a retry.
    fn retry_reason(self) -> &'static str {
        match self {
            Answer::Status(429) => "429",
            Answer::Status(408) | Answer::Timeout => "timeout",
            Answer::Status(_) => "5xx",
            Answer::Connection => "connect",
        }
    }

    /// Whether Trophy may have processed the request although its answer did not say so:
    /// a repeat of its events may then be a replay.
    pub(crate) fn maybe_processed(self) -> bool {
        !matches!(self, Answer::Status(429))
    }
}

/// Why `send` handed an event back (label `reason` of [`EVENTS_REFUSED`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) enum Refusal {
    Full,
    Closed,
    Invalid,
    /// The outbox's file or the fleet's Redis failed.
    #[cfg_attr(not(any(feature = "outbox", feature = "redis")), allow(dead_code))]
    Unavailable,
}

#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
impl Refusal {
    /// The four values, in the order of their labels.
    const LABELS: [&'static str; 4] = ["full", "closed", "invalid", "unavailable"];

    #[cfg(any(feature = "outbox", feature = "redis"))]
    pub(crate) fn of_kind(kind: crate::ingest::IngestErrorKind) -> Refusal {
        use crate::ingest::IngestErrorKind;
        match kind {
            IngestErrorKind::Full => Refusal::Full,
            IngestErrorKind::Closed => Refusal::Closed,
            IngestErrorKind::Invalid => Refusal::Invalid,
            _ => Refusal::Unavailable,
        }
    }
}

/// Milliseconds since the Unix epoch in a Redis stream entry id (`<ms>-<seq>`).
#[cfg(feature = "redis")]
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
fn stream_id_age(id: &str) -> Option<std::time::Duration> {
    let ms: u64 = id.split('-').next()?.parse().ok()?;
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    Some(std::time::SystemTime::now().duration_since(at).unwrap_or_default())
}

pub use imp::describe;
pub(crate) use imp::*;

#[cfg(feature = "metrics")]
mod imp {
    use super::*;
    use crate::ingest::engine::Keyed;
    use crate::ingest::DeadLetterKind;
    use metrics::{counter, gauge, histogram, Counter, Gauge, Histogram, Unit};
    use std::time::{Duration, Instant};

    /// Registers the unit and description of every metric with the installed recorder (an
    /// exporter then prints them, e.g. Prometheus's `# HELP` lines). Call it once, after
    /// installing the recorder; recording works without it.
    pub fn describe() {
        use metrics::{describe_counter, describe_gauge, describe_histogram};
        describe_counter!(
            REQUESTS,
            Unit::Count,
            "HTTP requests to Trophy (attempts), by operation, API and status class"
        );
        describe_histogram!(
            REQUEST_DURATION,
            Unit::Seconds,
            "Duration of one HTTP request to Trophy"
        );
        describe_counter!(
            RETRIES,
            Unit::Count,
            "Requests sent again after a retryable failure, by reason"
        );
        describe_histogram!(
            RATE_LIMIT_WAIT,
            Unit::Seconds,
            "Time a request waited for a rate-limit token"
        );
        describe_gauge!(RATE_LIMIT_RATE, "Requests per second a limiter paces at now");
        describe_counter!(EVENTS_ACCEPTED, Unit::Count, "Events accepted by send");
        describe_counter!(EVENTS_REFUSED, Unit::Count, "Events handed back by send, by reason");
        describe_counter!(EVENTS_DELIVERED, Unit::Count, "Events Trophy accepted");
        describe_counter!(
            EVENTS_REPLAYED,
            Unit::Count,
            "Events delivered again after attempts whose answers were lost"
        );
        describe_counter!(EVENTS_DEAD_LETTERED, Unit::Count, "Events refused for good, by reason");
        describe_gauge!(QUEUE_DEPTH, Unit::Count, "Events held and not yet delivered");
        describe_gauge!(QUEUE_BYTES, Unit::Bytes, "Bytes of events held");
        describe_histogram!(BATCH_SIZE, Unit::Count, "Events per batch");
        describe_gauge!(BATCHES_IN_FLIGHT, Unit::Count, "Batches being delivered");
        describe_histogram!(
            DELIVERY_LATENCY,
            Unit::Seconds,
            "Time from send to Trophy's acceptance, per event"
        );
        describe_counter!(
            FLEET_TAKEOVERS,
            Unit::Count,
            "Fleet entries taken over from idle consumers"
        );
    }

    /// Measures an attempt (nothing at all without the feature).
    pub(crate) struct Timer(Instant);

    impl Timer {
        #[inline]
        pub(crate) fn start() -> Timer {
            Timer(Instant::now())
        }
    }

    fn api_label(api: crate::request::Api) -> &'static str {
        match api {
            crate::request::Api::App => "app",
            crate::request::Api::Admin => "admin",
        }
    }

    /// One HTTP request answered (or failed): counter and duration.
    pub(crate) fn request(operation: &'static str, api: crate::request::Api, timer: &Timer, answer: Answer) {
        let labels = [
            ("operation", operation),
            ("api", api_label(api)),
            ("status_class", answer.class()),
        ];
        counter!(REQUESTS, &labels).increment(1);
        histogram!(REQUEST_DURATION, &labels).record(timer.0.elapsed().as_secs_f64());
    }

    /// A request sent again after `answer`.
    pub(crate) fn retry(operation: &'static str, answer: Answer) {
        counter!(RETRIES, "operation" => operation, "reason" => answer.retry_reason()).increment(1);
    }

    /// The wait a rate-limit token imposed.
    pub(crate) fn rate_limit_wait(limiter: Limiter, wait: Duration) {
        histogram!(RATE_LIMIT_WAIT, "limiter" => limiter.label()).record(wait.as_secs_f64());
    }

    /// The rate `limiter` paces at now: call it wherever that rate is set or changes.
    pub(crate) fn rate_limit_rate(limiter: Limiter, per_second: f64) {
        gauge!(RATE_LIMIT_RATE, "limiter" => limiter.label()).set(per_second);
    }

    /// The metrics of one ingest backend, registered when it starts.
    #[derive(Clone)]
    pub(crate) struct Ingest {
        backend: Backend,
        /// Latency from [`Keyed::enqueued`] at delivery (the fleet's comes from stream ids).
        latency_at_delivery: bool,
        accepted: Counter,
        /// By [`Refusal`].
        refused: [Counter; 4],
        delivered: Counter,
        replayed: Counter,
        /// rejected, refused, gave_up, undecodable
        dead: [Counter; 4],
        depth: Gauge,
        #[cfg_attr(not(feature = "outbox"), allow(dead_code))]
        bytes: Gauge,
        batch_size: Histogram,
        in_flight: Gauge,
        latency: Histogram,
        #[cfg_attr(not(feature = "redis"), allow(dead_code))]
        takeovers: Counter,
    }

    impl std::fmt::Debug for Ingest {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Ingest")
                .field("backend", &self.backend)
                .finish_non_exhaustive()
        }
    }

    /// Batches in flight: one less when dropped.
    pub(crate) struct InFlight(Gauge);

    impl Drop for InFlight {
        fn drop(&mut self) {
            self.0.decrement(1.0);
        }
    }

    impl Ingest {
        pub(crate) fn new(backend: Backend) -> Ingest {
            let b = backend.label();
            let refused = |i: usize| counter!(EVENTS_REFUSED, "backend" => b, "reason" => Refusal::LABELS[i]);
            let dead = |reason: &'static str| counter!(EVENTS_DEAD_LETTERED, "backend" => b, "reason" => reason);
            Ingest {
                backend,
                latency_at_delivery: b != "fleet",
                accepted: counter!(EVENTS_ACCEPTED, "backend" => b),
                refused: std::array::from_fn(refused),
                delivered: counter!(EVENTS_DELIVERED, "backend" => b),
                replayed: counter!(EVENTS_REPLAYED, "backend" => b),
                dead: [dead("rejected"), dead("refused"), dead("gave_up"), dead("undecodable")],
                depth: gauge!(QUEUE_DEPTH, "backend" => b),
                bytes: match backend {
                    #[cfg(feature = "outbox")]
                    Backend::Outbox => gauge!(QUEUE_BYTES, "backend" => b),
                    _ => Gauge::noop(),
                },
                batch_size: histogram!(BATCH_SIZE, "backend" => b),
                in_flight: gauge!(BATCHES_IN_FLIGHT, "backend" => b),
                latency: histogram!(DELIVERY_LATENCY, "backend" => b),
                takeovers: match backend {
                    #[cfg(feature = "redis")]
                    Backend::Fleet => counter!(FLEET_TAKEOVERS),
                    _ => Counter::noop(),
                },
            }
        }

        /// One event accepted by `send`.
        pub(crate) fn accepted(&self) {
            self.accepted.increment(1);
        }

        /// One event handed back by `send`.
        pub(crate) fn refused(&self, why: Refusal) {
            self.refused[why as usize].increment(1);
        }

        /// Events Trophy accepted, with their latency (except the fleet's: see
        /// [`Ingest::acked_stream_ids`]).
        pub(crate) fn delivered(&self, part: &[Keyed]) {
            self.delivered.increment(part.len() as u64);
            if !self.latency_at_delivery {
                return;
            }
            let now = tokio::time::Instant::now();
            for k in part {
                self.latency
                    .record(now.saturating_duration_since(k.enqueued).as_secs_f64());
            }
        }

        /// `events` delivered after `lost` attempts whose answers were lost.
        pub(crate) fn replayed(&self, events: usize, lost: u32) {
            self.replayed.increment(events as u64 * u64::from(lost));
        }

        /// Events dead-lettered by the delivery engine.
        pub(crate) fn dead_lettered(&self, kind: DeadLetterKind, events: usize) {
            let i = match kind {
                DeadLetterKind::Rejected => 0,
                DeadLetterKind::Refused => 1,
                DeadLetterKind::GaveUp => 2,
            };
            self.dead[i].increment(events as u64);
        }

        /// Stored entries that no longer decode, moved to the dead letters.
        #[cfg(any(feature = "outbox", feature = "redis"))]
        pub(crate) fn undecodable(&self, entries: usize) {
            self.dead[3].increment(entries as u64);
        }

        /// Events added to an in-memory queue.
        pub(crate) fn depth_add(&self, events: usize) {
            self.depth.increment(events as f64);
        }

        /// Events an in-memory queue no longer holds.
        pub(crate) fn depth_sub(&self, events: usize) {
            self.depth.decrement(events as f64);
        }

        /// What a store holds now.
        #[cfg(any(feature = "outbox", feature = "redis"))]
        pub(crate) fn stored(&self, events: u64, bytes: u64) {
            self.depth.set(events as f64);
            self.bytes.set(bytes as f64);
        }

        /// A batch taken from the queue; in flight until the guard is dropped.
        pub(crate) fn batch(&self, events: usize) -> InFlight {
            self.batch_size.record(events as f64);
            self.in_flight.increment(1.0);
            InFlight(self.in_flight.clone())
        }

        /// Latency of fleet entries acknowledged now, from the time in their stream ids.
        #[cfg(feature = "redis")]
        pub(crate) fn acked_stream_ids<'a>(&self, ids: impl Iterator<Item = &'a String>) {
            for age in ids.filter_map(|id| stream_id_age(id)) {
                self.latency.record(age.as_secs_f64());
            }
        }

        /// Fleet entries taken over from an idle consumer.
        #[cfg(feature = "redis")]
        pub(crate) fn takeovers(&self, entries: usize) {
            self.takeovers.increment(entries as u64);
        }
    }
}

#[cfg(not(feature = "metrics"))]
#[allow(clippy::unused_self)]
mod imp {
    use super::*;
    use crate::ingest::engine::Keyed;
    use crate::ingest::DeadLetterKind;
    use std::time::Duration;

    /// Registers the unit and description of every metric with the installed recorder. Does
    /// nothing: this build has no `metrics` feature.
    pub fn describe() {}

    /// Measures an attempt: nothing at all without the feature.
    pub(crate) struct Timer;

    impl Timer {
        #[inline(always)]
        pub(crate) fn start() -> Timer {
            Timer
        }
    }

    #[inline(always)]
    pub(crate) fn request(_: &'static str, _: crate::request::Api, _: &Timer, _: Answer) {}

    #[inline(always)]
    pub(crate) fn retry(_: &'static str, _: Answer) {}

    #[inline(always)]
    pub(crate) fn rate_limit_wait(_: Limiter, _: Duration) {}

    #[inline(always)]
    pub(crate) fn rate_limit_rate(_: Limiter, _: f64) {}

    /// No metrics: every method does nothing.
    #[derive(Debug, Clone)]
    pub(crate) struct Ingest;

    /// Nothing in flight to count.
    pub(crate) struct InFlight;

    impl Ingest {
        #[inline(always)]
        pub(crate) fn new(_: Backend) -> Ingest {
            Ingest
        }
        #[inline(always)]
        pub(crate) fn accepted(&self) {}
        #[inline(always)]
        pub(crate) fn refused(&self, _: Refusal) {}
        #[inline(always)]
        pub(crate) fn delivered(&self, _: &[Keyed]) {}
        #[inline(always)]
        pub(crate) fn replayed(&self, _: usize, _: u32) {}
        #[inline(always)]
        pub(crate) fn dead_lettered(&self, _: DeadLetterKind, _: usize) {}
        #[cfg(any(feature = "outbox", feature = "redis"))]
        #[inline(always)]
        pub(crate) fn undecodable(&self, _: usize) {}
        #[inline(always)]
        pub(crate) fn depth_add(&self, _: usize) {}
        #[inline(always)]
        pub(crate) fn depth_sub(&self, _: usize) {}
        #[cfg(any(feature = "outbox", feature = "redis"))]
        #[inline(always)]
        pub(crate) fn stored(&self, _: u64, _: u64) {}
        #[inline(always)]
        pub(crate) fn batch(&self, _: usize) -> InFlight {
            InFlight
        }
        #[cfg(feature = "redis")]
        #[inline(always)]
        pub(crate) fn acked_stream_ids<'a>(&self, _: impl Iterator<Item = &'a String>) {}
        #[cfg(feature = "redis")]
        #[inline(always)]
        pub(crate) fn takeovers(&self, _: usize) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded_and_named() {
        assert_eq!(Answer::Status(429).class(), "429");
        assert_eq!(Answer::Status(202).class(), "2xx");
        assert_eq!(Answer::Status(404).class(), "4xx");
        assert_eq!(Answer::Status(503).class(), "5xx");
        assert_eq!(Answer::Timeout.class(), "timeout");
        assert_eq!(Answer::Status(408).retry_reason(), "timeout");
        assert_eq!(Answer::Status(502).retry_reason(), "5xx");
        assert_eq!(Answer::Connection.retry_reason(), "connect");
        assert!(!Answer::Status(429).maybe_processed());
        assert!(Answer::Status(503).maybe_processed());
    }

    #[cfg(feature = "redis")]
    #[test]
    fn stream_ids_carry_their_time() {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            - 1500;
        let age = stream_id_age(&format!("{ms}-3")).unwrap();
        assert!(age >= std::time::Duration::from_millis(1500) && age < std::time::Duration::from_secs(60));
        assert_eq!(stream_id_age("nonsense"), None);
    }
}
