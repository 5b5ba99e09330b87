//! A small axum service wired to Trophy, as a new service would be:
//!
//! - `POST /lessons/{user}/complete` queues a metric event on an [`Ingester`] (batched, within
//!   Trophy's rate limit) and answers `202 Accepted`;
//! - `GET /users/{user}/progress` reads the user's metric total, streak, points and rank;
//! - `POST /webhooks/trophy` receives Trophy's webhooks through the `VerifiedWebhook` extractor
//!   (signature checked, payload typed, before the handler runs);
//! - Ctrl-C stops the server gracefully, then the ingester delivers what is queued.
//!
//! ```sh
//! # Offline: the emulator runs in this process and sends its webhooks to this service.
//! cargo run -p trophy --features axum --example axum_service
//! # Against Trophy (an admin key; the webhook secret of the endpoint set in the dashboard):
//! TROPHY_API_KEY=... TROPHY_WEBHOOK_SECRET=... cargo run -p trophy --features axum --example axum_service
//! ```
//!
//! Then `curl -X POST http://127.0.0.1:3000/lessons/ada/complete` and
//! `curl http://127.0.0.1:3000/users/ada/progress` (`PORT` changes the port). The test
//! `trophy/tests/axum_service.rs` runs this file against the emulator over real sockets.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use trophy::ingest::ShutdownReport;
use trophy::prelude::*;
use trophy_emulator::{Emulator, WebhookTarget};

pub const METRIC: &str = "lessons";
pub const POINTS: &str = "xp";
pub const LEADERBOARD: &str = "top-learners";

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub client: Client,
    pub ingester: Ingester,
    pub secret: WebhookSecret,
    /// The type of every webhook received and verified, in order.
    pub received: Arc<Mutex<Vec<String>>>,
}

/// `VerifiedWebhook` takes the secret from the router's state.
impl FromRef<AppState> for WebhookSecret {
    fn from_ref(state: &AppState) -> WebhookSecret {
        state.secret.clone()
    }
}

/// Without `TROPHY_API_KEY`: an emulator in this process, sending its webhooks to
/// `webhook_url` (this service, which is already listening), and a client of it.
pub async fn with_emulator(webhook_url: &str) -> Result<(Client, WebhookSecret, Emulator), Box<dyn std::error::Error>> {
    let emulator = Emulator::start().await?;
    let secret = WebhookSecret::new("whsec_local_test");
    emulator.set_webhook_target(WebhookTarget::new(webhook_url, secret.clone()));
    let client = Client::builder()
        .api_key(emulator.admin_key())
        .base_url(emulator.base_url())
        .rate_limits(RateLimits::trophy())
        .build()?;
    Ok((client, secret, emulator))
}

/// The Trophy set-up this service needs, on every start: a metric, a points system awarding
/// 10 points per lesson, and a leaderboard of lessons. `ensure` gets each by key or creates it,
/// and fails, saying why, when Trophy skips it; triggers and leaderboards start inactive unless
/// created active.
pub async fn set_up(client: &Client) -> trophy::Result<()> {
    let admin = client.admin();
    let metric = admin.metrics().ensure(NewMetric::new("Lessons", METRIC)).await?.item;
    let trigger = NewPointsTrigger::metric(metric.id, 1, 10).status(AdminPointsTriggerStatus::Active);
    let system = NewPointsSystem::new("Experience", POINTS).triggers([trigger]);
    admin.points().systems().ensure(system).await?;
    let board = NewLeaderboard::new("Top learners", LEADERBOARD, LeaderboardRankBy::Metric)
        .metric_id(metric.id)
        .status(AdminLeaderboardStatus::Active)
        .start(chrono::Utc::now().date_naive());
    admin.leaderboards().ensure(board).await?;
    Ok(())
}

/// Sets Trophy up and starts the ingester.
pub async fn app_state(client: Client, secret: WebhookSecret) -> trophy::Result<AppState> {
    set_up(&client).await?;
    // Bad settings or an application key: the ingester's error, as the crate's.
    let ingester = Ingester::new(&client, IngestConfig::default()).map_err(|e| trophy::Error::Config(e.to_string()))?;
    Ok(AppState {
        client,
        ingester,
        secret,
        received: Arc::default(),
    })
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/lessons/{user}/complete", post(complete_lesson))
        .route("/users/{user}/progress", get(progress))
        .route("/webhooks/trophy", post(trophy_webhook))
        .with_state(state)
}

/// Serves until `shutdown` completes, lets requests under way finish, then gives the ingester
/// 10 seconds to deliver what is queued: the report lists what it could not.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<ShutdownReport> {
    axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(state.ingester.shutdown(Duration::from_secs(10)).await)
}

async fn complete_lesson(State(state): State<AppState>, Path(user): Path<String>) -> (StatusCode, String) {
    match state.ingester.send(BatchEvent::new(METRIC, user, 1)).await {
        Ok(_key) => (StatusCode::ACCEPTED, String::new()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

async fn progress(
    State(state): State<AppState>,
    Path(user): Path<String>,
) -> Result<Json<Value>, (StatusCode, String)> {
    let users = state.client.users();
    let (metric, streak, points, standing) = tokio::try_join!(
        users.metric(&user, METRIC).send(),
        users.streak(&user).send(),
        users.points(&user, POINTS).send(),
        users.leaderboard(&user, LEADERBOARD).send(),
    )
    .map_err(|e| {
        let status = if e.is_not_found() {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::BAD_GATEWAY
        };
        (status, e.to_string())
    })?;
    Ok(Json(json!({
        "user": user,
        "lessons": metric.current,
        "streak": streak.length,
        "points": points.total,
        "rank": standing.rank,
    })))
}

async fn trophy_webhook(State(state): State<AppState>, VerifiedWebhook(event): VerifiedWebhook) -> StatusCode {
    if let WebhookEvent::PointsChanged(e) = &event {
        println!("{} now has {} points", e.user.id, e.points.total);
    }
    state
        .received
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(event.event_type().to_string());
    StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let (client, secret, _emulator) = match std::env::var("TROPHY_API_KEY") {
        Ok(_) => {
            let client = ClientBuilder::from_env().rate_limits(RateLimits::trophy()).build()?;
            let secret = WebhookSecret::new(std::env::var("TROPHY_WEBHOOK_SECRET").unwrap_or_default());
            (client, secret, None)
        }
        Err(_) => {
            let (client, secret, emulator) = with_emulator(&format!("http://{addr}/webhooks/trophy")).await?;
            println!(
                "TROPHY_API_KEY is not set: using the built-in emulator at {}",
                emulator.base_url()
            );
            (client, secret, Some(emulator))
        }
    };
    let state = app_state(client, secret).await?;
    println!("Listening on http://{addr} (Ctrl-C stops)");
    let report = serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    println!(
        "Stopped: {} events delivered, {} undelivered",
        report.stats.delivered,
        report.undelivered.len()
    );
    Ok(())
}
