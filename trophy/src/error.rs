//! The one error type of the crate.

use std::fmt;
use std::time::Duration;

/// How many bytes of a response body an error keeps.
pub(crate) const SNIPPET_LIMIT: usize = 512;

/// Everything that can go wrong in a call.
///
/// `Error` never exposes the types of the HTTP stack underneath, and its `Display` is one line
/// that never contains the API key.
///
/// ```no_run
/// # async fn run(client: trophy::Client) {
/// match client.users().get("user-id").send().await {
///     Ok(user) => println!("{}", user.id),
///     Err(e) if e.is_not_found() => println!("no such user"),
///     Err(e) if e.is_retryable() => println!("try again later: {e}"),
///     Err(e) => println!("failed: {e}"),
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Trophy answered with a non-success status.
    Api(Box<ApiError>),
    /// The call or one attempt ran out of time.
    Timeout(TimeoutError),
    /// No response was received: the connection failed, was refused or was reset.
    Connection(Box<ConnectionError>),
    /// A response arrived but its body is not what the operation returns.
    Decode(Box<DecodeError>),
    /// A value was rejected before anything was sent.
    InvalidInput(InvalidInput),
    /// The client could not be configured (bad base URL, header value, TLS setup, ...).
    Config(String),
    /// A bulk Admin call made with `.strict()` (or an `ensure`) succeeded, but Trophy skipped
    /// items and said why in its `issues`.
    Issues(Box<IssuesError>),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Trophy answered with a status that is not a success.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// Trophy's `error` message, when the body carried one.
    pub message: Option<String>,
    /// The start of the response body (at most 512 bytes, lossy UTF-8) when it had no message.
    pub body_snippet: Option<String>,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// The operation id, e.g. `users_get`.
    pub operation: &'static str,
    /// How many attempts were made.
    pub attempts: u32,
}

/// A call or an attempt ran out of time.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TimeoutError {
    /// The operation id.
    pub operation: &'static str,
    /// How many attempts were made.
    pub attempts: u32,
    /// The limit that was hit.
    pub limit: Duration,
    /// Which limit: the whole call (`true`) or one attempt (`false`).
    pub whole_call: bool,
}

/// No response was received.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConnectionError {
    /// The operation id.
    pub operation: &'static str,
    /// How many attempts were made.
    pub attempts: u32,
    /// What happened, in words.
    pub message: String,
    pub(crate) source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// A response body that does not decode into the operation's result.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecodeError {
    /// The operation id.
    pub operation: &'static str,
    /// The HTTP status of the response.
    pub status: u16,
    /// The path of the field that failed, e.g. `achievement.achievedAt` (`.` when the body
    /// itself is malformed).
    pub path: String,
    /// What was wrong.
    pub message: String,
    /// The start of the body (at most 512 bytes, lossy UTF-8).
    pub body_snippet: String,
}

/// Items of a bulk Admin call that Trophy skipped, from a call made with `.strict()` or an
/// `ensure`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IssuesError {
    /// The operation id, e.g. `admin_leaderboards_create`.
    pub operation: &'static str,
    /// The HTTP status of the answer (200 when nothing was done, 201 when some items were).
    pub status: u16,
    /// How many items the call sent.
    pub items: usize,
    /// Trophy's issues of severity `error` (or one this version does not know); warnings
    /// leave the item done and are not listed.
    pub issues: Vec<crate::admin_types::AdminIssue>,
}

/// A value rejected before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidInput {
    /// The argument or field at fault, e.g. `key` or `events[3].value`.
    pub field: String,
    /// Why it was rejected.
    pub reason: String,
}

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput(InvalidInput {
            field: field.into(),
            reason: reason.into(),
        })
    }

    /// The HTTP status, for API and decode errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode(e) => Some(e.status),
            _ => None,
        }
    }

    /// Trophy's error message, for API errors that carried one.
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.message.as_deref(),
            _ => None,
        }
    }

    /// The response headers, for API errors.
    pub fn headers(&self) -> Option<&http::HeaderMap> {
        match self {
            Error::Api(e) => Some(&e.headers),
            _ => None,
        }
    }

    /// The operation id of the failed call, e.g. `users_single_metric` (`None` for input and
    /// configuration errors).
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::Api(e) => Some(e.operation),
            Error::Timeout(e) => Some(e.operation),
            Error::Connection(e) => Some(e.operation),
            Error::Decode(e) => Some(e.operation),
            Error::Issues(e) => Some(e.operation),
            _ => None,
        }
    }

    /// The SDK call that failed, as written, e.g. `users().metric` for the operation
    /// `users_single_metric`; error messages show both.
    pub fn call(&self) -> Option<&'static str> {
        self.operation().and_then(crate::calls::call_name)
    }

    /// How many attempts the call made before failing (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Api(e) => e.attempts,
            Error::Timeout(e) => e.attempts,
            Error::Connection(e) => e.attempts,
            _ => 0,
        }
    }

    /// A 404 from Trophy.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// A 401 from Trophy: the API key is missing or wrong.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// A 403 from Trophy: the key is valid but may not do this (e.g. an application key acting
    /// for another user).
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    /// A 429 from Trophy.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429)
    }

    /// A timeout of the call or an attempt.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout(_))
    }

    /// Whether trying the same call again later may succeed: timeouts, connection failures,
    /// and the statuses 408, 429, 500, 502, 503 and 504.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Timeout(_) | Error::Connection(_) => true,
            Error::Api(e) => is_retryable_status(e.status),
            _ => false,
        }
    }
}

pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => {
                write!(f, "{} failed with HTTP {}", Named(e.operation), e.status)?;
                if let Some(m) = &e.message {
                    write!(f, ": {}", one_line(m))?;
                } else if let Some(s) = &e.body_snippet {
                    if !s.is_empty() {
                        write!(f, " (body: {})", one_line(s))?;
                    }
                }
                attempts_suffix(f, e.attempts)
            }
            Error::Timeout(e) => {
                let which = if e.whole_call { "call" } else { "attempt" };
                write!(f, "{} timed out ({which} limit {:?})", Named(e.operation), e.limit)?;
                attempts_suffix(f, e.attempts)
            }
            Error::Connection(e) => {
                write!(
                    f,
                    "{} could not reach Trophy: {}",
                    Named(e.operation),
                    one_line(&e.message)
                )?;
                attempts_suffix(f, e.attempts)
            }
            Error::Decode(e) => write!(
                f,
                "{} returned HTTP {} with a body that does not decode at `{}`: {}",
                Named(e.operation),
                e.status,
                e.path,
                one_line(&e.message)
            ),
            Error::InvalidInput(e) => write!(f, "invalid `{}`: {}", e.field, e.reason),
            Error::Config(m) => write!(f, "invalid client configuration: {}", one_line(m)),
            Error::Issues(e) => {
                write!(
                    f,
                    "{} skipped {} of {} items:",
                    Named(e.operation),
                    e.issues.len().min(e.items),
                    e.items
                )?;
                for (n, issue) in e.issues.iter().enumerate() {
                    let sep = if n == 0 { " " } else { "; " };
                    match issue.index {
                        Some(i) => write!(f, "{sep}item {i}: {}", one_line(&issue.message))?,
                        None => write!(f, "{sep}{}", one_line(&issue.message))?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// An operation as the user wrote it, with its id beside it: `users().metric
/// (users_single_metric)`; the id alone when this version has no call for it.
struct Named(&'static str);

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::calls::call_name(self.0) {
            Some(call) => write!(f, "{call} ({})", self.0),
            None => f.write_str(self.0),
        }
    }
}

fn attempts_suffix(f: &mut fmt::Formatter<'_>, attempts: u32) -> fmt::Result {
    if attempts > 1 {
        write!(f, " after {attempts} attempts")?;
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connection(e) => e.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static)),
            _ => None,
        }
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid `{}`: {}", self.field, self.reason)
    }
}

/// Cuts `bytes` to at most [`SNIPPET_LIMIT`] bytes on a character boundary, lossily decoded.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(SNIPPET_LIMIT)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > SNIPPET_LIMIT {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, message: Option<&str>) -> Error {
        Error::Api(Box::new(ApiError {
            status,
            message: message.map(str::to_string),
            body_snippet: None,
            headers: http::HeaderMap::new(),
            operation: "users_get",
            attempts: 1,
        }))
    }

    #[test]
    fn helpers_classify_statuses() {
        assert!(api(404, None).is_not_found());
        assert!(api(401, None).is_unauthorized());
        assert!(api(403, None).is_forbidden());
        assert!(!api(401, None).is_forbidden());
        assert!(api(429, None).is_rate_limited());
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(api(s, None).is_retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 422, 501] {
            assert!(!api(s, None).is_retryable(), "{s}");
        }
    }

    #[test]
    fn display_is_one_line_with_message() {
        let e = api(404, Some("User not\nfound"));
        assert_eq!(
            e.to_string(),
            "users().get (users_get) failed with HTTP 404: User not found"
        );
        assert_eq!((e.call(), e.operation()), (Some("users().get"), Some("users_get")));
    }

    #[test]
    fn snippet_is_bounded_and_lossy() {
        let long = vec![b'a'; 10_000];
        assert_eq!(snippet(&long).len(), SNIPPET_LIMIT + '…'.len_utf8());
        assert_eq!(snippet(&[0xff, b'x']), "\u{fffd}x");
    }
}
