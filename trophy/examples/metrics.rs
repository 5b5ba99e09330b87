//! The SDK's metrics in Prometheus, offline: the built-in emulator enforces Trophy's rate
//! limits (5 tier-1 requests/s), an `Ingester` delivers 10,000 events, and a Prometheus
//! exporter (`metrics-exporter-prometheus`) serves the metrics on a loopback port. At the end
//! the example fetches one scrape over HTTP, as Prometheus would, prints it, and checks that
//! its delivered-events counter equals the events sent.
//!
//! ```sh
//! cargo run -p trophy --example metrics --features metrics
//! ```

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use trophy::api::admin::events::BatchEvent;
use trophy::api::admin::metrics::NewMetric;
use trophy::ingest::{IngestConfig, Ingester};
use trophy::{Client, RateLimits, UserInput};
use trophy_emulator::Emulator;

const METRIC: &str = "lessons-completed";
const EVENTS: u64 = 10_000;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("metrics example failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The application installs a recorder, before building clients and ingesters. Here:
    //    Prometheus, listening on a free loopback port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(([127, 0, 0, 1], port))
        .install()?;
    trophy::observability::describe();
    println!("Prometheus exporter on http://127.0.0.1:{port}/metrics");

    // 2. The SDK as usual: every call and every queued event is now measured.
    let emulator = Emulator::builder().rate_limits(RateLimits::trophy()).start().await?;
    let client = Client::builder()
        .api_key(emulator.admin_key())
        .base_url(emulator.base_url())
        .rate_limits(RateLimits::trophy())
        .build()?;
    client
        .admin()
        .metrics()
        .create([NewMetric::new("Lessons", METRIC)])
        .send()
        .await?;
    let ingester = Ingester::new(&client, IngestConfig::default())?;
    for i in 0..EVENTS {
        let user = UserInput::new(format!("learner-{}", i % 300));
        ingester.send(BatchEvent::new(METRIC, user, 1.0)).await?;
    }
    let report = ingester.shutdown(Duration::from_secs(30)).await;
    println!(
        "sent {EVENTS} events: {} delivered with {} requests, {} undelivered",
        report.stats.delivered,
        report.stats.requests,
        report.undelivered.len()
    );

    // 3. One scrape, over HTTP from the exporter's listener.
    let scrape = scrape(port).await?;
    println!("\n---- GET /metrics ----\n{scrape}---- end of scrape ----\n");
    let name = trophy::observability::EVENTS_DELIVERED.replace('.', "_");
    let delivered = scrape
        .lines()
        .find(|l| l.starts_with(&format!("{name}{{backend=\"memory\"}}")))
        .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .ok_or("no delivered-events counter in the scrape")?;
    println!("{name}{{backend=\"memory\"}} = {delivered}; events sent: {EVENTS}");
    if delivered != EVENTS {
        return Err("the delivered-events counter is not the number of events sent".into());
    }
    Ok(())
}

/// `GET /metrics` from the exporter, with a plain HTTP/1.1 request over TCP.
async fn scrape(port: u16) -> Result<String, Box<dyn std::error::Error>> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream
        .write_all(format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").as_bytes())
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("the exporter answered {:?}", head.lines().next()).into());
    }
    Ok(body.to_string())
}
