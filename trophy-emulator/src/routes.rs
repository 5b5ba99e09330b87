//! The whole router, assembled from the routes of each API and of the controls, with the
//! middleware around them (rate limits, faults after processing). The top of the module graph
//! below the crate root.

use std::sync::Arc;

use axum::extract::State as AxState;
use axum::http::{header, StatusCode};
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
    // A request log of capacity 0 is off: no middleware at all.
    let logging = shared.requests.lock().capacity > 0;
    let logged = |r: Router<SharedState>, api, prefix| if logging { r.layer(log(api, prefix)) } else { r };
    Router::new()
        .nest(
            "/v1",
            logged(app_api::routes().layer(lost()).layer(limit(Api::App)), "app", "/v1"),
        )
        .nest(
            "/admin/v1",
            logged(
                admin_api::routes().layer(lost()).layer(limit(Api::Admin)),
                "admin",
                "/admin/v1",
            ),
        )
        .merge(ratelimit::routes(limiter.clone()))
        .merge(counts::routes())
        .merge(controls::routes())
        .merge(inspect::routes())
        .merge(ui::routes())
        .fallback(fallback)
        .layer(axum::middleware::map_response(method_not_allowed))
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

/// A method a path does not have: axum answers 405 with an empty body; this gives it the
/// `{"error": ...}` body of every other error (axum adds the `Allow` header afterwards).
async fn method_not_allowed(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED || response.headers().contains_key(header::CONTENT_TYPE) {
        return response;
    }
    ApiError::new(
        405,
        "method not allowed for this path (the Allow header lists those it has)",
    )
    .into_response()
}
