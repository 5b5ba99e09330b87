//! What the three fuzz tests share: a small deterministic random generator, the run length
//! from the environment, and an allocation guard.
//!
//! **Bounded allocation.** The test binary's global allocator is `cap::Cap` (the crate holds
//! the `unsafe` of a `GlobalAlloc`; these tests have none): it counts every byte allocated and
//! freed. [`bounded`] lowers its limit to what is allocated when an input starts plus a budget,
//! so an input that makes the code under test allocate more than the budget makes the
//! allocation fail and the process abort ("memory allocation of N bytes failed"), which fails
//! the run. [`AllocReport`] then checks, at the end of a run, that the bytes still allocated
//! did not grow with the number of inputs (nothing is kept or leaked per input) and reports
//! the peak.

#![allow(dead_code)]

use cap::Cap;
use std::alloc::System;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// xorshift64*: small, fast, deterministic; plenty for choosing mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Never zero, or xorshift would stay at zero.
        Self(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True once in `one_in` times.
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    /// True `percent` times in 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// `name` from the environment (underscores allowed: `10_000_000`), or `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// The allocation budget of one input: `default`, or `TROPHY_FUZZ_ALLOC_BUDGET` bytes (set it
/// low, e.g. 1024, to see the guard stop a run).
pub fn alloc_budget(default: usize) -> usize {
    env_u64("TROPHY_FUZZ_ALLOC_BUDGET", default as u64) as usize
}

/// Held by each fuzz test while it runs, so the allocation counts of one are never mixed with
/// another's when the harness runs tests in parallel (e.g. with `--include-ignored`).
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static RUNNING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    RUNNING.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f` with at most `budget` bytes allocated beyond what is allocated now: more aborts
/// the process.
pub fn bounded<R>(budget: usize, f: impl FnOnce() -> R) -> R {
    let limit = ALLOCATOR.allocated().saturating_add(budget);
    ALLOCATOR
        .set_limit(limit)
        .expect("the limit is above what is allocated");
    let result = f();
    ALLOCATOR.set_limit(usize::MAX).expect("no limit");
    result
}

/// Bytes allocated at the start of a run, to compare with the end.
pub struct AllocReport {
    start: usize,
}

impl AllocReport {
    pub fn start() -> Self {
        AllocReport {
            start: ALLOCATOR.allocated(),
        }
    }

    /// Checks that what is still allocated grew by less than `slack` bytes over the run, and
    /// describes the run's allocation.
    pub fn finish(self, slack: usize) -> String {
        let end = ALLOCATOR.allocated();
        assert!(
            end < self.start + slack,
            "{} bytes still allocated after the run, {} before: something is kept per input",
            end,
            self.start
        );
        format!(
            "heap: {} KiB live before, {} KiB after, peak {} KiB, {} MiB allocated in total",
            self.start / 1024,
            end / 1024,
            ALLOCATOR.max_allocated() / 1024,
            ALLOCATOR.total_allocated() / (1024 * 1024),
        )
    }
}

/// What a long run did.
pub struct LongRun<S> {
    pub iterations: u64,
    pub seed: u64,
    pub stats: S,
    pub elapsed: std::time::Duration,
    /// The allocation report (see [`AllocReport::finish`]).
    pub heap: String,
}

impl<S> LongRun<S> {
    /// Iterations per second.
    pub fn rate(&self) -> f64 {
        self.iterations as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `run(iterations, seed)` with `TROPHY_FUZZ_ITERS` (default 1,000,000) and
/// `TROPHY_FUZZ_SEED` (default `default_seed`), timed, then checks nothing stayed allocated.
pub fn long_run<S>(default_seed: u64, run: impl FnOnce(u64, u64) -> S) -> LongRun<S> {
    let iterations = env_u64("TROPHY_FUZZ_ITERS", 1_000_000);
    let seed = env_u64("TROPHY_FUZZ_SEED", default_seed);
    let _turn = exclusive();
    let alloc = AllocReport::start();
    let started = std::time::Instant::now();
    let stats = run(iterations, seed);
    let elapsed = started.elapsed();
    let heap = alloc.finish(1024 * 1024);
    LongRun {
        iterations,
        seed,
        stats,
        elapsed,
        heap,
    }
}
