//! The one door out: every call of every operation goes through [`execute`], so headers,
//! idempotency keys, rate limiting, timeouts, retries, tracing and error mapping are written
//! and tested once.

use crate::client::{Client, API_VERSION};
use crate::error::{is_retryable_status, snippet, ApiError, ConnectionError, DecodeError, Error, Result, TimeoutError};
use crate::observability::{self as metrics, Answer};
use crate::request::{header_value, Api, Call, LimitMode, RequestOptions, Response, RetryClass};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

/// Largest success body read (a leaderboard of 1,000 rankings is about 100 KiB).
pub(crate) const MAX_BODY: usize = 32 * 1024 * 1024;
/// Largest error body read; the rest is dropped unread.
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const X_SDK_VERSION: HeaderName = HeaderName::from_static("x-sdk-version");
const TENANT_ID: HeaderName = HeaderName::from_static("tenant-id");
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

enum Failure {
    /// A response with a non-success status.
    Status(ApiError),
    /// No response; `sent` tells whether the request may have reached Trophy.
    Transport {
        message: String,
        sent: bool,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The attempt timed out.
    AttemptTimeout(Duration),
    /// Anything that must not be retried.
    Final(Error),
}

/// Sends `call`, retrying as its class and the retry settings allow, and decodes the result.
pub(crate) async fn execute<T: DeserializeOwned>(
    client: &Client,
    call: Call,
    options: RequestOptions,
) -> Result<Response<T>> {
    let Prepared { url, headers, retry } = prepare(client, &call, &options)?;
    let inner = &client.inner;
    let per_call = options.timeout.unwrap_or(inner.timeouts.per_call);
    let per_attempt = options.attempt_timeout.unwrap_or(inner.timeouts.per_attempt);
    let limits = Limits::new(per_call, per_attempt);
    let span = tracing::info_span!(
        "trophy.call",
        operation = call.operation,
        method = %call.method,
        path = call.template,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    attempt_loop::<T>(client, &call, &url, &headers, &retry, &limits)
        .instrument(span)
        .await
}

/// What every attempt of a call sends, checked and built once before the first attempt.
pub(crate) struct Prepared {
    pub(crate) url: reqwest::Url,
    pub(crate) headers: HeaderMap,
    pub(crate) retry: crate::RetryConfig,
}

/// Checks the key against the API, and builds the URL and headers of `call`.
pub(crate) fn prepare(client: &Client, call: &Call, options: &RequestOptions) -> Result<Prepared> {
    let inner = &client.inner;
    if call.api == Api::Admin && inner.api_key.is_application_key() {
        return Err(Error::invalid(
            "api_key",
            "application API keys (prefix app_) act for one user and cannot call the Admin API; use an admin key",
        ));
    }
    let retry = options.retry.clone().unwrap_or_else(|| inner.retry.clone());
    let idempotency_key = match (call.class, &options.idempotency_key) {
        (_, Some(k)) => Some(header_value("idempotency_key", k)?),
        (RetryClass::Keyed, None) if retry.max_attempts > 1 => {
            Some(HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).map_err(|e| Error::Config(e.to_string()))?)
        }
        _ => None,
    };
    let mut headers = request_headers(client, options, idempotency_key)?;
    // A `Content-Type` the caller set (e.g. with a charset) is kept, never doubled.
    if call.body.is_some() && !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    let base = match call.api {
        Api::App => &inner.app_url,
        Api::Admin => &inner.admin_url,
    };
    let mut url = reqwest::Url::parse(&format!("{base}{}", call.path))
        .map_err(|e| Error::invalid("path", format!("does not form a URL: {e}")))?;
    if !call.query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    Ok(Prepared { url, headers, retry })
}

/// The time limits of one call: a deadline for the whole call (attempts, backoffs and rate
/// limiting included) and a limit per attempt. One timer runs at a time: each attempt waits
/// until whichever of its own limit and the call's deadline comes first.
struct Limits {
    per_call: Duration,
    per_attempt: Duration,
    deadline: Instant,
}

impl Limits {
    fn new(per_call: Duration, per_attempt: Duration) -> Limits {
        let now = Instant::now();
        Limits {
            per_call,
            per_attempt,
            deadline: later(now, per_call),
        }
    }

    /// When the attempt starting now must end, and whether that is the call's deadline.
    fn attempt_deadline(&self) -> (Instant, bool) {
        let own = later(Instant::now(), self.per_attempt);
        if own < self.deadline {
            (own, false)
        } else {
            (self.deadline, true)
        }
    }

    /// The error of a call that ran out of time after `attempts` attempts.
    fn expired(&self, operation: &'static str, attempts: u32) -> Error {
        Error::Timeout(TimeoutError {
            operation,
            attempts,
            limit: self.per_call,
            whole_call: true,
        })
    }
}

/// `now + d`, or about 30 years from now when that does not fit (`Duration::MAX` means "no
/// limit", not a panic).
fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

fn request_headers(
    client: &Client,
    options: &RequestOptions,
    idempotency_key: Option<HeaderValue>,
) -> Result<HeaderMap> {
    let inner = &client.inner;
    let mut h = HeaderMap::with_capacity(8);
    h.insert(X_API_KEY, inner.api_key.0.clone());
    h.insert(X_SDK_VERSION, HeaderValue::from_static(API_VERSION));
    h.insert(http::header::USER_AGENT, inner.user_agent.clone());
    h.insert(http::header::ACCEPT, HeaderValue::from_static("application/json"));
    match &options.tenant_id {
        Some(t) => {
            h.insert(TENANT_ID, header_value("tenant_id", t)?);
        }
        None => {
            if let Some(t) = &inner.tenant_id {
                h.insert(TENANT_ID, t.clone());
            }
        }
    }
    if let Some(k) = idempotency_key {
        h.insert(IDEMPOTENCY_KEY, k);
    }
    for (name, value) in &inner.default_headers {
        h.insert(name.clone(), value.clone());
    }
    for (name, value) in &options.headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::invalid("header", format!("{name:?} is not a header name")))?;
        if n == X_API_KEY {
            return Err(Error::invalid(
                "header",
                "set the API key on the client, not as a header",
            ));
        }
        h.insert(n, header_value(name, value)?);
    }
    Ok(h)
}

async fn attempt_loop<T: DeserializeOwned>(
    client: &Client,
    call: &Call,
    url: &reqwest::Url,
    headers: &HeaderMap,
    retry: &crate::RetryConfig,
    limits: &Limits,
) -> Result<Response<T>> {
    let inner = &client.inner;
    let span = tracing::Span::current();
    let mut attempt = 0;
    loop {
        attempt += 1;
        span.record("attempt", attempt);
        let limited = match call.limit {
            LimitMode::Client => inner.limit_calls,
            LimitMode::Prepaid => attempt > 1,
        };
        if limited
            && tokio::time::timeout_at(limits.deadline, inner.rate_limiter.acquire(call.tier))
                .await
                .is_err()
        {
            return Err(limits.expired(call.operation, attempt));
        }
        let (attempt_deadline, is_call_deadline) = limits.attempt_deadline();
        let timer = metrics::Timer::start();
        let outcome = match tokio::time::timeout_at(attempt_deadline, one_attempt(client, call, url, headers)).await {
            Ok(r) => r,
            Err(_) if is_call_deadline => {
                metrics::request(call.operation, call.api, &timer, Answer::Timeout);
                return Err(limits.expired(call.operation, attempt));
            }
            Err(_) => Err(Failure::AttemptTimeout(limits.per_attempt)),
        };
        let answer = answer_of(&outcome);
        metrics::request(call.operation, call.api, &timer, answer);
        let failure = match outcome {
            Ok((status, resp_headers, body)) => {
                span.record("status", status);
                let value = decode::<T>(call.operation, status, &body)?;
                return Ok(Response::new(status, resp_headers, value));
            }
            Err(f) => f,
        };
        let may_retry = attempt < retry.max_attempts
            && match (&failure, call.class) {
                (Failure::Final(_), _) => false,
                (Failure::Status(e), RetryClass::Unsafe) => e.status == 429,
                (Failure::Status(e), _) => is_retryable_status(e.status),
                (Failure::Transport { sent, .. }, RetryClass::Unsafe) => !sent,
                (Failure::Transport { .. }, _) => true,
                (Failure::AttemptTimeout(_), RetryClass::Unsafe) => false,
                (Failure::AttemptTimeout(_), _) => true,
            };
        let mut delay = retry.backoff(attempt);
        if let Failure::Status(e) = &failure {
            span.record("status", e.status);
            if e.status == 429 && call.limit == LimitMode::Client && inner.limit_calls {
                // The pacer learns from every paced call's 429 (the ingest engine tells it itself).
                let signal = crate::ratelimit::Signal::from_headers(Some(&e.headers));
                inner.rate_limiter.pacer(call.tier).throttled(&signal);
            }
            if let Some(after) = retry_after(&e.headers) {
                if after > retry.max_retry_after {
                    tracing::debug!(?after, "Retry-After beyond the configured maximum; not retrying");
                    return Err(into_error(failure, call.operation, attempt));
                }
                delay = delay.max(after);
            }
        }
        if !may_retry {
            return Err(into_error(failure, call.operation, attempt));
        }
        tracing::debug!(attempt, ?delay, "retrying");
        metrics::retry(call.operation, answer);
        let wake = later(Instant::now(), delay);
        if wake >= limits.deadline {
            // The call's time runs out during the backoff.
            tokio::time::sleep_until(limits.deadline).await;
            return Err(limits.expired(call.operation, attempt));
        }
        tokio::time::sleep_until(wake).await;
    }
}

/// How an attempt ended, for metrics.
fn answer_of(outcome: &std::result::Result<(u16, HeaderMap, Vec<u8>), Failure>) -> Answer {
    match outcome {
        Ok((status, ..)) => Answer::Status(*status),
        Err(Failure::Status(e)) => Answer::Status(e.status),
        Err(Failure::Transport { .. }) => Answer::Connection,
        Err(Failure::AttemptTimeout(_)) => Answer::Timeout,
        Err(Failure::Final(e)) => Answer::of(e),
    }
}

fn into_error(failure: Failure, operation: &'static str, attempts: u32) -> Error {
    match failure {
        Failure::Status(mut e) => {
            e.attempts = attempts;
            Error::Api(Box::new(e))
        }
        Failure::Transport { message, source, .. } => Error::Connection(Box::new(ConnectionError {
            operation,
            attempts,
            message,
            source: Some(source),
        })),
        Failure::AttemptTimeout(limit) => Error::Timeout(TimeoutError {
            operation,
            attempts,
            limit,
            whole_call: false,
        }),
        Failure::Final(e) => e,
    }
}

async fn one_attempt(
    client: &Client,
    call: &Call,
    url: &reqwest::Url,
    headers: &HeaderMap,
) -> std::result::Result<(u16, HeaderMap, Vec<u8>), Failure> {
    let inner = &client.inner;
    // The headers were built once for all attempts: the map is cloned in whole, not
    // re-inserted header by header as `RequestBuilder::headers` does.
    let mut req = reqwest::Request::new(call.method.clone(), url.clone());
    *req.headers_mut() = headers.clone();
    if let Some(body) = &call.body {
        *req.body_mut() = Some(reqwest::Body::from(body.clone()));
    }
    let mut resp = inner.http.execute(req).await.map_err(|e| transport_failure(e, false))?;
    let status = resp.status().as_u16();
    let resp_headers = std::mem::take(resp.headers_mut());
    let success = (200..300).contains(&status);
    let limit = if success { MAX_BODY } else { MAX_ERROR_BODY };
    // Sized from Content-Length (capped by the limit): a large body is not copied again at
    // every doubling of the buffer.
    let expected = resp.content_length().unwrap_or(0).min(limit as u64) as usize;
    let mut body = Vec::with_capacity(expected);
    let mut truncated = false;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    body.extend_from_slice(&chunk[..limit - body.len()]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                if success {
                    return Err(transport_failure(e, true));
                }
                // The status is known; a broken error body does not hide it.
                break;
            }
        }
    }
    if success {
        if truncated {
            return Err(Failure::Final(Error::Decode(Box::new(DecodeError {
                operation: call.operation,
                status,
                path: ".".into(),
                message: format!("response body larger than {} MiB", MAX_BODY / (1024 * 1024)),
                body_snippet: snippet(&body),
            }))));
        }
        return Ok((status, resp_headers, body));
    }
    let message = error_message(&body);
    Err(Failure::Status(ApiError {
        status,
        body_snippet: if message.is_none() { Some(snippet(&body)) } else { None },
        message,
        headers: resp_headers,
        operation: call.operation,
        attempts: 0,
    }))
}

fn transport_failure(e: reqwest::Error, mut sent: bool) -> Failure {
    // A connect error means nothing reached Trophy; anything later may have.
    if e.is_connect() {
        sent = false;
    } else if e.is_request() || e.is_body() || e.is_decode() || e.is_timeout() {
        sent = true;
    }
    let message = describe(&e);
    Failure::Transport {
        message,
        sent,
        source: Box::new(e),
    }
}

/// A readable account of a transport error, without URLs (they carry no secret, but keep
/// messages short) and without the reqwest type.
fn describe(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    let kind = if e.is_connect() {
        "connection failed"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "response interrupted"
    } else {
        "request failed"
    };
    if parts.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {}", parts.join(": "))
    }
}

/// Trophy's error bodies are `{"error": "..."}`; anything else yields no message.
fn error_message(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Body {
        error: Option<serde_json::Value>,
        message: Option<String>,
    }
    let parsed: Body = serde_json::from_slice(body).ok()?;
    match parsed.error {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) if !other.is_null() => Some(other.to_string()),
        _ => parsed.message,
    }
    .map(|m| m.chars().take(1000).collect())
}

pub(crate) fn decode<T: DeserializeOwned>(operation: &'static str, status: u16, body: &[u8]) -> Result<T> {
    // Fast path: plain serde_json. serde_path_to_error allocates a String per object key to
    // track the path (1.5-2x the decode time); it only matters for naming the failing field,
    // so a body that fails is decoded a second time with it.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let fail = |path: String, message: String| {
        Error::Decode(Box::new(DecodeError {
            operation,
            status,
            path,
            message,
            body_snippet: snippet(body),
        }))
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        fail(path, e.into_inner().to_string())
    })?;
    de.end().map_err(|e| fail(".".into(), e.to_string()))?;
    Ok(value)
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        h.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120), "{d:?}");
        h.insert(http::header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            error_message(br#"{"error":"User not found"}"#).as_deref(),
            Some("User not found")
        );
        assert_eq!(error_message(br#"{"message":"nope"}"#).as_deref(), Some("nope"));
        assert_eq!(error_message(b"<html>502</html>"), None);
        assert_eq!(error_message(b""), None);
    }

    #[test]
    fn decode_names_the_failing_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            inner: Inner,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            total: i64,
        }
        let e = decode::<Outer>("op", 200, br#"{"inner":{"total":"many"}}"#).unwrap_err();
        let Error::Decode(d) = e else { panic!("{e:?}") };
        assert_eq!(d.path, "inner.total");
        assert_eq!(d.status, 200);
        assert!(d.body_snippet.contains("many"));
        assert!(decode::<Outer>("op", 200, br#"{"inner":{"total":1}} trailing"#).is_err());
    }
}
