//! Batching ingestion at Trophy's real limit, offline: the built-in emulator enforces Trophy's
//! rate limits (5 tier-1 requests/s), and an `Ingester` delivers 20,000 events from 500 users
//! in batches of up to 1,000, about 5,000 events per second. One malformed event is isolated
//! and dead-lettered; the emulator's totals are then compared with what was sent.
//!
//! The ingester here keeps its queue in memory. `ingest_outbox.rs` (a durable file) and
//! `ingest_fleet.rs` (a Redis fleet) make the same calls on the same `Ingester`; only how it
//! is built differs.
//!
//! ```sh
//! cargo run --example ingest
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use trophy::api::admin::events::BatchEvent;
use trophy::api::admin::metrics::NewMetric;
use trophy::ingest::{IngestConfig, Ingester};
use trophy::{Client, UserInput};
use trophy_emulator::{Emulator, RateLimits};

const METRIC: &str = "lessons-completed";
const EVENTS: usize = 20_000;
const USERS: usize = 500;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("ingest example failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder().rate_limits(RateLimits::trophy()).start().await?;
    println!("emulator with Trophy's rate limits at {}", emulator.base_url());
    // The client's rate limit makes every tier-1 call of this client, the ingester's batches
    // included, share one budget of 5 requests per second.
    let client = Client::builder()
        .api_key(emulator.admin_key())
        .base_url(emulator.base_url())
        .rate_limits(trophy::RateLimits::trophy())
        .build()?;
    client
        .admin()
        .metrics()
        .create([NewMetric::new("Lessons", METRIC)])
        .send()
        .await?;

    let (letters_tx, mut letters) = tokio::sync::mpsc::unbounded_channel();
    let config = IngestConfig::default().on_dead_letter(move |letter| {
        let _ = letters_tx.send(letter);
    });
    // In memory (the default backend).
    let ingester = Ingester::builder(&client).config(config).build().await?;

    let started = Instant::now();
    let mut sent: BTreeMap<String, f64> = BTreeMap::new();
    for i in 0..EVENTS {
        let user = format!("learner-{}", i % USERS);
        *sent.entry(user.clone()).or_default() += 1.0;
        // Waits whenever the queue is full: memory stays bounded by its capacity.
        ingester
            .send(BatchEvent::new(METRIC, UserInput::new(user), 1.0))
            .await?;
        if i == 12_345 {
            // Trophy refuses this one (no such metric); the 999 events around it still count.
            ingester
                .send(BatchEvent::new("no-such-metric", "learner-0", 1.0))
                .await?;
        }
    }
    ingester.flush().await?; // everything sent so far is delivered or dead-lettered
    let report = ingester.shutdown(Duration::from_secs(30)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let stats = &report.stats;
    println!(
        "delivered {} events in {elapsed:.1} s ({:.0}/s) with {} requests; {} retried, {} dead-lettered, {} undelivered",
        stats.delivered,
        stats.delivered as f64 / elapsed,
        stats.requests,
        stats.retried,
        stats.dead_lettered,
        report.undelivered.len(),
    );
    while let Ok(letter) = letters.try_recv() {
        println!(
            "dead letter: metric {:?} for {}: {:?} {}",
            letter.event.key, letter.event.user.id, letter.status, letter.message
        );
    }

    let held: BTreeMap<String, f64> = emulator
        .metric_totals()
        .into_iter()
        .filter(|t| t.metric == METRIC)
        .map(|t| (t.user_id, t.total))
        .collect();
    let counts = emulator.event_counts();
    println!(
        "emulator holds {} events for {} users; totals match what was sent: {}",
        counts.stored,
        held.len(),
        held == sent
    );
    if held != sent || !report.undelivered.is_empty() {
        return Err("the emulator does not hold what was sent".into());
    }
    Ok(())
}
