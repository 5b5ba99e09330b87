//! The canned Trophy: an axum server on loopback answering the three benchmarked operations
//! with fixed, realistic bodies. Run in its own process (`trophy-bench serve`) so that the
//! client's CPU time is the client's alone.

use crate::canned;
use axum::body::Bytes;
use axum::http::{header, StatusCode};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;

type Canned = (StatusCode, [(header::HeaderName, &'static str); 1], Bytes);

fn answer(status: StatusCode, body: &Bytes) -> Canned {
    (status, [(header::CONTENT_TYPE, "application/json")], body.clone())
}

/// `POST /v1/metrics/{key}/event` (201), `GET /v1/users/{id}` (200) and
/// `POST /v1/achievements/{key}/complete` (201). Request bodies are read and dropped.
pub fn router() -> Router {
    let event = Bytes::from(canned::event());
    let user = Bytes::from(canned::user());
    let completion = Bytes::from(canned::completion());
    Router::new()
        .route(
            "/v1/metrics/{key}/event",
            post(move |_body: Bytes| async move { answer(StatusCode::CREATED, &event) }),
        )
        .route(
            "/v1/users/{id}",
            get(move || async move { answer(StatusCode::OK, &user) }),
        )
        .route(
            "/v1/achievements/{key}/complete",
            post(move |_body: Bytes| async move { answer(StatusCode::CREATED, &completion) }),
        )
}

/// Serves [`router`] on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router()).await
}
