//! Token buckets for client-side rate limiting.

use crate::config::RateLimit;
use crate::error::{Error, Result};
use crate::observability::Limiter;
use std::sync::Mutex;
use tokio::time::{Duration, Instant};

/// Trophy's rate-limit tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    /// Metric events, achievement completion, the Admin API.
    One,
    /// Every other Application API operation.
    Two,
}

#[derive(Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Option<Instant>)>,
}

impl Bucket {
    fn new(rate: f64) -> Self {
        let burst = rate.max(1.0);
        Bucket {
            rate,
            burst,
            state: Mutex::new((burst, None)),
        }
    }

    /// Reserves one token and returns how long to wait before using it.
    fn reserve(&self) -> Duration {
        let now = Instant::now();
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (tokens, last) = &mut *guard;
        if let Some(last) = *last {
            let refill = now.saturating_duration_since(last).as_secs_f64() * self.rate;
            *tokens = (*tokens + refill).min(self.burst);
        }
        *last = Some(now);
        *tokens -= 1.0;
        if *tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-*tokens / self.rate)
        }
    }
}

/// One bucket per tier, shared by the clones of a client.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    tier1: Bucket,
    tier2: Bucket,
}

impl RateLimiter {
    pub(crate) fn new(limit: &RateLimit) -> Result<Self> {
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
            tier1: Bucket::new(limit.tier1_per_second),
            tier2: Bucket::new(limit.tier2_per_second),
        })
    }

    /// Waits until a request of `tier` may go out.
    pub(crate) async fn acquire(&self, tier: Tier) {
        let bucket = match tier {
            Tier::One => &self.tier1,
            Tier::Two => &self.tier2,
        };
        let wait = bucket.reserve();
        crate::observability::rate_limit_wait(tier.into(), wait);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tier1_admits_five_per_second() {
        let rl = RateLimiter::new(&RateLimit::trophy_tiers()).unwrap();
        let start = Instant::now();
        for _ in 0..15 {
            rl.acquire(Tier::One).await;
        }
        // 5 at once (burst), then 10 more at 5/s: 2 s.
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(1990) && elapsed <= Duration::from_millis(2010),
            "{elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn tiers_are_independent() {
        let rl = RateLimiter::new(&RateLimit::trophy_tiers()).unwrap();
        for _ in 0..5 {
            rl.acquire(Tier::One).await;
        }
        let start = Instant::now();
        for _ in 0..50 {
            rl.acquire(Tier::Two).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[test]
    fn bad_rates_are_rejected() {
        assert!(RateLimiter::new(&RateLimit::per_second(0.0, 1.0)).is_err());
        assert!(RateLimiter::new(&RateLimit::per_second(1.0, f64::NAN)).is_err());
    }
}
