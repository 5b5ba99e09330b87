//! The pacers of the ingest backends: every request of a batch, first attempt or retry, waits
//! for its turn of one [`Pace`]. In memory and in the outbox it is the client's own tier-1
//! pacer ([`ClientPace`], the transport's limiter in [`crate::ratelimit`], shared with every
//! other call of the client); in the fleet, [`FleetPace`], whose state lives in Redis and is
//! shared by every worker.

use crate::ratelimit::{Signal, Tier};
use crate::Client;

/// A boxed future of a [`Pace`].
pub(crate) type PaceFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

/// The one pacer of an ingest backend: the client's tier-1 pacer (in memory, outbox), or the
/// fleet's, whose state lives in Redis.
pub(crate) trait Pace: Send + Sync + std::fmt::Debug {
    /// Waits for the next turn to send.
    fn acquire(&self) -> PaceFuture<'_>;
    /// A request was answered 429 with these headers.
    fn throttled(&self, signal: Signal) -> PaceFuture<'_>;
    /// The sending rate now, in requests per second.
    fn rate(&self) -> f64;
}

/// The client's own tier-1 pacer, shared by its clones and everything sent through them.
#[derive(Debug, Clone)]
pub(crate) struct ClientPace(pub(crate) Client);

impl Pace for ClientPace {
    fn acquire(&self) -> PaceFuture<'_> {
        Box::pin(self.0.inner.rate_limiter.acquire(Tier::One))
    }

    fn throttled(&self, signal: Signal) -> PaceFuture<'_> {
        self.0.inner.rate_limiter.pacer(Tier::One).throttled(&signal);
        Box::pin(std::future::ready(()))
    }

    fn rate(&self) -> f64 {
        self.0.inner.rate_limiter.pacer(Tier::One).rate()
    }
}

#[cfg(feature = "redis")]
pub(crate) use fleet::FleetPace;

#[cfg(feature = "redis")]
mod fleet {
    use super::{Pace, PaceFuture};
    use crate::ingest::fleet::Conn;
    use crate::ratelimit::{self, Signal};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    /// The learned rate at Redis's `now` (µs), from the hash `KEYS[2]`: the same function as
    /// the in-memory pacer's (`ratelimit::Adaptive::rate_at`). ARGV[1..8]: configured rate,
    /// burst, margin, beta, cubic C, ceiling after a throttle, ceiling climb, floor.
    const LEARNED_LUA: &str = r"
    local configured = tonumber(ARGV[1])
    local margin, beta, c = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
    local after, climb, floor = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
    local learned = redis.call('HMGET', KEYS[2], 'cap', 'w', 't')
    local cap = tonumber(learned[1]) or configured * (1 - margin)
    local w, tt = tonumber(learned[2]), tonumber(learned[3])
    local function rate_at(at)
      if not w or not tt then return cap end
      local dt = (at - tt) / 1000000
      if dt < 0 then dt = 0 end
      local k = (w * (1 - beta) / c) ^ (1 / 3)
      local r = math.min(w + c * (dt - k) ^ 3, w * after + cap * climb * dt)
      return math.min(math.max(r, configured * floor), cap)
    end
    ";

    /// Grants a turn of the fleet's budget at the learned rate now, or answers how many
    /// microseconds to wait before asking again (GCRA that reserves nothing: `KEYS[1]` holds the
    /// theoretical arrival time, in microseconds of Redis's clock, moved only by a grant, so turns
    /// are spaced from the moment they were actually granted); and the rate.
    fn permit_script() -> String {
        format!(
            "{LEARNED_LUA}
    local rate = rate_at(now)
    local interval = 1000000 / rate
    local tolerance = interval * (tonumber(ARGV[2]) - 1)
    local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
    if tat < now then tat = now end
    local wait = tat - tolerance - now
    if wait > 0 then
      return {{0, math.floor(wait) + 1, string.format('%.6f', rate)}}
    end
    local next_tat = tat + interval
    redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1000)
    return {{1, 0, string.format('%.6f', rate)}}
    "
        )
    }

    /// A 429: ARGV[9] is the server's announced rate (0: none), ARGV[10] the cooldown in
    /// intervals, ARGV[11] a `Retry-After` (µs) that pauses the whole fleet (0: none). Lowers the
    /// learned rate unless a decrease happened within the cooldown; answers 1 if it did.
    fn throttle_script() -> String {
        format!(
            "{LEARNED_LUA}
    local announced = tonumber(ARGV[9])
    if announced > 0 then
      cap = math.min(configured, announced) * (1 - margin)
      redis.call('HSET', KEYS[2], 'cap', string.format('%.6f', cap))
    end
    local pause = tonumber(ARGV[11])
    if pause > 0 then
      local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
      if tat < now + pause then
        redis.call('SET', KEYS[1], string.format('%.0f', now + pause), 'PX', math.floor(pause / 1000) + 1000)
      end
    end
    local rate = rate_at(now)
    redis.call('PEXPIRE', KEYS[2], 600000)
    if tt and (now - tt) / 1000000 < tonumber(ARGV[10]) / rate then return 0 end
    redis.call('HSET', KEYS[2], 'w', string.format('%.6f', rate), 't', string.format('%.0f', now))
    return 1
    "
        )
    }

    /// The fleet's pacer: its state (the GCRA's next send time and what was learned from 429s)
    /// lives in Redis, shared by every worker.
    pub(crate) struct FleetPace {
        control: Conn,
        consumer: String,
        budget_key: String,
        requests_per_second: f64,
        burst: u32,
        /// The fleet's sending rate at this worker's last turn (f64 bits).
        rate: AtomicU64,
        permit: redis::Script,
        throttle: redis::Script,
    }

    impl std::fmt::Debug for FleetPace {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("FleetPace").field("rate", &self.rate()).finish()
        }
    }

    impl Pace for FleetPace {
        fn acquire(&self) -> PaceFuture<'_> {
            Box::pin(self.permit())
        }

        fn throttled(&self, signal: Signal) -> PaceFuture<'_> {
            Box::pin(self.turn_throttled(signal))
        }

        fn rate(&self) -> f64 {
            FleetPace::rate(self)
        }
    }

    impl FleetPace {
        /// The pacer of the budget at `budget_key`, over the connection `control`; `consumer`
        /// names the worker in logs.
        pub(crate) fn new(
            control: Conn,
            consumer: String,
            budget_key: String,
            requests_per_second: f64,
            burst: u32,
        ) -> FleetPace {
            let start = requests_per_second * (1.0 - ratelimit::MARGIN);
            crate::observability::rate_limit_rate(crate::observability::Limiter::Fleet, start);
            FleetPace {
                control,
                consumer,
                budget_key,
                requests_per_second,
                burst,
                rate: AtomicU64::new(start.to_bits()),
                permit: redis::Script::new(&permit_script()),
                throttle: redis::Script::new(&throttle_script()),
            }
        }

        /// The learned-rate arguments of both scripts (ARGV[1..8]).
        fn learned_args<'s, 'i>(
            &self,
            inv: &'i mut redis::ScriptInvocation<'s>,
        ) -> &'i mut redis::ScriptInvocation<'s> {
            inv.key(&self.budget_key)
                .key(format!("{}:learned", self.budget_key))
                .arg(self.requests_per_second)
                .arg(self.burst)
                .arg(ratelimit::MARGIN)
                .arg(ratelimit::BETA)
                .arg(ratelimit::CUBIC_C * self.requests_per_second)
                .arg(ratelimit::CEILING_AFTER_THROTTLE)
                .arg(ratelimit::CEILING_CLIMB)
                .arg(ratelimit::FLOOR)
        }

        /// The fleet's sending rate seen at this worker's last turn.
        pub(crate) fn rate(&self) -> f64 {
            f64::from_bits(self.rate.load(Ordering::Relaxed))
        }

        /// Waits for this worker's turn of the fleet's budget.
        async fn permit(&self) {
            let start = std::time::Instant::now();
            loop {
                let mut inv = self.permit.prepare_invoke();
                let reply: redis::RedisResult<(u8, u64, String)> = self
                    .learned_args(&mut inv)
                    .invoke_async(&mut self.control.clone())
                    .await;
                match reply {
                    Ok((granted, us, rate)) => {
                        if let Ok(r) = rate.parse::<f64>() {
                            self.rate.store(r.to_bits(), Ordering::Relaxed);
                            crate::observability::rate_limit_rate(crate::observability::Limiter::Fleet, r);
                        }
                        if granted == 1 {
                            crate::observability::rate_limit_wait(
                                crate::observability::Limiter::Fleet,
                                start.elapsed(),
                            );
                            return;
                        }
                        // Ask again when the turn is due (at most 50 ms later, so a rate lowered
                        // meanwhile is seen).
                        tokio::time::sleep(Duration::from_micros(us.min(50_000))).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, consumer = %self.consumer, "trophy fleet: taking from the fleet budget failed; retrying");
                        tokio::time::sleep(Duration::from_millis(300)).await;
                    }
                }
            }
        }

        /// Tells the fleet's learned state about a 429 (one try: a lost update only delays the
        /// decrease until the next 429).
        async fn turn_throttled(&self, signal: Signal) {
            let pause = signal
                .retry_after
                .filter(|a| *a > ratelimit::GLOBAL_RETRY_AFTER)
                .map_or(0, |a| a.as_micros() as u64);
            let mut inv = self.throttle.prepare_invoke();
            self.learned_args(&mut inv)
                .arg(signal.announced_rate.unwrap_or(0.0))
                .arg(ratelimit::COOLDOWN_INTERVALS)
                .arg(pause);
            let lowered: redis::RedisResult<u8> = inv.invoke_async(&mut self.control.clone()).await;
            match lowered {
                Ok(1) => {
                    tracing::debug!(consumer = %self.consumer, "trophy fleet: throttled; the fleet's rate is lowered")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "trophy fleet: could not record a 429 in Redis"),
            }
        }
    }
}
