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
    let app = app_api::routes().layer(lost()).layer(limit(Api::App));
    let admin = admin_api::routes().layer(lost()).layer(limit(Api::Admin));
    let api = Router::new();
    let api = if logging {
        // The log wraps each API's router as one service, not each route (`Router::layer`): a
        // router is cloned for every request by an Arc, a route's layer stack by a boxed clone
        // per layer, which cost the log about ten allocations per request. Paths no route
        // matches get the same JSON 404 as everywhere else, and are logged too.
        let logged = |r: Router<SharedState>, api, prefix| {
            tower_layer::Layer::layer(&log(api, prefix), r.fallback(fallback).with_state(shared.clone()))
        };
        api.nest_service("/v1", logged(app, "app", "/v1"))
            .nest_service("/admin/v1", logged(admin, "admin", "/admin/v1"))
    } else {
        api.nest("/v1", app).nest("/admin/v1", admin)
    };
    api.merge(ratelimit::routes(limiter.clone()))
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
/// `{"error": ...}` body of every other error, with axum's `Allow` header.
async fn method_not_allowed(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED || response.headers().contains_key(header::CONTENT_TYPE) {
        return response;
    }
    let mut json = ApiError::new(
        405,
        "method not allowed for this path (the Allow header lists those it has)",
    )
    .into_response();
    // Behind the request log (a nested service) the Allow header is already set: keep it.
    if let Some(allow) = response.headers().get(header::ALLOW) {
        json.headers_mut().insert(header::ALLOW, allow.clone());
    }
    json
}
