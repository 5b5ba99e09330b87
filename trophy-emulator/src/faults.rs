//! Fault injection: the public settings ([`Faults`], re-exported at the crate root) and the
//! generator that applies them ([`FaultState`]).

/// Fault injection settings: answer a fraction of API requests with an error status.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Faults {
    /// Fraction of requests to fail, from 0 to 1.
    pub rate: f64,
    /// Status to answer with (for example 503, or 429 which adds `Retry-After: 1`).
    pub status: u16,
    /// Seed of the pseudo-random generator deciding which requests fail.
    pub seed: u64,
    /// When `true`, a failed request is processed first and only its answer is replaced by
    /// the fault (a lost response: the change happened, the client cannot know it). When
    /// `false` (the default), it is refused before anything happens.
    pub after_processing: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults::none()
    }
}

impl Faults {
    /// No faults.
    pub fn none() -> Faults {
        Faults {
            rate: 0.0,
            status: 503,
            seed: 0,
            after_processing: false,
        }
    }

    /// Fail `rate` (clamped to 0..=1) of requests with `status` (kept within 400..=599, else 503).
    pub fn new(rate: f64, status: u16) -> Faults {
        let rate = if rate.is_finite() { rate.clamp(0.0, 1.0) } else { 0.0 };
        let status = if (400..=599).contains(&status) { status } else { 503 };
        Faults {
            rate,
            status,
            seed: 0,
            after_processing: false,
        }
    }

    /// Sets the generator seed.
    pub fn with_seed(mut self, seed: u64) -> Faults {
        self.seed = seed;
        self
    }

    /// Fails requests after processing them: the change is made and its answer replaced by
    /// the fault, as when a response is lost on its way back. This is the case idempotency
    /// keys exist for: a client retrying without one counts twice.
    pub fn after_processing(mut self) -> Faults {
        self.after_processing = true;
        self
    }
}

/// Fault injection state: configuration, PRNG and counters.
#[derive(Clone, Debug)]
pub(crate) struct FaultState {
    pub cfg: Faults,
    rng: u64,
    pub fail_next: u64,
    pub injected: u64,
}

impl FaultState {
    pub(crate) fn new(cfg: Faults) -> FaultState {
        FaultState {
            cfg,
            rng: cfg.seed,
            fail_next: 0,
            injected: 0,
        }
    }

    /// splitmix64.
    fn next_f64(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The status to fail this request with, if any, when faults are injected in this phase
    /// (`after_processing` false: before authentication; true: once the handler has run).
    pub(crate) fn roll_in(&mut self, after_processing: bool) -> Option<u16> {
        if self.cfg.after_processing != after_processing {
            return None;
        }
        self.roll()
    }

    /// The status to fail this request with, if any.
    fn roll(&mut self) -> Option<u16> {
        let fail = if self.fail_next > 0 {
            self.fail_next -= 1;
            true
        } else if self.cfg.rate <= 0.0 {
            false
        } else {
            self.next_f64() < self.cfg.rate
        };
        if fail {
            self.injected += 1;
            Some(self.cfg.status)
        } else {
            None
        }
    }
}
