//! The README's main job: a realistic journey through both Trophy APIs.
//!
//! ```sh
//! cargo run --example quickstart                       # offline, against the built-in emulator
//! TROPHY_API_KEY=... cargo run --example quickstart    # against Trophy (admin key needed)
//! ```
//!
//! 1. Admin API: create a metric, a points system with a metric trigger, and a leaderboard.
//! 2. Application API: identify a user, send events (and a few for two other users), complete
//!    the `finish-onboarding` achievement.
//! 3. Read the user's streak, points and leaderboard rank.

use chrono::Utc;
use trophy::api::admin::leaderboards::NewLeaderboard;
use trophy::api::admin::metrics::NewMetric;
use trophy::api::admin::points::NewPointsSystem;
use trophy::api::admin::points::NewPointsTrigger;
use trophy::{Client, UserInput, UserUpdate};

const METRIC: &str = "words-written";
const POINTS: &str = "xp";
const LEADERBOARD: &str = "top-writers";

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("quickstart failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // With TROPHY_API_KEY set, talk to Trophy; otherwise start the emulator in this process.
    let (client, _emulator) = match std::env::var("TROPHY_API_KEY") {
        Ok(_) => {
            println!("Using Trophy (TROPHY_API_KEY is set)");
            (Client::from_env()?, None)
        }
        Err(_) => {
            let emulator = trophy_emulator::Emulator::start().await?;
            println!(
                "TROPHY_API_KEY is not set: using the built-in emulator at {}",
                emulator.base_url()
            );
            let client = Client::builder()
                .api_key(emulator.admin_key())
                .base_url(emulator.base_url())
                .build()?;
            (client, Some(emulator))
        }
    };

    println!("\n== Admin setup ==");
    let metric_id = ensure_metric(&client).await?;
    println!("metric      {METRIC:<14} id {metric_id}");
    let system_id = ensure_points_system(&client, &metric_id).await?;
    println!("points      {POINTS:<14} id {system_id} (10 points per 100 words)");
    let leaderboard_id = ensure_leaderboard(&client, &metric_id).await?;
    println!("leaderboard {LEADERBOARD:<14} id {leaderboard_id} (ranked by {METRIC})");

    println!("\n== A user writes ==");
    let user = client
        .users()
        .identify(
            "user-id",
            UserUpdate::new()
                .name("Ada")
                .email("user@example.com")
                .tz("Europe/London"),
        )
        .send()
        .await?;
    println!("identified  {} ({})", user.id, user.name.as_deref().unwrap_or("-"));

    for (who, words) in [
        ("user-id", 750.0),
        ("user-id", 400.0),
        ("grace", 900.0),
        ("alan", 300.0),
    ] {
        let event = client
            .metrics()
            .event(METRIC, UserInput::new(who), words)
            .send()
            .await?;
        let points: i64 = event.points.values().map(|p| p.added).sum();
        println!(
            "event       {who:<8} +{words:<5} total {:<6} streak {} points +{points} {}",
            event.total,
            event.current_streak.length,
            event
                .achievements
                .iter()
                .map(|a| format!("unlocked {:?}", a.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let user = UserInput::new("user-id").email("user@example.com").tz("Europe/London");
    let completion = client.achievements().complete("finish-onboarding", user).send().await?;
    println!(
        "achievement {} completed at {} (completion {})",
        completion.achievement.name,
        completion
            .achievement
            .achieved_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        completion.completion_id
    );

    println!("\n== Where the user stands ==");
    let streak = client.users().streak("user-id").send().await?;
    println!(
        "streak      {} {} period(s), expires {}",
        streak.length,
        streak.frequency,
        streak.expires.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
    );
    let points = client.users().points("user-id", POINTS).send().await?;
    println!(
        "points      {} {} (level {})",
        points.total,
        points.name,
        points.level.as_ref().map(|l| l.name.as_str()).unwrap_or("none")
    );
    let standing = client.users().leaderboard("user-id", LEADERBOARD).send().await?;
    println!(
        "leaderboard rank {} with {} in {}",
        standing.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
        standing.value.unwrap_or_default(),
        standing.name
    );
    let board = client.leaderboards().get(LEADERBOARD).limit(10).send().await?;
    for r in &board.rankings {
        println!("  #{} {:<8} {}", r.rank, r.user_id, r.value);
    }
    Ok(())
}

/// The metric's id, creating the metric unless it exists.
async fn ensure_metric(client: &Client) -> trophy::Result<String> {
    let created = client
        .admin()
        .metrics()
        .create([NewMetric::new("Words written", METRIC).units("words")])
        .send()
        .await?;
    if let Some(m) = created.created.first() {
        return Ok(m.id.to_string());
    }
    let all = client.admin().metrics().list().limit(100).send().await?;
    find(
        all.iter().map(|m| (m.key.as_str(), m.id.to_string())),
        METRIC,
        &created.issues,
    )
}

/// The points system's id, creating it (with a metric trigger) unless it exists.
async fn ensure_points_system(client: &Client, metric_id: &str) -> trophy::Result<String> {
    let system = NewPointsSystem::new("Experience", POINTS)
        .triggers([NewPointsTrigger::metric(metric_id, 100, 10).status("active")]);
    let created = client.admin().points().systems().create([system]).send().await?;
    if let Some(s) = created.created.first() {
        return Ok(s.id.to_string());
    }
    let all = client.admin().points().systems().list().limit(100).send().await?;
    find(
        all.iter().map(|s| (s.key.as_str(), s.id.to_string())),
        POINTS,
        &created.issues,
    )
}

/// The leaderboard's id, creating it unless it exists.
async fn ensure_leaderboard(client: &Client, metric_id: &str) -> trophy::Result<String> {
    let board = NewLeaderboard::new("Top writers", LEADERBOARD, "metric")
        .metric_id(metric_id)
        .status("active")
        .start(Utc::now().date_naive());
    let created = client.admin().leaderboards().create([board]).send().await?;
    if let Some(b) = created.created.first() {
        return Ok(b.id.to_string());
    }
    let all = client.admin().leaderboards().list().limit(100).send().await?;
    find(
        all.iter().map(|b| (b.key.as_str(), b.id.to_string())),
        LEADERBOARD,
        &created.issues,
    )
}

fn find<'a>(
    mut items: impl Iterator<Item = (&'a str, String)>,
    key: &str,
    issues: &[trophy::admin_types::AdminIssue],
) -> trophy::Result<String> {
    items.find(|(k, _)| *k == key).map(|(_, id)| id).ok_or_else(|| {
        let why = issues.iter().map(|i| i.message.as_str()).collect::<Vec<_>>().join("; ");
        trophy::Error::Config(format!("could not create or find {key}: {why}"))
    })
}
