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
use trophy::prelude::*;

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
    let (builder, _emulator) = match std::env::var("TROPHY_API_KEY") {
        Ok(_) => {
            println!("Using Trophy (TROPHY_API_KEY is set)");
            (ClientBuilder::from_env(), None)
        }
        Err(_) => {
            let emulator = trophy_emulator::Emulator::start().await?;
            println!(
                "TROPHY_API_KEY is not set: using the built-in emulator at {}",
                emulator.base_url()
            );
            let builder = Client::builder()
                .api_key(emulator.admin_key())
                .base_url(emulator.base_url());
            (builder, Some(emulator))
        }
    };
    let client = builder.build()?;

    // Set-up code that runs on every start: `ensure` gets each item by key or creates it, and
    // fails (naming the item and Trophy's reason) when Trophy skips it. Points triggers and
    // leaderboards start inactive unless created active.
    println!("\n== Admin setup ==");
    let admin = client.admin();
    let metric = admin
        .metrics()
        .ensure(NewMetric::new("Words written", METRIC).units("words"))
        .await?
        .item;
    println!("metric      {METRIC:<14} id {}", metric.id);
    let trigger = NewPointsTrigger::metric(metric.id, 100, 10).status(AdminPointsTriggerStatus::Active);
    let system = admin
        .points()
        .systems()
        .ensure(NewPointsSystem::new("Experience", POINTS).triggers([trigger]))
        .await?
        .item;
    println!("points      {POINTS:<14} id {} (10 points per 100 words)", system.id);
    let board = NewLeaderboard::new("Top writers", LEADERBOARD, LeaderboardRankBy::Metric)
        .metric_id(metric.id)
        .status(AdminLeaderboardStatus::Active)
        .start(Utc::now().date_naive());
    let board = admin.leaderboards().ensure(board).await?.item;
    println!("leaderboard {LEADERBOARD:<14} id {} (ranked by {METRIC})", board.id);

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
