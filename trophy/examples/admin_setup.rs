//! Admin setup: a metric, a points system with a metric trigger, listed back.
//!
//! ```sh
//! cargo run -p trophy --example admin_setup     # emulator unless TROPHY_API_KEY is set
//! ```

use futures::StreamExt;
use trophy::admin_types::AdminPointsTriggerStatus;
use trophy::api::admin::metrics::NewMetric;
use trophy::api::admin::points::{NewPointsSystem, NewPointsTrigger};
use trophy::Client;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _emulator) = match std::env::var("TROPHY_API_KEY") {
        Ok(_) => (Client::from_env()?, None),
        Err(_) => {
            let emulator = trophy_emulator::Emulator::start().await?;
            let client = Client::builder()
                .api_key(emulator.admin_key())
                .base_url(emulator.base_url())
                .build()?;
            (client, Some(emulator))
        }
    };
    let admin = client.admin();

    // Bulk creates answer 201 when something was created, 200 when nothing was; problems with
    // single items come back as issues, not as errors (add `.strict()` to make them an error,
    // or use `ensure` to get or create by key: see the quickstart).
    let metrics = admin
        .metrics()
        .create([NewMetric::new("Lessons finished", "lessons-finished")])
        .send()
        .await?;
    for issue in &metrics.issues {
        println!("issue: {} ({:?})", issue.message, issue.severity);
    }
    let Some(metric) = metrics.created.first() else {
        println!("metric not created (does it exist already?)");
        return Ok(());
    };
    println!("metric {} = {}", metric.key, metric.id);

    let system = NewPointsSystem::new("Coins", "coins")
        .description("Earned by finishing lessons")
        .triggers([NewPointsTrigger::metric(metric.id.to_string(), 1, 5).status(AdminPointsTriggerStatus::Active)]);
    let systems = admin.points().systems().create([system]).send().await?;
    for s in &systems.created {
        println!(
            "points system {} = {} with {} trigger(s)",
            s.key,
            s.id,
            s.triggers.len()
        );
    }

    // Every metric, fetched page by page as the stream is read.
    let mut all = admin.metrics().list().limit(50).into_stream();
    while let Some(m) = all.next().await {
        let m = m?;
        println!("  {} ({})", m.key, m.name);
    }
    Ok(())
}
