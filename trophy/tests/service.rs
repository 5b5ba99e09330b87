//! What a service's set-up and lifecycle code relies on, against the emulator over loopback:
//! `ClientBuilder::from_env`, strict bulk creates, `ensure`, `Ingester::flush_within`.

use std::time::Duration;
use tokio::time::Instant;
use trophy::api::admin::events::BatchEvent;
use trophy::api::admin::metrics::NewMetric;
use trophy::ingest::{IngestConfig, Ingester};
use trophy::{Client, ClientBuilder, RateLimit};
use trophy_emulator::{Emulator, Faults, RateLimits};

fn client_for(emu: &Emulator) -> Client {
    Client::builder()
        .api_key(emu.admin_key())
        .base_url(emu.base_url())
        .build()
        .unwrap()
}

/// The only test of this binary that touches the environment (each test binary is a process).
#[test]
fn from_env_returns_a_builder_of_the_same_variables() {
    for var in ["TROPHY_API_KEY", "TROPHY_API_URL", "TROPHY_ADMIN_URL", "TROPHY_TENANT_ID"] {
        std::env::remove_var(var);
    }
    let e = Client::from_env().unwrap_err();
    assert_eq!(e.to_string(), "invalid client configuration: TROPHY_API_KEY is not set");
    let e = ClientBuilder::from_env().build().unwrap_err();
    assert_eq!(e.to_string(), "invalid client configuration: TROPHY_API_KEY is not set");

    std::env::set_var("TROPHY_API_KEY", "admin_key_from_env");
    std::env::set_var("TROPHY_API_URL", "http://127.0.0.1:9/v1");
    std::env::set_var("TROPHY_ADMIN_URL", "http://127.0.0.1:9/admin/v1");
    let client = ClientBuilder::from_env()
        .rate_limit(RateLimit::trophy_tiers())
        .build()
        .unwrap();
    assert_eq!(client.api_url(), "http://127.0.0.1:9/v1");
    assert_eq!(client.admin_url(), "http://127.0.0.1:9/admin/v1");
    assert!(format!("{client:?}").contains("rate_limited: true"), "{client:?}");
    // A setter after from_env wins.
    let client = ClientBuilder::from_env().api_url("http://127.0.0.1:10/v1").build().unwrap();
    assert_eq!(client.api_url(), "http://127.0.0.1:10/v1");
    assert_eq!(Client::from_env().unwrap().admin_url(), "http://127.0.0.1:9/admin/v1");
}

/// While every request fails, `flush_within` returns by its deadline, says what is pending,
/// and keeps it: once Trophy is back, everything arrives once.
#[tokio::test]
async fn flush_within_returns_by_its_deadline_while_every_request_fails() {
    let emu = Emulator::builder()
        .rate_limits(RateLimits::per_second(100.0, 100.0))
        .start()
        .await
        .unwrap();
    let client = client_for(&emu);
    client
        .admin()
        .metrics()
        .create([NewMetric::new("Lessons", "lessons")])
        .send()
        .await
        .unwrap();
    let ingester = Ingester::new(
        &client,
        IngestConfig::default()
            .linger(Duration::from_millis(10))
            .backoff(Duration::from_millis(20), Duration::from_millis(100)),
    )
    .unwrap();
    emu.set_faults(Faults::new(1.0, 503));
    for i in 0..300 {
        ingester
            .send(BatchEvent::new("lessons", format!("user-{}", i % 7), 1))
            .await
            .unwrap();
    }
    let started = Instant::now();
    let report = ingester.flush_within(Duration::from_millis(400)).await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(report.pending, 300);
    assert_eq!(report.stats.delivered, 0);
    assert_eq!(report.stats.queued + report.stats.in_flight, 300);
    assert!(emu.faults_injected() >= 2, "it kept trying: {}", emu.faults_injected());
    assert_eq!(emu.event_counts().stored, 0);

    // Trophy is back: the same events go through, each once.
    emu.set_faults(Faults::none());
    let report = ingester.flush_within(Duration::from_secs(30)).await;
    assert_eq!(report.pending, 0);
    assert_eq!(report.stats.delivered, 300);
    assert_eq!(emu.event_counts().stored, 300);
    let total: f64 = emu.metric_totals().iter().map(|t| t.total).sum();
    assert_eq!(total, 300.0);
    // Nothing queued: it returns at once.
    assert_eq!(ingester.flush_within(Duration::ZERO).await.pending, 0);
    assert!(ingester.shutdown(Duration::from_secs(5)).await.undelivered.is_empty());
}
