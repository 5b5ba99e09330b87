//! Shared server state, authentication, fault injection, errors and the router.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, State as AxState};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::model::{fmt_dt, State};
use crate::seed::Seed;
use crate::Faults;

/// The emulator clock: the system time plus an offset, or a frozen instant.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Clock {
    System { offset: Duration },
    Fixed(DateTime<Utc>),
}

impl Clock {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        match *self {
            Clock::System { offset } => Utc::now().checked_add_signed(offset).unwrap_or_else(Utc::now),
            Clock::Fixed(t) => t,
        }
    }

    pub(crate) fn advance(&mut self, by: Duration) {
        match self {
            Clock::System { offset } => *offset = offset.checked_add(&by).unwrap_or(*offset),
            Clock::Fixed(t) => *t = t.checked_add_signed(by).unwrap_or(*t),
        }
    }
}

/// Fault injection state: configuration, PRNG and counters.
#[derive(Clone, Debug)]
pub(crate) struct FaultState {
    pub cfg: Faults,
    rng: u64,
    pub fail_next: u64,
    pub injected: u64,
}

impl FaultState {
    pub(crate) fn new(cfg: Faults) -> FaultState {
        FaultState {
            cfg,
            rng: cfg.seed,
            fail_next: 0,
            injected: 0,
        }
    }

    /// splitmix64.
    fn next_f64(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The status to fail this request with, if any, when faults are injected in this phase
    /// (`after_processing` false: before authentication; true: once the handler has run).
    fn roll_in(&mut self, after_processing: bool) -> Option<u16> {
        if self.cfg.after_processing != after_processing {
            return None;
        }
        self.roll()
    }

    /// The status to fail this request with, if any.
    fn roll(&mut self) -> Option<u16> {
        let fail = if self.fail_next > 0 {
            self.fail_next -= 1;
            true
        } else if self.cfg.rate <= 0.0 {
            false
        } else {
            self.next_f64() < self.cfg.rate
        };
        if fail {
            self.injected += 1;
            Some(self.cfg.status)
        } else {
            None
        }
    }
}

/// An application API key issued through the Admin API.
#[derive(Clone, Debug)]
pub(crate) struct AppKey {
    pub id: String,
    pub user_id: String,
    pub key: String,
}

/// A tenant created through the Admin API.
#[derive(Clone, Debug)]
pub(crate) struct TenantRec {
    pub id: String,
    pub customer_id: String,
    pub name: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// Everything behind the one mutex.
pub(crate) struct Inner {
    pub seed: Seed,
    pub clock: Clock,
    pub faults: FaultState,
    /// Organisation keys accepted; empty accepts any key not starting with `app_`.
    pub api_keys: Vec<String>,
    pub app_keys: Vec<AppKey>,
    pub tenants: Vec<TenantRec>,
    /// Tenant ID (`""` for no Tenant-ID header) to state.
    pub states: HashMap<String, State>,
}

impl Inner {
    /// The state of a tenant, created from the seed on first use.
    pub(crate) fn state(&mut self, tenant: &str) -> &mut State {
        let seed = &self.seed;
        self.states
            .entry(tenant.to_string())
            .or_insert_with(|| State::from_seed(seed))
    }
}

/// State shared by all handlers.
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Webhook deliveries, when a target is configured.
    pub(crate) webhooks: Option<crate::webhooks::Webhooks>,
}

impl Shared {
    pub(crate) fn new(inner: Inner, webhooks: Option<crate::webhooks::Webhooks>) -> Shared {
        Shared {
            inner: Mutex::new(inner),
            webhooks,
        }
    }

    /// Queues the webhooks `payloads` computes, when a target is configured (otherwise it is not
    /// called). Call it with the state locked, so deliveries keep the order of the requests.
    pub(crate) fn emit(&self, payloads: impl FnOnce() -> Vec<Value>) {
        if let Some(hooks) = &self.webhooks {
            hooks.send(payloads());
        }
    }

    /// Locks the state (recovering from poisoning: a panicking handler leaves usable data).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on a tenant's state with the current time.
    pub(crate) fn with<R>(&self, tenant: &str, f: impl FnOnce(&mut State, DateTime<Utc>) -> R) -> R {
        let mut g = self.lock();
        let now = g.clock.now();
        f(g.state(tenant), now)
    }
}

pub(crate) type SharedState = Arc<Shared>;

/// An error answered as `{"error": message}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: message.into(),
        }
    }
    pub(crate) fn bad_request(m: impl Into<String>) -> ApiError {
        ApiError::new(400, m)
    }
    pub(crate) fn unprocessable(m: impl Into<String>) -> ApiError {
        ApiError::new(422, m)
    }
    pub(crate) fn not_found(m: impl Into<String>) -> ApiError {
        ApiError::new(404, m)
    }
    pub(crate) fn forbidden(m: impl Into<String>) -> ApiError {
        ApiError::new(403, m)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

/// A JSON response with a status.
pub(crate) fn reply(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, axum::Json(body)).into_response()
}

/// Parses a request body into a generated type (for validation) and keeps the raw JSON (for
/// telling null from absent).
pub(crate) fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<(T, Value), ApiError> {
    let raw: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))?;
    let typed = serde_json::from_value::<T>(raw.clone())
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))?;
    Ok((typed, raw))
}

/// Query parameters, keeping repeated keys.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(q: Option<&str>) -> Params {
        Params(
            q.map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// All values of a list parameter: repeated keys (`ids=a&ids=b`, `ids[]=a`) and
    /// comma-separated values (`ids=a,b`), empty items dropped.
    pub(crate) fn list(&self, name: &str) -> Vec<String> {
        let bracket = format!("{name}[]");
        self.0
            .iter()
            .filter(|(k, _)| k == name || *k == bracket)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// An integer parameter within bounds, or its default.
    pub(crate) fn int(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::unprocessable(format!(
                    "{name} must be an integer from {min} to {max}"
                ))),
            },
        }
    }

    /// A boolean parameter (`true`/`false`), or false.
    pub(crate) fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("") | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::unprocessable(format!("{name} must be true or false"))),
        }
    }

    /// A `key:value,key:value` attribute filter.
    pub(crate) fn attr_filter(&self, name: &str) -> Result<Vec<(String, String)>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(Vec::new());
        };
        v.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|pair| match pair.split_once(':') {
                Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
                _ => Err(ApiError::unprocessable(format!(
                    "{name} must be comma-separated key:value pairs"
                ))),
            })
            .collect()
    }
}

/// Who is calling the Application API.
#[derive(Clone, Debug)]
pub(crate) enum Caller {
    /// An organisation key.
    Org,
    /// An application key acting for one user.
    User(String),
}

/// Authenticated context of an Application API request.
#[derive(Clone, Debug)]
pub(crate) struct AppCtx {
    pub caller: Caller,
    pub tenant: String,
}

impl AppCtx {
    /// Refuses an application key acting for another user.
    pub(crate) fn check_user(&self, user_id: &str) -> Result<(), ApiError> {
        match &self.caller {
            Caller::User(u) if u != user_id => Err(ApiError::forbidden(
                "this application API key may only act for its own user",
            )),
            _ => Ok(()),
        }
    }
}

/// Authenticated context of an Admin API request.
#[derive(Clone, Debug)]
pub(crate) struct AdminCtx {
    pub tenant: String,
}

fn header_str<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Fault injection, then key lookup. Returns the caller.
fn authenticate(shared: &Shared, parts: &Parts, admin: bool) -> Result<Caller, ApiError> {
    let mut g = shared.lock();
    if let Some(status) = g.faults.roll_in(false) {
        return Err(ApiError::new(status, "fault injected by trophy-emulator"));
    }
    let Some(key) = header_str(parts, "x-api-key").filter(|k| !k.is_empty()) else {
        return Err(ApiError::new(401, "missing X-API-KEY header"));
    };
    if key.starts_with("app_") {
        let Some(app) = g.app_keys.iter().find(|k| k.key == key) else {
            return Err(ApiError::new(401, "invalid API key"));
        };
        if admin {
            return Err(ApiError::forbidden(
                "application API keys cannot be used with the Admin API",
            ));
        }
        return Ok(Caller::User(app.user_id.clone()));
    }
    if !g.api_keys.is_empty() && !g.api_keys.iter().any(|k| k == key) {
        return Err(ApiError::new(401, "invalid API key"));
    }
    Ok(Caller::Org)
}

fn tenant_of(parts: &Parts) -> String {
    header_str(parts, "tenant-id").unwrap_or("").trim().to_string()
}

impl FromRequestParts<SharedState> for AppCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, Self::Rejection> {
        let caller = authenticate(state, parts, false)?;
        Ok(AppCtx {
            caller,
            tenant: tenant_of(parts),
        })
    }
}

impl FromRequestParts<SharedState> for AdminCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, Self::Rejection> {
        authenticate(state, parts, true)?;
        Ok(AdminCtx {
            tenant: tenant_of(parts),
        })
    }
}

// ----- the router ---------------------------------------------------------------------------------

/// The whole router: Application API under `/v1`, Admin API under `/admin/v1`, controls under
/// `/_emulator`.
pub(crate) fn router(shared: SharedState, limiter: Option<Arc<crate::ratelimit::Limiter>>) -> Router {
    use crate::ratelimit::{guard, Api, Guard};
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
    Router::new()
        .nest("/v1", crate::app_api::routes().layer(lost()).layer(limit(Api::App)))
        .nest(
            "/admin/v1",
            crate::admin_api::routes().layer(lost()).layer(limit(Api::Admin)),
        )
        .merge(crate::ratelimit::routes(limiter.clone()))
        .merge(crate::counts::routes())
        .route("/_emulator/clock", get(clock_get).post(clock_post))
        .route("/_emulator/faults", get(faults_get).post(faults_post))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/webhooks", get(webhooks_get))
        .route("/", get(info))
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
        .as_ref()
        .map(|h| h.deliveries())
        .unwrap_or_default()
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
    let target = sh.webhooks.as_ref().map(|h| h.url().to_string());
    reply(200, json!({"target": target, "deliveries": deliveries}))
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
    let (v, _) = parse_body::<Value>(&body)?;
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
    let (v, _) = parse_body::<Value>(&body)?;
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
