//! A Trophy webhook receiver: an axum server that verifies each delivery's signature, parses
//! it into a typed event, logs its type and answers `204 No Content`.
//!
//! ```text
//! TROPHY_WEBHOOK_SECRET=whsec_test PORT=3000 \
//!     cargo run -p trophy --features axum --example webhook_receiver
//! ```
//!
//! It listens on `http://127.0.0.1:$PORT/webhooks/trophy` (`PORT` defaults to 3000). Send it a
//! signed delivery:
//!
//! ```text
//! BODY=trophy/tests/fixtures/webhooks/achievement.completed.json
//! SIG=$(openssl dgst -sha256 -hmac whsec_test -binary "$BODY" | base64)
//! curl -i -X POST http://127.0.0.1:3000/webhooks/trophy \
//!     -H 'Content-Type: application/json' -H "X-Trophy-Signature: $SIG" --data-binary @"$BODY"
//! ```
//!
//! Deliveries with a missing or wrong signature get `401`, bodies that are not a valid payload
//! `400`. Without `openssl`, `... --example webhook_receiver -- sign FILE` prints the signature
//! of FILE's bytes with `TROPHY_WEBHOOK_SECRET`.
//!
//! Or let the emulator send real ones: start it with this receiver as its webhook target, then
//! run the quickstart against it, and every achievement, streak and points change it causes
//! arrives here signed:
//!
//! ```text
//! cargo run -p trophy-emulator -- --port 8787 \
//!     --webhook-url http://127.0.0.1:3000/webhooks/trophy --webhook-secret whsec_test
//! TROPHY_API_KEY=admin_emulator_key TROPHY_API_URL=http://127.0.0.1:8787/v1 \
//!     TROPHY_ADMIN_URL=http://127.0.0.1:8787/admin/v1 cargo run -p trophy --example quickstart
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use trophy::webhooks::{self, VerifiedWebhook, WebhookEvent, WebhookSecret};

const PATH: &str = "/webhooks/trophy";

#[tokio::main]
async fn main() -> ExitCode {
    let secret = match std::env::var("TROPHY_WEBHOOK_SECRET") {
        Ok(secret) if !secret.is_empty() => secret,
        _ => {
            eprintln!(
                "error: set TROPHY_WEBHOOK_SECRET to the webhook signing secret shown in the \
                 Trophy dashboard (e.g. TROPHY_WEBHOOK_SECRET=whsec_test for local testing)"
            );
            return ExitCode::FAILURE;
        }
    };

    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => serve(secret).await,
        [command, file] if command == "sign" => sign_file(&secret, file),
        _ => {
            eprintln!("usage: webhook_receiver          serve on 127.0.0.1:$PORT{PATH}");
            eprintln!("       webhook_receiver sign FILE  print the X-Trophy-Signature of FILE");
            ExitCode::FAILURE
        }
    }
}

async fn serve(secret: String) -> ExitCode {
    let port = match std::env::var("PORT") {
        Err(std::env::VarError::NotPresent) => 3000,
        Ok(port) => match port.trim().parse::<u16>() {
            Ok(port) => port,
            Err(_) => {
                eprintln!("error: PORT must be a port number (0-65535), got {port:?}");
                return ExitCode::FAILURE;
            }
        },
        Err(std::env::VarError::NotUnicode(_)) => {
            eprintln!("error: PORT must be a port number");
            return ExitCode::FAILURE;
        }
    };

    let app = Router::new()
        .route(PATH, post(receive))
        .with_state(WebhookSecret::new(secret));

    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {address}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let address = listener.local_addr().unwrap_or(address);
    println!("listening for Trophy webhooks on http://{address}{PATH} (Ctrl-C to stop)");

    let shutdown = async {
        // If the handler cannot be installed, run until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    match axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: server failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Handles a verified delivery. Bad ones never get here: the extractor has already answered
/// them with 401 or 400.
async fn receive(VerifiedWebhook(event): VerifiedWebhook) -> StatusCode {
    let detail = match &event {
        WebhookEvent::AchievementCompleted(e) => {
            format!("user {} completed {:?}", e.user.id, e.achievement.name)
        }
        WebhookEvent::StreakLost(e) => format!("user {} lost a streak of {}", e.user.id, e.length),
        WebhookEvent::PointsChanged(e) => format!(
            "user {} has {} {} ({:+})",
            e.user.id,
            e.points.total,
            e.points.key.as_deref().unwrap_or("points"),
            e.points.added
        ),
        WebhookEvent::Unknown { .. } => "an event type this SDK version does not know".to_owned(),
        other => match other.user() {
            Some(user) => format!("user {}", user.id),
            None => String::new(),
        },
    };
    println!("received {}: {detail}", event.event_type());
    StatusCode::NO_CONTENT
}

fn sign_file(secret: &str, file: &str) -> ExitCode {
    match std::fs::read(file) {
        Ok(body) => {
            println!("{}", webhooks::sign(secret, &body));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: cannot read {file}: {error}");
            ExitCode::FAILURE
        }
    }
}
