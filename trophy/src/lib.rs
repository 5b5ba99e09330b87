//! Rust SDK for [Trophy](https://trophy.so), the gamification API: metric events, achievements,
//! streaks, points, leaderboards, users and webhooks.
//!
//! # Getting started
//!
//! ```no_run
//! use trophy::{Client, UserInput};
//!
//! # async fn run() -> Result<(), trophy::Error> {
//! let client = Client::from_env()?; // TROPHY_API_KEY
//!
//! // Record what a user did. Trophy answers with everything the event changed.
//! let user = UserInput::new("user-id").email("user@example.com").tz("Europe/London");
//! let event = client.metrics().event("words-written", user, 750.0).send().await?;
//! println!("total {}, streak {}", event.total, event.current_streak.length);
//! for achievement in &event.achievements {
//!     println!("unlocked {}", achievement.name);
//! }
//!
//! // Complete an achievement your code decides on.
//! let done = client.achievements().complete("finish-onboarding", "user-id").send().await?;
//! println!("{:?}", done.achievement.achieved_at);
//! # Ok(()) }
//! ```
//!
//! # How calls look
//!
//! A [`Client`] hands out one handle per resource, mirroring the API: [`Client::achievements`],
//! [`Client::metrics`], [`Client::users`], [`Client::streaks`], [`Client::points`],
//! [`Client::leaderboards`], and [`Client::admin`] for the Admin API. Each handle method returns
//! a builder: required values are its arguments, optional ones are setters, and `.send().await`
//! (or just `.await`) performs the call. Every builder also takes per-call overrides:
//! `.tenant_id(..)`, `.timeout(..)`, `.attempt_timeout(..)`, `.header(..)`, `.retry(..)`.
//! `.send_with_response()` returns the typed body with its status and headers ([`Response`]).
//!
//! ```no_run
//! # async fn run(client: trophy::Client) -> Result<(), trophy::Error> {
//! use std::time::Duration;
//!
//! let streak = client.users().streak("user-id").history_periods(14).send().await?;
//! let same = client
//!     .users()
//!     .streak("user-id")
//!     .tenant_id("customer-42")
//!     .timeout(Duration::from_secs(2))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # API convention
//!
//! Every operation follows these rules; a new one (say, from a Trophy release) follows them too.
//! The repository's tests hold the code to them (`trophy/tests/descriptors.rs` for the wire and
//! the docs' operation prose, `trophy/tests/convention.rs` for the signatures).
//!
//! - **The wire comes from the documents.** Each builder builds its request from the operation
//!   descriptor `cargo xtask regen` writes into `trophy_generated::operations` (method, path
//!   template, operation id, query parameter names and encodings). Nothing of the wire is
//!   typed by hand in `src/api`, and a test fails while an operation of the documents has no
//!   builder. A renamed path changes what is sent with no hand edit; a renamed query parameter
//!   removes the constant the builder names, so the SDK stops compiling until it is looked at.
//! - **Resources mirror the API's own grouping**, the one Trophy's official SDKs use:
//!   `client.admin().points().systems()`, `.boosts(system)`, `.levels(system)`,
//!   `.triggers(system)`; `client.admin().streaks().freezes()`, `.pauses()`, `.settings()`;
//!   batch events under the metrics they feed (`client.admin().metrics().batch_events(..)`,
//!   `POST /metrics/events`).
//! - **Handles and requests**: in the Admin API every handle is a noun that hands out other
//!   handles or verbs (`list`, `get`, `create`, `update`, `delete`, or the document's own verb:
//!   `restore`, `reset`); it is never itself a request. In the Application API, whose
//!   operations are reads of one thing, a read is named by what it returns
//!   (`client.users().streak(id)`, `client.points().boosts(key)`), other calls by their verb
//!   (`event`, `complete`, `create`, `identify`). Request items are `New<Thing>` (to create,
//!   name first, then its key or your id, then other required values) and `<Thing>Update`
//!   (to change, built from the id).
//! - **Positional arguments are the required path values, in path order, then the values the
//!   document requires, in its order** (the user, the items, the event's value, an event
//!   summary's aggregation and dates); everything optional is a setter on the builder.
//! - **A setter is named after the wire field it fills, with its owner when two owners meet in
//!   one expression**: `UserInput::attribute` sets a user attribute, `SendEvent::event_attribute`
//!   an event attribute, so a misplaced parenthesis no longer compiles.
//! - **Ids take what the API returns**: every id parameter is `impl Into<`[`Id`]`>`, which
//!   `&str`, `String` and [`uuid::Uuid`] (the type of ids in responses) all are.
//! - **Numbers take what converts losslessly**: a value Trophy reads as a double is
//!   `impl Into<f64>` (`i8`–`i32`, `u8`–`u32`, `f32`, `f64`; not `i64` or `u64`, which could
//!   lose precision: convert those yourself).
//! - **One integer type per concept**, from the documents' formats: points (awards, which may
//!   be negative, level thresholds, caps) are `i64`; lengths, intervals, counts, years and page
//!   sizes are `u32`; a metric threshold the document types as an integer (a points trigger's,
//!   the streak settings') is `u64`, and one it types as a number (a user's streak preference,
//!   an achievement's metric value) is `impl Into<f64>`. Out-of-range values (a negative level,
//!   a threshold of 0) are refused before sending.
//! - **No two free-form strings side by side**, where swapping them would compile and send
//!   the values swapped: only a name followed by its key (`NewMetric::new(name, key)`; the key
//!   must pass the key check) and a key or name followed by its value (attributes, headers)
//!   are positional pairs. Anything else is a setter (`NewTenant::new(name).customer_id(id)`).
//! - **One wire concept, one type**: an enum both documents define (e.g. `LeaderboardRankBy`,
//!   `PointsTriggerType`) is generated once, in [`types`], and [`admin_types`] re-exports it,
//!   so `use trophy::types::*; use trophy::admin_types::*;` does not collide.
//! - **One setting per intent**: [`ClientBuilder::base_url`] points both APIs at one server;
//!   `api_url` and `admin_url` set either one alone. [`prelude`] brings the common names in.
//!
//! # Requests only send what you set
//!
//! Users in requests are [`UserInput`] (with an id) and [`UserUpdate`] (changes only): a field
//! you do not set is not sent, so Trophy keeps its value. Fields Trophy lets you clear have a
//! `clear_*` setter that sends `null`; the three states are a [`Field`].
//!
//! # Errors
//!
//! Every failure is a [`Error`]: API errors with status, Trophy's message and headers; timeouts;
//! connection failures; decode failures naming the field; input refused before sending. See
//! [`Error::is_retryable`], [`Error::is_not_found`], [`Error::is_rate_limited`].
//!
//! # Reliability
//!
//! Failed calls are retried per [`RetryConfig`] (3 attempts by default) only where a repeat
//! cannot count twice: metric events always travel with an idempotency key, reused on every
//! attempt, and a replay answered `202` comes back with `idempotent_replayed == Some(true)`.
//! Completions and Admin creates are retried only when Trophy cannot have processed them.
//! [`Timeouts`] bound each attempt and the whole call; [`RateLimits`] keeps bulk jobs under
//! Trophy's limits. The repository's `RELIABILITY.md` has the full table.
//!
//! # Ingesting at volume
//!
//! One metric event is one tier-1 request, and Trophy allows 5 per second. [`ingest::Ingester`]
//! queues events and sends them in batches of up to 1,000 within that budget (up to 5,000
//! events per second), with keys set at enqueue, unlimited retries up to a give-up age, and
//! refused events isolated and dead-lettered. Its backend is chosen when it is built: in
//! memory, a durable outbox file (feature `outbox`), or a Redis fleet (feature `redis`); the
//! calls are the same for all three.
//!
//! # Rate limits and pacing
//!
//! Trophy limits each organisation per tier ([`RateLimits::trophy`]: 5 tier-1 requests/s, 50
//! tier-2) but does not say which algorithm it runs: a token bucket, GCRA, a fixed or a sliding
//! window. The client does not guess. Each tier has one pacer, shared by the clones of a
//! client and by every request of an ingest backend (first attempts and retries alike); the
//! fleet's pacer keeps the same state in Redis, shared by every worker:
//!
//! - **No burst.** The first request goes at once; each next one waits until `1 / rate` after
//!   the previous one was let through (measured from when it actually went, so a late wake-up
//!   does not squeeze the next gap).
//! - **A margin.** The rate starts at the *cap*: the configured rate less 6 %, so requests stay
//!   further apart than a strict server (GCRA with no tolerance) requires, even with a few
//!   milliseconds of jitter on the way.
//! - **429 is a pacing signal, not a failure.** It lowers the rate (see below), and the refused
//!   batch waits for `Retry-After` as a "not before", plus a random part (a quarter of it, at
//!   least one interval) so refused batches never wake together, then takes its next turn like
//!   any other request. It never grows the exponential backoff of 5xx and timeouts, so a fleet
//!   worker is never idle long enough for its entries to be claimed. A `Retry-After` over 2 s is
//!   taken as the server's word for everyone: the whole pacer waits.
//! - **Adaptive rate, CUBIC-like** (after the AWS SDKs' adaptive retry mode). A 429 at rate `w`
//!   sets the rate to `β·w` (β = 0.8), from where it climbs back along the cubic
//!   `w + C·(t − K)³`, `K = ∛(w·(1 − β)/C)`, `C` = 0.003 × the configured rate per s³ (so `K` is
//!   about 4 s), fast at first and flat near `w`; and it is held under a learned ceiling of
//!   0.97·`w` that climbs back to the cap by 0.2 % of the cap per second. 429s within 1.5
//!   intervals of the last decrease (requests already under way) count once. The rate never
//!   goes below 2 % of the configured rate. Everything learned is one record (the rate and time
//!   of the last decrease, and the cap), and the rate is a function of it and the clock.
//! - **Headers, when the server sends them.** `Retry-After` (seconds or a date); the IETF
//!   draft's `RateLimit-Policy` (`q` requests per `w` seconds) and `RateLimit` (`r` remaining,
//!   `t` to reset); `X-RateLimit-Limit` (taken per second), `X-RateLimit-Remaining` and
//!   `X-RateLimit-Reset`. An announced limit lowers the cap to it (less the margin); a reset
//!   with nothing remaining is the refused batch's "not before" when `Retry-After` is missing.
//!   They are read on 429 answers; without any, the 429s alone teach the pacer.
//! - **Never above the configured rate.** A server that admits more than configured is not
//!   probed: the configured rate is the budget the organisation was given, possibly shared with
//!   other code or other processes, and exceeding it would buy nothing but 429s on a server
//!   that enforces it. Configure a higher [`RateLimits`] to go faster.
//!
//! [`ingest::IngestStats::send_rate`] reports the rate now, for every backend (a fleet worker:
//! the fleet's rate at its last turn).
//!
//! # Observability
//!
//! **Metrics** (feature `metrics`, off by default): the SDK records through the
//! [`metrics`](https://docs.rs/metrics) facade, and your application installs the recorder
//! (Prometheus, OpenTelemetry, StatsD) and exports; without a recorder nothing is recorded,
//! and without the feature the `metrics` crate is not a dependency. Every HTTP request is
//! counted by operation, API and status class, with its duration; retries by reason (429,
//! 5xx, timeout, connect); the time spent waiting on the rate limiter and the rate it paces
//! at. The three ingest backends of [`ingest::Ingester`] (memory, the outbox, the fleet) count events
//! accepted, refused at `send` (by reason), delivered, replayed and dead-lettered (by reason),
//! and report their queue depth, batch sizes, batches in flight, the time from `send` to
//! Trophy's acceptance, and the fleet's takeovers. The names are `pub const`s of
//! [`observability`], whose docs have the table (type, unit, labels, OpenTelemetry
//! equivalents). Labels are bounded: no user id or metric key ever becomes one. Install the
//! recorder first, then build clients and queues:
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! metrics_exporter_prometheus::PrometheusBuilder::new()
//!     .with_http_listener(([127, 0, 0, 1], 9000))
//!     .install()?;
//! trophy::observability::describe();
//! let client = trophy::Client::from_env()?;
//! # Ok(()) }
//! ```
//!
//! **Tracing** (always): every call runs in a `trophy.call` span (`operation`, `method`,
//! `path` template, `attempt`, `status`; no headers, no bodies), every ingest batch in a
//! `trophy.ingest.batch` span (`events`, `requests`, `delivered`, `dead_lettered`) around its
//! calls; retries are logged at `DEBUG`, dead letters at `WARN`. The `stats()` of each queue
//! return the same counts as plain numbers.
//!
//! # Forward compatibility
//!
//! Response types live in [`types`] (Application API) and [`admin_types`] (Admin API). Unknown
//! fields are ignored, nullable fields may be missing, and every enum is open: a value added by
//! Trophy later arrives as `Unknown(String)` and serializes back unchanged. Structs and enums are
//! `#[non_exhaustive]`. Fields Trophy is known to leave out of its answers, although its schemas
//! require them, decode anyway: a missing list or map is empty, a missing boolean takes its
//! default (`false`; `true` for `subscribe_to_emails`), and the few others are `Option`s (the
//! rule and its list are in the repository's `openapi/README.md`).
//!
//! # Webhooks
//!
//! [`webhooks`] verifies the `X-Trophy-Signature` of a delivery in constant time and parses it
//! into a [`webhooks::WebhookEvent`]; the `axum` feature adds an extractor.
//!
//! # TLS
//!
//! TLS is rustls, with one of three features. The rule of the default: adding trophy breaks no
//! other reqwest client of your application (one without a TLS feature of its own can then speak
//! https too) and adds no second crypto library to an application on reqwest's defaults.
//!
//! - `rustls` (default): reqwest's own `rustls` feature, i.e. aws-lc-rs (or the process
//!   default provider when your application installed one) with the platform's certificate
//!   verifier. This is what reqwest's default features already bring, so an application on
//!   reqwest's defaults compiles one crypto library, and its reqwest clients built without a
//!   TLS feature of their own keep working (they gain TLS; nothing panics).
//! - `rustls-ring`: ring instead, for a faster clean build (no aws-lc C library):
//!   `trophy = { version = "0.1", default-features = false, features = ["rustls-ring"] }`.
//!   trophy's own client uses ring (or the process default); reqwest itself gets no provider,
//!   so if your application also builds reqwest clients and its reqwest has no TLS feature of
//!   its own, `reqwest::Client::new()` panics for want of a provider: install one first
//!   (`let _ = rustls::crypto::ring::default_provider().install_default();`). When both
//!   `rustls` and `rustls-ring` are on, trophy's client uses ring and aws-lc-rs is compiled too.
//! - `rustls-no-provider`: no provider compiled in; install one once, before building a
//!   [`Client`], e.g. `rustls::crypto::ring::default_provider().install_default()`. Without
//!   one, [`ClientBuilder::build`] returns [`Error::Config`] saying so.
//!
//! trophy never installs a process default provider itself.
//!
//! With no TLS feature, `http` base URLs work (e.g. the emulator) and an `https` one is an
//! [`Error::Config`]. A client passed with [`ClientBuilder::http_client`] is used as it is,
//! whatever the features.
//!
//! # Testing without Trophy
//!
//! The `trophy-emulator` crate serves both APIs from memory on loopback:
//!
//! ```ignore
//! let emulator = trophy_emulator::Emulator::start().await?;
//! let client = trophy::Client::builder()
//!     .api_key(emulator.admin_key())
//!     .base_url(emulator.base_url())
//!     .build()?;
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod api;
mod calls;
mod client;
mod config;
mod error;
mod field;
mod id;
pub mod ingest;
pub mod observability;
mod pagination;
mod ratelimit;
mod request;
mod transport;
mod user;
pub mod webhooks;

/// Dates and times in requests and responses are `chrono` types; re-exported for convenience.
pub use chrono;
pub use client::{Client, ClientBuilder, API_VERSION, DEFAULT_ADMIN_URL, DEFAULT_API_URL, USER_AGENT};
#[allow(deprecated)]
pub use config::RateLimit;
pub use config::{RateLimits, RetryConfig, Timeouts};
pub use error::{ApiError, ConnectionError, DecodeError, Error, InvalidInput, IssuesError, Result, TimeoutError};
pub use field::Field;
pub use id::Id;
pub use request::Response;
pub use user::{UserInput, UserUpdate};

/// The data types of the Application API: responses, and the open enums they use.
///
/// Enums are open: a value this version does not know arrives as `Unknown(String)`.
pub mod types {
    pub use trophy_generated::app::types::*;
}

impl Client {
    /// Achievements: list, complete.
    pub fn achievements(&self) -> api::achievements::Achievements {
        api::achievements::Achievements { client: self.clone() }
    }

    /// Metric events.
    pub fn metrics(&self) -> api::metrics::Metrics {
        api::metrics::Metrics { client: self.clone() }
    }

    /// Users: create, identify, update, preferences, and per-user metrics, achievements,
    /// streaks, points, leaderboards and wrapped data.
    pub fn users(&self) -> api::users::Users {
        api::users::Users { client: self.clone() }
    }

    /// Streaks of many users at once.
    pub fn streaks(&self) -> api::streaks::Streaks {
        api::streaks::Streaks { client: self.clone() }
    }

    /// Points systems: definitions, levels, boosts and summaries.
    pub fn points(&self) -> api::points::Points {
        api::points::Points { client: self.clone() }
    }

    /// Leaderboards and their rankings.
    pub fn leaderboards(&self) -> api::leaderboards::Leaderboards {
        api::leaderboards::Leaderboards { client: self.clone() }
    }

    /// The Admin API (needs an admin key).
    pub fn admin(&self) -> api::admin::Admin {
        api::admin::Admin { client: self.clone() }
    }
}

/// The names most programs use, in one line: `use trophy::prelude::*;`.
///
/// What a typical service needs: the client and its settings ([`Client`], [`ClientBuilder`],
/// [`RateLimits`], [`RetryConfig`], [`Timeouts`]), the request items of set-up code
/// (`NewMetric`, `NewLeaderboard`, ... and the typed values they take:
/// [`LeaderboardRankBy`](crate::types::LeaderboardRankBy),
/// [`AdminLeaderboardStatus`](crate::admin_types::AdminLeaderboardStatus),
/// [`AdminPointsTriggerStatus`](crate::admin_types::AdminPointsTriggerStatus),
/// [`AdminAchievementStatus`](crate::admin_types::AdminAchievementStatus)), ingestion
/// ([`Ingester`](crate::ingest::Ingester), [`IngestConfig`](crate::ingest::IngestConfig),
/// `BatchEvent`), webhooks ([`WebhookSecret`](crate::webhooks::WebhookSecret),
/// [`WebhookEvent`](crate::webhooks::WebhookEvent), and with the `axum` feature
/// `VerifiedWebhook`), and the error type.
///
/// ```no_run
/// use trophy::prelude::*;
///
/// # async fn run() -> std::result::Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder().api_key("admin-key").base_url("http://127.0.0.1:8787").build()?;
/// let lessons = client.admin().metrics().ensure(NewMetric::new("Lessons", "lessons")).await?;
/// client
///     .admin()
///     .leaderboards()
///     .ensure(
///         NewLeaderboard::new("Top learners", "top-learners", LeaderboardRankBy::Metric)
///             .metric_id(lessons.item.id)
///             .status(AdminLeaderboardStatus::Active),
///     )
///     .await?;
/// let event = client.metrics().event("lessons", UserInput::new("user-1"), 1).event_attribute("level", "a1").await?;
/// println!("total {}", event.total);
///
/// let ingester = Ingester::new(&client, IngestConfig::default())?;
/// ingester.send(BatchEvent::new("lessons", "user-1", 1)).await.ok();
/// # Ok(()) }
/// ```
pub mod prelude {
    pub use crate::admin_types::{AdminAchievementStatus, AdminLeaderboardStatus, AdminPointsTriggerStatus};
    pub use crate::api::admin::achievements::{AchievementUpdate, NewAchievement};
    pub use crate::api::admin::attributes::{AttributeUpdate, NewAttribute};
    pub use crate::api::admin::events::BatchEvent;
    pub use crate::api::admin::leaderboards::{LeaderboardUpdate, NewLeaderboard};
    pub use crate::api::admin::metrics::{MetricUpdate, NewMetric};
    pub use crate::api::admin::points::{
        NewPointsBoost, NewPointsLevel, NewPointsSystem, NewPointsTrigger, PointsBoostUpdate, PointsLevelUpdate,
        PointsSystemUpdate, PointsTriggerUpdate,
    };
    pub use crate::api::admin::streaks::StreakPause;
    pub use crate::api::admin::tenants::{NewTenant, TenantUpdate};
    pub use crate::api::users::StreakMetric;
    pub use crate::ingest::{IngestConfig, Ingester};
    pub use crate::types::LeaderboardRankBy;
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub use crate::webhooks::VerifiedWebhook;
    pub use crate::webhooks::{WebhookEvent, WebhookSecret};
    /// The older name of [`RateLimits`], kept so existing code builds.
    #[allow(deprecated)]
    pub use crate::RateLimit;
    pub use crate::{
        Client, ClientBuilder, Error, Field, Id, RateLimits, Result, RetryConfig, Timeouts, UserInput, UserUpdate,
    };
}

/// The data types of the Admin API: responses, and the open enums they use.
///
/// An enum the Application API also has is the same type as in [`types`] (re-exported here).
pub mod admin_types {
    pub use trophy_generated::admin::types::*;
}

/// The README's Rust examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// Not public API: hooks for the fuzz tests.
#[doc(hidden)]
pub mod __private {
    /// The SDK call of an operation id, as error messages name it.
    pub fn call_name(operation: &str) -> Option<&'static str> {
        crate::calls::call_name(operation)
    }

    /// Decodes a response body exactly as every call does.
    pub fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> crate::Result<T> {
        crate::transport::decode("fuzz", 200, body)
    }

    /// A request as an operation builder's `__build` makes it: what the first attempt sends.
    #[derive(Debug, Clone)]
    pub struct BuiltRequest {
        /// The operation's name, e.g. `metrics_event`.
        pub operation: &'static str,
        /// The HTTP method.
        pub method: http::Method,
        /// The full URL, query included.
        pub url: String,
        /// Every header.
        pub headers: http::HeaderMap,
        /// The JSON body, if any.
        pub body: Option<bytes::Bytes>,
    }

    pub(crate) fn built(
        client: &crate::Client,
        call: crate::request::Call,
        options: &crate::request::RequestOptions,
    ) -> crate::Result<BuiltRequest> {
        let prepared = crate::transport::prepare(client, &call, options)?;
        Ok(BuiltRequest {
            operation: call.operation,
            method: call.method,
            url: prepared.url.into(),
            headers: prepared.headers,
            body: call.body,
        })
    }
}
