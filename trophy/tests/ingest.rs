//! The batching ingester against the emulator over loopback: every test compares what it sent
//! with what the emulator holds.

mod common;

use common::Capture;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use trophy::api::admin::events::BatchEvent;
use trophy::api::admin::metrics::NewMetric;
use trophy::ingest::{DeadLetter, DeadLetterKind, IngestConfig, IngestErrorKind, Ingester};
use trophy::{Client, UserInput};
use trophy_emulator::{Emulator, Faults, RateLimits};

const METRIC: &str = "words-written";

/// An emulator holding `METRIC`, with rate limits (fast ones unless a test needs Trophy's).
async fn emulator(limits: RateLimits) -> (Emulator, Client) {
    let emu = Emulator::builder().rate_limits(limits).start().await.unwrap();
    let client = client_for(
        &emu,
        trophy::RateLimits::per_second(limits.tier1_per_second, limits.tier2_per_second),
    );
    client
        .admin()
        .metrics()
        .create([NewMetric::new("Words", METRIC)])
        .send()
        .await
        .unwrap();
    (emu, client)
}

fn client_for(emu: &Emulator, limit: trophy::RateLimits) -> Client {
    Client::builder()
        .api_key(emu.admin_key())
        .base_url(emu.base_url())
        .rate_limits(limit)
        .build()
        .unwrap()
}

fn fast() -> RateLimits {
    RateLimits::per_second(100.0, 100.0)
}

/// Short backoffs and linger, so failures are ridden out quickly.
fn config() -> IngestConfig {
    IngestConfig::default()
        .linger(Duration::from_millis(10))
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
}

/// Event `i`: user `user-{i % users}`, value `1 + i % 7`.
fn event(i: usize, users: usize) -> BatchEvent {
    BatchEvent::new(
        METRIC,
        UserInput::new(format!("user-{}", i % users)),
        (1 + i % 7) as f64,
    )
}

/// The totals the emulator should hold for events `range`, by user.
fn expected(range: std::ops::Range<usize>, users: usize) -> BTreeMap<String, (u64, f64)> {
    let mut m = BTreeMap::new();
    for i in range {
        let e = event(i, users);
        let entry = m.entry(e.user.id.clone()).or_insert((0, 0.0));
        entry.0 += 1;
        entry.1 += e.value;
    }
    m
}

/// What the emulator holds for `METRIC`, by user: (events, total).
fn held(emu: &Emulator) -> BTreeMap<String, (u64, f64)> {
    emu.metric_totals()
        .into_iter()
        .filter(|t| t.metric == METRIC)
        .map(|t| (t.user_id, (t.events, t.total)))
        .collect()
}

fn collect_dead_letters(cfg: IngestConfig) -> (IngestConfig, Arc<Mutex<Vec<DeadLetter>>>) {
    let letters = Arc::new(Mutex::new(Vec::new()));
    let sink = letters.clone();
    (cfg.on_dead_letter(move |l| sink.lock().unwrap().push(l)), letters)
}

#[tokio::test]
async fn flush_delivers_everything_queued_in_full_batches() {
    let (emu, client) = emulator(fast()).await;
    let ingester = Ingester::new(&client, config()).unwrap();
    for i in 0..2_500 {
        ingester.send(event(i, 40)).await.unwrap();
    }
    ingester.flush().await.unwrap();
    let stats = ingester.stats();
    assert_eq!(
        (stats.enqueued, stats.delivered, stats.dead_lettered),
        (2_500, 2_500, 0)
    );
    assert_eq!((stats.queued, stats.in_flight), (0, 0));
    // 2,500 events need at least 3 requests; lingering makes a few more, never one per event.
    assert!((3..=30).contains(&stats.requests), "{stats:?}");
    assert_eq!(held(&emu), expected(0..2_500, 40));
    assert_eq!(emu.event_counts().stored, 2_500);
    assert_eq!(emu.event_counts().replayed, 0);
    let report = ingester.shutdown(Duration::from_secs(5)).await;
    assert!(report.undelivered.is_empty());
}

#[tokio::test]
async fn a_full_queue_hands_the_event_back_and_send_waits_for_space() {
    let (emu, client) = emulator(fast()).await;
    // Every request fails before processing: nothing leaves, so the queue stays full.
    emu.set_faults(Faults::new(1.0, 503));
    let ingester = Ingester::new(&client, config().capacity(1_000).max_batch(500)).unwrap();
    for i in 0..1_000 {
        ingester.try_send(event(i, 10)).await.unwrap();
    }
    let refused = ingester.try_send(event(1_000, 10)).await.unwrap_err();
    assert_eq!(refused.kind(), IngestErrorKind::Full);
    let back = refused.into_event().unwrap();
    assert_eq!(back, event(1_000, 10), "handed back unchanged, without a key");
    // The async send waits while the queue is full...
    let waiting = tokio::spawn({
        let ingester = ingester.clone();
        async move { ingester.send(back).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished());
    assert_eq!(emu.event_counts().stored, 0);
    // ...and goes through once Trophy is back and space frees up.
    emu.set_faults(Faults::none());
    waiting.await.unwrap().unwrap();
    ingester.flush().await.unwrap();
    assert_eq!(held(&emu), expected(0..1_001, 10));
    assert!(ingester.stats().retried > 0);
}

#[tokio::test]
async fn shutdown_reports_what_it_could_not_deliver_by_the_deadline() {
    let (emu, client) = emulator(fast()).await;
    let ingester = Ingester::new(&client, config()).unwrap();
    for i in 0..200 {
        ingester.send(event(i, 10)).await.unwrap();
    }
    ingester.flush().await.unwrap();
    emu.set_faults(Faults::new(1.0, 503));
    for i in 200..500 {
        ingester.send(event(i, 10)).await.unwrap();
    }
    let started = Instant::now();
    let report = ingester.shutdown(Duration::from_millis(300)).await;
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(report.undelivered.len(), 300);
    assert_eq!(report.stats.delivered, 200);
    assert!(report.undelivered.iter().all(|e| e.idempotency_key.is_some()));
    assert_eq!(held(&emu), expected(0..200, 10));
    // Intake is closed, and a flush does not wait for what shutdown gave up.
    let closed = ingester.send(event(0, 10)).await.unwrap_err();
    assert_eq!(closed.kind(), IngestErrorKind::Closed);
    tokio::time::timeout(Duration::from_secs(1), ingester.flush())
        .await
        .expect("flush returns after shutdown")
        .unwrap();
    // Sent again later with their keys, they count once.
    emu.set_faults(Faults::none());
    let again = Ingester::new(&client, config()).unwrap();
    for e in report.undelivered {
        again.send(e).await.unwrap();
    }
    assert!(again.shutdown(Duration::from_secs(5)).await.undelivered.is_empty());
    assert_eq!(held(&emu), expected(0..500, 10));
}

#[tokio::test]
async fn a_partial_batch_waits_for_the_linger_time() {
    let (emu, client) = emulator(fast()).await;
    let ingester = Ingester::new(&client, config().linger(Duration::from_millis(400))).unwrap();
    for i in 0..10 {
        ingester.send(event(i, 3)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(emu.event_counts().stored, 0, "still lingering");
    assert_eq!(ingester.stats().queued, 10);
    assert!(ingester.stats().oldest_queued_age.unwrap() >= Duration::from_millis(150));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(held(&emu), expected(0..10, 3));
    assert_eq!(ingester.stats().requests, 1, "one batch");
}

#[tokio::test]
async fn a_refused_batch_is_bisected_and_only_the_bad_events_are_dead_lettered() {
    let (emu, client) = emulator(fast()).await;
    let (cfg, letters) = collect_dead_letters(config());
    let ingester = Ingester::new(&client, cfg).unwrap();
    let unknown_metric = BatchEvent::new("no-such-metric", "user-x", 1.0);
    let bad_email = BatchEvent::new(METRIC, UserInput::new("user-y").email("not-an-email"), 1.0);
    for i in 0..100 {
        ingester.send(event(i, 8)).await.unwrap();
        if i == 17 {
            ingester.send(unknown_metric.clone()).await.unwrap();
        }
        if i == 70 {
            ingester.send(bad_email.clone()).await.unwrap();
        }
    }
    ingester.flush().await.unwrap();
    let stats = ingester.stats();
    assert_eq!((stats.delivered, stats.dead_lettered), (100, 2), "{stats:?}");
    assert!(stats.bisections >= 2);
    let mut letters = letters.lock().unwrap().clone();
    letters.sort_by_key(|l| l.status);
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[0].kind, DeadLetterKind::Rejected);
    assert_eq!(
        (letters[0].status, letters[0].event.key.as_str()),
        (Some(404), "no-such-metric")
    );
    assert!(letters[0].message.contains("no-such-metric"), "{}", letters[0].message);
    assert_eq!(
        (letters[1].status, letters[1].event.user.id.as_str()),
        (Some(422), "user-y")
    );
    assert!(letters[1].message.contains("email"), "{}", letters[1].message);
    assert_eq!(held(&emu), expected(0..100, 8), "the good events, each once");
}

#[tokio::test]
async fn a_429_storm_is_ridden_out_without_loss_or_duplicates() {
    // The emulator allows 10 tier-1 requests/s; this ingester ignores the budget and keeps 8
    // requests in flight, so it meets 429s with Retry-After and must wait them out.
    let (emu, client) = emulator(RateLimits::per_second(10.0, 50.0)).await;
    let cfg = config().rate_limited(false).max_batch(50).max_in_flight(8);
    let unlimited = Client::builder()
        .api_key(emu.admin_key())
        .admin_url(emu.admin_url())
        .api_url(emu.app_url())
        .build()
        .unwrap();
    drop(client);
    let ingester = Ingester::new(&unlimited, cfg).unwrap();
    for i in 0..1_500 {
        ingester.send(event(i, 25)).await.unwrap();
    }
    ingester.flush().await.unwrap();
    let stats = ingester.stats();
    let limited = emu.rate_limit_counts().unwrap();
    assert!(stats.http_429 > 0, "{stats:?}");
    assert_eq!(stats.http_429, limited.rejected[0]);
    assert_eq!((stats.delivered, stats.dead_lettered), (1_500, 0));
    assert_eq!(held(&emu), expected(0..1_500, 25));
    assert_eq!(emu.event_counts().replayed, 0, "a 429 was never processed");
}

#[tokio::test]
async fn lost_responses_are_retried_and_counted_once() {
    let (emu, client) = emulator(fast()).await;
    emu.set_faults(Faults::new(0.3, 503).with_seed(11).after_processing());
    let ingester = Ingester::new(&client, config().max_batch(200)).unwrap();
    for i in 0..3_000 {
        ingester.send(event(i, 50)).await.unwrap();
    }
    ingester.flush().await.unwrap();
    let stats = ingester.stats();
    assert_eq!((stats.delivered, stats.dead_lettered), (3_000, 0));
    assert!(stats.retried > 0 && emu.faults_injected() > 0);
    let counts = emu.event_counts();
    assert_eq!(counts.stored, 3_000);
    assert!(
        counts.replayed >= 200,
        "every lost batch came back as replays: {counts:?}"
    );
    assert_eq!(held(&emu), expected(0..3_000, 50));
}

#[tokio::test]
async fn events_past_the_give_up_age_are_dead_lettered() {
    let (emu, client) = emulator(fast()).await;
    emu.set_faults(Faults::new(1.0, 503));
    let (cfg, letters) = collect_dead_letters(config().give_up_after(Duration::from_millis(400)));
    let ingester = Ingester::new(&client, cfg).unwrap();
    for i in 0..20 {
        ingester.send(event(i, 4)).await.unwrap();
    }
    let started = Instant::now();
    ingester.flush().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
    let letters = letters.lock().unwrap().clone();
    assert_eq!(letters.len(), 20);
    assert!(letters
        .iter()
        .all(|l| l.kind == DeadLetterKind::GaveUp && l.age >= Duration::from_millis(300)));
    assert!(letters[0].message.contains("503"), "{}", letters[0].message);
    assert_eq!(ingester.stats().dead_lettered, 20);
    assert_eq!(emu.event_counts().stored, 0);
}

#[tokio::test]
async fn bad_events_are_refused_at_send() {
    let (emu, client) = emulator(fast()).await;
    let ingester = Ingester::new(&client, config()).unwrap();
    let cases = [
        BatchEvent::new(METRIC, "u", f64::NAN),
        BatchEvent::new("", "u", 1.0),
        BatchEvent::new(METRIC, " ", 1.0),
        BatchEvent::new(METRIC, "u", 1.0).idempotency_key(""),
    ];
    let mut fields: Vec<String> = Vec::new();
    for e in cases {
        let e = ingester.try_send(e).await.unwrap_err();
        match (e.kind(), e.invalid_input()) {
            (IngestErrorKind::Invalid, Some(i)) => fields.push(i.field.clone()),
            _ => panic!("{e:?}"),
        }
    }
    assert_eq!(fields, ["value", "key", "user.id", "idempotency_key"]);
    ingester.send(event(0, 1)).await.unwrap();
    ingester.flush().await.unwrap();
    assert_eq!(held(&emu), expected(0..1, 1));
    assert!(Ingester::new(&client, IngestConfig::default().max_batch(1_001)).is_err());
    assert!(Ingester::new(&client, IngestConfig::default().capacity(10).max_batch(100)).is_err());
}

#[tokio::test]
async fn the_ingester_and_other_tier1_calls_share_the_clients_budget() {
    // 10 tier-1 requests/s on both sides; 10 ingester batches and 10 single events need 20
    // tokens: 10 at once, then 10 more over about a second. Unshared, the 20 requests would go
    // out at once and the emulator would refuse about 10; shared, at most a couple whose request
    // overtook an earlier one on the way (and are retried).
    let (emu, client) = emulator(RateLimits::per_second(10.0, 50.0)).await;
    tokio::time::sleep(Duration::from_secs(1)).await; // the metric creation's token comes back
    let ingester = Ingester::new(&client, config().max_batch(10).linger(Duration::from_millis(1))).unwrap();
    let started = Instant::now();
    let singles = tokio::spawn({
        let client = client.clone();
        async move {
            for _ in 0..10 {
                client.metrics().event(METRIC, "single", 1.0).send().await.unwrap();
            }
        }
    });
    for i in 0..100 {
        ingester.send(event(i, 5)).await.unwrap();
    }
    ingester.flush().await.unwrap();
    singles.await.unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(850), "{elapsed:?}");
    let rejected = emu.rate_limit_counts().unwrap().rejected;
    assert!(rejected[0] <= 2 && rejected[1] == 0, "{rejected:?}");
    let mut want = expected(0..100, 5);
    want.insert("single".into(), (10, 10.0));
    assert_eq!(held(&emu), want);
}

#[tokio::test]
async fn dropping_the_last_handle_still_delivers_what_was_queued() {
    fn shareable<T: Send + Sync + Clone + 'static>(_: &T) {}
    let (emu, client) = emulator(fast()).await;
    // A linger far beyond the test: only the closing of intake sends the batch.
    let ingester = Ingester::new(&client, config().linger(Duration::from_secs(60))).unwrap();
    shareable(&ingester);
    let clone = ingester.clone();
    for i in 0..500 {
        clone.send(event(i, 5)).await.unwrap();
    }
    drop(clone);
    // Dropping a clone closes nothing.
    ingester.send(event(500, 5)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!((ingester.stats().queued, emu.event_counts().stored), (501, 0));
    drop(ingester);
    let deadline = Instant::now() + Duration::from_secs(5);
    while emu.event_counts().stored < 501 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(held(&emu), expected(0..501, 5));
}

#[tokio::test(flavor = "current_thread")]
async fn each_batch_has_a_span_with_its_outcome() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = Capture::install(subscriber);
    let (emu, client) = emulator(fast()).await;
    let ingester = Ingester::new(&client, config()).unwrap();
    for i in 0..10 {
        ingester.send(event(i, 2)).await.unwrap();
    }
    ingester
        .send(BatchEvent::new("no-such-metric", "u", 1.0))
        .await
        .unwrap();
    ingester.flush().await.unwrap();
    assert_eq!(held(&emu), expected(0..10, 2));
    let traces = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let closed: Vec<&str> = traces
        .lines()
        .filter(|l| l.contains("trophy.ingest.batch{") && !l.contains("trophy.call{") && l.contains(" close "))
        .collect();
    assert_eq!(closed.len(), 1, "{traces}");
    for field in ["events=11", "delivered=10", "dead_lettered=1"] {
        assert!(closed[0].contains(field), "{field} missing: {}", closed[0]);
    }
    // 1 request for the batch, then the halves until the bad event is alone.
    let requests: u32 = closed[0]
        .split("requests=")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(u64::from(requests), ingester.stats().requests);
    assert!(requests >= 5, "{requests}");
    assert!(traces.contains("events dead-lettered"), "{traces}");
}
