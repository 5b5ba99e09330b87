//! Metric events: the heart of Trophy.

use crate::ratelimit::Tier;
use crate::request::{finite, operation, Call, RequestOptions, RetryClass};
use crate::types::EventResponse;
use crate::{Client, Response, Result, UserInput};
use serde::Serialize;
use std::collections::BTreeMap;
use trophy_generated::operations as ops;

/// Metric events of the Application API: get it with [`Client::metrics`].
///
/// ```no_run
/// # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
/// let result = client
///     .metrics()
///     .event("words-written", trophy::UserInput::new("user-id"), 750)
///     .event_attribute("category", "writing")
///     .send()
///     .await?;
/// println!("total {} streak {}", result.total, result.current_streak.length);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Metrics {
    pub(crate) client: Client,
}

impl Metrics {
    /// `POST /metrics/{key}/event`: records `value` for the user on the metric `key`, and
    /// returns what it changed (total, achievements, streak, points, leaderboards).
    ///
    /// With retries on (the default), the event travels with an idempotency key, generated
    /// when you set none, and reused on every attempt: a retried event is never counted twice.
    pub fn event(&self, key: impl Into<String>, user: impl Into<UserInput>, value: impl Into<f64>) -> SendEvent {
        SendEvent {
            client: self.client.clone(),
            options: RequestOptions::default(),
            key: key.into(),
            user: user.into(),
            value: value.into(),
            attributes: BTreeMap::new(),
        }
    }
}

/// Builder of `POST /metrics/{key}/event` (operation `metrics_event`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until sent"]
pub struct SendEvent {
    client: Client,
    options: RequestOptions,
    key: String,
    user: UserInput,
    value: f64,
    attributes: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct EventBody<'a> {
    user: &'a UserInput,
    value: f64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    attributes: &'a BTreeMap<String, String>,
}

impl SendEvent {
    /// Sets an event attribute (its key must exist in Trophy).
    pub fn event_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// Sets the idempotency key: Trophy records the event once per key, user and metric; a repeat
    /// answers 202 with `idempotent_replayed: Some(true)` and changes nothing.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.options.idempotency_key = Some(key.into());
        self
    }

    fn call(&self) -> Result<Call> {
        self.user.check("user")?;
        finite("value", self.value)?;
        Call::from_op(&ops::metrics_event::OP, &[&self.key])?
            .class(RetryClass::Keyed)
            .tier(Tier::One)
            .json(&EventBody {
                user: &self.user,
                value: self.value,
                attributes: &self.attributes,
            })
    }
}
operation!(SendEvent => EventResponse; finish = mark_replay);

/// A 202 is Trophy's answer to a replayed idempotency key, whatever the body says.
fn mark_replay(response: &mut Response<EventResponse>) {
    if response.status() == 202 {
        response.body_mut().idempotent_replayed = Some(true);
    }
}
