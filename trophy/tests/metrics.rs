//! The `metrics` feature: exact counts from `metrics-util`'s debugging recorder, compared with
//! what the emulator saw, for the in-memory ingester and the outbox (the fleet's test is in
//! `trophy-bench/tests/fleet_metrics.rs`, next to the real `redis-server` it needs).
//!
//! Each test installs its own recorder for its thread only (`set_default_local_recorder`) and
//! runs everything that records on that thread: the current-thread runtime of `#[tokio::test]`
//! (the ingest tasks, the transport, the emulator) and handles registered there (the outbox's
//! writer thread records through them). So tests running in parallel never see each other's
//! counts, and no global recorder is involved.

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use std::time::Duration;
use trophy::api::admin::events::BatchEvent;
use trophy::api::admin::metrics::NewMetric;
use trophy::ingest::{DeadLetterKind, IngestConfig, IngestErrorKind, Ingester};
use trophy::observability as m;
use trophy::{Client, UserInput};
use trophy_emulator::{Emulator, Faults, RateLimits};

const METRIC: &str = "words-written";
const EVENTS: usize = 10_000;

/// A metric's labels, as (key, value) pairs.
type Labels = Vec<(String, String)>;

/// The metrics of one snapshot (a snapshot drains the recorder: take one at the end).
struct Metrics(Vec<(String, Labels, DebugValue)>);

impl Metrics {
    fn take(snapshotter: &Snapshotter) -> Metrics {
        Metrics(
            snapshotter
                .snapshot()
                .into_vec()
                .into_iter()
                .map(|(key, _, _, value)| {
                    let labels = key
                        .key()
                        .labels()
                        .map(|l| (l.key().to_string(), l.value().to_string()))
                        .collect();
                    (key.key().name().to_string(), labels, value)
                })
                .collect(),
        )
    }

    /// The values of `name` whose labels include all of `labels`.
    fn matching<'a>(&'a self, name: &'a str, labels: &'a [(&str, &str)]) -> impl Iterator<Item = &'a DebugValue> {
        self.0.iter().filter_map(move |(n, have, value)| {
            let all = labels
                .iter()
                .all(|(k, v)| have.iter().any(|(hk, hv)| hk == k && hv == v));
            (n == name && all).then_some(value)
        })
    }

    /// The sum of the counters `name` with these labels (0 when none was registered).
    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.matching(name, labels)
            .map(|v| match v {
                DebugValue::Counter(c) => *c,
                other => panic!("{name} is not a counter: {other:?}"),
            })
            .sum()
    }

    fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let values: Vec<f64> = self
            .matching(name, labels)
            .map(|v| match v {
                DebugValue::Gauge(g) => g.into_inner(),
                other => panic!("{name} is not a gauge: {other:?}"),
            })
            .collect();
        assert_eq!(values.len(), 1, "one gauge {name} {labels:?}");
        values[0]
    }

    /// Every value recorded into the histograms `name` with these labels.
    fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        self.matching(name, labels)
            .flat_map(|v| match v {
                DebugValue::Histogram(h) => h.iter().map(|x| x.into_inner()).collect::<Vec<_>>(),
                other => panic!("{name} is not a histogram: {other:?}"),
            })
            .collect()
    }
}

/// An emulator with these rate limits holding `METRIC`, and a client limited to `limit`.
async fn emulator_and_client(limits: RateLimits, limit: trophy::RateLimits) -> (Emulator, Client) {
    let emu = Emulator::builder().rate_limits(limits).start().await.unwrap();
    let client = Client::builder()
        .api_key(emu.admin_key())
        .base_url(emu.base_url())
        .rate_limits(limit)
        .build()
        .unwrap();
    client
        .admin()
        .metrics()
        .create([NewMetric::new("Words", METRIC)])
        .send()
        .await
        .unwrap();
    (emu, client)
}

fn event(i: usize) -> BatchEvent {
    BatchEvent::new(METRIC, UserInput::new(format!("user-{}", i % 97)), (1 + i % 5) as f64)
}

/// 10,000 events through the in-memory ingester, against Trophy's rate limits (5 tier-1
/// requests/s, while the client's own limiter allows 8, so Trophy answers some 429s), with 20 %
/// of the answers lost after processing and one event Trophy refuses.
#[tokio::test]
async fn ingester_metrics_count_exactly_what_the_emulator_saw() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);

    let (emu, client) = emulator_and_client(RateLimits::trophy(), trophy::RateLimits::per_second(8.0, 50.0)).await;
    let limited_before = emu.rate_limit_counts().unwrap().rejected[0];
    emu.set_faults(Faults::new(0.2, 503).with_seed(19).after_processing());

    let letters = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = letters.clone();
    let config = IngestConfig::default()
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .on_dead_letter(move |l| sink.lock().unwrap().push(l));
    let ingester = Ingester::new(&client, config).unwrap();
    for i in 0..EVENTS - 1 {
        ingester.send(event(i)).await.unwrap();
        if i == 4_321 {
            ingester
                .send(BatchEvent::new("no-such-metric", "user-1", 1.0))
                .await
                .unwrap();
        }
    }
    // Refused at send: never silent.
    let invalid = ingester
        .try_send(BatchEvent::new(METRIC, "u", f64::NAN))
        .await
        .unwrap_err();
    assert!(matches!(invalid.kind(), IngestErrorKind::Invalid));
    let report = ingester.shutdown(Duration::from_secs(120)).await;
    assert!(report.undelivered.is_empty());
    let closed = ingester.send(event(0)).await.unwrap_err();
    assert_eq!(closed.kind(), IngestErrorKind::Closed);

    let got = Metrics::take(&snapshotter);
    let memory = [("backend", "memory")];
    let counts = emu.event_counts();
    let limited = emu.rate_limit_counts().unwrap();
    let faults = emu.faults_injected();
    println!(
        "emulator: {counts:?}, {faults} faults, 429s {:?}; stats {:?}",
        limited.rejected, report.stats
    );
    assert_eq!(counts.stored, 9_999);

    assert_eq!(got.counter(m::EVENTS_ACCEPTED, &memory), 10_000);
    assert_eq!(got.counter(m::EVENTS_DELIVERED, &memory), 9_999);
    assert_eq!(
        got.counter(
            m::EVENTS_DEAD_LETTERED,
            &[("backend", "memory"), ("reason", "rejected")]
        ),
        1
    );
    assert_eq!(got.counter(m::EVENTS_DEAD_LETTERED, &memory), 1, "no other reason");
    let letters = letters.lock().unwrap();
    assert_eq!((letters.len(), letters[0].kind), (1, DeadLetterKind::Rejected));
    assert!(counts.replayed > 0 && faults > 0, "the lost answers were replayed");
    assert_eq!(got.counter(m::EVENTS_REPLAYED, &memory), counts.replayed);
    assert_eq!(got.gauge(m::QUEUE_DEPTH, &memory), 0.0);
    assert_eq!(got.gauge(m::BATCHES_IN_FLIGHT, &memory), 0.0);
    for (reason, n) in [("invalid", 1), ("closed", 1), ("full", 0), ("unavailable", 0)] {
        assert_eq!(
            got.counter(m::EVENTS_REFUSED, &[("backend", "memory"), ("reason", reason)]),
            n,
            "{reason}"
        );
    }

    // The transport: every 429 Trophy answered, every fault, every request.
    let batch = ("operation", "admin_metrics_batch_events");
    let http_429 = limited.rejected[0] - limited_before;
    assert!(http_429 > 0, "the client's 8/s met Trophy's 5/s");
    assert_eq!(got.counter(m::REQUESTS, &[batch, ("status_class", "429")]), http_429);
    assert_eq!(got.counter(m::REQUESTS, &[("status_class", "429")]), http_429);
    assert_eq!(got.counter(m::REQUESTS, &[batch, ("status_class", "5xx")]), faults);
    assert_eq!(got.counter(m::RETRIES, &[batch, ("reason", "429")]), http_429);
    assert_eq!(got.counter(m::RETRIES, &[batch, ("reason", "5xx")]), faults);
    assert_eq!(got.counter(m::RETRIES, &[batch]), report.stats.retried);
    assert_eq!(got.counter(m::REQUESTS, &[batch]), report.stats.requests);
    assert_eq!(
        got.histogram(m::REQUEST_DURATION, &[batch, ("api", "admin")]).len() as u64,
        report.stats.requests
    );
    assert!(
        got.counter(m::REQUESTS, &[batch, ("status_class", "4xx")]) >= 10,
        "bisection"
    );

    // Batches and latency: every event taken once, every delivered one timed.
    let sizes = got.histogram(m::BATCH_SIZE, &memory);
    assert_eq!(sizes.iter().sum::<f64>(), 10_000.0);
    assert!(sizes.iter().all(|s| (1.0..=1000.0).contains(s)), "{sizes:?}");
    let latency = got.histogram(m::DELIVERY_LATENCY, &memory);
    assert_eq!(latency.len(), 9_999);
    assert!(latency.iter().all(|s| *s >= 0.0 && *s < 120.0));
    // The pacer's rate at the last request: the configured 8/s less its 6 % margin at most,
    // lower while it recovers from the 429s.
    let rate = got.gauge(m::RATE_LIMIT_RATE, &[("limiter", "tier1")]);
    assert!(rate > 0.0 && rate <= 8.0 * 0.94 + 1e-9, "pacer rate {rate}");
    // One token per request of the ingester, and one for the metric's creation.
    assert_eq!(
        got.histogram(m::RATE_LIMIT_WAIT, &[("limiter", "tier1")]).len() as u64,
        report.stats.requests + 1
    );
}

#[cfg(feature = "outbox")]
#[tokio::test]
async fn outbox_metrics_count_exactly_what_the_emulator_saw() {
    use trophy::ingest::outbox::OutboxConfig;

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);

    let (emu, client) = emulator_and_client(
        RateLimits::per_second(100.0, 100.0),
        trophy::RateLimits::per_second(100.0, 100.0),
    )
    .await;
    emu.set_faults(Faults::new(0.2, 503).with_seed(7).after_processing());
    let dir = std::env::temp_dir().join(format!("trophy-metrics-outbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("outbox.sqlite");
    let _ = std::fs::remove_file(&path);
    let delivery = IngestConfig::default()
        .max_batch(500)
        .linger(Duration::from_millis(20))
        .backoff(Duration::from_millis(20), Duration::from_millis(200));
    let outbox = Ingester::builder(&client)
        .config(delivery)
        .outbox(OutboxConfig::new(&path))
        .build()
        .await
        .unwrap();
    let mut bytes = 0;
    for i in 0..3_000 {
        outbox.send(event(i)).await.unwrap();
        if i == 1_234 {
            outbox
                .send(BatchEvent::new("no-such-metric", "user-1", 1.0))
                .await
                .unwrap();
        }
        if i == 2_000 {
            bytes = outbox.stats().backend.outbox().unwrap().stored_bytes;
        }
    }
    let invalid = outbox.try_send(BatchEvent::new(METRIC, "", 1.0)).await.unwrap_err();
    assert_eq!(invalid.kind(), IngestErrorKind::Invalid);
    outbox.flush().await.unwrap();
    let report = outbox.shutdown(Duration::from_secs(30)).await;
    assert_eq!((report.stats.delivered, report.left_in_store), (3_000, 0));
    let stats = outbox.stats();

    let got = Metrics::take(&snapshotter);
    let outbox_label = [("backend", "outbox")];
    let counts = emu.event_counts();
    let faults = emu.faults_injected();
    println!("emulator: {counts:?}, {faults} faults; stats {stats:?}; {bytes} bytes at 2,000");
    assert_eq!(counts.stored, 3_000);
    assert_eq!(got.counter(m::EVENTS_ACCEPTED, &outbox_label), 3_001);
    assert_eq!(
        got.counter(m::EVENTS_REFUSED, &[("backend", "outbox"), ("reason", "invalid")]),
        1
    );
    assert_eq!(got.counter(m::EVENTS_DELIVERED, &outbox_label), 3_000);
    assert_eq!(
        got.counter(
            m::EVENTS_DEAD_LETTERED,
            &[("backend", "outbox"), ("reason", "rejected")]
        ),
        1
    );
    assert!(counts.replayed > 0 && faults > 0);
    assert_eq!(got.counter(m::EVENTS_REPLAYED, &outbox_label), counts.replayed);
    assert_eq!(got.gauge(m::QUEUE_DEPTH, &outbox_label), 0.0);
    assert_eq!(got.gauge(m::QUEUE_BYTES, &outbox_label), 0.0);
    assert!(bytes > 0, "the outbox held bytes while sending");
    assert_eq!(
        got.counter(
            m::REQUESTS,
            &[("operation", "admin_metrics_batch_events"), ("status_class", "5xx")]
        ),
        faults
    );
    assert_eq!(got.histogram(m::BATCH_SIZE, &outbox_label).iter().sum::<f64>(), 3_001.0);
    assert_eq!(got.histogram(m::DELIVERY_LATENCY, &outbox_label).len(), 3_000);
    drop(outbox);
    let _ = std::fs::remove_dir_all(&dir);
}
