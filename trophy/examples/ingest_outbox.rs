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
use trophy::outbox::{Outbox, OutboxConfig};
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

    let outbox = Outbox::open(client, OutboxConfig::new(&path)).await?;
    println!(
        "outbox {} holds {} events from an earlier run",
        path.display(),
        outbox.stats().stored_events
    );
    // As in a server: many tasks send at once, and the outbox commits what arrived together in
    // one transaction (one fsync), answering each `send` once its event is on disk.
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..32u32 {
        let outbox = outbox.clone();
        tasks.spawn(async move {
            for i in (task..10_000).step_by(32) {
                let event = BatchEvent::new("words-written", format!("user-{}", i % 100), f64::from(i % 50));
                outbox.send(event).await?; // on disk when this returns
            }
            Ok::<(), trophy::outbox::QueueError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    println!("10,000 events on disk in {:?}", started.elapsed());
    outbox.flush().await?;
    let stats = outbox.stats();
    println!(
        "delivered {} in {} requests within {:?}; {} left on disk",
        stats.delivery.delivered,
        stats.delivery.requests,
        started.elapsed(),
        stats.stored_events
    );
    let report = outbox.shutdown(Duration::from_secs(5)).await;
    println!("shut down: {} left for the next start", report.left_in_store);
    if let Some(emu) = emulator {
        println!("the emulator holds {} events", emu.event_counts().stored);
        std::fs::remove_file(&path).ok();
    }
    Ok(())
}
