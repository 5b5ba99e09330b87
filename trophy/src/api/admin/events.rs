//! Admin API: Batch metric events.

use super::metrics::AdminMetrics;
use crate::admin_types::BatchEventsResponse;
use crate::request::{finite, list_len, non_empty, operation, Call, RequestOptions, RetryClass};
use crate::{Client, Result, UserInput};
use serde::Serialize;
use std::collections::BTreeMap;
use trophy_generated::operations as ops;

/// The most events one batch may carry.
const MAX_EVENTS: usize = 1000;

/// Batch metric events (`POST /metrics/events`) live under the metrics they feed, as in
/// Trophy's own SDKs: [`AdminMetrics::batch_events`].
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// use trophy::api::admin::events::BatchEvent;
/// use trophy::UserInput;
///
/// let events = vec![
///     BatchEvent::new("words-written", UserInput::new("user-1").tz("Europe/London"), 750).event_attribute("category", "fiction"),
///     BatchEvent::new("words-written", "user-2", 120.0).idempotency_key("import-2026-11-27-user-2"),
/// ];
/// let result = client.admin().metrics().batch_events(events).send().await?;
/// println!("{} events accepted", result.accepted);
/// # Ok(()) }
/// ```
impl AdminMetrics {
    /// `POST /metrics/events`: sends 1 to 1000 metric events, possibly for different metrics
    /// and users, for asynchronous processing; Trophy answers 202 with the number accepted.
    ///
    /// No event is counted twice: with retries on (the default), every event you gave no
    /// idempotency key gets a generated one before the first attempt, and every attempt sends
    /// the same keys. With retries off, events are sent as you built them.
    pub fn batch_events(&self, events: impl IntoIterator<Item = BatchEvent>) -> BatchEvents {
        BatchEvents {
            client: self.client.clone(),
            options: RequestOptions::default(),
            events: events.into_iter().collect(),
        }
    }
}

/// One metric event of a batch: see [`AdminMetrics::batch_events`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchEvent {
    /// The key of the metric.
    pub key: String,
    /// The user, created if Trophy does not know it and updated with the fields set otherwise.
    pub user: UserInput,
    /// The amount added to the user's total.
    pub value: f64,
    /// Event attributes by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Trophy applies an event once per key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

impl BatchEvent {
    /// `value` recorded for the user on the metric `key`.
    pub fn new(key: impl Into<String>, user: impl Into<UserInput>, value: impl Into<f64>) -> Self {
        BatchEvent {
            key: key.into(),
            user: user.into(),
            value: value.into(),
            attributes: BTreeMap::new(),
            idempotency_key: None,
        }
    }

    /// Sets an event attribute (its key must exist in Trophy).
    #[must_use]
    pub fn event_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// Sets the idempotency key: Trophy applies the event once per key, however often it is
    /// sent.
    #[must_use]
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// The checks of a single event: metric key, user id, finite value, attribute keys and
    /// idempotency key (fields named from the event).
    pub(crate) fn check(&self) -> Result<()> {
        non_empty("key", &self.key)?;
        non_empty("user.id", &self.user.id)?;
        finite("value", self.value)?;
        if self.attributes.keys().any(|k| k.trim().is_empty()) {
            return Err(crate::Error::invalid("attributes", "keys must not be empty"));
        }
        if let Some(key) = &self.idempotency_key {
            non_empty("idempotency_key", key)?;
        }
        Ok(())
    }
}

/// Builder of `POST /metrics/events` (operation `admin_metrics_batch_events`).
///
/// Retried on every retryable fault, as each event carries an idempotency key whenever retries
/// are on; see [`AdminMetrics::batch_events`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct BatchEvents {
    client: Client,
    options: RequestOptions,
    events: Vec<BatchEvent>,
}

impl BatchEvents {
    fn call(&self) -> Result<Call> {
        list_len("events", self.events.len(), MAX_EVENTS)?;
        for (i, event) in self.events.iter().enumerate() {
            event.check().map_err(|e| match e {
                crate::Error::InvalidInput(mut input) => {
                    input.field = format!("events[{i}].{}", input.field);
                    crate::Error::InvalidInput(input)
                }
                other => other,
            })?;
        }
        let retry = self.options.retry.as_ref().unwrap_or(&self.client.inner.retry);
        let call = Call::from_op(&ops::admin_metrics_batch_events::OP, &[])?;
        if retry.max_attempts <= 1 {
            return call.json(&self.events);
        }
        // Keys are fixed here, once: the body, and so the keys, are the same on every attempt.
        let keyed: Vec<BatchEvent> = self
            .events
            .iter()
            .cloned()
            .map(|mut event| {
                event
                    .idempotency_key
                    .get_or_insert_with(|| uuid::Uuid::new_v4().to_string());
                event
            })
            .collect();
        call.class(RetryClass::KeyedInBody).json(&keyed)
    }
}
operation!(BatchEvents => BatchEventsResponse);
