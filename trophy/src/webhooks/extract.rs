//! The axum extractor for verified webhook deliveries (feature `axum`).

use std::fmt;

use axum::body::Body;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;

use super::{construct_event, WebhookError, WebhookEvent, WebhookSecret, MAX_BODY_BYTES, SIGNATURE_HEADER};

/// An axum extractor for a webhook delivery from Trophy whose signature has been verified.
///
/// It reads the raw body (at most [`MAX_BODY_BYTES`]), checks its [`SIGNATURE_HEADER`] with the
/// [`WebhookSecret`] taken from the router state, and parses it into a [`WebhookEvent`]. The
/// state must provide the secret: either be a `WebhookSecret` or implement
/// `FromRef` for it (`#[derive(FromRef)]` on your state struct, with axum's `macros` feature).
/// As it consumes the body, it must be the handler's last argument.
///
/// A request that does not pass is rejected with a [`WebhookRejection`] before the handler
/// runs: `401` for a missing, malformed or wrong signature, `400` for a body that is not a
/// valid payload (or could not be read), `413` for a body over [`MAX_BODY_BYTES`], `500` if the
/// secret is empty. The response body is a one-line plain-text reason.
///
/// ```no_run
/// use axum::{extract::FromRef, http::StatusCode, routing::post, Router};
/// use trophy::webhooks::{VerifiedWebhook, WebhookEvent, WebhookSecret};
///
/// #[derive(Clone)]
/// struct AppState {
///     webhook_secret: WebhookSecret,
///     // ... database pool, etc.
/// }
///
/// impl FromRef<AppState> for WebhookSecret {
///     fn from_ref(state: &AppState) -> Self {
///         state.webhook_secret.clone()
///     }
/// }
///
/// async fn trophy_webhook(VerifiedWebhook(event): VerifiedWebhook) -> StatusCode {
///     match &event {
///         WebhookEvent::StreakLost(e) => println!("{} lost their streak", e.user.id),
///         other => println!("received {}", other.event_type()),
///     }
///     StatusCode::NO_CONTENT
/// }
///
/// # async fn demo() -> std::io::Result<()> {
/// let state = AppState {
///     webhook_secret: WebhookSecret::new(std::env::var("TROPHY_WEBHOOK_SECRET").unwrap_or_default()),
/// };
/// let app = Router::new()
///     .route("/webhooks/trophy", post(trophy_webhook))
///     .with_state(state);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedWebhook(pub WebhookEvent);

/// Why [`VerifiedWebhook`] rejected a request; converts into the response sent back.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// Verification or parsing failed: `401` for the signature errors, `400` for
    /// [`WebhookError::InvalidPayload`], `500` for [`WebhookError::EmptySecret`].
    Webhook(WebhookError),
    /// The body is larger than the limit (`413`).
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read, e.g. the client went away mid-request (`400`).
    BodyRead,
}

impl WebhookRejection {
    /// The HTTP status the rejection is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Webhook(WebhookError::InvalidPayload { .. }) | Self::BodyRead => StatusCode::BAD_REQUEST,
            Self::Webhook(WebhookError::EmptySecret) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Webhook(_) => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Webhook(error) => error.fmt(f),
            Self::PayloadTooLarge { limit } => {
                write!(f, "webhook body is larger than {limit} bytes")
            }
            Self::BodyRead => f.write_str("could not read the webhook body"),
        }
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Webhook(error) => Some(error),
            _ => None,
        }
    }
}

impl From<WebhookError> for WebhookRejection {
    fn from(error: WebhookError) -> Self {
        Self::Webhook(error)
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        // For a misconfigured secret, the sender only needs to know to retry later.
        let message = match &self {
            Self::Webhook(WebhookError::EmptySecret) => "webhook receiver misconfigured".to_owned(),
            other => other.to_string(),
        };
        (self.status(), message).into_response()
    }
}

impl<S> FromRequest<S> for VerifiedWebhook
where
    S: Send + Sync,
    WebhookSecret: FromRef<S>,
{
    type Rejection = WebhookRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let secret = WebhookSecret::from_ref(state);
        let result = verified_event(req, secret.expose_secret()).await;
        match &result {
            Ok(event) => tracing::debug!(event_type = event.event_type(), "verified Trophy webhook"),
            Err(WebhookRejection::Webhook(WebhookError::EmptySecret)) => {
                tracing::error!("rejected a Trophy webhook: the configured webhook secret is empty");
            }
            Err(rejection) => {
                tracing::debug!(status = rejection.status().as_u16(), reason = %rejection, "rejected a Trophy webhook");
            }
        }
        result.map(VerifiedWebhook)
    }
}

async fn verified_event(req: Request, secret: &str) -> Result<WebhookEvent, WebhookRejection> {
    // Cheap rejections first, before buffering anything.
    if secret.is_empty() {
        return Err(WebhookError::EmptySecret.into());
    }
    let (parts, body) = req.into_parts();
    let signature = match parts.headers.get(SIGNATURE_HEADER) {
        None => return Err(WebhookError::MissingSignature.into()),
        Some(value) => value.to_str().map_err(|_| WebhookError::MalformedSignature)?.to_owned(),
    };
    let body = read_body(body, &parts.headers, MAX_BODY_BYTES).await?;
    Ok(construct_event(&body, Some(&signature), secret)?)
}

/// Reads the whole body, failing as soon as it exceeds `limit` bytes.
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Vec<u8>, WebhookRejection> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(WebhookRejection::PayloadTooLarge { limit });
    }
    // Trust the declared length only as a capacity hint, never beyond the limit.
    let capacity = declared.map_or(0, |length| length.min(limit as u64) as usize);
    let mut buffer: Vec<u8> = Vec::with_capacity(capacity);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| WebhookRejection::BodyRead)?;
        if buffer.len().saturating_add(chunk.len()) > limit {
            return Err(WebhookRejection::PayloadTooLarge { limit });
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer)
}
