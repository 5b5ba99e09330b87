//! What the inspector shows, as JSON under `/_emulator/…` (the pages of `ui` render these same
//! views), the request-log middleware, and the state endpoints.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use serde_json::{json, Value};

use crate::context::{parse_body, reply, ApiError, ApiResult, Params};
use crate::model::fmt_dt;
use crate::persist;
use crate::render;
use crate::reqlog::{Entry, Filter, LoggedBody, Marker};
use crate::state::SharedState;
use crate::webhooks::{sample, WebhookTarget, SAMPLES};

/// The JSON routes behind the inspector's pages, and the state endpoints.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route(
            "/_emulator/overview",
            get(|h: HeaderMap, s: AxState<SharedState>| async move { axum::Json(overview(&s, &base_url(&h))) }),
        )
        .route(
            "/_emulator/users",
            get(|q: RawQuery, s: AxState<SharedState>| async move {
                let p = Params::parse(q.0.as_deref());
                axum::Json(users(&s, p.get("q").unwrap_or("")))
            }),
        )
        .route("/_emulator/users/{id}", get(user_get))
        .route(
            "/_emulator/requests",
            get(|q: RawQuery, s: AxState<SharedState>| async move {
                let (filter, limit) = request_filter(q.0.as_deref());
                axum::Json(requests(&s, &filter, limit))
            }),
        )
        .route("/_emulator/requests/{id}", get(request_get))
        .route(
            "/_emulator/webhooks",
            get(|s: AxState<SharedState>| async move { axum::Json(webhooks(&s)) }).post(set_target),
        )
        .route("/_emulator/webhooks/{id}/resend", post(resend))
        .route("/_emulator/webhooks/trigger", post(trigger))
        .route(
            "/_emulator/leaderboards",
            get(|s: AxState<SharedState>| async move { axum::Json(leaderboards(&s)) }),
        )
        .route("/_emulator/state", get(state_export).post(state_import))
        .route("/_emulator/state/save", post(state_save))
}

/// `http://HOST` of a request (the emulator's own address as the browser sees it).
pub(crate) fn base_url(h: &HeaderMap) -> String {
    let host = h
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// The admin key with all but its first four characters hidden.
pub(crate) fn mask(key: &str) -> String {
    let shown: String = key.chars().take(4).collect();
    format!(
        "{shown}{}",
        "•".repeat(key.chars().count().saturating_sub(4).clamp(4, 24))
    )
}

// ----- views ----------------------------------------------------------------------------------------

/// Overview: both API URLs, the masked admin key, clock, rate limits, faults, counts.
pub(crate) fn overview(sh: &SharedState, base: &str) -> Value {
    let (clock, faults, tenants) = {
        let g = sh.lock();
        let mut tenants: Vec<String> = g.states.keys().cloned().collect();
        tenants.sort();
        (g.clock_json(), g.faults_json(), tenants)
    };
    let summary = sh.requests.lock().summary.clone();
    json!({
        "applicationApi": format!("{base}/v1"),
        "adminApi": format!("{base}/admin/v1"),
        "adminKeyMasked": mask(&sh.meta.admin_key),
        "clock": clock,
        "rateLimits": (sh.meta.rate_limits)(),
        "faults": faults,
        "requests": summary,
        "webhooks": {"target": sh.webhooks.url(), "deliveries": sh.webhooks.deliveries().len()},
        "tenants": tenants,
        "stateFile": sh.meta.state_file.as_ref().map(|p| p.display().to_string()),
    })
}

/// Users of every tenant whose ID, name or email contains `q` (case-insensitive).
pub(crate) fn users(sh: &SharedState, q: &str) -> Value {
    let q = q.trim().to_lowercase();
    let mut g = sh.lock();
    let today = g.clock.now().date_naive();
    let mut tenants: Vec<String> = g.states.keys().cloned().collect();
    tenants.sort();
    let mut out = Vec::new();
    for t in tenants {
        let st = g.state(&t);
        for u in st.users.values() {
            let hay = format!(
                "{} {} {}",
                u.id,
                u.name.as_deref().unwrap_or(""),
                u.email.as_deref().unwrap_or("")
            )
            .to_lowercase();
            if !q.is_empty() && !hay.contains(&q) {
                continue;
            }
            let points: i64 = u.points.values().map(|p| p.total).sum();
            out.push(json!({
                "tenant": t,
                "id": u.id,
                "name": u.name,
                "email": u.email,
                "events": u.events.len(),
                "streak": st.streak_view(&u.id, today).length,
                "points": points,
                "achievements": u.achievements.len(),
            }));
        }
    }
    json!({"query": q, "users": out})
}

/// One user: attributes, metric totals, streak with history, points per system with level,
/// completed achievements, leaderboard ranks.
pub(crate) fn user(sh: &SharedState, tenant: &str, id: &str) -> Option<Value> {
    let g = sh.lock();
    let now = g.clock.now();
    let today = now.date_naive();
    let st = g.states.get(tenant)?;
    let u = st.users.get(id)?;
    let metrics: Vec<Value> = u
        .totals
        .iter()
        .map(|(mid, total)| {
            let m = st.metric_by_id(mid);
            json!({
                "key": m.map(|m| m.key.as_str()),
                "name": m.map(|m| m.name.as_str()),
                "total": total,
                "events": u.events.iter().filter(|e| &e.metric_id == mid).count(),
            })
        })
        .collect();
    let points: Vec<Value> = u
        .points
        .iter()
        .filter_map(|(sid, p)| {
            let ps = st.system_by_id(sid)?;
            Some(json!({
                "key": ps.key,
                "name": ps.name,
                "total": p.total,
                "awards": p.awards.len(),
                "level": ps.level_for(p.total).map(|l| json!({"key": l.key, "name": l.name, "points": l.points})),
            }))
        })
        .collect();
    let mut achievements: Vec<(chrono::DateTime<Utc>, Value)> = u
        .achievements
        .iter()
        .map(|(aid, (_, at))| {
            let a = st.achievement_by_id(aid);
            (
                *at,
                json!({
                    "id": aid,
                    "key": a.and_then(|a| a.key.as_deref()),
                    "name": a.map(|a| a.name.as_str()),
                    "completedAt": fmt_dt(*at),
                }),
            )
        })
        .collect();
    achievements.sort_by_key(|(at, _)| *at);
    let ranks: Vec<Value> = st
        .leaderboards
        .iter()
        .filter(|lb| lb.exposed())
        .map(|lb| {
            let (rank, value) = st.standing(lb, id, today);
            json!({"key": lb.key, "name": lb.name, "status": lb.app_status(today), "rank": rank, "value": value})
        })
        .collect();
    Some(json!({
        "tenant": tenant,
        "user": render::user(u),
        "metrics": metrics,
        "streak": render::streak(st, u, today, 7),
        "points": points,
        "achievements": achievements.into_iter().map(|(_, a)| a).collect::<Vec<_>>(),
        "leaderboards": ranks,
    }))
}

async fn user_get(AxState(sh): AxState<SharedState>, Path(id): Path<String>, RawQuery(q): RawQuery) -> ApiResult {
    let p = Params::parse(q.as_deref());
    let tenant = p.get("tenant").unwrap_or("");
    user(&sh, tenant, &id)
        .map(|v| reply(200, v))
        .ok_or_else(|| ApiError::not_found(format!("no user {id:?} in tenant {tenant:?}")))
}

/// A filter and a limit from a query string (`status`, `path`, `user`, `marker`, `limit`).
pub(crate) fn request_filter(q: Option<&str>) -> (Filter, usize) {
    let p = Params::parse(q);
    let s = |k: &str| p.get(k).map(str::to_string);
    let limit = p.get("limit").and_then(|l| l.parse().ok()).unwrap_or(200);
    (
        Filter {
            status: s("status"),
            path: s("path"),
            user: s("user"),
            marker: s("marker"),
        },
        limit,
    )
}

fn entry_row(e: &Entry) -> Value {
    json!({
        "id": e.id,
        "time": fmt_dt(e.time),
        "emulatorTime": fmt_dt(e.emulator_time),
        "api": e.api,
        "method": e.method,
        "path": e.path,
        "query": e.query,
        "tenant": e.tenant,
        "user": e.user,
        "status": e.status,
        "durationMicros": e.duration_micros,
        "markers": e.markers.iter().map(|m| m.label()).collect::<Vec<_>>(),
    })
}

/// The newest `limit` log entries matching `filter` (newest first), and the summary.
pub(crate) fn requests(sh: &SharedState, filter: &Filter, limit: usize) -> Value {
    let r = sh.requests.lock();
    let unfiltered = [&filter.status, &filter.path, &filter.user, &filter.marker]
        .iter()
        .all(|f| f.as_deref().is_none_or(|v| v.trim().is_empty()));
    let (matched, rows) = if unfiltered {
        // The common case (a page open on the whole log): only the rows shown are visited.
        let rows = r.entries.iter().rev().take(limit).map(entry_row).collect::<Vec<_>>();
        (r.entries.len(), rows)
    } else {
        let mut matched = 0usize;
        let mut rows = Vec::new();
        for e in r.entries.iter().rev().filter(|e| e.matches(filter)) {
            matched += 1;
            if rows.len() < limit {
                rows.push(entry_row(e));
            }
        }
        (matched, rows)
    };
    json!({
        "capacity": r.capacity,
        "held": r.entries.len(),
        "matched": matched,
        "summary": r.summary,
        "entries": rows,
    })
}

/// One entry with its headers and bodies.
pub(crate) fn request(sh: &SharedState, id: u64) -> Option<Value> {
    let r = sh.requests.lock();
    let e = r.entries.iter().find(|e| e.id == id)?;
    let mut v = entry_row(e);
    let mut headers = Vec::new();
    if e.api_key_sent {
        headers.push(json!(["x-api-key", "[redacted]"]));
    }
    if !e.tenant.is_empty() {
        headers.push(json!(["tenant-id", e.tenant]));
    }
    if let Some(k) = &e.idempotency_key {
        headers.push(json!(["idempotency-key", k]));
    }
    v["requestHeaders"] = Value::Array(headers);
    v["requestBody"] = json!(e.request_body.text());
    v["responseBody"] = json!(e.response_body.text());
    Some(v)
}

async fn request_get(AxState(sh): AxState<SharedState>, Path(id): Path<u64>) -> ApiResult {
    request(&sh, id)
        .map(|v| reply(200, v))
        .ok_or_else(|| ApiError::not_found(format!("no request {id} in the log")))
}

/// Every webhook delivery (oldest first), the configured target and the types that can be
/// triggered.
pub(crate) fn webhooks(sh: &SharedState) -> Value {
    let deliveries: Vec<Value> = sh.webhooks.deliveries().iter().map(delivery_json).collect();
    json!({
        "target": sh.webhooks.url(),
        "types": SAMPLES.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        "deliveries": deliveries,
    })
}

fn delivery_json(d: &crate::webhooks::Delivery) -> Value {
    json!({
        "id": d.id,
        "type": d.event_type,
        "target": d.target,
        "source": d.source,
        "attempts": d.attempts,
        "status": d.status,
        "delivered": d.delivered,
        "response": d.response,
        "body": serde_json::from_str::<Value>(&d.body).unwrap_or(Value::Null),
    })
}

/// `POST /_emulator/webhooks/{id}/resend`: posts a delivery again; answers it.
pub(crate) async fn resend_delivery(sh: &SharedState, id: u64) -> Result<Value, ApiError> {
    sh.webhooks
        .resend(id)
        .await
        .map(|d| delivery_json(&d))
        .ok_or_else(|| ApiError::not_found(format!("no webhook delivery {id}")))
}

async fn resend(AxState(sh): AxState<SharedState>, Path(id): Path<u64>) -> ApiResult {
    Ok(reply(200, resend_delivery(&sh, id).await?))
}

/// What to trigger: `{"type", "userId", "url"?, "secret"?, "tenant"?}`.
pub(crate) struct TriggerRequest {
    pub event_type: String,
    pub user_id: String,
    pub url: Option<String>,
    pub secret: Option<String>,
    pub tenant: String,
}

/// Sends a signed sample of any type about a user (as the emulator holds them, when known) to
/// a URL (default: the configured target) with a secret (default: the configured one).
pub(crate) async fn trigger_delivery(sh: &SharedState, t: TriggerRequest) -> Result<Value, ApiError> {
    let configured = sh.webhooks.target();
    let url = t
        .url
        .filter(|u| !u.trim().is_empty())
        .or_else(|| configured.as_ref().map(|c| c.url().to_string()))
        .ok_or_else(|| ApiError::unprocessable("url is required (no webhook target is configured)"))?;
    if !url.starts_with("http://") {
        return Err(ApiError::unprocessable(
            "url must start with http:// (the emulator sends without TLS)",
        ));
    }
    let target = match t.secret.filter(|s| !s.is_empty()) {
        Some(secret) => WebhookTarget::new(url, secret),
        None => match configured {
            Some(c) => WebhookTarget::new(url, c.secret.clone()),
            None => {
                return Err(ApiError::unprocessable(
                    "secret is required (no webhook secret is configured)",
                ))
            }
        },
    };
    if t.user_id.trim().is_empty() {
        return Err(ApiError::unprocessable("userId is required"));
    }
    let known = sh
        .lock()
        .states
        .get(&t.tenant)
        .and_then(|st| st.users.get(&t.user_id))
        .map(render::user);
    let payload = sample(&t.event_type, &t.user_id, known).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "unknown webhook type {:?}; one of: {}",
            t.event_type,
            SAMPLES.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let d = sh
        .webhooks
        .send_now(payload, target, "trigger")
        .await
        .ok_or_else(|| ApiError::new(503, "the emulator is shutting down"))?;
    Ok(delivery_json(&d))
}

async fn trigger(AxState(sh): AxState<SharedState>, body: Bytes) -> ApiResult {
    let (v, _) = parse_body::<Value>(&body)?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let t = TriggerRequest {
        event_type: s("type").unwrap_or_default(),
        user_id: s("userId").unwrap_or_default(),
        url: s("url"),
        secret: s("secret"),
        tenant: s("tenant").unwrap_or_default(),
    };
    Ok(reply(200, trigger_delivery(&sh, t).await?))
}

/// Every exposed leaderboard of every tenant with its current run's standings.
pub(crate) fn leaderboards(sh: &SharedState) -> Value {
    let g = sh.lock();
    let today = g.clock.now().date_naive();
    let mut tenants: Vec<&String> = g.states.keys().collect();
    tenants.sort();
    let mut out = Vec::new();
    for t in tenants {
        let st = &g.states[t];
        for lb in st.leaderboards.iter().filter(|l| l.exposed()) {
            let run = lb.run_for(today);
            let rankings: Vec<Value> = st
                .rankings(lb, run, &[], today)
                .into_iter()
                .map(|r| json!({"userId": r.user_id, "userName": r.user_name, "rank": r.rank, "value": r.value}))
                .collect();
            out.push(json!({
                "tenant": t,
                "key": lb.key,
                "name": lb.name,
                "status": lb.app_status(today),
                "rankBy": lb.rank_by,
                "runStart": run.0.to_string(),
                "runEnd": run.1.map(|d| d.to_string()),
                "rankings": rankings,
            }));
        }
    }
    json!({"leaderboards": out})
}

// ----- state ----------------------------------------------------------------------------------------

async fn state_export(AxState(sh): AxState<SharedState>) -> Response {
    reply(200, persist::export(&sh))
}

async fn state_import(AxState(sh): AxState<SharedState>, body: Bytes) -> ApiResult {
    persist::import(&sh, &body).map_err(ApiError::unprocessable)?;
    Ok(reply(200, json!({"imported": true})))
}

/// Saves to the `--state` file; `{"saved": path, "bytes": n}`.
pub(crate) fn save_state(sh: &SharedState) -> Result<Value, ApiError> {
    let path = sh
        .meta
        .state_file
        .as_ref()
        .ok_or_else(|| ApiError::new(409, "no state file: start the emulator with --state FILE"))?;
    let bytes = persist::save(sh, path).map_err(|e| ApiError::new(500, e))?;
    Ok(json!({"saved": path.display().to_string(), "bytes": bytes}))
}

async fn state_save(AxState(sh): AxState<SharedState>) -> ApiResult {
    Ok(reply(200, save_state(&sh)?))
}

// ----- the request log ------------------------------------------------------------------------------

/// Largest request body the log reads (the API's own limit is lower).
const READ_LIMIT: usize = 64 * 1024 * 1024;

#[derive(serde::Deserialize)]
struct BodyUser {
    user: Option<BodyUserId>,
}

#[derive(serde::Deserialize)]
struct BodyUserId {
    id: Option<String>,
}

/// The user a request is about: `/users/{id}` in the path, the body's `user.id`, or `userId`.
fn user_of(path: &str, query: &str, body: &[u8]) -> Option<String> {
    let mut segs = path.split('/');
    while let Some(s) = segs.next() {
        if s == "users" {
            if let Some(id) = segs.next().filter(|s| !s.is_empty()) {
                return Some(Params::parse(Some(&format!("x={id}"))).get("x")?.to_string());
            }
        }
    }
    if body.first() == Some(&b'{') && std::str::from_utf8(body).is_ok_and(|t| t.contains("\"user\"")) {
        if let Ok(BodyUser {
            user: Some(BodyUserId { id: Some(id) }),
        }) = serde_json::from_slice(body)
        {
            return Some(id);
        }
    }
    Params::parse(Some(query)).get("userId").map(str::to_string)
}

/// Middleware around one API (`api` is `app` or `admin`, mounted at `prefix`): records every
/// request and its answer in the log.
pub(crate) async fn record(
    AxState((sh, api, prefix)): AxState<(SharedState, &'static str, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let time = Utc::now();
    let emulator_time = sh.lock().clock.now();
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, READ_LIMIT).await {
        Ok(b) => b,
        Err(_) => return ApiError::new(413, "request body too large").into_response(),
    };
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    let key = header("x-api-key").unwrap_or_default().to_string();
    let path = format!("{prefix}{}", parts.uri.path());
    let query = parts.uri.query().unwrap_or("").to_string();
    let tenant = header("tenant-id").unwrap_or_default().trim().to_string();
    let idempotency_key = header("idempotency-key").map(str::to_string);
    let user = user_of(&path, &query, &body);
    let method = parts.method.to_string();
    let response = next.run(Request::from_parts(parts, Body::from(body.clone()))).await;
    let (rparts, rbody) = response.into_parts();
    let rbytes = axum::body::to_bytes(rbody, usize::MAX).await.unwrap_or_default();
    let status = rparts.status.as_u16();
    let mut markers = Vec::new();
    let has = |needle: &str| std::str::from_utf8(&rbytes).is_ok_and(|t| t.contains(needle));
    if status >= 400 && has("fault injected by trophy-emulator") {
        markers.push(Marker::Fault);
    }
    if rparts.status == StatusCode::TOO_MANY_REQUESTS {
        markers.push(Marker::RateLimited);
    }
    if status == 202 && has("\"idempotentReplayed\":true") {
        markers.push(Marker::Replay);
    }
    let secrets = [key.as_str(), sh.meta.admin_key.as_str()];
    sh.requests.push(Entry {
        id: 0,
        time,
        emulator_time,
        api: api.to_string(),
        method,
        path,
        query,
        tenant,
        user,
        status,
        duration_micros: started.elapsed().as_micros() as u64,
        markers,
        api_key_sent: !key.is_empty(),
        idempotency_key,
        request_body: LoggedBody::new(body, &secrets),
        response_body: LoggedBody::new(rbytes.clone(), &secrets),
    });
    sh.touch();
    Response::from_parts(rparts, Body::from(rbytes))
}

/// `POST /_emulator/webhooks`: `{"target": {"url": "http://...", "secret": "..."}}` sets or
/// changes the target, `{"target": null}` removes it; answers `{"target": url or null}`.
async fn set_target(
    AxState(sh): AxState<SharedState>,
    body: axum::body::Bytes,
) -> Result<axum::response::Response, ApiError> {
    let v: Value = serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))?;
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
    sh.touch();
    Ok(crate::context::reply(200, serde_json::json!({ "target": url })))
}
