//! The fleet over TLS: a real `redis-server` with `--tls-port` only, certificates made in the
//! test (rcgen), mutual TLS required. The fleet's scenarios (a worker killed, Redis restarted
//! on its AOF) keep every event once; a wrong CA, no client certificate or a plain URL fail
//! with a clear error and nothing in plain text.

use std::path::Path;
use std::time::Duration;
use trophy::api::admin::events::BatchEvent;
use trophy::ingest::fleet::{FleetConfig, WhenUnavailable};
use trophy::ingest::{IngestError, IngestErrorKind, Ingester};
use trophy_bench::durable::{fleet_run_on, Fault, FleetPlan, RedisArgs};
use trophy_bench::redis_server::{RedisServer, TlsMaterial};
use trophy_emulator::RateLimits;

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_trophy-bench"))
}

async fn producer(config: FleetConfig) -> Result<Ingester, IngestError> {
    Ingester::fleet_producer(config.when_unavailable(WhenUnavailable::Fail)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_mutual_tls_a_killed_worker_and_a_restarted_redis_lose_nothing() {
    let material = TlsMaterial::generate().unwrap();
    let mut redis = RedisServer::builder().tls(&material, true).durable().start().unwrap();
    assert!(redis.url().starts_with("rediss://127.0.0.1:"), "{}", redis.url());
    let files = redis.tls_files().unwrap().clone();
    let args = RedisArgs {
        redis: vec![redis.url()],
        redis_ca: Some(files.ca.clone()),
        redis_cert: Some(files.client_cert.clone()),
        redis_key: Some(files.client_key.clone()),
        ..RedisArgs::default()
    };
    let plan = FleetPlan {
        producers: 4,
        workers: 2,
        per_producer: 5_000,
        rate: 1_500.0,
        kill_worker_after: Some(Duration::from_millis(2_000)),
        restart_redis_after: None,
        claim_idle: Duration::from_secs(3),
        limit: Duration::from_secs(120),
    };
    let restart: Fault<'_> = Box::new(|| redis.restart());
    let r = fleet_run_on(
        exe(),
        &plan,
        RateLimits::trophy(),
        &args,
        None,
        Some((Duration::from_millis(3_000), restart)),
    )
    .await
    .unwrap();
    println!("fleet run over TLS: {r:?}");
    assert_eq!((r.kills, r.redis_restarts), (1, 1));
    assert_eq!((r.delivered, r.lost, r.duplicated), (20_000, 0, 0));
    assert!(r.totals_match);
}

#[tokio::test]
async fn a_certificate_that_does_not_verify_fails_clearly_and_never_in_plain_text() {
    let material = TlsMaterial::generate().unwrap();
    let redis = RedisServer::builder().tls(&material, true).start().unwrap();
    let url = redis.url();
    let client_cert = || (material.client_cert_pem().to_vec(), material.client_key_pem().to_vec());

    // The right CA and a client certificate: events go in.
    let (cert, key) = client_cert();
    let good = FleetConfig::new(&url)
        .ca_certificate(material.ca_pem().to_vec())
        .client_certificate(cert, key);
    let ok = producer(good).await.unwrap();
    assert!(!ok.send(BatchEvent::new("words", "u1", 1.0)).await.unwrap().is_empty());
    let report = ok.shutdown(Duration::from_millis(200)).await;
    assert_eq!(report.left_in_store, 1, "the event is in the stream, over TLS");

    // A CA that did not sign the server's certificate.
    let (cert, key) = client_cert();
    let wrong = FleetConfig::new(&url)
        .ca_certificate(material.wrong_ca_pem().to_vec())
        .client_certificate(cert, key);
    let e = producer(wrong).await.unwrap_err();
    assert_eq!(e.kind(), IngestErrorKind::Unavailable, "{e}");
    assert!(
        e.message().contains("did not verify") && e.message().contains(&redis.port().to_string()),
        "{e}"
    );

    // The platform's roots do not hold the test CA either.
    let (cert, key) = client_cert();
    let e = producer(FleetConfig::new(&url).client_certificate(cert, key))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), IngestErrorKind::Unavailable, "{e}");
    assert!(e.message().contains("did not verify"), "{e}");

    // The server requires a client certificate: without one, no connection.
    let e = producer(FleetConfig::new(&url).ca_certificate(material.ca_pem().to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), IngestErrorKind::Unavailable, "{e}");

    // TLS settings with a plain URL: refused before any byte is sent.
    let plain = url.replacen("rediss://", "redis://", 1);
    let e = producer(FleetConfig::new(&plain).ca_certificate(material.ca_pem().to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), IngestErrorKind::Config, "{e}");
    assert!(e.message().contains("never falls back to plain text"), "{e}");

    // A CA file that is not there.
    let e = producer(FleetConfig::new(&url).ca_certificate_file("/nonexistent/ca.pem"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), IngestErrorKind::Config, "{e}");
    assert!(e.message().contains("/nonexistent/ca.pem"), "{e}");
}
