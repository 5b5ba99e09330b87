//! What every operation builder shares: the call description, per-call options, path
//! encoding, input checks and the typed response.

use crate::config::RetryConfig;
use crate::error::{Error, Result};
use crate::ratelimit::Tier;
use http::{HeaderMap, HeaderValue};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use std::time::Duration;

/// Which of the two APIs a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    App,
    Admin,
}

/// Whether a failed attempt may be repeated (see RELIABILITY.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryClass {
    /// Reads and idempotent writes (GET, PUT, PATCH, DELETE): retried on every retryable fault.
    Safe,
    /// Metric events: retried on every retryable fault, always under one idempotency key
    /// (the `Idempotency-Key` header, generated when the caller set none).
    Keyed,
    /// Batch events: retried on every retryable fault; the keys travel in the body, written
    /// by the builder before the first attempt, so no header is added.
    KeyedInBody,
    /// Writes that could count twice: retried only when Trophy cannot have processed the
    /// request (connection not established, or 429).
    Unsafe,
}

/// Whether an attempt waits for a token of the client's rate limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitMode {
    /// When the client was built with a rate limit (every ordinary call).
    Client,
    /// Not for the first attempt, whose token the caller already took; always for later ones.
    Prepaid,
}

/// One request, fully described, ready for the transport.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) api: Api,
    pub(crate) operation: &'static str,
    pub(crate) method: http::Method,
    pub(crate) template: &'static str,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    /// `Bytes`: each attempt sends it without copying.
    pub(crate) body: Option<bytes::Bytes>,
    pub(crate) class: RetryClass,
    pub(crate) tier: Tier,
    pub(crate) limit: LimitMode,
}

impl Call {
    /// A call with the retry class and tier that follow from the API and the method.
    pub(crate) fn new(
        api: Api,
        operation: &'static str,
        method: http::Method,
        template: &'static str,
        path: String,
    ) -> Self {
        let class = if method == http::Method::POST {
            RetryClass::Unsafe
        } else {
            RetryClass::Safe
        };
        let tier = if api == Api::Admin { Tier::One } else { Tier::Two };
        Call {
            api,
            operation,
            method,
            template,
            path,
            query: Vec::new(),
            body: None,
            class,
            tier,
            limit: LimitMode::Client,
        }
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    pub(crate) fn query_opt(mut self, name: &'static str, value: Option<impl ToString>) -> Self {
        if let Some(v) = value {
            self.query.push((name, v.to_string()));
        }
        self
    }

    pub(crate) fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self> {
        let bytes = serde_json::to_vec(body).map_err(|e| Error::invalid("body", e.to_string()))?;
        self.body = Some(bytes::Bytes::from(bytes));
        Ok(self)
    }

    pub(crate) fn class(mut self, class: RetryClass) -> Self {
        self.class = class;
        self
    }

    pub(crate) fn tier(mut self, tier: Tier) -> Self {
        self.tier = tier;
        self
    }
}

/// Per-call overrides set on a builder.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestOptions {
    pub(crate) tenant_id: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) retry: Option<RetryConfig>,
    pub(crate) idempotency_key: Option<String>,
}

/// A typed result with the status and headers it came with.
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let response = client.users().get("user-id").send_with_response().await?;
/// println!("{} {:?}", response.status(), response.headers().get("x-request-id"));
/// let user = response.into_body();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Response<T> {
    status: u16,
    headers: HeaderMap,
    body: T,
}

impl<T> Response<T> {
    pub(crate) fn new(status: u16, headers: HeaderMap, body: T) -> Self {
        Response { status, headers, body }
    }

    pub(crate) fn body_mut(&mut self) -> &mut T {
        &mut self.body
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The typed body.
    pub fn body(&self) -> &T {
        &self.body
    }

    /// Takes the typed body.
    pub fn into_body(self) -> T {
        self.body
    }

    /// Splits into status, headers and body.
    pub fn into_parts(self) -> (u16, HeaderMap, T) {
        (self.status, self.headers, self.body)
    }
}

/// Everything but the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`) is encoded,
/// so a value always stays one path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Encodes `value` as one path segment, after checking it is usable as one.
pub(crate) fn segment(field: &str, value: &str) -> Result<String> {
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid(field, "`.` and `..` cannot be sent as a path segment"));
    }
    Ok(utf8_percent_encode(value, SEGMENT).to_string())
}

/// Checks a required identifier or key is not empty.
pub(crate) fn non_empty(field: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    Ok(())
}

/// Checks a key Trophy lets admins create: ASCII letters, digits, `-` and `_`.
pub(crate) fn key_charset(field: &str, value: &str) -> Result<()> {
    non_empty(field, value)?;
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(Error::invalid(
            field,
            format!("{c:?} is not allowed: use ASCII letters, digits, `-` and `_`"),
        ));
    }
    Ok(())
}

/// Checks a number is finite.
pub(crate) fn finite(field: &str, value: f64) -> Result<()> {
    if !value.is_finite() {
        return Err(Error::invalid(field, "must be a finite number"));
    }
    Ok(())
}

/// Checks the length of a list parameter or body.
pub(crate) fn list_len(field: &str, len: usize, max: usize) -> Result<()> {
    if len == 0 {
        return Err(Error::invalid(field, "must contain at least one item"));
    }
    if len > max {
        return Err(Error::invalid(
            field,
            format!("has {len} items; at most {max} are allowed per call"),
        ));
    }
    Ok(())
}

/// A header value from user input.
pub(crate) fn header_value(field: &str, value: &str) -> Result<HeaderValue> {
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    HeaderValue::from_str(value).map_err(|_| Error::invalid(field, "contains characters not allowed in an HTTP header"))
}

/// Implements the per-call setters, `send`, `send_with_response` and `IntoFuture` for an
/// operation builder with fields `client: Client` and `options: RequestOptions` and a method
/// `fn call(&self) -> Result<Call>`.
macro_rules! operation {
    ($builder:ident => $output:ty) => {
        $crate::request::operation!($builder => $output; finish = |_response| {});
    };
    ($builder:ident => $output:ty; finish = $finish:expr) => {
        impl $builder {
            /// Overrides the `Tenant-ID` of this call.
            pub fn tenant_id(mut self, tenant: impl Into<String>) -> Self {
                self.options.tenant_id = Some(tenant.into());
                self
            }

            /// Overrides the time limit of the whole call, retries included.
            pub fn timeout(mut self, limit: std::time::Duration) -> Self {
                self.options.timeout = Some(limit);
                self
            }

            /// Overrides the time limit of each attempt.
            pub fn attempt_timeout(mut self, limit: std::time::Duration) -> Self {
                self.options.attempt_timeout = Some(limit);
                self
            }

            /// Adds a header to this call.
            pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
                self.options.headers.push((name.into(), value.into()));
                self
            }

            /// Overrides the retry settings of this call.
            pub fn retry(mut self, retry: $crate::RetryConfig) -> Self {
                self.options.retry = Some(retry);
                self
            }

            /// Not public API: the request `send` would make, built without sending it (for
            /// the request-building fuzz test).
            #[doc(hidden)]
            pub fn __build(self) -> $crate::Result<$crate::__private::BuiltRequest> {
                let call = self.call()?;
                $crate::__private::built(&self.client, call, &self.options)
            }

            /// Sends the call and returns the typed result.
            pub async fn send(self) -> $crate::Result<$output> {
                Ok(self.send_with_response().await?.into_body())
            }

            /// Sends the call and returns the typed result with its status and headers.
            pub async fn send_with_response(self) -> $crate::Result<$crate::Response<$output>> {
                let call = self.call()?;
                let mut response = $crate::transport::execute(&self.client, call, self.options).await?;
                #[allow(clippy::redundant_closure_call)]
                ($finish)(&mut response);
                Ok(response)
            }
        }

        impl std::future::IntoFuture for $builder {
            type Output = $crate::Result<$output>;
            type IntoFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Self::Output> + Send>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
    };
}
pub(crate) use operation;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_whole() {
        assert_eq!(segment("id", "a/b?c#d%e f").unwrap(), "a%2Fb%3Fc%23d%25e%20f");
        assert_eq!(segment("id", "../x").unwrap(), "..%2Fx");
        assert_eq!(segment("id", "zoë").unwrap(), "zo%C3%AB");
        assert_eq!(segment("id", "user-1_a.b~").unwrap(), "user-1_a.b~");
        assert!(segment("id", "").is_err());
        assert!(segment("id", "..").is_err());
    }

    #[test]
    fn key_charset_names_the_bad_character() {
        assert!(key_charset("key", "words-written_2").is_ok());
        let e = key_charset("key", "words written").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid `key`: ' ' is not allowed: use ASCII letters, digits, `-` and `_`"
        );
    }

    #[test]
    fn list_bounds() {
        assert!(list_len("ids", 100, 100).is_ok());
        assert!(list_len("ids", 101, 100).unwrap_err().to_string().contains("101 items"));
        assert!(list_len("ids", 0, 100).is_err());
    }
}
