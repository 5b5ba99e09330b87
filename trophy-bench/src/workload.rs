//! What one child process measures (`trophy-bench child ...`), and the in-process decode
//! benchmark. Every measurement of calls runs in a fresh child process (the server is yet
//! another process), so that its CPU time and peak RSS are the client's alone. CPU and
//! throughput compare SDK and raw inside one child, in alternating batches, so that the noise
//! of a shared machine falls on both alike; peak RSS needs one child per mode.

use crate::measure::{status_kib, thread_cpu_ns, CpuClock};
use crate::ops::{BoxError, Mode, Op, Target, UserLayout};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What a child reports, printed as one `RESULT key=value ...` line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome(pub Vec<(String, f64)>);

impl Outcome {
    pub fn set(&mut self, key: impl Into<String>, value: f64) {
        self.0.push((key.into(), value));
    }

    pub fn get(&self, key: &str) -> Result<f64, BoxError> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("no {key} in the child's result").into())
    }

    pub fn to_line(&self) -> String {
        let mut line = String::from("RESULT");
        for (k, v) in &self.0 {
            line.push_str(&format!(" {k}={v}"));
        }
        line
    }

    pub fn parse(output: &str) -> Option<Outcome> {
        let line = output.lines().find_map(|l| l.strip_prefix("RESULT"))?;
        let mut o = Outcome::default();
        for kv in line.split_whitespace() {
            let (k, v) = kv.split_once('=')?;
            o.set(k, v.parse().ok()?);
        }
        Some(o)
    }
}

/// SDK then raw on even rounds, raw then SDK on odd ones (ABBA): drift hits both alike.
pub fn order(round: usize) -> [Mode; 2] {
    if round.is_multiple_of(2) {
        [Mode::Sdk, Mode::Raw]
    } else {
        [Mode::Raw, Mode::Sdk]
    }
}

fn median(v: &[f64]) -> f64 {
    crate::measure::Spread::of(v).median
}

/// Client CPU per call of `op`, SDK and raw in the same process on a current-thread runtime
/// (every client task runs on the one thread: no cross-thread wake-ups), in `batches`
/// alternating batches of `batch_calls` sequential calls. Reports the median over batches of
/// each mode's CPU nanoseconds per call (`sdk_cpu_ns`, `raw_cpu_ns`): interference from other
/// processes only ever adds time, and alternating batches share it between the two modes.
///
/// With `recorder` (`--metrics-recorder`, feature `metrics`), a third kind of batch runs the
/// same SDK client with a Prometheus recorder installed for this thread (the runtime's only
/// one), so the SDK's metrics are recorded; `sdk_rec_cpu_ns` is its median. The three kinds
/// take turns in a rotating order.
pub fn cpu(
    op: Op,
    base: &str,
    layout: UserLayout,
    batches: usize,
    batch_calls: usize,
    warmup: usize,
    recorder: bool,
) -> Result<Outcome, BoxError> {
    let recorder = if recorder {
        Some(crate::recorder::Recorder::new()?)
    } else {
        None
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let sdk = Target::new(Mode::Sdk, base, layout)?;
        let raw = Target::new(Mode::Raw, base, layout)?;
        for _ in 0..warmup {
            sdk.call(op).await?;
            raw.call(op).await?;
            if let Some(rec) = &recorder {
                let _on = rec.install_here();
                sdk.call(op).await?;
            }
        }
        let (mut s, mut r, mut with) = (Vec::new(), Vec::new(), Vec::new());
        for batch in 0..batches {
            // 0: SDK, 1: raw, 2: SDK with the recorder.
            let turn: Vec<usize> = if recorder.is_some() {
                (0..3).map(|i| (i + batch) % 3).collect()
            } else {
                order(batch).iter().map(|m| usize::from(*m == Mode::Raw)).collect()
            };
            for kind in turn {
                let (target, out) = match kind {
                    0 => (&sdk, &mut s),
                    1 => (&raw, &mut r),
                    _ => (&sdk, &mut with),
                };
                let _on = (kind == 2).then(|| recorder.as_ref().map(|rec| rec.install_here()));
                let clock = CpuClock::start();
                for _ in 0..batch_calls {
                    target.call(op).await?;
                }
                out.push(clock.elapsed_ns() as f64 / batch_calls.max(1) as f64);
            }
        }
        let mut o = Outcome::default();
        o.set("sdk_cpu_ns", median(&s));
        o.set("raw_cpu_ns", median(&r));
        if let Some(rec) = &recorder {
            o.set("sdk_rec_cpu_ns", median(&with));
            o.set("recorded_requests", rec.requests() as f64);
        }
        o.set("calls", (batches * batch_calls) as f64);
        Ok(o)
    })
}

/// `calls` calls by `concurrency` tasks, the three operations in rotation.
async fn drive(target: &Target, calls: usize, concurrency: usize) -> Result<(), BoxError> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let target = target.clone();
        let next = next.clone();
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= calls {
                    return Ok::<(), BoxError>(());
                }
                target.call(Op::ALL[i % Op::ALL.len()]).await?;
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    Ok(())
}

/// Throughput at `concurrency` on the default multi-thread runtime, SDK and raw in the same
/// process in `rounds` alternating rounds of `round_calls` calls (after `3 * concurrency`
/// warm-up calls each, which open the connections). Reports the median over rounds of calls/s
/// (`sdk_per_sec`, `raw_per_sec`) and of process CPU per call (`sdk_cpu_ns`, `raw_cpu_ns`).
pub fn throughput(
    base: &str,
    layout: UserLayout,
    concurrency: usize,
    rounds: usize,
    round_calls: usize,
) -> Result<Outcome, BoxError> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let sdk = Target::new(Mode::Sdk, base, layout)?;
        let raw = Target::new(Mode::Raw, base, layout)?;
        drive(&sdk, 3 * concurrency, concurrency).await?;
        drive(&raw, 3 * concurrency, concurrency).await?;
        let (mut rate, mut cpu) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
        for round in 0..rounds {
            for mode in order(round) {
                let (target, i) = match mode {
                    Mode::Sdk => (&sdk, 0),
                    Mode::Raw => (&raw, 1),
                };
                let clock = CpuClock::start();
                let t0 = Instant::now();
                drive(target, round_calls, concurrency).await?;
                let wall = t0.elapsed().as_secs_f64();
                rate[i].push(round_calls as f64 / wall.max(1e-9));
                cpu[i].push(clock.elapsed_ns() as f64 / round_calls.max(1) as f64);
            }
        }
        let mut o = Outcome::default();
        o.set("sdk_per_sec", median(&rate[0]));
        o.set("raw_per_sec", median(&rate[1]));
        o.set("sdk_cpu_ns", median(&cpu[0]));
        o.set("raw_cpu_ns", median(&cpu[1]));
        Ok(o)
    })
}

/// Peak RSS of a process of one mode making `calls` calls at `concurrency`: `VmHWM` at the
/// end (`hwm_kib`) and once the runtime and the client exist (`hwm_start_kib`), with the
/// throughput of the run (`per_sec`).
pub fn rss(mode: Mode, base: &str, layout: UserLayout, calls: usize, concurrency: usize) -> Result<Outcome, BoxError> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let target = Target::new(mode, base, layout)?;
        let hwm_start_kib = status_kib("VmHWM");
        let t0 = Instant::now();
        drive(&target, calls, concurrency).await?;
        let wall = t0.elapsed().as_secs_f64();
        let mut o = Outcome::default();
        o.set("hwm_kib", status_kib("VmHWM") as f64);
        o.set("hwm_start_kib", hwm_start_kib as f64);
        o.set("per_sec", calls as f64 / wall.max(1e-9));
        Ok(o)
    })
}

/// A large body and the two ways of decoding it.
pub struct DecodeCase {
    pub name: &'static str,
    pub body: Vec<u8>,
    sdk: fn(&[u8]) -> Result<(), BoxError>,
    plain: fn(&[u8]) -> Result<(), BoxError>,
}

fn sdk_decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<(), BoxError> {
    let v: T = trophy::__private::decode(body)?;
    black_box(v);
    Ok(())
}

fn plain_decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<(), BoxError> {
    let v: T = serde_json::from_slice(body)?;
    black_box(v);
    Ok(())
}

impl DecodeCase {
    fn of<T: serde::de::DeserializeOwned>(name: &'static str, body: Vec<u8>) -> DecodeCase {
        DecodeCase {
            name,
            body,
            sdk: sdk_decode::<T>,
            plain: plain_decode::<T>,
        }
    }

    /// The three large bodies of the decode benchmark.
    pub fn all() -> Vec<DecodeCase> {
        use crate::canned;
        use trophy::types::{EventResponse, LeaderboardResponseWithRankings, WrappedResponse};
        vec![
            DecodeCase::of::<LeaderboardResponseWithRankings>(
                "`LeaderboardResponseWithRankings`, 1,000 rankings",
                canned::leaderboard(1000),
            ),
            DecodeCase::of::<WrappedResponse>("`WrappedResponse`", canned::wrapped()),
            DecodeCase::of::<EventResponse>(
                "`EventResponse`, 20 points systems + 20 leaderboards",
                canned::event_large(),
            ),
        ]
    }

    /// Thread CPU nanoseconds per decode, decoding repeatedly for at least `budget_ns`.
    pub fn time(&self, mode: Mode, budget_ns: u64) -> Result<f64, BoxError> {
        let f = match mode {
            Mode::Sdk => self.sdk,
            Mode::Raw => self.plain,
        };
        f(&self.body)?; // warm the caches and the allocator
        let t0 = thread_cpu_ns();
        let mut n = 0u64;
        loop {
            for _ in 0..4 {
                f(black_box(&self.body))?;
            }
            n += 4;
            let spent = thread_cpu_ns().saturating_sub(t0);
            if spent >= budget_ns {
                return Ok(spent as f64 / n as f64);
            }
        }
    }

    /// Per-decode thread CPU of SDK and raw: the medians of `rounds` alternating rounds of at
    /// least `budget_ns` each.
    pub fn compare(&self, rounds: usize, budget_ns: u64) -> Result<(f64, f64), BoxError> {
        let (mut s, mut r) = (Vec::new(), Vec::new());
        for round in 0..rounds.max(1) {
            for mode in order(round) {
                let t = self.time(mode, budget_ns)?;
                match mode {
                    Mode::Sdk => s.push(t),
                    Mode::Raw => r.push(t),
                }
            }
        }
        Ok((median(&s), median(&r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_lines_round_trip() {
        let mut o = Outcome::default();
        o.set("sdk_cpu_ns", 41250.5);
        o.set("calls", 3.0);
        let parsed = Outcome::parse(&format!("noise\n{}\n", o.to_line())).unwrap();
        assert_eq!(parsed, o);
        assert_eq!(parsed.get("calls").unwrap(), 3.0);
        assert!(parsed.get("missing").is_err());
        assert_eq!(Outcome::parse("nothing"), None);
    }

    #[test]
    fn every_decode_case_decodes_both_ways() {
        for case in DecodeCase::all() {
            let (sdk, raw) = case.compare(2, 0).unwrap();
            assert!(sdk >= 0.0 && raw >= 0.0, "{}", case.name);
        }
    }
}
