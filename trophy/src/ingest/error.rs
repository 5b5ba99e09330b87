//! The one error of every ingest backend ([`IngestError`], with its [`IngestErrorKind`]), and
//! what the backends share before queueing an event: its checks and its idempotency key.

use crate::api::admin::events::BatchEvent;
use crate::{Error, InvalidInput};
use std::fmt;

/// Why an [`Ingester`](super::Ingester) (or a fleet [`Worker`](super::Worker)) did not do what
/// was asked: an event not queued (handed back, see [`IngestError::into_event`]), a backend that
/// did not open, a settings error.
#[derive(Debug, Clone)]
pub struct IngestError {
    kind: IngestErrorKind,
    message: String,
    event: Option<Box<BatchEvent>>,
    invalid: Option<InvalidInput>,
}

/// The kinds of [`IngestError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IngestErrorKind {
    /// The queue is at capacity (only `try_send` reports this; `send` waits).
    Full,
    /// The ingester is shut down, or shutting down.
    Closed,
    /// The event fails the checks of a batch event (empty key or user id, a value that is not
    /// finite, an empty idempotency key), or is larger than the whole capacity: see
    /// [`IngestError::invalid_input`].
    Invalid,
    /// The store cannot be reached or written: an I/O error, an outbox file held by another
    /// process, Redis down or restarting.
    Unavailable,
    /// The outbox file is damaged, or is not an outbox of this crate.
    Corrupt,
    /// The settings are not usable (or the client has an application key, or the call was made
    /// outside a Tokio runtime).
    Config,
    /// This backend does not do that (dead letters are kept by the outbox only).
    Unsupported,
}

impl IngestError {
    pub(crate) fn new(kind: IngestErrorKind, message: impl Into<String>) -> Self {
        IngestError {
            kind,
            message: message.into(),
            event: None,
            invalid: None,
        }
    }

    /// Hands `event` back with this error.
    pub(crate) fn with_event(mut self, event: BatchEvent) -> Self {
        self.event = Some(Box::new(event));
        self
    }

    /// A settings error from the crate's own checks.
    pub(crate) fn config(e: Error) -> Self {
        match e {
            Error::InvalidInput(i) => IngestError {
                kind: IngestErrorKind::Config,
                message: format!("{}: {}", i.field, i.reason),
                event: None,
                invalid: Some(i),
            },
            e => IngestError::new(IngestErrorKind::Config, e.to_string()),
        }
    }

    /// Why.
    pub fn kind(&self) -> IngestErrorKind {
        self.kind
    }

    /// What happened, in words (the path or the Redis address included where it helps).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The event that was not queued, as the caller built it: without the key the ingester
    /// would have given it, unless it may have been stored all the same (a fleet append tried
    /// and not confirmed: its reply lost, or its `WAIT` timed out). Then it carries the key it
    /// was stored under, so that sending it again is counted once.
    pub fn event(&self) -> Option<&BatchEvent> {
        self.event.as_deref()
    }

    /// The same, by value.
    pub fn into_event(self) -> Option<BatchEvent> {
        self.event.map(|e| *e)
    }

    /// The field at fault and why, for [`IngestErrorKind::Invalid`] (and the settings errors of
    /// [`IngestErrorKind::Config`] that name one).
    pub fn invalid_input(&self) -> Option<&InvalidInput> {
        self.invalid.as_ref()
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            IngestErrorKind::Full => "ingest queue full",
            IngestErrorKind::Closed => "ingester closed",
            IngestErrorKind::Invalid => "invalid event",
            IngestErrorKind::Unavailable => "ingest store unavailable",
            IngestErrorKind::Corrupt => "ingest store corrupt",
            IngestErrorKind::Config => "ingest configuration",
            IngestErrorKind::Unsupported => "not supported by this ingest backend",
        };
        write!(f, "{kind}: {}", self.message)?;
        match self.event.as_deref() {
            Some(BatchEvent {
                key,
                idempotency_key: Some(idempotency_key),
                ..
            }) => write!(
                f,
                " (event for metric {key:?} handed back with its idempotency key {idempotency_key}: \
                 sending it again counts once)"
            )?,
            Some(event) => write!(f, " (event for metric {:?} handed back, not queued)", event.key)?,
            None => {}
        }
        Ok(())
    }
}

impl std::error::Error for IngestError {}

/// Checks an event as a batch would; hands it back with the reason when it fails.
pub(crate) fn check(event: BatchEvent) -> Result<BatchEvent, IngestError> {
    match event.check() {
        Ok(()) => Ok(event),
        Err(Error::InvalidInput(i)) => Err(IngestError {
            kind: IngestErrorKind::Invalid,
            message: format!("{}: {}", i.field, i.reason),
            event: Some(Box::new(event)),
            invalid: Some(i),
        }),
        Err(e) => Err(IngestError::new(IngestErrorKind::Invalid, e.to_string()).with_event(event)),
    }
}

/// Checks an event as a batch would and gives it its idempotency key (kept if set), so every
/// later attempt, in this process or another, sends the same key; and its JSON, as the durable
/// backends store it.
#[cfg(any(feature = "outbox", feature = "redis"))]
pub(crate) fn prepare(event: BatchEvent) -> Result<(BatchEvent, Vec<u8>), IngestError> {
    let mut event = check(event)?;
    let had_key = event.idempotency_key.is_some();
    event
        .idempotency_key
        .get_or_insert_with(|| uuid::Uuid::new_v4().to_string());
    match serde_json::to_vec(&event) {
        Ok(bytes) => Ok((event, bytes)),
        Err(e) => Err(rejected(
            event,
            had_key,
            IngestError::new(IngestErrorKind::Invalid, e.to_string()),
        )),
    }
}

/// A refused event, handed back as the caller built it: without the key the ingester gave it
/// when it had none (`had_key` false).
pub(crate) fn rejected(mut event: BatchEvent, had_key: bool, error: IngestError) -> IngestError {
    if !had_key {
        event.idempotency_key = None;
    }
    error.with_event(event)
}
