//! Durable ingestion with the outbox: events are on disk before `send` returns and leave it
//! once Trophy accepted them, so a crash or a deploy loses nothing.
//!
//! ```sh
//! cargo run -p trophy --example ingest_outbox --features outbox
//! ```
//!
//! Offline against the built-in emulator (with Trophy's rate limits); set TROPHY_API_KEY (an
//! admin key) to send to Trophy itself, and TROPHY_OUTBOX to choose the file.

#[path = "support/offline.rs"]
mod offline;

use std::time::{Duration, Instant};
use trophy::api::admin::events::BatchEvent;
use trophy::ingest::outbox::OutboxConfig;
use trophy::ingest::Ingester;
use trophy::{Client, RateLimits};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, emulator) = match std::env::var("TROPHY_API_KEY") {
        Ok(key) => (
            Client::builder()
                .api_key(key)
                .rate_limits(RateLimits::trophy())
                .build()?,
            None,
        ),
        Err(_) => {
            let (client, emu) = offline::emulator_and_client(true).await?;
            (client, Some(emu))
        }
    };
    let path = std::env::var("TROPHY_OUTBOX")
        .map(Into::into)
        .unwrap_or_else(|_| std::env::temp_dir().join(format!("trophy-outbox-example-{}.sqlite", std::process::id())));

    // The same ingester as in memory (`ingest.rs`), built over an outbox file.
    let ingester = Ingester::builder(&client)
        .outbox(OutboxConfig::new(&path))
        .build()
        .await?;
    let stored = |i: &Ingester| i.stats().backend.outbox().map_or(0, |o| o.stored_events);
    println!(
        "outbox {} holds {} events from an earlier run",
        path.display(),
        stored(&ingester)
    );
    // As in a server: many tasks send at once, and the outbox commits what arrived together in
    // one transaction (one fsync), answering each `send` once its event is on disk.
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..32u32 {
        let ingester = ingester.clone();
        tasks.spawn(async move {
            for i in (task..10_000).step_by(32) {
                let event = BatchEvent::new("words-written", format!("user-{}", i % 100), f64::from(i % 50));
                ingester.send(event).await?; // on disk when this returns
            }
            Ok::<(), trophy::ingest::IngestError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    println!("10,000 events on disk in {:?}", started.elapsed());
    ingester.flush().await?;
    let stats = ingester.stats();
    println!(
        "delivered {} in {} requests within {:?}; {} left on disk",
        stats.delivered,
        stats.requests,
        started.elapsed(),
        stored(&ingester)
    );
    let report = ingester.shutdown(Duration::from_secs(5)).await;
    println!("shut down: {} left for the next start", report.left_in_store);
    if let Some(emu) = emulator {
        println!("the emulator holds {} events", emu.event_counts().stored);
        std::fs::remove_file(&path).ok();
    }
    Ok(())
}
