//! The emulator's own controls under `/_emulator` (clock, faults, reset, webhooks) and the
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
use crate::model::fmt_dt;
use crate::state::{Clock, Inner, SharedState};
use crate::webhooks::WebhookTarget;

/// `/_emulator/clock`, `/_emulator/faults`, `/_emulator/reset`, `/_emulator/webhooks` and `/`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/_emulator/clock", get(clock_get).post(clock_post))
        .route("/_emulator/faults", get(faults_get).post(faults_post))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/webhooks", get(webhooks_get).post(webhooks_post))
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
            ],
        }),
    )
}

/// The deliveries so far: `{"target": url or null, "deliveries": [{type, attempts, status,
/// delivered, body}]}`.
async fn webhooks_get(AxState(sh): AxState<SharedState>) -> Response {
    let deliveries: Vec<Value> = sh
        .webhooks
        .deliveries()
        .into_iter()
        .map(|d| {
            json!({
                "type": d.event_type,
                "attempts": d.attempts,
                "status": d.status,
                "delivered": d.delivered,
                "body": serde_json::from_str::<Value>(&d.body).unwrap_or(Value::Null),
            })
        })
        .collect();
    let target = sh.webhooks.target().map(|t| t.url().to_string());
    reply(200, json!({"target": target, "deliveries": deliveries}))
}

/// `{"target": {"url": "http://...", "secret": "..."}}` sets or changes the target, `{"target":
/// null}` removes it; answers `{"target": url or null}`.
async fn webhooks_post(AxState(sh): AxState<SharedState>, body: Bytes) -> ApiResult {
    let (v, _) = parse_body_bad_request::<Value>(&body)?;
    let target = match v.get("target") {
        Some(Value::Null) => None,
        Some(t) => {
            let url = t
                .get("url")
                .and_then(Value::as_str)
                .filter(|u| u.starts_with("http://") && u.parse::<http::Uri>().is_ok())
                .ok_or_else(|| ApiError::bad_request("target.url must be an http:// URL (a local receiver; no TLS)"))?;
            let secret = t
                .get("secret")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ApiError::bad_request("target.secret must be a non-empty string"))?;
            Some(WebhookTarget::new(url, secret))
        }
        None => return Err(ApiError::bad_request("the body needs a `target`: an object or null")),
    };
    let url = target.as_ref().map(|t| t.url().to_string());
    sh.webhooks.set_target(target);
    Ok(reply(200, json!({ "target": url })))
}

fn clock_body(g: &Inner) -> Value {
    json!({
        "now": fmt_dt(g.clock.now()),
        "frozen": matches!(g.clock, Clock::Fixed(_)),
    })
}

async fn clock_get(AxState(sh): AxState<SharedState>) -> Response {
    let g = sh.lock();
    reply(200, clock_body(&g))
}

/// `{"now": "<RFC 3339>"}` freezes the clock there; `{"advanceSeconds": n}` moves it;
/// `{"system": true}` returns to the system time.
async fn clock_post(AxState(sh): AxState<SharedState>, body: Bytes) -> ApiResult {
    let (v, _) = parse_body_bad_request::<Value>(&body)?;
    let mut g = sh.lock();
    if v.get("system").and_then(Value::as_bool) == Some(true) {
        g.clock = Clock::System {
            offset: Duration::zero(),
        };
    }
    if let Some(now) = v.get("now") {
        let t = now
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .ok_or_else(|| ApiError::bad_request("now must be an RFC 3339 date-time"))?;
        g.clock = Clock::Fixed(t.with_timezone(&Utc));
    }
    if let Some(secs) = v.get("advanceSeconds") {
        let s = secs
            .as_i64()
            .filter(|s| s.unsigned_abs() <= 100 * 366 * 86_400)
            .ok_or_else(|| ApiError::bad_request("advanceSeconds must be an integer (at most 100 years)"))?;
        g.clock.advance(Duration::seconds(s));
    }
    Ok(reply(200, clock_body(&g)))
}

fn faults_body(g: &Inner) -> Value {
    json!({
        "rate": g.faults.cfg.rate,
        "status": g.faults.cfg.status,
        "seed": g.faults.cfg.seed,
        "failNext": g.faults.fail_next,
        "afterProcessing": g.faults.cfg.after_processing,
        "injected": g.faults.injected,
    })
}

async fn faults_get(AxState(sh): AxState<SharedState>) -> Response {
    let g = sh.lock();
    reply(200, faults_body(&g))
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
    Ok(reply(200, faults_body(&g)))
}

/// Drops all tenant states, application keys and tenants (the clock and faults stay).
async fn reset(AxState(sh): AxState<SharedState>) -> Response {
    let mut g = sh.lock();
    g.states.clear();
    g.app_keys.clear();
    g.tenants.clear();
    reply(200, json!({"reset": true}))
}
