//! Receiving Trophy webhooks: signature verification and typed events.
//!
//! Trophy tells your backend about things that happen to your users (an achievement completed,
//! a streak lost, a level reached, an email due, ...) by sending an HTTP `POST` with a JSON body
//! to the URL you configure in the Trophy dashboard. Every delivery carries the header
//! [`X-Trophy-Signature`](SIGNATURE_HEADER): the standard base64 (with padding) of the
//! HMAC-SHA256 of the **raw request body**, keyed with your webhook secret.
//!
//! This module gives you:
//!
//! - [`construct_event`]: verify the signature, then parse the body into a [`WebhookEvent`].
//!   This is the function a receiver calls.
//! - [`verify`] and [`parse_event`], the two halves of it, for when you need them apart.
//! - [`WebhookEvent`]: one variant per event type, holding the SDK's generated payload type
//!   (re-exported here, e.g. [`AchievementCompletedEvent`]), plus [`WebhookEvent::Unknown`]
//!   for event types added to Trophy after this version of the SDK.
//! - [`WebhookError`]: why a delivery was rejected, telling apart a missing, malformed or
//!   wrong signature from a payload that is not what its type promises.
//! - [`sign`] and [`fingerprint`]: helpers for tests and for deduplication.
//! - With the cargo feature `axum`: the extractor `VerifiedWebhook`, which does all of the
//!   above inside an axum handler (see below).
//!
//! # Verifying and parsing a delivery
//!
//! Verify against the exact bytes you received, before any JSON parsing or re-encoding:
//! a parsed and re-serialized body would not match the signature.
//!
//! ```no_run
//! use trophy::webhooks::{self, WebhookError, WebhookEvent};
//!
//! /// Returns the HTTP status to answer the delivery with.
//! fn handle(body: &[u8], signature: Option<&str>, secret: &str) -> u16 {
//!     match webhooks::construct_event(body, signature, secret) {
//!         Ok(WebhookEvent::AchievementCompleted(e)) => {
//!             println!("{} completed {}", e.user.id, e.achievement.name);
//!             204
//!         }
//!         Ok(WebhookEvent::StreakLost(e)) => {
//!             println!("{} lost a streak of {}", e.user.id, e.length);
//!             204
//!         }
//!         // Acknowledge everything else, including types this SDK does not know yet.
//!         Ok(other) => {
//!             println!("ignoring {}", other.event_type());
//!             204
//!         }
//!         Err(WebhookError::InvalidPayload { message }) => {
//!             eprintln!("bad webhook payload: {message}");
//!             400
//!         }
//!         // Misconfiguration on our side, not a bad delivery.
//!         Err(WebhookError::EmptySecret) => 500,
//!         // Missing, malformed or wrong signature: not from Trophy, or not with this secret.
//!         Err(_) => 401,
//!     }
//! }
//! ```
//!
//! Answer quickly with any `2xx` status once the delivery is verified and stored; do slow
//! work (sending emails, granting rewards) after answering, for example from a queue.
//!
//! # Event types
//!
//! Each variant of [`WebhookEvent`] corresponds to the value of the payload's `type` field:
//!
//! | `type` | variant | payload |
//! |---|---|---|
//! | `achievement.completed` | [`AchievementCompleted`](WebhookEvent::AchievementCompleted) | [`AchievementCompletedEvent`] |
//! | `streak.started` | [`StreakStarted`](WebhookEvent::StreakStarted) | [`StreakStartedEvent`] |
//! | `streak.extended` | [`StreakExtended`](WebhookEvent::StreakExtended) | [`StreakExtendedEvent`] |
//! | `streak.lost` | [`StreakLost`](WebhookEvent::StreakLost) | [`StreakLostEvent`] |
//! | `streak.freeze_consumed` | [`StreakFreezeConsumed`](WebhookEvent::StreakFreezeConsumed) | [`StreakFreezeConsumedEvent`] |
//! | `streak.freeze_earned` | [`StreakFreezeEarned`](WebhookEvent::StreakFreezeEarned) | [`StreakFreezeEarnedEvent`] |
//! | `points.changed` | [`PointsChanged`](WebhookEvent::PointsChanged) | [`PointsChangedEvent`] |
//! | `points.level_changed` | [`PointsLevelChanged`](WebhookEvent::PointsLevelChanged) | [`PointsLevelChangedEvent`] |
//! | `points.boost_started` | [`PointsBoostStarted`](WebhookEvent::PointsBoostStarted) | [`PointsBoostStartedEvent`] |
//! | `points.boost_finished` | [`PointsBoostFinished`](WebhookEvent::PointsBoostFinished) | [`PointsBoostFinishedEvent`] |
//! | `leaderboard.started` | [`LeaderboardStarted`](WebhookEvent::LeaderboardStarted) | [`LeaderboardStartedEvent`] |
//! | `leaderboard.changed` | [`LeaderboardChanged`](WebhookEvent::LeaderboardChanged) | [`LeaderboardChangedEvent`] |
//! | `leaderboard.finished` | [`LeaderboardFinished`](WebhookEvent::LeaderboardFinished) | [`LeaderboardFinishedEvent`] |
//! | `leaderboard.rank_changed` | [`LeaderboardRankChanged`](WebhookEvent::LeaderboardRankChanged) | [`LeaderboardRankChangedEvent`] |
//! | `emails.recap_due` | [`EmailsRecapDue`](WebhookEvent::EmailsRecapDue) | [`EmailsRecapDueEvent`] |
//! | `emails.reactivation_due` | [`EmailsReactivationDue`](WebhookEvent::EmailsReactivationDue) | [`EmailsReactivationDueEvent`] |
//! | `emails.streak_reminder_due` | [`EmailsStreakReminderDue`](WebhookEvent::EmailsStreakReminderDue) | [`EmailsStreakReminderDueEvent`] |
//! | `emails.achievement_due` | [`EmailsAchievementDue`](WebhookEvent::EmailsAchievementDue) | [`EmailsAchievementDueEvent`] |
//!
//! A `type` this version does not know is not an error: it arrives as
//! [`WebhookEvent::Unknown`] with the type string and the whole payload as JSON, so a receiver
//! keeps working (and can acknowledge the delivery) when Trophy adds event types. A *known*
//! type whose payload does not have the documented shape is an error,
//! [`WebhookError::InvalidPayload`].
//!
//! The types nested in the payloads (the user, the achievement, the streak, ...) are the SDK's
//! response types, in [`crate::types`].
//!
//! # Delivery is at least once: deduplicate
//!
//! Trophy delivers webhooks *at least once*: the same event can reach you more than once, for
//! example when a delivery is retried because your answer was lost or came too late, although
//! you had processed the event. Payloads carry **no event id**, so a receiver that must not act
//! twice (grant a reward, send an email) derives a key for each delivery and remembers the keys
//! it has processed for a while (a TTL comfortably longer than any retry window, say a few
//! days):
//!
//! - a *natural key* built from the event's own fields, e.g. `(type, user id, achievement id,
//!   achievedAt)` for `achievement.completed`, `(type, user id, timestamp)` for the `emails.*`
//!   events, or the award ids of `points.changed`. It also catches an event that was sent again
//!   with a body that differs in unrelated fields (say, the user's `updated` time);
//! - otherwise a hash of the raw body, [`fingerprint`], which catches byte-identical retries.
//!
//! Record the key atomically with the work it guards (a unique index in the same database
//! transaction, or Redis `SET key 1 NX EX <ttl>`), so two concurrent retries cannot both pass.
//! An in-memory version of the idea:
//!
//! ```no_run
//! use std::collections::HashMap;
//! use std::time::{Duration, Instant};
//! use trophy::webhooks::{self, WebhookEvent};
//!
//! /// Keys of the deliveries processed recently, forgotten after `ttl`.
//! struct SeenDeliveries {
//!     ttl: Duration,
//!     seen: HashMap<String, Instant>,
//! }
//!
//! impl SeenDeliveries {
//!     /// Records `key`; returns `false` if it was already seen within the TTL.
//!     fn first_time(&mut self, key: String) -> bool {
//!         let now = Instant::now();
//!         let ttl = self.ttl;
//!         self.seen.retain(|_, at| now.duration_since(*at) < ttl);
//!         self.seen.insert(key, now).is_none()
//!     }
//! }
//!
//! /// A key that is the same for every delivery of the same event.
//! fn dedup_key(event: &WebhookEvent, body: &[u8]) -> String {
//!     match event {
//!         WebhookEvent::AchievementCompleted(e) => format!(
//!             "{}|{}|{}|{:?}",
//!             event.event_type(),
//!             e.user.id,
//!             e.achievement.id,
//!             e.achievement.achieved_at
//!         ),
//!         WebhookEvent::EmailsRecapDue(e) => {
//!             format!("{}|{}|{}", event.event_type(), e.user.id, e.timestamp)
//!         }
//!         WebhookEvent::PointsChanged(e) => {
//!             let awards: Vec<&str> =
//!                 e.points.awards.iter().filter_map(|a| a.id.as_deref()).collect();
//!             format!("{}|{}|{}", event.event_type(), e.user.id, awards.join(","))
//!         }
//!         // No natural key at hand: byte-identical retries still share the body's hash.
//!         _ => webhooks::fingerprint(body),
//!     }
//! }
//!
//! fn receive(seen: &mut SeenDeliveries, body: &[u8], signature: Option<&str>, secret: &str) -> u16 {
//!     let Ok(event) = webhooks::construct_event(body, signature, secret) else {
//!         return 401;
//!     };
//!     if !seen.first_time(dedup_key(&event, body)) {
//!         return 204; // already processed: acknowledge, do nothing
//!     }
//!     // ... act on the event ...
//!     204
//! }
//! ```
//!
//! # With axum
//!
//! With the cargo feature `axum`, the extractor `VerifiedWebhook` reads the raw body (up to
//! [`MAX_BODY_BYTES`], larger bodies get `413`), verifies its signature with the
//! [`WebhookSecret`] taken from the router's state and parses it. It rejects the request with
//! `401` for a missing, malformed or wrong signature and `400` for a bad payload, before your
//! handler runs:
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! # mod example {
//! use axum::{http::StatusCode, routing::post, Router};
//! use trophy::webhooks::{VerifiedWebhook, WebhookEvent, WebhookSecret};
//!
//! async fn trophy_webhook(VerifiedWebhook(event): VerifiedWebhook) -> StatusCode {
//!     if let WebhookEvent::AchievementCompleted(e) = &event {
//!         println!("{} completed {}", e.user.id, e.achievement.name);
//!     }
//!     StatusCode::NO_CONTENT
//! }
//!
//! pub fn router(secret: String) -> Router {
//!     Router::new()
//!         .route("/webhooks/trophy", post(trophy_webhook))
//!         .with_state(WebhookSecret::new(secret))
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! The example `webhook_receiver` is such a server. Run it, then send it a signed delivery
//! (here one of the SDK's test fixtures; `openssl` computes the signature):
//!
//! ```text
//! TROPHY_WEBHOOK_SECRET=whsec_test PORT=3000 \
//!     cargo run -p trophy --features axum --example webhook_receiver
//!
//! BODY=trophy/tests/fixtures/webhooks/achievement.completed.json
//! SIG=$(openssl dgst -sha256 -hmac whsec_test -binary "$BODY" | base64)
//! curl -i -X POST http://127.0.0.1:3000/webhooks/trophy \
//!     -H 'Content-Type: application/json' \
//!     -H "X-Trophy-Signature: $SIG" \
//!     --data-binary @"$BODY"
//! # => HTTP/1.1 204 No Content; with a wrong signature: 401 Unauthorized
//! ```
//!
//! Without `openssl`, `cargo run -p trophy --features axum --example webhook_receiver -- sign
//! "$BODY"` prints the signature (using [`sign`] and `TROPHY_WEBHOOK_SECRET`). Note
//! `--data-binary`: `curl -d` would strip the newlines and change the signed bytes.
//!
//! # Testing your receiver
//!
//! [`sign`] computes the header value for a body, so your tests can send correctly signed
//! deliveries, and [`parse_event`] parses a body without a signature.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

pub use trophy_generated::app::types::{
    AchievementCompletedEvent, EmailsAchievementDueEvent, EmailsReactivationDueEvent, EmailsRecapDueEvent,
    EmailsStreakReminderDueEvent, LeaderboardChangedEvent, LeaderboardFinishedEvent, LeaderboardRankChangedEvent,
    LeaderboardStartedEvent, PointsBoostFinishedEvent, PointsBoostStartedEvent, PointsChangedEvent,
    PointsLevelChangedEvent, StreakExtendedEvent, StreakFreezeConsumedEvent, StreakFreezeEarnedEvent, StreakLostEvent,
    StreakStartedEvent, WebhookEventType,
};

use trophy_generated::app::types::User;

#[cfg(feature = "axum")]
mod extract;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use extract::{VerifiedWebhook, WebhookRejection};

/// The name of the header that carries a delivery's signature: the standard base64 (with
/// padding) of the HMAC-SHA256 of the raw body, keyed with the webhook secret.
pub const SIGNATURE_HEADER: &str = "X-Trophy-Signature";

/// The largest body the axum extractor reads; a larger delivery is rejected with `413`.
///
/// Trophy's payloads are a few kilobytes (the largest carry a page of leaderboard rankings), so
/// 1 MiB leaves ample room while bounding what an unauthenticated sender can make you buffer.
/// [`verify`], [`parse_event`] and [`construct_event`] take a body of any length.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The length in bytes of an HMAC-SHA256 tag.
const TAG_LEN: usize = 32;

/// Longest signature header value (after trimming) worth decoding; the base64 of a 32-byte tag
/// is 44 characters. Longer values are rejected as malformed without decoding them.
const MAX_SIGNATURE_CHARS: usize = 128;

/// Upper bound, in characters, of [`WebhookError::InvalidPayload`]'s message.
const MAX_MESSAGE_CHARS: usize = 240;

type HmacSha256 = Hmac<Sha256>;

macro_rules! webhook_events {
    ($($(#[$doc:meta])* $variant:ident($payload:ident) = $type:literal,)+) => {
        /// A webhook delivery from Trophy, parsed according to its `type`.
        ///
        /// Get one from [`construct_event`] (verify, then parse), from [`parse_event`] (parse
        /// only) or, with the feature `axum`, from the extractor `VerifiedWebhook`. The enum is
        /// `#[non_exhaustive]`: later versions of the SDK add variants as Trophy adds event
        /// types, so keep a `_` arm when matching. Until then, those events arrive as
        /// [`WebhookEvent::Unknown`].
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum WebhookEvent {
            $($(#[$doc])* $variant($payload),)+
            /// An event type this version of the SDK does not know, for example one Trophy
            /// added later. Nothing about its payload is checked beyond it being a JSON object
            /// with a string `type`.
            Unknown {
                /// The payload's `type`, as sent.
                event_type: String,
                /// The whole payload, `type` included.
                payload: serde_json::Value,
            },
        }

        /// Every `type` with a variant of its own, in the order of the variants.
        #[cfg(test)]
        const KNOWN_TYPES: &[&str] = &[$($type),+];

        impl WebhookEvent {
            /// The event's type as sent in the payload's `type` field, e.g.
            /// `"achievement.completed"`; for [`WebhookEvent::Unknown`], the unknown type.
            pub fn event_type(&self) -> &str {
                match self {
                    $(Self::$variant(_) => $type,)+
                    Self::Unknown { event_type, .. } => event_type,
                }
            }

            /// Parses a payload that is known to be a JSON object whose `type` is `event_type`.
            fn from_object(event_type: &str, value: serde_json::Value, body: &[u8]) -> Result<Self, WebhookError> {
                match event_type {
                    $($type => deserialize_payload::<$payload>($type, body).map(Self::$variant),)+
                    _ => Ok(Self::Unknown { event_type: event_type.to_owned(), payload: value }),
                }
            }
        }
    };
}

webhook_events! {
    /// `achievement.completed`: a user completed an achievement.
    AchievementCompleted(AchievementCompletedEvent) = "achievement.completed",
    /// `streak.started`: a user began a new streak.
    StreakStarted(StreakStartedEvent) = "streak.started",
    /// `streak.extended`: a user's streak was extended into a new period.
    StreakExtended(StreakExtendedEvent) = "streak.extended",
    /// `streak.lost`: a user's streak ended because they did not act in time.
    StreakLost(StreakLostEvent) = "streak.lost",
    /// `streak.freeze_consumed`: streak freezes were used up to protect a user's streak.
    StreakFreezeConsumed(StreakFreezeConsumedEvent) = "streak.freeze_consumed",
    /// `streak.freeze_earned`: a user earned streak freezes.
    StreakFreezeEarned(StreakFreezeEarnedEvent) = "streak.freeze_earned",
    /// `points.changed`: a user's total in a points system changed.
    PointsChanged(PointsChangedEvent) = "points.changed",
    /// `points.level_changed`: a user moved to a different level in a points system.
    PointsLevelChanged(PointsLevelChangedEvent) = "points.level_changed",
    /// `points.boost_started`: a points boost became active.
    PointsBoostStarted(PointsBoostStartedEvent) = "points.boost_started",
    /// `points.boost_finished`: a points boost ended.
    PointsBoostFinished(PointsBoostFinishedEvent) = "points.boost_finished",
    /// `leaderboard.started`: a leaderboard, or a new run of a repeating one, started.
    LeaderboardStarted(LeaderboardStartedEvent) = "leaderboard.started",
    /// `leaderboard.changed`: a leaderboard's rankings changed.
    LeaderboardChanged(LeaderboardChangedEvent) = "leaderboard.changed",
    /// `leaderboard.finished`: a leaderboard, or a run of a repeating one, finished.
    LeaderboardFinished(LeaderboardFinishedEvent) = "leaderboard.finished",
    /// `leaderboard.rank_changed`: a user's rank on a leaderboard changed.
    LeaderboardRankChanged(LeaderboardRankChangedEvent) = "leaderboard.rank_changed",
    /// `emails.recap_due`: a recap message is due for a user, for you to deliver.
    EmailsRecapDue(EmailsRecapDueEvent) = "emails.recap_due",
    /// `emails.reactivation_due`: a reactivation message is due for an inactive user.
    EmailsReactivationDue(EmailsReactivationDueEvent) = "emails.reactivation_due",
    /// `emails.streak_reminder_due`: a user should be reminded that their streak is about to
    /// be lost.
    EmailsStreakReminderDue(EmailsStreakReminderDueEvent) = "emails.streak_reminder_due",
    /// `emails.achievement_due`: a message about a completed achievement is due for a user.
    EmailsAchievementDue(EmailsAchievementDueEvent) = "emails.achievement_due",
}

impl WebhookEvent {
    /// The event's type as the open enum [`WebhookEventType`];
    /// [`WebhookEventType::Unknown`] for [`WebhookEvent::Unknown`].
    pub fn kind(&self) -> WebhookEventType {
        WebhookEventType::from(self.event_type())
    }

    /// Whether this is [`WebhookEvent::Unknown`], an event type this SDK version does not know.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown { .. })
    }

    /// The user the event is about, for the event types that carry one.
    ///
    /// `None` for the events about a points boost or a whole leaderboard (`points.boost_*`,
    /// `leaderboard.started`, `leaderboard.changed`, `leaderboard.finished`) and for
    /// [`WebhookEvent::Unknown`].
    pub fn user(&self) -> Option<&User> {
        match self {
            Self::AchievementCompleted(e) => Some(&e.user),
            Self::StreakStarted(e) => Some(&e.user),
            Self::StreakExtended(e) => Some(&e.user),
            Self::StreakLost(e) => Some(&e.user),
            Self::StreakFreezeConsumed(e) => Some(&e.user),
            Self::StreakFreezeEarned(e) => Some(&e.user),
            Self::PointsChanged(e) => Some(&e.user),
            Self::PointsLevelChanged(e) => Some(&e.user),
            Self::LeaderboardRankChanged(e) => Some(&e.user),
            Self::EmailsRecapDue(e) => Some(&e.user),
            Self::EmailsReactivationDue(e) => Some(&e.user),
            Self::EmailsStreakReminderDue(e) => Some(&e.user),
            Self::EmailsAchievementDue(e) => Some(&e.user),
            Self::PointsBoostStarted(_)
            | Self::PointsBoostFinished(_)
            | Self::LeaderboardStarted(_)
            | Self::LeaderboardChanged(_)
            | Self::LeaderboardFinished(_)
            | Self::Unknown { .. } => None,
        }
    }
}

/// Why a webhook delivery was rejected.
///
/// No variant ever holds or displays the webhook secret, and [`InvalidPayload`]'s message is
/// short (a bounded excerpt, never the whole body). When answering the sender, the usual
/// mapping is `401` for the signature variants, `400` for [`InvalidPayload`] and `500` for
/// [`EmptySecret`] (a configuration problem on the receiving side, which a `5xx` reports as
/// such rather than blaming the delivery).
///
/// [`InvalidPayload`]: WebhookError::InvalidPayload
/// [`EmptySecret`]: WebhookError::EmptySecret
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookError {
    /// The webhook secret given to [`verify`] or [`construct_event`] is empty, which is always a
    /// configuration mistake (an unset environment variable, say). Nothing is accepted with
    /// an empty secret, whatever the signature.
    EmptySecret,
    /// The delivery has no signature header.
    MissingSignature,
    /// The signature is not the standard base64 of 32 bytes (or the header is not text).
    MalformedSignature,
    /// The signature is well formed but does not match the body and secret: the body was
    /// altered, the delivery is not from Trophy, or the secret is not this endpoint's.
    InvalidSignature,
    /// The body is not a JSON object with a string `type`, or the payload of a known `type`
    /// does not have the documented shape.
    InvalidPayload {
        /// What is wrong, with the path of the offending field where there is one. At most a
        /// couple of hundred characters, on one line.
        message: String,
    },
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptySecret => f.write_str("the webhook secret is empty; configure the endpoint's signing secret"),
            Self::MissingSignature => write!(f, "missing {SIGNATURE_HEADER} header"),
            Self::MalformedSignature => {
                write!(
                    f,
                    "malformed {SIGNATURE_HEADER} header: expected the base64 of an HMAC-SHA256"
                )
            }
            Self::InvalidSignature => f.write_str("webhook signature does not match the body and secret"),
            Self::InvalidPayload { message } => write!(f, "invalid webhook payload: {message}"),
        }
    }
}

impl std::error::Error for WebhookError {}

/// A webhook signing secret, as given by the Trophy dashboard.
///
/// Its `Debug` output is redacted, so it can sit in configuration structs and application
/// state that get logged. Cloning is cheap (the secret is shared). With the feature `axum`, the
/// extractor `VerifiedWebhook` takes it from the router state (`WebhookSecret: FromRef<S>`).
#[derive(Clone)]
pub struct WebhookSecret(Arc<str>);

impl WebhookSecret {
    /// Wraps a secret. The secret is used as is (no trimming, no decoding): its UTF-8 bytes
    /// are the HMAC key. An empty secret is accepted here but rejected by every verification,
    /// with [`WebhookError::EmptySecret`].
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Arc::from(secret.into()))
    }

    /// The secret itself, e.g. to pass to [`verify`] or [`construct_event`]. Keep it out of
    /// logs.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<&str> for WebhookSecret {
    fn from(secret: &str) -> Self {
        Self(Arc::from(secret))
    }
}

impl From<String> for WebhookSecret {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Verifies that `signature` (the value of the [`SIGNATURE_HEADER`] header) is the signature
/// of `body` with `secret`.
///
/// `body` must be the raw bytes received, not a re-serialization. The signature is the
/// standard base64 alphabet with padding; surrounding whitespace is ignored. The comparison is
/// constant time. Errors: [`WebhookError::EmptySecret`] if `secret` is empty (checked first,
/// so a misconfiguration shows up on the first delivery), [`WebhookError::MalformedSignature`]
/// if the signature is not the base64 of 32 bytes, [`WebhookError::InvalidSignature`] if it
/// does not match.
///
/// ```no_run
/// # let (body, header_value) = (b"{}".as_slice(), "");
/// let secret = std::env::var("TROPHY_WEBHOOK_SECRET").unwrap_or_default();
/// trophy::webhooks::verify(&secret, body, header_value)?;
/// # Ok::<(), trophy::webhooks::WebhookError>(())
/// ```
pub fn verify(secret: &str, body: &[u8], signature: &str) -> Result<(), WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::EmptySecret);
    }
    let tag = decode_signature(signature)?;
    let Some(mut mac) = keyed_mac(secret) else {
        return Err(WebhookError::InvalidSignature);
    };
    mac.update(body);
    // `verify_slice` compares in constant time (it uses `subtle`).
    mac.verify_slice(&tag).map_err(|_| WebhookError::InvalidSignature)
}

/// Verifies a delivery's signature, then parses its body: what a webhook receiver calls.
///
/// `signature` is the value of the [`SIGNATURE_HEADER`] header, `None` if the request has
/// none. The body is only parsed once the signature is verified. Errors are those of
/// [`verify`] (plus [`WebhookError::MissingSignature`] for `None`; an empty `secret` is
/// reported first), then those of [`parse_event`].
///
/// ```no_run
/// use trophy::webhooks::{self, WebhookEvent};
///
/// # fn demo(body: &[u8], signature: Option<&str>) -> Result<(), webhooks::WebhookError> {
/// let secret = std::env::var("TROPHY_WEBHOOK_SECRET").unwrap_or_default();
/// match webhooks::construct_event(body, signature, &secret)? {
///     WebhookEvent::PointsLevelChanged(e) => {
///         let level = e.new_level.as_ref().map(|l| l.name.as_str());
///         println!("{} is now at level {:?}", e.user.id, level);
///     }
///     other => println!("received {}", other.event_type()),
/// }
/// # Ok(())
/// # }
/// ```
pub fn construct_event(body: &[u8], signature: Option<&str>, secret: &str) -> Result<WebhookEvent, WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::EmptySecret);
    }
    let signature = signature.ok_or(WebhookError::MissingSignature)?;
    verify(secret, body, signature)?;
    parse_event(body)
}

/// Parses a delivery's body **without verifying its signature**.
///
/// For tests, and for bodies whose signature was already verified (e.g. with [`verify`], or
/// stored after verification and processed later from a queue). A receiver facing the network
/// calls [`construct_event`] instead: anyone can post a body.
///
/// The body must be a JSON object with a string `type`. For a known type the payload must have
/// that type's documented shape, or the result is [`WebhookError::InvalidPayload`] (with the
/// path of the offending field); fields added by Trophy later are ignored. An unknown type gives
/// [`WebhookEvent::Unknown`].
///
/// ```no_run
/// use trophy::webhooks::{parse_event, WebhookEvent};
///
/// let body = std::fs::read("delivery.json").unwrap_or_default();
/// if let Ok(WebhookEvent::StreakLost(e)) = parse_event(&body) {
///     println!("{} lost a {}-day streak", e.user.id, e.length);
/// }
/// ```
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid_payload("the body is empty"));
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| invalid_payload(format!("the body is not valid JSON: {e}")))?;
    let event_type = match &value {
        serde_json::Value::Object(object) => match object.get("type") {
            Some(serde_json::Value::String(event_type)) => event_type.clone(),
            Some(_) => return Err(invalid_payload("the `type` field is not a string")),
            None => return Err(invalid_payload("the payload has no `type` field")),
        },
        _ => return Err(invalid_payload("the body is not a JSON object")),
    };
    WebhookEvent::from_object(&event_type, value, body)
}

/// Computes the signature of `body` with `secret`: the value Trophy sends in the
/// [`SIGNATURE_HEADER`] header (standard base64, with padding, of the HMAC-SHA256).
///
/// For tests and local tools, e.g. to send correctly signed deliveries to your own receiver in
/// its tests. An empty secret still yields a signature, but [`verify`] rejects any delivery
/// with an empty secret.
///
/// ```no_run
/// use trophy::webhooks::{self, SIGNATURE_HEADER};
///
/// let body = br#"{"type":"streak.lost","user":{"id":"user-1"},"length":3}"#;
/// let signature = webhooks::sign("whsec_test", body);
/// // e.g. request.header(SIGNATURE_HEADER, &signature)
/// assert!(webhooks::verify("whsec_test", body, &signature).is_ok());
/// # let _ = SIGNATURE_HEADER;
/// ```
#[must_use]
pub fn sign(secret: &str, body: &[u8]) -> String {
    match keyed_mac(secret) {
        Some(mut mac) => {
            mac.update(body);
            BASE64.encode(mac.finalize().into_bytes())
        }
        // Unreachable (HMAC takes keys of any length); an empty string never verifies.
        None => String::new(),
    }
}

/// The lowercase hex SHA-256 of a raw body: a deduplication key for byte-identical
/// redeliveries when an event has no natural key (see the [module docs](self)).
///
/// ```no_run
/// # let body = b"{}";
/// let key = trophy::webhooks::fingerprint(body);
/// assert_eq!(key.len(), 64);
/// ```
#[must_use]
pub fn fingerprint(body: &[u8]) -> String {
    use fmt::Write as _;
    let digest = Sha256::digest(body);
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// An HMAC-SHA256 keyed with `secret`. HMAC takes keys of any length (longer ones are hashed),
/// so this is always `Some`; the `Option` only avoids a panic path.
fn keyed_mac(secret: &str) -> Option<HmacSha256> {
    <HmacSha256 as Mac>::new_from_slice(secret.as_bytes()).ok()
}

/// Decodes a signature header value into a 32-byte tag.
fn decode_signature(signature: &str) -> Result<Vec<u8>, WebhookError> {
    let signature = signature.trim();
    if signature.is_empty() || signature.len() > MAX_SIGNATURE_CHARS {
        return Err(WebhookError::MalformedSignature);
    }
    match BASE64.decode(signature) {
        Ok(tag) if tag.len() == TAG_LEN => Ok(tag),
        _ => Err(WebhookError::MalformedSignature),
    }
}

/// Deserializes the payload of a known `event_type`, reporting the path of a bad field.
/// Decodes a known payload from the raw body (not from the parsed `Value`), so the first error
/// reported is the first in the body, whatever the map type of `serde_json`.
fn deserialize_payload<T: DeserializeOwned>(event_type: &str, body: &[u8]) -> Result<T, WebhookError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        // The position is the same information as the path, and depends on formatting.
        let text = inner.to_string();
        let inner = match (inner.line(), text.rsplit_once(" at line ")) {
            (line, Some((message, _))) if line > 0 => message.to_owned(),
            _ => text,
        };
        if path == "." {
            invalid_payload(format!("bad `{event_type}` payload: {inner}"))
        } else {
            invalid_payload(format!("bad `{event_type}` payload at `{path}`: {inner}"))
        }
    })
}

/// An [`WebhookError::InvalidPayload`] with `message` made one line and at most
/// [`MAX_MESSAGE_CHARS`] characters: messages can quote parts of the body (a field name, a
/// value), which must neither flood logs nor spill the payload.
fn invalid_payload(message: impl Into<String>) -> WebhookError {
    let message = message.into();
    let mut bounded = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS * 4));
    for (count, c) in message.chars().enumerate() {
        if count == MAX_MESSAGE_CHARS {
            bounded.push('…');
            break;
        }
        bounded.push(if c.is_control() { ' ' } else { c });
    }
    WebhookError::InvalidPayload { message: bounded }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_type_has_a_variant_and_no_more() {
        assert_eq!(KNOWN_TYPES.len(), 18);
        let mut ours: Vec<&str> = KNOWN_TYPES.to_vec();
        let mut generated: Vec<&str> = WebhookEventType::KNOWN.to_vec();
        ours.sort_unstable();
        generated.sort_unstable();
        assert_eq!(ours, generated);
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2 (short key) and 6 (key longer than the block size, hashed).
        let tag = |key: &[u8], data: &[u8]| {
            let mut mac = <HmacSha256 as Mac>::new_from_slice(key).ok();
            let mac = mac.as_mut().map(|m| {
                m.update(data);
                m.clone().finalize().into_bytes().to_vec()
            });
            mac.unwrap_or_default()
        };
        let hex = |b: Vec<u8>| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(tag(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(tag(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            BASE64.encode(tag(b"Jefe", b"what do ya want for nothing?"))
        );
    }

    #[test]
    fn messages_are_bounded_and_one_line() {
        let long = format!("line one\nline two {}", "é".repeat(1000));
        let WebhookError::InvalidPayload { message } = invalid_payload(long) else {
            panic!("not InvalidPayload");
        };
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(message.starts_with("line one line two é"));
        assert!(message.ends_with('…'));
        assert!(!message.contains('\n'));
    }

    #[test]
    fn fingerprint_is_hex_sha256() {
        assert_eq!(
            fingerprint(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
