//! What every backend counts ([`IngestStats`], with the backend's own figures in
//! [`BackendStats`]), what a shutdown or a bounded flush reports, and the counters behind them.

use crate::api::admin::events::BatchEvent;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Counters of an [`Ingester`](super::Ingester) or a fleet [`Worker`](super::Worker), for
/// reading or export to a metrics system. The same figures for every backend; what only one
/// backend has is in [`backend`](Self::backend).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct IngestStats {
    /// Events accepted by `send`/`try_send` so far (by this handle's process).
    pub enqueued: u64,
    /// Events waiting for a batch: in memory; in the outbox file, not yet taken; for a fleet
    /// producer, the entries in the stream (read every 100 ms at most); for a fleet worker,
    /// the entries it read ahead.
    pub queued: usize,
    /// Events in batches under way (in memory, the outbox and a fleet worker).
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
    /// How long the oldest queued event has waited (in memory; the outbox: since it was
    /// stored or the outbox opened).
    pub oldest_queued_age: Option<Duration>,
    /// Median time from `send` to Trophy's acceptance, over every delivered event so far
    /// (from a histogram with buckets 12 % wide: the bucket's upper bound).
    pub latency_p50: Option<Duration>,
    /// 99th percentile of the same.
    pub latency_p99: Option<Duration>,
    /// The pacer's sending rate now, in tier-1 requests per second (see "Rate limits and
    /// pacing" in the crate docs): the configured rate less its margin, lower after 429s. For
    /// a fleet worker, the fleet's rate at its last turn; a fleet producer sends nothing to
    /// Trophy and says 0.
    pub send_rate: f64,
    /// The backend's own figures.
    pub backend: BackendStats,
}

/// The figures only one backend has.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum BackendStats {
    /// In memory: nothing more.
    #[default]
    Memory,
    /// The outbox file.
    Outbox(OutboxStats),
    /// The fleet's Redis stream.
    Fleet(FleetStats),
}

impl BackendStats {
    /// The outbox's figures, if this is the outbox.
    pub fn outbox(&self) -> Option<&OutboxStats> {
        match self {
            BackendStats::Outbox(s) => Some(s),
            _ => None,
        }
    }

    /// The fleet's figures, if this is a fleet producer or worker.
    pub fn fleet(&self) -> Option<&FleetStats> {
        match self {
            BackendStats::Fleet(s) => Some(s),
            _ => None,
        }
    }
}

/// What the outbox file holds now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboxStats {
    /// Events on disk not yet accepted by Trophy (in flight included).
    pub stored_events: u64,
    /// Their size as JSON.
    pub stored_bytes: u64,
}

/// The fleet's stream as this handle last saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FleetStats {
    /// The entries in the stream (waiting, or pending in the group), when last read.
    pub stream_length: u64,
    /// A worker's consumer name in the group (`None` for a producer).
    pub consumer: Option<String>,
}

/// What [`Ingester::shutdown`](super::Ingester::shutdown) (or a fleet
/// [`Worker::shutdown`](super::Worker::shutdown)) could not do.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// In memory: events neither delivered nor dead-lettered by the deadline, with their
    /// idempotency keys: store them and send them again later (a repeat of an event Trophy did
    /// process counts once). Empty for the durable backends, which keep such events.
    pub undelivered: Vec<BatchEvent>,
    /// The durable backends: events still held, delivered later with the same keys: in the
    /// outbox file, at its next open; in the fleet's stream (a worker's unfinished entries
    /// included), by the workers. 0 in memory.
    pub left_in_store: u64,
    /// The counters at the end.
    pub stats: IngestStats,
}

/// What [`Ingester::flush_within`](super::Ingester::flush_within) left pending.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FlushReport {
    /// Events sent before the call that were neither delivered nor dead-lettered by the
    /// deadline; they stay queued and keep being delivered. For a fleet producer, an upper
    /// bound: the stream's length when some of them were still in it.
    pub pending: usize,
    /// The counters at the end.
    pub stats: IngestStats,
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

/// The figures of [`IngestStats`] that the counters do not hold.
pub(crate) struct Sizes {
    pub(crate) queued: usize,
    pub(crate) in_flight: usize,
    pub(crate) oldest: Option<Duration>,
    pub(crate) send_rate: f64,
    pub(crate) backend: BackendStats,
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

    /// Counts the outcome of a durable backend's `send`/`try_send` and passes it on.
    #[cfg(any(feature = "outbox", feature = "redis"))]
    pub(crate) fn counted<T>(&self, result: Result<T, super::IngestError>) -> Result<T, super::IngestError> {
        match &result {
            Ok(_) => {
                self.enqueued.fetch_add(1, Relaxed);
                self.metrics.accepted();
            }
            Err(e) => self.metrics.refused(crate::observability::Refusal::of_kind(e.kind())),
        }
        result
    }

    /// The counters now, with the backend's sizes.
    pub(crate) fn stats(&self, sizes: Sizes) -> IngestStats {
        IngestStats {
            enqueued: self.enqueued.load(Relaxed),
            queued: sizes.queued,
            in_flight: sizes.in_flight,
            delivered: self.delivered.load(Relaxed),
            dead_lettered: self.dead_lettered.load(Relaxed),
            requests: self.requests.load(Relaxed),
            retried: self.retried.load(Relaxed),
            http_429: self.http_429.load(Relaxed),
            bisections: self.bisections.load(Relaxed),
            oldest_queued_age: sizes.oldest,
            latency_p50: self.latency.quantile(0.5),
            latency_p99: self.latency.quantile(0.99),
            send_rate: sizes.send_rate,
            backend: sizes.backend,
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
