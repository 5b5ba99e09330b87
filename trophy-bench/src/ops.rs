//! The three benchmarked operations, made through the SDK and through raw `reqwest` calls
//! that put the same bytes on the wire and decode the same generated types.
//!
//! The SDK client keeps its default configuration (retries on), so every metric event carries
//! a fresh UUID v4 `idempotency-key`; the raw path generates the same header the same way.

use crate::canned::{ACHIEVEMENT_KEY, API_KEY, METRIC_KEY, USER_EMAIL, USER_ID, USER_TZ};
use reqwest::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE, USER_AGENT};
use serde::Serialize;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;
use trophy::types::{AchievementCompletionResponse, EventResponse, User};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A benchmarked operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `client.metrics().event(..)`: `POST /metrics/{key}/event`.
    Event,
    /// `client.users().get(..)`: `GET /users/{id}`.
    GetUser,
    /// `client.achievements().complete(..)`: `POST /achievements/{key}/complete`.
    Complete,
}

impl Op {
    pub const ALL: [Op; 3] = [Op::Event, Op::GetUser, Op::Complete];

    pub fn name(self) -> &'static str {
        match self {
            Op::Event => "event",
            Op::GetUser => "get-user",
            Op::Complete => "complete",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Op::Event => "`metrics().event`",
            Op::GetUser => "`users().get`",
            Op::Complete => "`achievements().complete`",
        }
    }
}

/// Which client makes the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sdk,
    Raw,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Sdk => "sdk",
            Mode::Raw => "raw",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        [Mode::Sdk, Mode::Raw].into_iter().find(|m| m.name() == s)
    }
}

/// A client of the canned server, through the SDK or raw.
#[derive(Clone)]
pub enum Target {
    Sdk(trophy::Client),
    Raw(Arc<Raw>),
}

impl Target {
    /// A client of `base` (`http://127.0.0.1:PORT/v1`); `layout` matters to the raw path only.
    pub fn new(mode: Mode, base: &str, layout: UserLayout) -> Result<Target, BoxError> {
        Ok(match mode {
            Mode::Sdk => Target::Sdk(trophy::Client::builder().api_key(API_KEY).api_url(base).build()?),
            Mode::Raw => Target::Raw(Arc::new(Raw::new(base, layout)?)),
        })
    }

    /// Makes one call and drops the decoded result.
    pub async fn call(&self, op: Op) -> Result<(), BoxError> {
        match self {
            Target::Sdk(client) => sdk_call(client, op).await,
            Target::Raw(raw) => raw.call(op).await,
        }
    }
}

fn sdk_user() -> trophy::UserInput {
    trophy::UserInput::new(USER_ID).email(USER_EMAIL).tz(USER_TZ)
}

async fn sdk_call(client: &trophy::Client, op: Op) -> Result<(), BoxError> {
    match op {
        Op::Event => {
            let r: EventResponse = client.metrics().event(METRIC_KEY, sdk_user(), 750.0).send().await?;
            black_box(&r);
        }
        Op::GetUser => {
            let r: User = client.users().get(USER_ID).send().await?;
            black_box(&r);
        }
        Op::Complete => {
            let r: AchievementCompletionResponse = client
                .achievements()
                .complete(ACHIEVEMENT_KEY, sdk_user())
                .send()
                .await?;
            black_box(&r);
        }
    }
    Ok(())
}

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const X_SDK_VERSION: HeaderName = HeaderName::from_static("x-sdk-version");
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The user as the SDK serializes it: `id` then the fields set, in declaration order.
#[derive(Serialize)]
struct WireUser<'a> {
    id: &'a str,
    email: &'a str,
    tz: &'a str,
}

/// The same user with its keys sorted ([`UserLayout::Sorted`]).
#[derive(Serialize)]
struct WireUserSorted<'a> {
    email: &'a str,
    id: &'a str,
    tz: &'a str,
}

#[derive(Serialize)]
struct EventBody<'a> {
    user: WireUser<'a>,
    value: f64,
}

#[derive(Serialize)]
struct CompleteBody<U> {
    user: U,
}

/// How the user is laid out in the SDK's completion body. Since `4629da5` the SDK serializes a
/// struct (`Declared` in every build). Before, it used `serde_json::json!`, whose maps sort their
/// keys unless serde_json's `preserve_order` feature is on, and feature unification decided that
/// (`cargo test --workspace` turns it on through `xtask`). [`crate::verify::detect_layout`] reads
/// the layout off the SDK's own request, so that the raw path sends the same bytes whichever way
/// the SDK builds the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserLayout {
    /// `id`, `email`, `tz`: a derived `Serialize`, or `json!` with `preserve_order`.
    Declared,
    /// `email`, `id`, `tz`: `json!` without `preserve_order`.
    Sorted,
}

impl UserLayout {
    pub fn name(self) -> &'static str {
        match self {
            UserLayout::Declared => "declared",
            UserLayout::Sorted => "sorted",
        }
    }

    pub fn parse(s: &str) -> Option<UserLayout> {
        [UserLayout::Declared, UserLayout::Sorted]
            .into_iter()
            .find(|l| l.name() == s)
    }
}

/// Hand-written calls with `reqwest`: what a careful user would write without the SDK.
pub struct Raw {
    http: reqwest::Client,
    base: String,
    api_key: HeaderValue,
    user_agent: HeaderValue,
    layout: UserLayout,
}

impl Raw {
    pub fn new(base: &str, layout: UserLayout) -> Result<Raw, BoxError> {
        // Under trophy's opt-in `rustls-ring` reqwest has no crypto provider of its own; like
        // an application making its own reqwest calls then must, the bench installs one (ring),
        // which the SDK's client then uses too.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // The same reqwest settings as the SDK's default client.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
        let mut api_key = HeaderValue::from_static(API_KEY);
        api_key.set_sensitive(true);
        Ok(Raw {
            http,
            base: base.trim_end_matches('/').to_string(),
            api_key,
            user_agent: HeaderValue::from_static(trophy::USER_AGENT),
            layout,
        })
    }

    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .header(X_API_KEY, self.api_key.clone())
            .header(X_SDK_VERSION, HeaderValue::from_static(trophy::API_VERSION))
            .header(USER_AGENT, self.user_agent.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
    }

    pub async fn call(&self, op: Op) -> Result<(), BoxError> {
        match op {
            Op::Event => {
                let body = serde_json::to_vec(&EventBody {
                    user: WireUser {
                        id: USER_ID,
                        email: USER_EMAIL,
                        tz: USER_TZ,
                    },
                    value: 750.0,
                })?;
                let key = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())?;
                let req = self
                    .request(
                        reqwest::Method::POST,
                        format!("{}/metrics/{METRIC_KEY}/event", self.base),
                    )
                    .header(IDEMPOTENCY_KEY, key)
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .body(body);
                let r: EventResponse = read_json(req).await?;
                black_box(&r);
            }
            Op::GetUser => {
                let req = self.request(reqwest::Method::GET, format!("{}/users/{USER_ID}", self.base));
                let r: User = read_json(req).await?;
                black_box(&r);
            }
            Op::Complete => {
                let body = if self.layout == UserLayout::Sorted {
                    serde_json::to_vec(&CompleteBody {
                        user: WireUserSorted {
                            email: USER_EMAIL,
                            id: USER_ID,
                            tz: USER_TZ,
                        },
                    })?
                } else {
                    serde_json::to_vec(&CompleteBody {
                        user: WireUser {
                            id: USER_ID,
                            email: USER_EMAIL,
                            tz: USER_TZ,
                        },
                    })?
                };
                let req = self
                    .request(
                        reqwest::Method::POST,
                        format!("{}/achievements/{ACHIEVEMENT_KEY}/complete", self.base),
                    )
                    .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                    .body(body);
                let r: AchievementCompletionResponse = read_json(req).await?;
                black_box(&r);
            }
        }
        Ok(())
    }
}

/// Sends, reads the whole body as bytes, then decodes it with `serde_json`.
async fn read_json<T: serde::de::DeserializeOwned>(req: reqwest::RequestBuilder) -> Result<T, BoxError> {
    let resp = req.send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        return Err(format!("status {status}: {}", String::from_utf8_lossy(&body)).into());
    }
    Ok(serde_json::from_slice(&body)?)
}
