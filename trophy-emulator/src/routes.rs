//! The whole router, assembled from the routes of each API and of the controls, with the
//! middleware around them (rate limits, faults after processing). The top of the module graph
//! below the crate root.

use std::sync::Arc;

use axum::extract::State as AxState;
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::context::ApiError;
use crate::ratelimit::{guard, Api, Guard, Limiter};
use crate::state::SharedState;
use crate::{admin_api, app_api, controls, counts, inspect, ratelimit, ui};

/// The whole router: Application API under `/v1`, Admin API under `/admin/v1`, controls under
/// `/_emulator`.
pub(crate) fn router(shared: SharedState, limiter: Option<Arc<Limiter>>) -> Router {
    let lost = || axum::middleware::from_fn_with_state(shared.clone(), lose_response);
    let limit = |api| {
        axum::middleware::from_fn_with_state(
            Guard {
                limiter: limiter.clone(),
                api,
            },
            guard,
        )
    };
    let log = |api, prefix| axum::middleware::from_fn_with_state((shared.clone(), api, prefix), inspect::record);
    Router::new()
        .nest(
            "/v1",
            app_api::routes()
                .layer(lost())
                .layer(limit(Api::App))
                .layer(log("app", "/v1")),
        )
        .nest(
            "/admin/v1",
            admin_api::routes()
                .layer(lost())
                .layer(limit(Api::Admin))
                .layer(log("admin", "/admin/v1")),
        )
        .merge(ratelimit::routes(limiter.clone()))
        .merge(counts::routes())
        .merge(controls::routes())
        .merge(inspect::routes())
        .merge(ui::routes())
        .fallback(fallback)
        .with_state(shared)
}

/// Fault injection after processing: the request has had its effect, and its answer is
/// replaced by the fault (a lost response).
async fn lose_response(
    AxState(sh): AxState<SharedState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let fault = sh.lock().faults.roll_in(true);
    match fault {
        Some(status) => ApiError::new(
            status,
            "fault injected by trophy-emulator after the request was processed",
        )
        .into_response(),
        None => response,
    }
}

async fn fallback() -> ApiError {
    ApiError::not_found("no such endpoint in trophy-emulator")
}
