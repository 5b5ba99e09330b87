//! The emulator's own controls under `/_emulator` (clock, faults, reset) and the
//! index at `/`; they need no key.

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::context::{parse_body_bad_request, reply, ApiError, ApiResult};
use crate::faults::FaultState;
use crate::state::{Clock, SharedState};

/// `/_emulator/clock`, `/_emulator/faults`, `/_emulator/reset` and `/`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/_emulator/clock", get(clock_get).post(clock_post))
        .route("/_emulator/faults", get(faults_get).post(faults_post))
        .route("/_emulator/reset", post(reset))
        .route("/", get(info))
}

async fn info() -> Response {
    reply(
        200,
        json!({
            "name": "trophy-emulator",
            "applicationApi": "/v1",
            "adminApi": "/admin/v1",
            "controls": [
                "/_emulator/clock",
                "/_emulator/faults",
                "/_emulator/reset",
                "/_emulator/webhooks",
                "/_emulator/events",
                "/_emulator/rate-limits",
                "/_emulator/overview",
                "/_emulator/users",
                "/_emulator/requests",
                "/_emulator/leaderboards",
                "/_emulator/state",
            ],
            "inspector": "/_emulator/ui/",
        }),
    )
}

async fn clock_get(AxState(sh): AxState<SharedState>) -> Response {
    let g = sh.lock();
    reply(200, g.clock_json())
}

/// `{"now": "<RFC 3339>"}` freezes the clock there; `{"advanceSeconds": n}` moves it;
/// `{"system": true}` returns to the system time.
async fn clock_post(AxState(sh): AxState<SharedState>, body: Bytes) -> ApiResult {
    let (v, _) = parse_body_bad_request::<Value>(&body)?;
    let change = clock_change(&v)?;
    let effects = sh.move_clock(change);
    let mut body = sh.lock().clock_json();
    body["effects"] = effects;
    Ok(reply(200, body))
}

/// The clock move a `POST /_emulator/clock` body asks for (checked before anything moves).
pub(crate) fn clock_change(v: &Value) -> Result<impl FnOnce(&mut Clock), ApiError> {
    let system = v.get("system").and_then(Value::as_bool) == Some(true);
    let now = match v.get("now") {
        Some(now) => Some(
            now.as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .ok_or_else(|| ApiError::bad_request("now must be an RFC 3339 date-time"))?
                .with_timezone(&Utc),
        ),
        None => None,
    };
    let advance = match v.get("advanceSeconds") {
        Some(secs) => Some(
            secs.as_i64()
                .filter(|s| s.unsigned_abs() <= 100 * 366 * 86_400)
                .ok_or_else(|| ApiError::bad_request("advanceSeconds must be an integer (at most 100 years)"))?,
        ),
        None => None,
    };
    Ok(move |clock: &mut Clock| {
        if system {
            *clock = Clock::System {
                offset: Duration::zero(),
            };
        }
        if let Some(t) = now {
            *clock = Clock::Fixed(t);
        }
        if let Some(s) = advance {
            clock.advance(Duration::seconds(s));
        }
    })
}

async fn faults_get(AxState(sh): AxState<SharedState>) -> Response {
    let g = sh.lock();
    reply(200, g.faults_json())
}

/// `{"rate": 0.1, "status": 503, "seed": 7, "failNext": 2, "afterProcessing": true}`; omitted
/// fields keep their value.
async fn faults_post(AxState(sh): AxState<SharedState>, body: Bytes) -> ApiResult {
    let (v, _) = parse_body_bad_request::<Value>(&body)?;
    let mut g = sh.lock();
    let mut cfg = g.faults.cfg;
    if let Some(r) = v.get("rate") {
        cfg.rate = r
            .as_f64()
            .filter(|r| (0.0..=1.0).contains(r))
            .ok_or_else(|| ApiError::bad_request("rate must be a number from 0 to 1"))?;
    }
    if let Some(s) = v.get("status") {
        cfg.status = s
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (400..=599).contains(s))
            .ok_or_else(|| ApiError::bad_request("status must be an HTTP error status (400-599)"))?;
    }
    if let Some(s) = v.get("seed") {
        cfg.seed = s
            .as_u64()
            .ok_or_else(|| ApiError::bad_request("seed must be a non-negative integer"))?;
    }
    if let Some(a) = v.get("afterProcessing") {
        cfg.after_processing = a
            .as_bool()
            .ok_or_else(|| ApiError::bad_request("afterProcessing must be true or false"))?;
    }
    let fail_next = match v.get("failNext") {
        Some(n) => n
            .as_u64()
            .ok_or_else(|| ApiError::bad_request("failNext must be a non-negative integer"))?,
        None => g.faults.fail_next,
    };
    let injected = g.faults.injected;
    g.faults = FaultState::new(cfg);
    g.faults.fail_next = fail_next;
    g.faults.injected = injected;
    Ok(reply(200, g.faults_json()))
}

/// Drops all tenant states, application keys and tenants (the clock and faults stay).
async fn reset(AxState(sh): AxState<SharedState>) -> Response {
    let mut g = sh.lock();
    g.states.clear();
    g.app_keys.clear();
    g.tenants.clear();
    drop(g);
    sh.touch();
    reply(200, json!({"reset": true}))
}
