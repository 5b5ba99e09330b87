//! Fleet mode: producers and ingester workers in any number of processes share a Redis Stream
//! and one tier-1 budget in Redis.
//!
//! ```sh
//! redis-server --port 6379 --save '' --appendonly yes --appendfsync always &
//! # One process that produces and delivers, against the built-in emulator:
//! cargo run -p trophy --example ingest_fleet --features redis
//! # Or several: workers in some terminals, producers in others (same REDIS_URL and emulator):
//! cargo run -p trophy --example ingest_fleet --features redis -- worker
//! cargo run -p trophy --example ingest_fleet --features redis -- producer 20000
//! ```
//!
//! REDIS_URL (default `redis://127.0.0.1:6379/`) names Redis. With TROPHY_API_KEY (an admin
//! key; TROPHY_ADMIN_URL to point elsewhere) workers send to Trophy; without, each worker starts
//! its own emulator with Trophy's rate limits (the budget in Redis is shared all the same).

#[path = "support/offline.rs"]
mod offline;

use std::time::{Duration, Instant};
use trophy::api::admin::events::BatchEvent;
use trophy::ingest::fleet::FleetConfig;
use trophy::ingest::Ingester;
use trophy::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let config = FleetConfig::new(redis);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("producer") => {
            let n = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
            // A producer only writes to Redis: it needs no Trophy client.
            produce(config, n).await
        }
        Some("worker") => {
            let (client, _emu) = client().await?;
            let worker = Ingester::builder(&client).fleet(config).worker().await?;
            println!("worker {} running; Ctrl-C to stop", worker.consumer());
            tokio::signal::ctrl_c().await?;
            let report = worker.shutdown(Duration::from_secs(10)).await;
            println!(
                "delivered {} in {} requests",
                report.stats.delivered, report.stats.requests
            );
            Ok(())
        }
        _ => {
            let (client, emu) = client().await?;
            let worker = Ingester::builder(&client).fleet(config.clone()).worker().await?;
            let started = Instant::now();
            produce(config, 10_000).await?;
            let report = worker.shutdown(Duration::from_secs(10)).await;
            println!(
                "the worker delivered {} in {} requests within {:?}",
                report.stats.delivered,
                report.stats.requests,
                started.elapsed()
            );
            if let Some(emu) = emu {
                println!("the emulator holds {} events", emu.event_counts().stored);
            }
            Ok(())
        }
    }
}

/// The same ingester as in memory (`ingest.rs`), over the fleet's stream: `send` returns once
/// the event is in Redis, and `flush` once the fleet's workers delivered it.
async fn produce(config: FleetConfig, n: u32) -> Result<(), Box<dyn std::error::Error>> {
    let ingester = Ingester::fleet_producer(config).await?;
    let started = Instant::now();
    for i in 0..n {
        let event = BatchEvent::new("words-written", format!("user-{}", i % 100), f64::from(i % 50));
        ingester.send(event).await?; // in Redis when this returns
    }
    println!("{n} events in Redis in {:?}", started.elapsed());
    let flushed = ingester.flush_within(Duration::from_secs(60)).await?;
    println!(
        "{} of them delivered by the fleet within {:?}",
        u64::from(n) - flushed.pending.min(n as usize) as u64,
        started.elapsed()
    );
    let report = ingester.shutdown(Duration::from_secs(1)).await;
    println!("{} entries left in the stream", report.left_in_store);
    Ok(())
}

/// Trophy itself with TROPHY_API_KEY, else an emulator started here.
async fn client() -> Result<(Client, Option<trophy_emulator::Emulator>), Box<dyn std::error::Error>> {
    if let Ok(key) = std::env::var("TROPHY_API_KEY") {
        let mut b = Client::builder().api_key(key);
        if let Ok(url) = std::env::var("TROPHY_ADMIN_URL") {
            b = b.admin_url(url);
        }
        return Ok((b.build()?, None));
    }
    let (client, emu) = offline::emulator_and_client(false).await?;
    Ok((client, Some(emu)))
}
