//! The fleet's metrics (trophy's `metrics` feature) against a real `redis-server` and the
//! emulator with 20 % of its answers lost: exact counts from `metrics-util`'s debugging
//! recorder, compared with what the emulator and Redis saw. Producer and worker run in this
//! process, on the test's current-thread runtime, with the recorder installed for this thread
//! only (so no other test sees it, and no global recorder is needed).

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::{CompositeKey, MetricKind};
use redis::AsyncCommands;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use trophy::api::admin::events::BatchEvent;
use trophy::ingest::fleet::FleetConfig;
use trophy::ingest::{IngestConfig, IngestErrorKind, Ingester};
use trophy::observability as m;
use trophy::Client;
use trophy_bench::durable::{event, METRIC};
use trophy_bench::redis_server::RedisServer;
use trophy_emulator::{Emulator, Faults, RateLimits, Seed};

const EVENTS: u64 = 3_000;
/// Entries a consumer reads and never acknowledges (a worker that died).
const ORPHANS: usize = 100;

type Values = HashMap<CompositeKey, (Option<metrics::Unit>, Option<metrics::SharedString>, DebugValue)>;

/// The value of `name` with exactly these labels, in this order.
fn value<'a>(values: &'a Values, kind: MetricKind, name: &str, labels: &[(&str, &str)]) -> Option<&'a DebugValue> {
    let labels: Vec<metrics::Label> = labels
        .iter()
        .map(|(k, v)| metrics::Label::new(k.to_string(), v.to_string()))
        .collect();
    let key = CompositeKey::new(kind, metrics::Key::from_parts(name.to_string(), labels));
    values.get(&key).map(|(_, _, v)| v)
}

fn counter(values: &Values, name: &str, labels: &[(&str, &str)]) -> u64 {
    match value(values, MetricKind::Counter, name, labels) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name} {labels:?}: {other:?}"),
    }
}

fn gauge(values: &Values, name: &str, labels: &[(&str, &str)]) -> f64 {
    match value(values, MetricKind::Gauge, name, labels) {
        Some(DebugValue::Gauge(g)) => g.into_inner(),
        other => panic!("{name} {labels:?}: {other:?}"),
    }
}

fn histogram(values: &Values, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
    match value(values, MetricKind::Histogram, name, labels) {
        Some(DebugValue::Histogram(h)) => h.iter().map(|x| x.into_inner()).collect(),
        other => panic!("{name} {labels:?}: {other:?}"),
    }
}

#[tokio::test]
async fn fleet_metrics_count_exactly_what_the_emulator_and_redis_saw() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);

    let redis = RedisServer::start().unwrap();
    let emu = Emulator::builder()
        .seed(Seed::empty().with_metric(METRIC, "Words"))
        .rate_limits(RateLimits::per_second(100.0, 100.0))
        .start()
        .await
        .unwrap();
    emu.set_faults(Faults::new(0.2, 503).with_seed(3).after_processing());
    let config = FleetConfig::new(redis.url())
        .budget(50.0, 5)
        .claim_idle(Duration::from_millis(500));
    let delivery = IngestConfig::default()
        .max_batch(500)
        .capacity(1_000)
        .max_in_flight(1)
        .linger(Duration::from_millis(20))
        .backoff(Duration::from_millis(20), Duration::from_millis(200));

    let client = Client::builder()
        .api_key(emu.admin_key())
        .base_url(emu.base_url())
        .build()
        .unwrap();
    let producer = Ingester::builder(&client).fleet(config.clone()).build().await.unwrap();
    for i in 0..EVENTS {
        producer.send(event(i)).await.unwrap();
        if i == 1_234 {
            producer
                .send(BatchEvent::new("no-such-metric", "u1", 1.0))
                .await
                .unwrap();
        }
    }
    let invalid = producer
        .try_send(BatchEvent::new(METRIC, "u1", f64::INFINITY))
        .await
        .unwrap_err();
    assert_eq!(invalid.kind(), IngestErrorKind::Invalid);

    // A consumer that reads entries and dies: the worker takes them over after claim_idle.
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = conn
        .xgroup_create_mkstream(&config.stream, &config.group, "0")
        .await
        .unwrap();
    let orphaned: redis::streams::StreamReadReply = conn
        .xread_options(
            &[&config.stream],
            &[">"],
            &redis::streams::StreamReadOptions::default()
                .group(&config.group, "dead-worker")
                .count(ORPHANS),
        )
        .await
        .unwrap();
    assert_eq!(orphaned.keys[0].ids.len(), ORPHANS);

    let worker = Ingester::builder(&client)
        .config(delivery)
        .fleet(config.clone())
        .worker()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while emu.event_counts().stored < EVENTS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The dead letter is acknowledged too, once its batch is done.
    loop {
        let length: u64 = conn.xlen(&config.stream).await.unwrap();
        if length == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats = worker.shutdown(Duration::from_secs(10)).await.stats;
    let dead: u64 = conn.xlen(format!("{}:dead", config.stream)).await.unwrap();

    let got = snapshotter.snapshot().into_hashmap();
    let fleet = [("backend", "fleet")];
    let counts = emu.event_counts();
    let faults = emu.faults_injected();
    println!("emulator: {counts:?}, {faults} faults; worker {stats:?}");
    assert_eq!((counts.stored, stats.delivered, dead), (EVENTS, EVENTS, 1));
    assert_eq!(counter(&got, m::EVENTS_ACCEPTED, &fleet), EVENTS + 1);
    assert_eq!(
        counter(&got, m::EVENTS_REFUSED, &[("backend", "fleet"), ("reason", "invalid")]),
        1
    );
    assert_eq!(counter(&got, m::EVENTS_DELIVERED, &fleet), EVENTS);
    assert_eq!(
        counter(
            &got,
            m::EVENTS_DEAD_LETTERED,
            &[("backend", "fleet"), ("reason", "rejected")]
        ),
        1
    );
    assert!(counts.replayed > 0 && faults > 0);
    assert_eq!(counter(&got, m::EVENTS_REPLAYED, &fleet), counts.replayed);
    assert_eq!(counter(&got, m::FLEET_TAKEOVERS, &[]), ORPHANS as u64);
    assert_eq!(gauge(&got, m::QUEUE_DEPTH, &fleet), 0.0, "pending entries");
    assert_eq!(gauge(&got, m::BATCHES_IN_FLIGHT, &fleet), 0.0);
    assert_eq!(
        histogram(&got, m::BATCH_SIZE, &fleet).iter().sum::<f64>(),
        (EVENTS + 1) as f64
    );
    let latency = histogram(&got, m::DELIVERY_LATENCY, &fleet);
    assert_eq!(latency.len() as u64, EVENTS);
    assert!(latency.iter().all(|s| (0.0..60.0).contains(s)), "from the XADD time");
    // The fleet's pacing rate: the configured 50/s less the 6 % margin at most.
    let rate = gauge(&got, m::RATE_LIMIT_RATE, &[("limiter", "fleet")]);
    assert!(rate > 0.0 && rate <= 50.0 * 0.94 + 1e-9, "fleet rate {rate}");
    assert_eq!(
        histogram(&got, m::RATE_LIMIT_WAIT, &[("limiter", "fleet")]).len() as u64,
        stats.requests
    );
    let batch = ("operation", "admin_metrics_batch_events");
    assert_eq!(
        counter(&got, m::REQUESTS, &[batch, ("api", "admin"), ("status_class", "5xx")]),
        faults
    );
    assert_eq!(counter(&got, m::RETRIES, &[batch, ("reason", "5xx")]), faults);
}
