//! Client-side pacing: one adaptive pacer per tier, shared by the clones of a client.
//!
//! The algorithm (documented for users in the crate docs, "Rate limits and pacing") is a pure
//! function of the time since the last throttle, so the same state can live in memory (here)
//! or in Redis (the fleet's Lua script, in `crate::ingest::pacer`, mirrors [`Adaptive::rate_at`]).

use crate::config::RateLimits;
use crate::error::{Error, Result};
use crate::observability::Limiter;
use std::sync::Mutex;
use tokio::time::{Duration, Instant};

/// Fraction of the configured rate kept as a safety margin: the pacer sends at most
/// `(1 - MARGIN) × configured`.
pub(crate) const MARGIN: f64 = 0.06;
/// Multiplicative decrease on a throttle.
pub(crate) const BETA: f64 = 0.8;
/// The cubic's scale, per s³, as a fraction of the configured rate: `K`, the time the rate
/// takes to climb back to where it was throttled, is `cbrt(w × (1 - BETA) / (CUBIC_C ×
/// configured))`, 4 s for a throttle at `w` = 0.94 × configured.
pub(crate) const CUBIC_C: f64 = 0.003;
/// The learned ceiling after a throttle, as a fraction of the rate that was throttled.
pub(crate) const CEILING_AFTER_THROTTLE: f64 = 0.97;
/// How fast the learned ceiling climbs back, as a fraction of the cap per second.
pub(crate) const CEILING_CLIMB: f64 = 0.002;
/// The lowest rate, as a fraction of the configured rate.
pub(crate) const FLOOR: f64 = 0.02;
/// A throttle within this many intervals (at the lowered rate) of the last decrease is part
/// of the same congestion event and lowers nothing more.
pub(crate) const COOLDOWN_INTERVALS: f64 = 1.5;
/// A `Retry-After` longer than this pauses every request of the pacer, not just the refused
/// one (shorter ones are taken as the server's rounding of its spacing).
pub(crate) const GLOBAL_RETRY_AFTER: Duration = Duration::from_secs(2);

/// Trophy's rate-limit tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    /// Metric events, achievement completion, the Admin API.
    One,
    /// Every other Application API operation.
    Two,
}

/// What is learned about the server, and the rate it implies at any time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Adaptive {
    /// The configured rate.
    pub(crate) configured: f64,
    /// The highest rate sent at: `(1 - MARGIN) × min(configured, the server's announced limit)`.
    pub(crate) cap: f64,
    /// The last throttle: (when, the rate then).
    pub(crate) throttle: Option<(Instant, f64)>,
}

impl Adaptive {
    pub(crate) fn new(configured: f64) -> Adaptive {
        Adaptive {
            configured,
            cap: configured * (1.0 - MARGIN),
            throttle: None,
        }
    }

    fn floor(&self) -> f64 {
        self.configured * FLOOR
    }

    /// The sending rate at `now`: the cap before any throttle; after one at rate `w`, the lower
    /// of a cubic that starts at `BETA × w` and is back at `w` after `K` seconds, and a ceiling
    /// of `CEILING_AFTER_THROTTLE × w` that climbs back to the cap.
    pub(crate) fn rate_at(&self, now: Instant) -> f64 {
        let Some((at, w)) = self.throttle else {
            return self.cap;
        };
        let t = now.saturating_duration_since(at).as_secs_f64();
        cubic_rate(w, t, self.cap, CUBIC_C * self.configured)
            .max(self.floor())
            .min(self.cap)
    }

    /// A 429 at `now` (the server's announced rate, if it sent one): lowers the rate unless
    /// a decrease happened within the cooldown. Returns whether it lowered it.
    pub(crate) fn throttled(&mut self, now: Instant, announced: Option<f64>) -> bool {
        self.announced(announced);
        let rate = self.rate_at(now);
        if let Some((at, _)) = self.throttle {
            let since = now.saturating_duration_since(at).as_secs_f64();
            if since < COOLDOWN_INTERVALS / rate {
                return false;
            }
        }
        self.throttle = Some((now, rate));
        true
    }

    /// The server announced its limit (requests per second): the cap follows it down, never
    /// above the configured rate.
    pub(crate) fn announced(&mut self, announced: Option<f64>) {
        if let Some(a) = announced.filter(|a| a.is_finite() && *a > 0.0) {
            self.cap = self.configured.min(a) * (1.0 - MARGIN);
        }
    }
}

/// The rate `t` seconds after a throttle at rate `w` (before the floor and cap), for a cubic
/// of scale `c`.
pub(crate) fn cubic_rate(w: f64, t: f64, cap: f64, c: f64) -> f64 {
    let k = (w * (1.0 - BETA) / c).cbrt();
    let cubic = w + c * (t - k).powi(3);
    let ceiling = w * CEILING_AFTER_THROTTLE + cap * CEILING_CLIMB * t;
    cubic.min(ceiling)
}

/// One tier's pacer: no burst, requests spaced `1 / rate` apart from the moment the previous
/// one was let through, the rate from [`Adaptive`].
#[derive(Debug)]
pub(crate) struct Pacer {
    learned: Mutex<Adaptive>,
    /// Held while waiting for a turn (FIFO): the time the last request was let through.
    gate: tokio::sync::Mutex<Option<Instant>>,
    /// Nothing goes out before this (a long `Retry-After`).
    not_before: Mutex<Option<Instant>>,
}

impl Pacer {
    fn new(rate: f64) -> Pacer {
        Pacer {
            learned: Mutex::new(Adaptive::new(rate)),
            gate: tokio::sync::Mutex::new(None),
            not_before: Mutex::new(None),
        }
    }

    fn learned(&self) -> std::sync::MutexGuard<'_, Adaptive> {
        self.learned.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sending rate now (requests per second).
    pub(crate) fn rate(&self) -> f64 {
        self.learned().rate_at(Instant::now())
    }

    /// Waits for this request's turn.
    pub(crate) async fn acquire(&self) {
        let mut last = self.gate.lock().await;
        loop {
            let now = Instant::now();
            let rate = self.rate();
            let mut turn = match *last {
                Some(l) => l + Duration::from_secs_f64(1.0 / rate),
                None => now,
            };
            if let Some(nb) = *self.not_before.lock().unwrap_or_else(|p| p.into_inner()) {
                turn = turn.max(nb);
            }
            if turn <= now {
                *last = Some(now);
                return;
            }
            // Sleep in steps of at most 50 ms, so a rate lowered meanwhile is seen.
            tokio::time::sleep_until(turn.min(now + Duration::from_millis(50))).await;
        }
    }

    /// A request of this tier was answered 429.
    pub(crate) fn throttled(&self, signal: &Signal) {
        let now = Instant::now();
        let lowered = self.learned().throttled(now, signal.announced_rate);
        if let Some(after) = signal.retry_after.filter(|a| *a > GLOBAL_RETRY_AFTER) {
            let mut nb = self.not_before.lock().unwrap_or_else(|p| p.into_inner());
            *nb = Some(nb.map_or(now + after, |n| n.max(now + after)));
        }
        if lowered {
            tracing::debug!(rate = self.rate(), "trophy pacer: throttled; sending rate lowered");
        }
    }
}

/// What a 429 says: `Retry-After`, and the limit the server announced in its headers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Signal {
    pub(crate) retry_after: Option<Duration>,
    /// Requests per second, from `RateLimit-Policy` (`q / w`) or `X-RateLimit-Limit` with
    /// `X-RateLimit-Reset`... see [`Signal::from_headers`].
    pub(crate) announced_rate: Option<f64>,
    /// When the server says the budget is back (`RateLimit: r=0;t=T`, or
    /// `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset`), as a delay.
    pub(crate) reset: Option<Duration>,
}

impl Signal {
    /// Reads `Retry-After`, the IETF draft's `RateLimit-Policy` (`q` requests per `w` seconds)
    /// and `RateLimit` (`r` remaining, `t` seconds to reset), and `X-RateLimit-Limit`,
    /// `X-RateLimit-Remaining` and `X-RateLimit-Reset` (taken as requests per second, and
    /// seconds, or a Unix time when larger than 10⁹).
    pub(crate) fn from_headers(headers: Option<&http::HeaderMap>) -> Signal {
        let Some(h) = headers else {
            return Signal::default();
        };
        let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let mut s = Signal {
            retry_after: crate::transport::retry_after(h),
            ..Signal::default()
        };
        if let Some(policy) = text("ratelimit-policy") {
            let q = param(policy, "q");
            let w = param(policy, "w").unwrap_or(1.0);
            if let Some(q) = q.filter(|q| *q > 0.0) {
                s.announced_rate = Some(q / w.max(1e-3));
            }
        }
        if let Some(rl) = text("ratelimit") {
            if param(rl, "r") == Some(0.0) {
                s.reset = param(rl, "t").map(|t| Duration::from_secs_f64(t.clamp(0.0, 86_400.0)));
            }
        }
        if s.announced_rate.is_none() {
            s.announced_rate = text("x-ratelimit-limit")
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0);
        }
        let remaining = text("x-ratelimit-remaining").and_then(|v| v.parse::<f64>().ok());
        if s.reset.is_none() && remaining == Some(0.0) {
            s.reset = text("x-ratelimit-reset")
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| {
                    if v > 1e9 {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap_or_default()
                            .as_secs_f64();
                        Duration::from_secs_f64((v - now).clamp(0.0, 86_400.0))
                    } else {
                        Duration::from_secs_f64(v.min(86_400.0))
                    }
                });
        }
        s
    }

    /// When the refused request may go again: `Retry-After` (or the announced reset, or one
    /// interval at `rate`), plus a random part of up to a quarter of it (at least one interval),
    /// so refused requests never wake together.
    pub(crate) fn retry_delay(&self, rate: f64) -> Duration {
        let interval = Duration::from_secs_f64(1.0 / rate.max(1e-3));
        let base = self.retry_after.or(self.reset).unwrap_or(interval);
        let spread = (base / 4).max(interval);
        base + spread.mul_f64(fastrand::f64())
    }
}

/// The value of `name=` in a structured header (`"policy";q=5;w=1`).
fn param(header: &str, name: &str) -> Option<f64> {
    header
        .split([';', ','])
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim() == name)
        .and_then(|(_, v)| v.trim().trim_matches('"').parse().ok())
}

/// One pacer per tier, shared by the clones of a client.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    tier1: Pacer,
    tier2: Pacer,
}

impl RateLimiter {
    pub(crate) fn new(limit: &RateLimits) -> Result<Self> {
        for (name, rate) in [
            ("tier1_per_second", limit.tier1_per_second),
            ("tier2_per_second", limit.tier2_per_second),
        ] {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(Error::invalid(
                    name,
                    "must be a positive, finite number of requests per second",
                ));
            }
        }
        crate::observability::rate_limit_rate(Limiter::Tier1, limit.tier1_per_second);
        crate::observability::rate_limit_rate(Limiter::Tier2, limit.tier2_per_second);
        Ok(RateLimiter {
            tier1: Pacer::new(limit.tier1_per_second),
            tier2: Pacer::new(limit.tier2_per_second),
        })
    }

    pub(crate) fn pacer(&self, tier: Tier) -> &Pacer {
        match tier {
            Tier::One => &self.tier1,
            Tier::Two => &self.tier2,
        }
    }

    /// Waits until a request of `tier` may go out.
    pub(crate) async fn acquire(&self, tier: Tier) {
        let start = Instant::now();
        let pacer = self.pacer(tier);
        pacer.acquire().await;
        crate::observability::rate_limit_wait(tier.into(), start.elapsed());
        crate::observability::rate_limit_rate(tier.into(), pacer.rate());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_burst_requests_are_spaced_at_the_cap() {
        let rl = RateLimiter::new(&RateLimits::trophy()).unwrap();
        let start = Instant::now();
        for _ in 0..15 {
            rl.acquire(Tier::One).await;
        }
        // The first at once, then 14 intervals at 0.94 × 5 per second.
        let want = 14.0 / (5.0 * (1.0 - MARGIN));
        let elapsed = start.elapsed().as_secs_f64();
        assert!((elapsed - want).abs() < 0.01, "{elapsed} s, want {want} s");
    }

    #[tokio::test(start_paused = true)]
    async fn tiers_are_independent() {
        let rl = RateLimiter::new(&RateLimits::trophy()).unwrap();
        rl.acquire(Tier::One).await;
        let start = Instant::now();
        rl.acquire(Tier::Two).await;
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[test]
    fn bad_rates_are_rejected() {
        assert!(RateLimiter::new(&RateLimits::per_second(0.0, 1.0)).is_err());
        assert!(RateLimiter::new(&RateLimits::per_second(1.0, f64::NAN)).is_err());
    }

    #[test]
    fn a_throttle_lowers_the_rate_then_it_climbs_back_below_the_throttled_rate() {
        let t0 = Instant::now();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        let mut a = Adaptive::new(5.0);
        assert!(close(a.rate_at(t0), 4.7));
        assert!(a.throttled(t0, None));
        assert!((a.rate_at(t0) - 4.7 * BETA).abs() < 1e-9);
        // The 429s of requests already under way count once.
        assert!(!a.throttled(t0 + Duration::from_millis(100), None));
        let r1 = a.rate_at(t0 + Duration::from_secs(1));
        let r3 = a.rate_at(t0 + Duration::from_secs(3));
        assert!(r1 > 4.7 * BETA && r1 < r3, "{r1} {r3}");
        assert!((r3 - 4.7 * CEILING_AFTER_THROTTLE).abs() < 0.05, "{r3}");
        // Back at the cap after the ceiling climbed, and never above it.
        assert!(close(a.rate_at(t0 + Duration::from_secs(60)), 4.7));
        // Throttled again and again: down toward the floor, never below.
        let mut t = t0 + Duration::from_secs(60);
        for _ in 0..100 {
            t += Duration::from_secs(20);
            a.throttled(t, None);
        }
        assert!(a.rate_at(t) >= 5.0 * FLOOR - 1e-9);
    }

    #[test]
    fn an_announced_limit_lowers_the_cap_but_never_raises_it_above_the_configuration() {
        let mut a = Adaptive::new(5.0);
        a.announced(Some(2.0));
        assert!((a.cap - 2.0 * (1.0 - MARGIN)).abs() < 1e-9);
        a.announced(Some(50.0));
        assert!((a.cap - 4.7).abs() < 1e-9);
    }

    #[test]
    fn headers_are_read() {
        let mut h = http::HeaderMap::new();
        h.insert("retry-after", "1".parse().unwrap());
        h.insert("ratelimit-policy", "\"tier1\";q=10;w=2".parse().unwrap());
        h.insert("ratelimit", "\"tier1\";r=0;t=1".parse().unwrap());
        let s = Signal::from_headers(Some(&h));
        assert_eq!(s.retry_after, Some(Duration::from_secs(1)));
        assert_eq!(s.announced_rate, Some(5.0));
        assert_eq!(s.reset, Some(Duration::from_secs(1)));
        let mut x = http::HeaderMap::new();
        x.insert("x-ratelimit-limit", "3".parse().unwrap());
        x.insert("x-ratelimit-remaining", "0".parse().unwrap());
        x.insert("x-ratelimit-reset", "2".parse().unwrap());
        let s = Signal::from_headers(Some(&x));
        assert_eq!((s.announced_rate, s.reset), (Some(3.0), Some(Duration::from_secs(2))));
        assert_eq!(Signal::from_headers(None), Signal::default());
        // Retry-After 1 s, jittered by up to a quarter second: never the same instant twice.
        let delays: std::collections::BTreeSet<Duration> = (0..100)
            .map(|_| Signal::from_headers(Some(&h)).retry_delay(4.7))
            .collect();
        assert!(delays.len() > 90);
        assert!(delays
            .iter()
            .all(|d| *d >= Duration::from_secs(1) && *d <= Duration::from_millis(1250)));
    }
}
