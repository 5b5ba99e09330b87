//! Trophy's per-organisation rate limits: tier 1 (metric events, achievement completions and
//! the whole Admin API) and tier 2 (every other Application API operation), each a token
//! bucket; a request beyond its tier's budget is answered 429 with `Retry-After`, before
//! anything else happens. The emulator serves one organisation, so there is one bucket per tier.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State as AxState;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

/// Request rates per organisation and tier, enforced when set with
/// [`EmulatorBuilder::rate_limits`](crate::EmulatorBuilder::rate_limits) or `--rate-limits`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimits {
    /// Tier 1 requests per second: metric events, achievement completions, the Admin API.
    pub tier1_per_second: f64,
    /// Tier 2 requests per second: the other Application API operations.
    pub tier2_per_second: f64,
}

impl RateLimits {
    /// Trophy's limits: 5 requests/s on tier 1, 50 on tier 2.
    pub fn trophy() -> RateLimits {
        RateLimits {
            tier1_per_second: 5.0,
            tier2_per_second: 50.0,
        }
    }

    /// Other rates (for tests that need not run at Trophy's pace). Rates that are not
    /// positive and finite are replaced by Trophy's.
    pub fn per_second(tier1: f64, tier2: f64) -> RateLimits {
        let ok = |r: f64, default: f64| if r.is_finite() && r > 0.0 { r } else { default };
        RateLimits {
            tier1_per_second: ok(tier1, 5.0),
            tier2_per_second: ok(tier2, 50.0),
        }
    }
}

/// A token bucket holding at most one second of requests.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: f64) -> Bucket {
        let burst = rate.max(1.0);
        Bucket {
            rate,
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    /// Takes a token, or says how long until one is available.
    fn take(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        let refill = now.saturating_duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

/// The buckets and their counters.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: RateLimits,
    tiers: [Mutex<Bucket>; 2],
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
                Mutex::new(Bucket::new(limits.tier1_per_second)),
                Mutex::new(Bucket::new(limits.tier2_per_second)),
            ],
            admitted: Default::default(),
            rejected: Default::default(),
        }
    }

    fn take(&self, tier: usize) -> Result<(), Duration> {
        let r = self.tiers[tier].lock().unwrap_or_else(|e| e.into_inner()).take();
        match r {
            Ok(()) => self.admitted[tier].fetch_add(1, Relaxed),
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
    if let Some(limiter) = &guard.limiter {
        let t = tier(guard.api, request.method(), request.uri().path());
        if let Err(wait) = limiter.take(t) {
            return too_many(t, wait);
        }
    }
    next.run(request).await
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

/// `GET /_emulator/rate-limits`: the limits (null when off) and the counts per tier.
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
        let mut b = Bucket::new(5.0);
        for _ in 0..5 {
            assert!(b.take().is_ok());
        }
        let wait = b.take().unwrap_err();
        assert!(
            wait > Duration::from_millis(150) && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
    }
}
