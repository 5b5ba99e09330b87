//! Trophy's per-organisation rate limits: tier 1 (metric events, achievement completions and
//! the whole Admin API) and tier 2 (every other Application API operation). Trophy does not
//! say which algorithm it runs, so the emulator offers four ([`LimiterModel`]); a request
//! beyond its tier's budget is answered 429 with `Retry-After`, before anything else happens.
//! The emulator serves one organisation, so there is one limiter per tier.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

/// How a tier's limiter decides, for `N` requests per second.
///
/// From the most lenient to the strictest toward a client that paces its requests evenly:
/// a token bucket lets a client that was quiet send a burst; a fixed window lets up to `2N`
/// through around a window boundary; a sliding window admits `N` in any rolling second,
/// however close together; GCRA admits a request only `1/N` s after the previous one's
/// theoretical arrival time, with no tolerance: any two requests closer than `1/N` cost a 429.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimiterModel {
    /// A token bucket holding `burst` requests (0: one second of requests, at least 1),
    /// refilled at `N` per second: the emulator's model before there was a choice.
    TokenBucket {
        /// Requests a quiet client may send at once (0: one second of requests).
        burst: u32,
    },
    /// GCRA, a leaky bucket as a meter with no burst: requests at least `1/N` s apart.
    Gcra,
    /// At most `N` requests per wall-clock second (counted from the Unix epoch).
    FixedWindow,
    /// At most `N` requests in any rolling second.
    SlidingWindow,
}

impl LimiterModel {
    /// The four models, the token bucket with one second of burst: what the benchmark's
    /// matrix runs.
    pub const ALL: [LimiterModel; 4] = [
        LimiterModel::TokenBucket { burst: 0 },
        LimiterModel::Gcra,
        LimiterModel::FixedWindow,
        LimiterModel::SlidingWindow,
    ];

    /// The strictest model toward an evenly paced client (GCRA with no burst), the default of
    /// `--rate-limits`.
    pub const STRICTEST: LimiterModel = LimiterModel::Gcra;

    /// The model's name as [`FromStr`] reads it: `token-bucket` (or `token-bucket:N` for a
    /// burst of N), `gcra`, `fixed-window`, `sliding-window`.
    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for LimiterModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimiterModel::TokenBucket { burst: 0 } => f.write_str("token-bucket"),
            LimiterModel::TokenBucket { burst } => write!(f, "token-bucket:{burst}"),
            LimiterModel::Gcra => f.write_str("gcra"),
            LimiterModel::FixedWindow => f.write_str("fixed-window"),
            LimiterModel::SlidingWindow => f.write_str("sliding-window"),
        }
    }
}

/// An unknown limiter model or rate-limit specification, with what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseRateLimitsError(String);

impl fmt::Display for ParseRateLimitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseRateLimitsError {}

impl FromStr for LimiterModel {
    type Err = ParseRateLimitsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let model = match s.as_str() {
            "token-bucket" | "token_bucket" | "bucket" => LimiterModel::TokenBucket { burst: 0 },
            "gcra" | "leaky-bucket" | "leaky_bucket" => LimiterModel::Gcra,
            "fixed-window" | "fixed_window" | "fixed" => LimiterModel::FixedWindow,
            "sliding-window" | "sliding_window" | "sliding" => LimiterModel::SlidingWindow,
            other => match other.strip_prefix("token-bucket:").map(str::parse::<u32>) {
                Some(Ok(burst)) if burst > 0 => LimiterModel::TokenBucket { burst },
                _ => {
                    return Err(ParseRateLimitsError(format!(
                        "unknown limiter model {s:?}: expected token-bucket, token-bucket:BURST, gcra, fixed-window or sliding-window"
                    )))
                }
            },
        };
        Ok(model)
    }
}

/// Which rate-limit headers the emulator adds to the answers of a limited API (Trophy does
/// not document any, so clients must work without them; these let tests check that they also
/// work with them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateLimitHeaders {
    /// Only `Retry-After` on 429 (the default).
    #[default]
    None,
    /// The IETF draft's `RateLimit-Policy: "tier1";q=N;w=1` and `RateLimit: "tier1";r=R;t=T`
    /// on every answer.
    Ietf,
    /// `X-RateLimit-Limit` (requests per second), `X-RateLimit-Remaining` and
    /// `X-RateLimit-Reset` (seconds until a request is admitted again) on every answer.
    XRateLimit,
}

/// Request rates per organisation and tier, and how they are enforced, when set with
/// [`EmulatorBuilder::rate_limits`](crate::EmulatorBuilder::rate_limits) or `--rate-limits`.
///
/// The same vocabulary as the SDK's `trophy::RateLimits` (`trophy()`, `per_second`).
///
/// `--rate-limits` takes a comma-separated list read by [`FromStr`]: a model name (default
/// `gcra`, the strictest), the two rates (default `5,50`), and optionally `ietf-headers` or
/// `x-headers`: `--rate-limits`, `--rate-limits=token-bucket`, `--rate-limits=5,50`,
/// `--rate-limits=sliding-window,10,100,x-headers`.
///
/// ```
/// use trophy_emulator::{LimiterModel, RateLimits};
///
/// let limits: RateLimits = "gcra,5,50".parse().unwrap();
/// assert_eq!(limits, RateLimits::trophy().model(LimiterModel::Gcra));
/// assert!("bogus".parse::<RateLimits>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Tier 1 requests per second: metric events, achievement completions, the Admin API.
    pub tier1_per_second: f64,
    /// Tier 2 requests per second: the other Application API operations.
    pub tier2_per_second: f64,
    /// How each tier decides. [`RateLimits::trophy`] and [`RateLimits::per_second`] start with
    /// a token bucket of one second of requests; `--rate-limits` with GCRA.
    pub model: LimiterModel,
    /// Which rate-limit headers the answers carry (default none).
    pub headers: RateLimitHeaders,
}

impl RateLimits {
    /// Trophy's limits: 5 requests/s on tier 1, 50 on tier 2 (token buckets of one second).
    pub fn trophy() -> RateLimits {
        RateLimits::per_second(5.0, 50.0)
    }

    /// Other rates (for tests that need not run at Trophy's pace). Rates that are not
    /// positive and finite are replaced by Trophy's.
    pub fn per_second(tier1: f64, tier2: f64) -> RateLimits {
        let ok = |r: f64, default: f64| if r.is_finite() && r > 0.0 { r } else { default };
        RateLimits {
            tier1_per_second: ok(tier1, 5.0),
            tier2_per_second: ok(tier2, 50.0),
            model: LimiterModel::TokenBucket { burst: 0 },
            headers: RateLimitHeaders::None,
        }
    }

    /// The same rates under another model.
    #[must_use]
    pub fn model(mut self, model: LimiterModel) -> RateLimits {
        self.model = model;
        self
    }

    /// The same limits, with these headers on the answers.
    #[must_use]
    pub fn headers(mut self, headers: RateLimitHeaders) -> RateLimits {
        self.headers = headers;
        self
    }
}

/// The SDK's limits as the emulator's: the same rates, the emulator's default model (a token
/// bucket of one second) and no headers. So one `RateLimits` of the prelude serves both:
///
/// ```
/// use trophy::prelude::*;
/// use trophy_emulator::Emulator;
///
/// let limits = RateLimits::trophy(); // trophy::RateLimits
/// let builder = Emulator::builder().rate_limits(limits.clone());
/// let client = Client::builder().api_key("admin-key").rate_limits(limits);
/// # let _ = (builder, client);
/// assert_eq!(trophy_emulator::RateLimits::from(RateLimits::trophy()), trophy_emulator::RateLimits::trophy());
/// ```
impl From<trophy::RateLimits> for RateLimits {
    fn from(limits: trophy::RateLimits) -> RateLimits {
        RateLimits::per_second(limits.tier1_per_second, limits.tier2_per_second)
    }
}

impl FromStr for RateLimits {
    type Err = ParseRateLimitsError;

    /// See [`RateLimits`]: `[MODEL][,TIER1,TIER2][,ietf-headers|x-headers]`, in any order; an
    /// empty string is Trophy's rates under the strictest model.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut limits = RateLimits::trophy().model(LimiterModel::STRICTEST);
        let mut rates = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let Ok(r) = part.parse::<f64>() {
                if !(r.is_finite() && r > 0.0) {
                    return Err(ParseRateLimitsError(format!(
                        "rate {part:?} must be a positive number of requests per second"
                    )));
                }
                rates.push(r);
                continue;
            }
            match part.to_ascii_lowercase().as_str() {
                "ietf-headers" | "ietf" => limits.headers = RateLimitHeaders::Ietf,
                "x-headers" | "x-ratelimit" => limits.headers = RateLimitHeaders::XRateLimit,
                _ => limits.model = part.parse()?,
            }
        }
        match rates[..] {
            [] => {}
            [t1, t2] => {
                limits.tier1_per_second = t1;
                limits.tier2_per_second = t2;
            }
            _ => {
                return Err(ParseRateLimitsError(format!(
                    "{s:?}: expected two rates, TIER1,TIER2 (e.g. 5,50), or none"
                )))
            }
        }
        Ok(limits)
    }
}

/// One tier's limiter state.
#[derive(Debug)]
enum Meter {
    Bucket { tokens: f64, last: Instant, burst: f64 },
    Gcra { tat: Instant },
    Fixed { window: u64, count: u64 },
    Sliding { admitted: VecDeque<Instant> },
}

/// One tier: `limit` requests per `window` (one second, or `1/rate` s for rates below 1).
#[derive(Debug)]
struct TierLimiter {
    rate: f64,
    limit: u64,
    window: Duration,
    meter: Meter,
}

/// What the limiter says about the budget after a decision: requests left now, and how long
/// until the next one is admitted.
#[derive(Debug, Clone, Copy)]
struct Budget {
    remaining: u64,
    reset: Duration,
}

impl TierLimiter {
    fn new(rate: f64, model: LimiterModel) -> TierLimiter {
        let (limit, window) = if rate >= 1.0 {
            (rate.floor() as u64, Duration::from_secs(1))
        } else {
            (1, Duration::from_secs_f64(1.0 / rate))
        };
        let now = Instant::now();
        let meter = match model {
            LimiterModel::TokenBucket { burst } => {
                let burst = if burst == 0 { rate.max(1.0) } else { f64::from(burst) };
                Meter::Bucket {
                    tokens: burst,
                    last: now,
                    burst,
                }
            }
            LimiterModel::Gcra => Meter::Gcra { tat: now },
            LimiterModel::FixedWindow => Meter::Fixed { window: 0, count: 0 },
            LimiterModel::SlidingWindow => Meter::Sliding {
                admitted: VecDeque::new(),
            },
        };
        TierLimiter {
            rate,
            limit,
            window,
            meter,
        }
    }

    /// The index of the wall-clock window holding now, and the time left in it.
    fn wall_window(&self) -> (u64, Duration) {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let w = self.window.as_nanos().max(1);
        let index = since.as_nanos() / w;
        let left = (index + 1) * w - since.as_nanos();
        (index as u64, Duration::from_nanos(left as u64))
    }

    /// Admits one request (`Ok`) or says how long until one would be (`Err`); either way with
    /// the budget left.
    fn take(&mut self) -> Result<Budget, Budget> {
        let now = Instant::now();
        let interval = Duration::from_secs_f64(1.0 / self.rate);
        let (limit, window) = (self.limit, self.wall_window());
        match &mut self.meter {
            Meter::Bucket { tokens, last, burst } => {
                let refill = now.saturating_duration_since(*last).as_secs_f64() * self.rate;
                *tokens = (*tokens + refill).min(*burst);
                *last = now;
                let admitted = *tokens >= 1.0;
                if admitted {
                    *tokens -= 1.0;
                }
                let budget = Budget {
                    remaining: tokens.floor() as u64,
                    reset: Duration::from_secs_f64((1.0 - *tokens).max(0.0) / self.rate),
                };
                if admitted {
                    Ok(budget)
                } else {
                    Err(budget)
                }
            }
            Meter::Gcra { tat } => {
                if now < *tat {
                    return Err(Budget {
                        remaining: 0,
                        reset: *tat - now,
                    });
                }
                *tat = now + interval;
                Ok(Budget {
                    remaining: 0,
                    reset: interval,
                })
            }
            Meter::Fixed { window: current, count } => {
                let (index, left) = window;
                if *current != index {
                    *current = index;
                    *count = 0;
                }
                let admitted = *count < limit;
                if admitted {
                    *count += 1;
                }
                let remaining = limit - *count;
                let budget = Budget {
                    remaining,
                    reset: if remaining > 0 { Duration::ZERO } else { left },
                };
                if admitted {
                    Ok(budget)
                } else {
                    Err(budget)
                }
            }
            Meter::Sliding { admitted } => {
                while admitted
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
                {
                    admitted.pop_front();
                }
                let ok = (admitted.len() as u64) < limit;
                if ok {
                    admitted.push_back(now);
                }
                let remaining = limit.saturating_sub(admitted.len() as u64);
                let reset = if remaining > 0 {
                    Duration::ZERO
                } else {
                    admitted
                        .front()
                        .map(|t| (*t + self.window).saturating_duration_since(now))
                        .unwrap_or_default()
                };
                let budget = Budget { remaining, reset };
                if ok {
                    Ok(budget)
                } else {
                    Err(budget)
                }
            }
        }
    }
}

/// The limiters of both tiers and their counters.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: RateLimits,
    tiers: [Mutex<TierLimiter>; 2],
    admitted: [AtomicU64; 2],
    rejected: [AtomicU64; 2],
}

/// Counts of a rate-limited emulator, per tier (index 0: tier 1, index 1: tier 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitCounts {
    /// Requests let through.
    pub admitted: [u64; 2],
    /// Requests answered 429.
    pub rejected: [u64; 2],
}

impl Limiter {
    pub(crate) fn new(limits: RateLimits) -> Limiter {
        Limiter {
            limits,
            tiers: [
                Mutex::new(TierLimiter::new(limits.tier1_per_second, limits.model)),
                Mutex::new(TierLimiter::new(limits.tier2_per_second, limits.model)),
            ],
            admitted: Default::default(),
            rejected: Default::default(),
        }
    }

    fn take(&self, tier: usize) -> Result<Budget, Budget> {
        let r = self.tiers[tier].lock().unwrap_or_else(|e| e.into_inner()).take();
        match r {
            Ok(_) => self.admitted[tier].fetch_add(1, Relaxed),
            Err(_) => self.rejected[tier].fetch_add(1, Relaxed),
        };
        r
    }

    pub(crate) fn counts(&self) -> RateLimitCounts {
        RateLimitCounts {
            admitted: [self.admitted[0].load(Relaxed), self.admitted[1].load(Relaxed)],
            rejected: [self.rejected[0].load(Relaxed), self.rejected[1].load(Relaxed)],
        }
    }

    /// The rate-limit headers of an answer of `tier`, if the limits ask for them.
    fn headers(&self, tier: usize, budget: Budget, into: &mut HeaderMap) {
        let t = self.tiers[tier].lock().unwrap_or_else(|e| e.into_inner());
        let (limit, window) = (t.limit, t.window.as_secs_f64().ceil().max(1.0) as u64);
        drop(t);
        let reset = budget.reset.as_secs_f64().ceil() as u64;
        let mut put = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                into.insert(HeaderName::from_static(name), v);
            }
        };
        match self.limits.headers {
            RateLimitHeaders::None => {}
            RateLimitHeaders::Ietf => {
                let name = if tier == 0 { "tier1" } else { "tier2" };
                put("ratelimit-policy", format!("\"{name}\";q={limit};w={window}"));
                put("ratelimit", format!("\"{name}\";r={};t={reset}", budget.remaining));
            }
            RateLimitHeaders::XRateLimit => {
                put("x-ratelimit-limit", limit.to_string());
                put("x-ratelimit-remaining", budget.remaining.to_string());
                put("x-ratelimit-reset", reset.to_string());
            }
        }
    }
}

/// Which API a layer guards.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Api {
    App,
    Admin,
}

/// Tier 1 (0) or tier 2 (1) of a request.
fn tier(api: Api, method: &Method, path: &str) -> usize {
    if let Api::Admin = api {
        return 0;
    }
    // The path may or may not still carry the `/v1` prefix: look at its end.
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let (last, _key, parent) = (segments.next(), segments.next(), segments.next());
    let tier1 = method == Method::POST
        && matches!(
            (parent, last),
            (Some("metrics"), Some("event")) | (Some("achievements"), Some("complete"))
        );
    if tier1 {
        0
    } else {
        1
    }
}

/// What the middleware of one API needs.
#[derive(Clone, Debug)]
pub(crate) struct Guard {
    pub(crate) limiter: Option<Arc<Limiter>>,
    pub(crate) api: Api,
}

/// The middleware of one API: admits the request or answers 429 with `Retry-After`.
pub(crate) async fn guard(
    AxState(guard): AxState<Guard>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(limiter) = &guard.limiter else {
        return next.run(request).await;
    };
    let t = tier(guard.api, request.method(), request.uri().path());
    match limiter.take(t) {
        Err(budget) => {
            let mut r = too_many(t, budget.reset);
            limiter.headers(t, budget, r.headers_mut());
            r
        }
        Ok(budget) => {
            let mut r = next.run(request).await;
            limiter.headers(t, budget, r.headers_mut());
            r
        }
    }
}

fn too_many(tier: usize, wait: Duration) -> Response {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(
            json!({ "error": format!("rate limit exceeded for tier {} requests; retry in {secs} s", tier + 1) }),
        ),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// `GET /_emulator/rate-limits`: the limits (null when off), the model, and the admitted and
/// refused counts per tier.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(limiter: Option<Arc<Limiter>>) -> Router<S> {
    Router::new().route(
        "/_emulator/rate-limits",
        get(|AxState(limiter): AxState<Option<Arc<Limiter>>>| async move {
            let body = match &limiter {
                None => json!({"enabled": false}),
                Some(l) => {
                    let c = l.counts();
                    json!({
                        "enabled": true,
                        "model": l.limits.model.to_string(),
                        "tier1PerSecond": l.limits.tier1_per_second,
                        "tier2PerSecond": l.limits.tier2_per_second,
                        "admitted": {"tier1": c.admitted[0], "tier2": c.admitted[1]},
                        "rejected": {"tier1": c.rejected[0], "tier2": c.rejected[1]},
                    })
                }
            };
            axum::Json(body)
        })
        .with_state(limiter),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_trophy() {
        assert_eq!(tier(Api::Admin, &Method::GET, "/metrics"), 0);
        assert_eq!(tier(Api::App, &Method::POST, "/metrics/words/event"), 0);
        assert_eq!(tier(Api::App, &Method::POST, "/v1/achievements/a/complete"), 0);
        assert_eq!(tier(Api::App, &Method::GET, "/users/u/metrics/words/event-summary"), 1);
        assert_eq!(tier(Api::App, &Method::GET, "/users/u"), 1);
        assert_eq!(tier(Api::App, &Method::POST, "/users"), 1);
    }

    #[test]
    fn a_bucket_admits_its_burst_then_says_how_long_to_wait() {
        let mut b = TierLimiter::new(5.0, LimiterModel::TokenBucket { burst: 0 });
        for _ in 0..5 {
            assert!(b.take().is_ok());
        }
        let wait = b.take().unwrap_err().reset;
        assert!(
            wait > Duration::from_millis(150) && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
    }

    #[test]
    fn gcra_admits_one_then_refuses_until_the_interval_passed() {
        let mut g = TierLimiter::new(5.0, LimiterModel::Gcra);
        assert!(g.take().is_ok());
        let wait = g.take().unwrap_err().reset;
        assert!(
            wait > Duration::from_millis(150) && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
        std::thread::sleep(wait + Duration::from_millis(2));
        assert!(g.take().is_ok());
        assert!(g.take().is_err());
    }

    #[test]
    fn windows_admit_n_then_refuse_until_room() {
        for model in [LimiterModel::FixedWindow, LimiterModel::SlidingWindow] {
            let mut w = TierLimiter::new(50.0, model);
            // Fixed: a window boundary may fall inside the loop, admitting more; never fewer
            // than 50 in a row, and a refusal right after 50 in the same window.
            let mut admitted = 0;
            while w.take().is_ok() {
                admitted += 1;
                assert!(admitted <= 100, "{model}: no refusal");
            }
            assert!(admitted >= 50, "{model}: {admitted}");
            let err = w.take().unwrap_err();
            assert_eq!(err.remaining, 0, "{model}");
            assert!(err.reset <= Duration::from_secs(1), "{model}: {:?}", err.reset);
        }
    }

    #[test]
    fn specifications_parse_with_the_strictest_model_by_default() {
        let d: RateLimits = "".parse().unwrap();
        assert_eq!(d, RateLimits::trophy().model(LimiterModel::Gcra));
        let r: RateLimits = "sliding-window,10,100,x-headers".parse().unwrap();
        assert_eq!(
            (r.model, r.tier1_per_second, r.tier2_per_second, r.headers),
            (LimiterModel::SlidingWindow, 10.0, 100.0, RateLimitHeaders::XRateLimit)
        );
        assert_eq!(
            "5,50".parse::<RateLimits>().unwrap().model,
            LimiterModel::Gcra,
            "rates alone keep the strictest model"
        );
        assert_eq!(
            "token-bucket:3".parse::<LimiterModel>().unwrap(),
            LimiterModel::TokenBucket { burst: 3 }
        );
        for m in LimiterModel::ALL {
            assert_eq!(m.to_string().parse::<LimiterModel>().unwrap(), m);
        }
        for bad in ["5", "1,2,3", "0,5", "nope", "token-bucket:0"] {
            let e = bad.parse::<RateLimits>().unwrap_err();
            assert!(!e.to_string().is_empty(), "{bad}");
        }
    }
}
