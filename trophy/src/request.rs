//! What every operation builder shares: the call description, per-call options, path
//! encoding, input checks and the typed response.

use crate::config::RetryConfig;
use crate::error::{Error, Result};
use crate::ratelimit::Tier;
use http::{HeaderMap, HeaderValue};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use std::time::Duration;
use trophy_generated::{ApiKind, HttpMethod, Operation, QueryParam, QueryStyle};

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
    /// The call of the operation `op`, its path template filled with `path` (one value per
    /// template parameter, in template order; each checked and percent-encoded as one segment).
    /// Method, operation id, template and API come from the descriptor; the retry class and
    /// tier follow from the API and the method (a builder may override them).
    pub(crate) fn from_op(op: &'static Operation, path: &[&str]) -> Result<Self> {
        if path.len() != op.path_params.len() {
            return Err(Error::invalid(
                "path",
                format!(
                    "{} takes {} path values, not {}",
                    op.id,
                    op.path_params.len(),
                    path.len()
                ),
            ));
        }
        let mut filled = String::with_capacity(op.path.len() + path.iter().map(|v| v.len()).sum::<usize>() * 3);
        let mut rest = op.path;
        for (name, value) in op.path_params.iter().zip(path) {
            // The generator checked that the template's parameters are `path_params`, in order.
            let (before, after) = rest.split_once('{').unwrap_or((rest, ""));
            filled.push_str(before);
            check_segment(name, value)?;
            filled.extend(utf8_percent_encode(value, SEGMENT));
            rest = after.split_once('}').map_or("", |(_, tail)| tail);
        }
        filled.push_str(rest);
        let (api, tier) = match op.api {
            ApiKind::App => (Api::App, Tier::Two),
            ApiKind::Admin => (Api::Admin, Tier::One),
        };
        let (method, class) = match op.method {
            HttpMethod::Get => (http::Method::GET, RetryClass::Safe),
            HttpMethod::Post => (http::Method::POST, RetryClass::Unsafe),
            HttpMethod::Put => (http::Method::PUT, RetryClass::Safe),
            HttpMethod::Patch => (http::Method::PATCH, RetryClass::Safe),
            HttpMethod::Delete => (http::Method::DELETE, RetryClass::Safe),
        };
        Ok(Call {
            api,
            operation: op.id,
            method,
            template: op.path,
            path: filled,
            query: Vec::new(),
            body: None,
            class,
            tier,
            limit: LimitMode::Client,
        })
    }

    /// Adds one value of the query parameter `param`.
    pub(crate) fn query(mut self, param: QueryParam, value: impl ToString) -> Self {
        self.query.push((param.name, value.to_string()));
        self
    }

    /// Adds the query parameter `param` when `value` is set.
    pub(crate) fn query_opt(self, param: QueryParam, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(param, v),
            None => self,
        }
    }

    /// Adds the list `values` of the query parameter `param`, written as its descriptor says:
    /// one pair per value, or one comma-joined value.
    pub(crate) fn query_list<V: AsRef<str>>(mut self, param: QueryParam, values: &[V]) -> Self {
        match param.style {
            QueryStyle::CommaJoined => {
                let joined = values.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(",");
                self.query.push((param.name, joined));
            }
            QueryStyle::Repeated | QueryStyle::Scalar => {
                self.query
                    .extend(values.iter().map(|v| (param.name, v.as_ref().to_owned())));
            }
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

/// `systemId` → `system_id`: the name a path parameter has in validation errors.
fn field_name(param: &str) -> String {
    let mut out = String::with_capacity(param.len() + 2);
    for c in param.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks `value` is usable as one path segment (the path parameter `param`).
fn check_segment(param: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field_name(param), "must not be empty"));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid(
            field_name(param),
            "`.` and `..` cannot be sent as a path segment",
        ));
    }
    Ok(())
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

/// The error of a strict bulk call whose answer has issues of severity `error` (or one this
/// version does not know); `Ok` when it has none.
pub(crate) fn refuse_issues(
    operation: &'static str,
    items: usize,
    status: u16,
    issues: &[crate::admin_types::AdminIssue],
) -> Result<()> {
    use crate::admin_types::AdminIssueSeverity;
    let errors: Vec<_> = issues
        .iter()
        .filter(|i| i.severity != AdminIssueSeverity::Warning)
        .cloned()
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(Error::Issues(Box::new(crate::error::IssuesError {
        operation,
        status,
        items,
        issues: errors,
    })))
}

/// Implements the per-call setters, `send`, `send_with_response` and `IntoFuture` for an
/// operation builder with fields `client: Client` and `options: RequestOptions` and a method
/// `fn call(&self) -> Result<Call>`.
macro_rules! operation {
    ($builder:ident => $output:ty) => {
        $crate::request::operation!($builder => $output; finish = |_response| {});
    };
    ($builder:ident => $output:ty; finish = $finish:expr) => {
        $crate::request::operation!(@common $builder => $output);

        impl $builder {
            /// Sends the call and returns the typed result with its status and headers.
            pub async fn send_with_response(self) -> $crate::Result<$crate::Response<$output>> {
                let call = self.call()?;
                let mut response = $crate::transport::execute(&self.client, call, self.options).await?;
                #[allow(clippy::redundant_closure_call)]
                ($finish)(&mut response);
                Ok(response)
            }
        }
    };
    // A bulk Admin call whose answer has `issues`: the builder has `strict: bool` and
    // `items: Vec<_>`; with `strict`, issues of severity `error` are an `Error::Issues`.
    ($builder:ident => $output:ty; strict) => {
        $crate::request::operation!(@common $builder => $output);

        impl $builder {
            /// Fails with [`Error::Issues`]($crate::Error::Issues) when Trophy skips any item
            /// (answering with `issues` of severity `error`), instead of returning them in the
            /// response: for set-up code, where a skipped item must stop the program.
            pub fn strict(mut self) -> Self {
                self.strict = true;
                self
            }

            /// Sends the call and returns the typed result with its status and headers.
            pub async fn send_with_response(self) -> $crate::Result<$crate::Response<$output>> {
                let call = self.call()?;
                let (operation, items, strict) = (call.operation, self.items.len(), self.strict);
                let response: $crate::Response<$output> =
                    $crate::transport::execute(&self.client, call, self.options).await?;
                if strict {
                    $crate::request::refuse_issues(operation, items, response.status(), &response.body().issues)?;
                }
                Ok(response)
            }
        }
    };
    // The per-call settings, for a builder with `options: RequestOptions` (an `ensure` applies
    // them to each of its requests).
    (@options $builder:ident) => {
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
        }
    };
    (@common $builder:ident => $output:ty) => {
        $crate::request::operation!(@options $builder);

        impl $builder {
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

    use trophy_generated::operations as ops;

    fn path(op: &'static Operation, values: &[&str]) -> Result<String> {
        Call::from_op(op, values).map(|c| c.path)
    }

    #[test]
    fn segments_are_encoded_whole() {
        let user = |id| path(&ops::users_get::OP, &[id]);
        assert_eq!(user("a/b?c#d%e f").unwrap(), "/users/a%2Fb%3Fc%23d%25e%20f");
        assert_eq!(user("../x").unwrap(), "/users/..%2Fx");
        assert_eq!(user("zoë").unwrap(), "/users/zo%C3%AB");
        assert_eq!(user("user-1_a.b~").unwrap(), "/users/user-1_a.b~");
        assert!(user("").is_err());
        assert!(user("..").is_err());
    }

    #[test]
    fn templates_are_filled_in_order() {
        assert_eq!(
            path(&ops::users_points::OP, &["u/1", "xp"]).unwrap(),
            "/users/u%2F1/points/xp"
        );
        assert_eq!(
            path(&ops::admin_points_boosts_get::OP, &["s", "b"]).unwrap(),
            "/points/s/boosts/b"
        );
        assert_eq!(path(&ops::streaks_list::OP, &[]).unwrap(), "/streaks");
        let e = path(&ops::admin_points_boosts_list::OP, &[""]).unwrap_err();
        assert_eq!(e.to_string(), "invalid `system_id`: must not be empty");
        assert!(path(&ops::users_points::OP, &["only-one"]).is_err());
        let call = Call::from_op(&ops::metrics_event::OP, &["k"]).unwrap();
        assert_eq!(
            (call.method, call.operation, call.template),
            (http::Method::POST, "metrics_event", "/metrics/{key}/event")
        );
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
