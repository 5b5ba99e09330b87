//! What every handler shares: the authenticated request context ([`AppCtx`], [`AdminCtx`]),
//! query parameters ([`Params`]), request bodies ([`parse_body`]), answers ([`reply`]) and
//! errors ([`ApiError`]).

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::state::{Shared, SharedState};

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
/// telling null from absent). A body that is not JSON, or does not match the type, answers 422,
/// the status every operation with a body documents (for those that also document 400, see
/// [`parse_body_bad_request`]).
pub(crate) fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<(T, Value), ApiError> {
    parse_body_as(body, 422)
}

/// [`parse_body`] for the operations whose document lists 400 (metric events, users, batch
/// events, streak freezes, restore and reset) and for the emulator's controls: a malformed body
/// answers 400.
pub(crate) fn parse_body_bad_request<T: DeserializeOwned>(body: &Bytes) -> Result<(T, Value), ApiError> {
    parse_body_as(body, 400)
}

fn parse_body_as<T: DeserializeOwned>(body: &Bytes, status: u16) -> Result<(T, Value), ApiError> {
    let raw: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(status, format!("request body is not valid JSON: {e}")))?;
    let typed = serde_json::from_value::<T>(raw.clone())
        .map_err(|e| ApiError::new(status, format!("invalid request body: {e}")))?;
    Ok((typed, raw))
}

/// One `application/x-www-form-urlencoded` component, decoded (`+` is a space).
fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Query parameters, keeping repeated keys.
#[derive(Debug, Default)]
pub(crate) struct Params {
    /// Decoded (name, value) pairs.
    pairs: Vec<(String, String)>,
    /// (decoded name, value as sent, still percent-encoded), for list parameters.
    raw: Vec<(String, String)>,
}

impl Params {
    pub(crate) fn parse(q: Option<&str>) -> Params {
        let q = q.unwrap_or_default();
        let raw = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (form_decode(k), v.to_string())
            })
            .collect();
        Params {
            pairs: form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            raw,
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// All values of a list parameter, in both forms clients send: repeated keys
    /// (`ids=a&ids=b`, `ids[]=a`) and comma-joined values (`ids=a,b`). Only a literal comma
    /// separates; an encoded one (`%2C`) belongs to the value, so `userIds=smith%2C+j` is the
    /// one ID `smith, j`. Empty items are dropped.
    pub(crate) fn list(&self, name: &str) -> Vec<String> {
        let bracket = format!("{name}[]");
        self.raw
            .iter()
            .filter(|(k, _)| k == name || *k == bracket)
            .flat_map(|(_, v)| v.split(','))
            .map(|item| form_decode(item).trim().to_string())
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

    /// A boolean parameter (`true`/`false`), or false; anything else answers 422.
    pub(crate) fn flag(&self, name: &str) -> Result<bool, ApiError> {
        self.flag_or(name, 422)
    }

    /// [`Params::flag`] answering `status` for a value that is not a boolean, for an operation
    /// whose document lists no 422.
    pub(crate) fn flag_or(&self, name: &str, status: u16) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("") | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::new(status, format!("{name} must be true or false"))),
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
