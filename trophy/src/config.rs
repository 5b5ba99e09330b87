//! Retry, timeout and rate-limit settings.

use std::time::Duration;

/// When and how often a failed call is tried again.
///
/// Retried: connection failures, timeouts, and the statuses 408, 429, 500, 502, 503 and 504;
/// never any other 4xx. Operations that change state are retried only where a repeat cannot
/// count twice (see `RELIABILITY.md`): metric events always travel with an idempotency key.
///
/// ```no_run
/// use std::time::Duration;
/// use trophy::RetryConfig;
///
/// let patient = RetryConfig::standard().max_attempts(5).max_backoff(Duration::from_secs(10));
/// let client = trophy::Client::builder().api_key("key").retry(patient).build()?;
/// # Ok::<(), trophy::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Attempts in all, the first one included (1 = no retry).
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubled for each later one.
    pub initial_backoff: Duration,
    /// Upper bound of one backoff.
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured; a server asking for more ends the retries.
    pub max_retry_after: Duration,
    /// Whether backoffs are randomized (full jitter between half and all of the backoff).
    pub jitter: bool,
}

impl RetryConfig {
    /// 3 attempts, exponential backoff from 200 ms with jitter, capped at 5 s; `Retry-After`
    /// honoured up to 30 s.
    pub fn standard() -> Self {
        RetryConfig {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            jitter: true,
        }
    }

    /// One attempt, no retry.
    pub fn disabled() -> Self {
        RetryConfig {
            max_attempts: 1,
            ..Self::standard()
        }
    }

    /// Sets the number of attempts (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first backoff.
    #[must_use]
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// Sets the backoff cap.
    #[must_use]
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Sets the longest `Retry-After` honoured.
    #[must_use]
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// Turns jitter on or off (off makes backoffs exact, e.g. for tests).
    #[must_use]
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// The backoff before attempt `attempt + 1` (attempt counts from 1).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16));
        let capped = exp.min(self.max_backoff);
        if self.jitter {
            let factor: f64 = 0.5 + fastrand::f64() * 0.5;
            capped.mul_f64(factor)
        } else {
            capped
        }
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self::standard()
    }
}

/// Time limits of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Limit for opening a connection.
    pub connect: Duration,
    /// Limit for one attempt: sending the request and reading the whole response.
    pub per_attempt: Duration,
    /// Limit for the whole call, retries and backoffs included.
    pub per_call: Duration,
}

impl Timeouts {
    /// Sets the connect timeout.
    #[must_use]
    pub fn connect(mut self, d: Duration) -> Self {
        self.connect = d;
        self
    }

    /// Sets the per-attempt timeout.
    #[must_use]
    pub fn per_attempt(mut self, d: Duration) -> Self {
        self.per_attempt = d;
        self
    }

    /// Sets the per-call timeout.
    #[must_use]
    pub fn per_call(mut self, d: Duration) -> Self {
        self.per_call = d;
        self
    }
}

impl Default for Timeouts {
    /// 10 s to connect, 30 s per attempt, 60 s per call.
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            per_attempt: Duration::from_secs(30),
            per_call: Duration::from_secs(60),
        }
    }
}

/// Client-side rate limits, per tier: what the client's pacer aims under.
///
/// Every call waits for its tier's turn before going out, so bulk jobs stay under Trophy's
/// published limits instead of provoking 429s. The pacers are shared by all clones of a
/// client; see "Rate limits and pacing" in the crate docs for how they space requests and
/// adapt to 429s. The emulator's `trophy_emulator::RateLimits` uses the same names.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Requests per second for tier 1: metric events, achievement completion, and the whole
    /// Admin API.
    pub tier1_per_second: f64,
    /// Requests per second for tier 2: every other Application API operation.
    pub tier2_per_second: f64,
}

/// The older name of [`RateLimits`], kept so existing code builds.
#[deprecated(note = "renamed: use `RateLimits`")]
pub type RateLimit = RateLimits;

impl RateLimits {
    /// Trophy's published tiers: 5 requests/s (tier 1) and 50 requests/s (tier 2).
    pub fn trophy() -> Self {
        RateLimits {
            tier1_per_second: 5.0,
            tier2_per_second: 50.0,
        }
    }

    /// The older name of [`RateLimits::trophy`].
    #[deprecated(note = "renamed: use `RateLimits::trophy`")]
    pub fn trophy_tiers() -> Self {
        Self::trophy()
    }

    /// Custom rates.
    pub fn per_second(tier1: f64, tier2: f64) -> Self {
        RateLimits {
            tier1_per_second: tier1,
            tier2_per_second: tier2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RetryConfig;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_stays_within_half_and_all_of_it() {
        let exact = RetryConfig::standard().jitter(false);
        let steps: Vec<u128> = (1..=7).map(|a| exact.backoff(a).as_millis()).collect();
        assert_eq!(steps, [200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(exact.backoff(u32::MAX), Duration::from_secs(5), "no overflow");

        let jittered = RetryConfig::standard();
        let samples: Vec<Duration> = (0..1000).map(|_| jittered.backoff(2)).collect();
        assert!(samples
            .iter()
            .all(|d| (Duration::from_millis(200)..=Duration::from_millis(400)).contains(d)));
        let distinct: std::collections::BTreeSet<Duration> = samples.iter().copied().collect();
        assert!(
            distinct.len() > 900,
            "jitter varies: {} distinct of 1000",
            distinct.len()
        );
    }
}
