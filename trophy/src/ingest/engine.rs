//! The delivery engine: takes one batch of keyed events and gives every event an outcome
//! (delivered, dead-lettered, or left undelivered because delivery was stopped).
//!
//! It knows nothing of where events come from: the in-memory queue of [`super::Ingester`]
//! feeds it through [`super::dispatch`], and any other [`super::dispatch::Source`] (a durable
//! outbox, a shared stream) can feed it the same way.

use super::pacer::Pace;
use super::stats::Counters;
use super::{DeadLetter, DeadLetterKind};
use crate::admin_types::BatchEventsResponse;
use crate::api::admin::events::BatchEvent;
use crate::ratelimit::Signal;
use crate::request::{Call, LimitMode, RequestOptions, RetryClass};
use crate::{Client, Error, RetryConfig};
use serde::ser::{Serialize, SerializeSeq, Serializer};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::Instrument;
use trophy_generated::operations as ops;

/// One event with its idempotency key already set, and where it stands in its source.
#[derive(Debug, Clone)]
pub(crate) struct Keyed {
    /// The event; `idempotency_key` is always `Some`.
    pub(crate) event: BatchEvent,
    /// When it was accepted (the give-up age counts from here).
    pub(crate) enqueued: Instant,
    /// The source's identifier of the event (the in-memory queue: its sequence number).
    pub(crate) ticket: u64,
}

/// What became of the events of one batch.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Accepted by Trophy (202).
    pub(crate) delivered: Vec<Keyed>,
    /// Refused for good, each with the reason.
    pub(crate) dead: Vec<(Keyed, DeadLetter)>,
    /// Not finished when delivery was stopped. Their keys are set: sending them again later
    /// cannot count them twice, even if Trophy had processed them.
    pub(crate) undelivered: Vec<Keyed>,
}

/// How the engine sends.
#[derive(Debug, Clone)]
pub(crate) struct EngineConfig {
    /// Take a tier-1 token of the client's limiter for every request.
    pub(crate) rate_limited: bool,
    /// Backoff between attempts (its attempt count is ignored: attempts are unlimited).
    pub(crate) backoff: RetryConfig,
    /// Events older than this are dead-lettered instead of being tried again.
    pub(crate) give_up_after: Duration,
    /// Time limit of one request.
    pub(crate) attempt_timeout: Duration,
}

/// Sends batches through the client's transport.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) client: Client,
    pub(crate) config: EngineConfig,
    pub(crate) counters: Arc<Counters>,
    /// The pacer every request of this engine waits for, and tells about 429s.
    pub(crate) pace: Arc<dyn Pace>,
}

/// The outcome of sending one part of a batch until something final happened.
enum Sent {
    Delivered,
    /// 400, 404, 413 or 422: something in the part is refused; bisect it.
    Rejected {
        status: u16,
        message: String,
    },
    /// Refused whatever the events (401, 403, an unexpected answer): no point in bisecting.
    Refused {
        status: Option<u16>,
        message: String,
    },
    /// Still failing when the oldest event passed the give-up age.
    GaveUp {
        message: String,
    },
    Stopped,
}

/// Serializes events without copying them into a `Vec<BatchEvent>`.
struct Body<'a>(&'a [Keyed]);

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for k in self.0 {
            seq.serialize_element(&k.event)?;
        }
        seq.end()
    }
}

/// Resolves when `stop` turns true (never, if its sender is gone without stopping).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Engine {
    /// Waits for this engine's next turn to send.
    pub(crate) async fn token(&self) {
        self.pace.acquire().await
    }

    /// Delivers `batch`, bisecting refused parts, until every event has an outcome or `stop`
    /// turns true. With `prepaid`, the caller already took the rate-limit token of the first
    /// request.
    pub(crate) async fn deliver(&self, batch: Vec<Keyed>, prepaid: bool, stop: watch::Receiver<bool>) -> Report {
        let span = tracing::info_span!(
            "trophy.ingest.batch",
            events = batch.len(),
            requests = tracing::field::Empty,
            delivered = tracing::field::Empty,
            dead_lettered = tracing::field::Empty,
        );
        let _in_flight = self.counters.metrics.batch(batch.len());
        self.deliver_inner(batch, prepaid, stop, span.clone())
            .instrument(span)
            .await
    }

    async fn deliver_inner(
        &self,
        batch: Vec<Keyed>,
        mut prepaid: bool,
        mut stop: watch::Receiver<bool>,
        span: tracing::Span,
    ) -> Report {
        let mut report = Report::default();
        let mut requests = 0u32;
        // Parts still to send, the next one last.
        let mut parts = vec![batch];
        while let Some(part) = parts.pop() {
            if *stop.borrow() {
                report.undelivered.extend(part);
                continue;
            }
            let sent = self.send_part(&part, prepaid, &mut stop, &mut requests).await;
            prepaid = false;
            match sent {
                Sent::Delivered => {
                    self.counters.delivered.fetch_add(part.len() as u64, Relaxed);
                    self.counters.metrics.delivered(&part);
                    let now = Instant::now();
                    for k in &part {
                        self.counters
                            .latency
                            .record(now.saturating_duration_since(k.enqueued), 1);
                    }
                    report.delivered.extend(part);
                }
                Sent::Rejected { .. } if part.len() > 1 => {
                    let mut first = part;
                    let second = first.split_off(first.len() / 2);
                    self.counters.bisections.fetch_add(1, Relaxed);
                    parts.push(second);
                    parts.push(first);
                }
                Sent::Rejected { status, message } => {
                    self.dead(&mut report, part, DeadLetterKind::Rejected, Some(status), &message)
                }
                Sent::Refused { status, message } => {
                    self.dead(&mut report, part, DeadLetterKind::Refused, status, &message)
                }
                Sent::GaveUp { message } => self.dead(&mut report, part, DeadLetterKind::GaveUp, None, &message),
                Sent::Stopped => report.undelivered.extend(part),
            }
        }
        span.record("requests", requests);
        span.record("delivered", report.delivered.len());
        span.record("dead_lettered", report.dead.len());
        report
    }

    fn dead(&self, report: &mut Report, part: Vec<Keyed>, kind: DeadLetterKind, status: Option<u16>, message: &str) {
        tracing::warn!(events = part.len(), ?kind, ?status, message, "events dead-lettered");
        self.counters.dead_lettered.fetch_add(part.len() as u64, Relaxed);
        self.counters.metrics.dead_lettered(kind, part.len());
        for k in part {
            let letter = DeadLetter {
                event: k.event.clone(),
                kind,
                status,
                message: message.to_string(),
                age: k.enqueued.elapsed(),
            };
            report.dead.push((k, letter));
        }
    }

    /// Sends one part, retrying every retryable failure (with backoff and `Retry-After`) until
    /// Trophy answers something final, the oldest event passes the give-up age, or `stop`.
    async fn send_part(
        &self,
        part: &[Keyed],
        prepaid: bool,
        stop: &mut watch::Receiver<bool>,
        requests: &mut u32,
    ) -> Sent {
        let call = match Call::from_op(&ops::admin_metrics_batch_events::OP, &[])
            .and_then(|call| call.class(RetryClass::KeyedInBody).json(&Body(part)))
        {
            Ok(c) => c,
            Err(e) => {
                return Sent::Refused {
                    status: None,
                    message: e.to_string(),
                }
            }
        };
        let oldest = part.iter().map(|k| k.enqueued).min().unwrap_or_else(Instant::now);
        let give_up_at = super::later(oldest, self.config.give_up_after);
        let options = RequestOptions {
            retry: Some(RetryConfig::disabled()),
            timeout: Some(self.config.attempt_timeout),
            attempt_timeout: Some(self.config.attempt_timeout),
            ..RequestOptions::default()
        };
        let mut attempt = 0u32;
        // Attempts whose answer was lost: Trophy may have applied the events (for metrics).
        let mut lost = 0u32;
        // Failures other than 429 (5xx, timeouts): they, and only they, grow the backoff.
        let mut failures = 0u32;
        let mut token_taken = prepaid;
        loop {
            attempt += 1;
            if self.config.rate_limited && !token_taken {
                tokio::select! {
                    biased;
                    _ = stopped(stop) => return Sent::Stopped,
                    _ = self.token() => {}
                }
            }
            token_taken = false;
            let mut call = call.clone();
            call.limit = if self.config.rate_limited {
                LimitMode::Prepaid
            } else {
                LimitMode::Client
            };
            *requests += 1;
            self.counters.requests.fetch_add(1, Relaxed);
            let result = tokio::select! {
                biased;
                _ = stopped(stop) => return Sent::Stopped,
                r = crate::transport::execute::<BatchEventsResponse>(&self.client, call, options.clone()) => r,
            };
            let error = match result {
                Ok(_) => {
                    self.counters.metrics.replayed(part.len(), lost);
                    return Sent::Delivered;
                }
                // A 2xx whose body is not what we expect: Trophy accepted the events.
                Err(Error::Decode(d)) if (200..300).contains(&d.status) => {
                    tracing::warn!(status = d.status, "batch accepted, but the answer did not decode");
                    self.counters.metrics.replayed(part.len(), lost);
                    return Sent::Delivered;
                }
                Err(e) => e,
            };
            let status = error.status();
            if !error.is_retryable() {
                let message = error.message().map(str::to_string).unwrap_or_else(|| error.to_string());
                return match status {
                    Some(s @ (400 | 404 | 413 | 422)) => Sent::Rejected { status: s, message },
                    _ => Sent::Refused { status, message },
                };
            }
            let signal = Signal::from_headers(error.headers());
            let delay = if status == Some(429) {
                // A pacing signal, not a failure: the pacer learns from it, and the part waits
                // for Retry-After ("not before", jittered), then for its next turn.
                self.counters.http_429.fetch_add(1, Relaxed);
                if self.config.rate_limited {
                    self.pace.throttled(signal).await;
                }
                signal.retry_delay(self.pace.rate())
            } else {
                failures += 1;
                let backoff = self.config.backoff.backoff(failures);
                signal.retry_after.map_or(backoff, |after| backoff.max(after))
            };
            let wake = super::later(Instant::now(), delay);
            if wake >= give_up_at {
                return Sent::GaveUp {
                    message: format!(
                        "still failing after {attempt} attempts when the oldest event reached the give-up age ({:?}): {error}",
                        self.config.give_up_after
                    ),
                };
            }
            self.counters.retried.fetch_add(1, Relaxed);
            let answer = crate::observability::Answer::of(&error);
            lost += u32::from(answer.maybe_processed());
            crate::observability::retry(ops::admin_metrics_batch_events::OP.id, answer);
            tracing::debug!(attempt, ?delay, %error, "batch failed; retrying");
            tokio::select! {
                biased;
                _ = stopped(stop) => return Sent::Stopped,
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }
}
