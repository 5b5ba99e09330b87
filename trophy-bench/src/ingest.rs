//! `trophy-bench ingest`: producers feed a [`trophy::ingest::Ingester`] at a steady offered
//! load against the emulator with Trophy's rate limits on (5 tier-1 requests/s), run in its
//! own process so that the CPU time and memory measured here are the SDK side's alone
//! (producers, ingester, HTTP client). Afterwards the emulator's stored events and totals are
//! compared with what the producers sent.
//!
//! ```text
//! trophy-bench ingest [--duration S] [--producers N] [--rate R] [--fail-rate F] [--capacity C]
//! trophy-bench ingest-emulator [--fail-rate F]        the emulator child (internal)
//! ```

use crate::measure::{stat_cpu_ns_of, status_kib, thread_cpu_ns, CpuClock};
use crate::ops::BoxError;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use trophy::api::admin::events::BatchEvent;
use trophy::ingest::{IngestConfig, Ingester};
use trophy::{Client, UserInput};

const METRIC: &str = "words-written";
/// The metric of the single-event comparison.
const SINGLE: &str = "single-events";
/// Distinct users the producers write for.
const USERS: usize = 1_000;
/// Events enqueued for the enqueue-cost measurement.
const ENQUEUE_EVENTS: usize = 200_000;

/// `trophy-bench ingest`'s settings (parsed in `main.rs`).
#[derive(Debug, Clone)]
pub struct Opts {
    /// Seconds of offered load (at least 2).
    pub duration: f64,
    /// Producer tasks.
    pub producers: usize,
    /// Events per second offered in all.
    pub rate: f64,
    /// Fraction of the emulator's answers lost after processing (503).
    pub fail_rate: f64,
    /// The ingester's queue capacity (`None`: the default).
    pub capacity: Option<usize>,
}

impl Opts {
    /// Checks the ranges clap's parsers do not.
    pub fn check(&self) -> Result<(), String> {
        if !(self.duration >= 2.0 && self.duration.is_finite()) {
            return Err("--duration must be at least 2 seconds".into());
        }
        if self.producers == 0 || !(self.rate > 0.0 && self.rate.is_finite()) {
            return Err("--producers and --rate must be positive".into());
        }
        if !(0.0..1.0).contains(&self.fail_rate) {
            return Err("--fail-rate must be from 0 to below 1".into());
        }
        Ok(())
    }
}

/// The emulator in its own process: Trophy's rate limits, and `--fail-rate` of requests
/// answered 503 after processing (lost responses). Ends when its stdin closes.
pub fn serve_emulator(fail_rate: f64) -> Result<(), BoxError> {
    // The metrics come with the seed: creating them through the API could meet a lost answer.
    let seed = trophy_emulator::Seed::from_json(&format!(
        r#"{{"metrics": [{{"key": "{METRIC}", "name": "Words"}}, {{"key": "{SINGLE}", "name": "Single"}}]}}"#
    ))?;
    serve_until_stdin_closes(
        trophy_emulator::Emulator::builder()
            .seed(seed)
            .rate_limits(trophy_emulator::RateLimits::trophy())
            .faults(
                trophy_emulator::Faults::new(fail_rate, 503)
                    .with_seed(7)
                    .after_processing(),
            ),
    )
}

/// Runs an emulator child: prints `listening on ADDR`, serves until stdin closes.
pub(crate) fn serve_until_stdin_closes(builder: trophy_emulator::EmulatorBuilder) -> Result<(), BoxError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let emu = builder.start().await?;
        println!("listening on {}", emu.addr());
        std::io::stdout().flush()?;
        tokio::task::spawn_blocking(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        })
        .await?;
        drop(emu);
        Ok(())
    })
}

/// The emulator child process; closing its stdin ends it.
pub(crate) struct EmulatorProcess {
    child: Child,
    pub(crate) base: String,
}

impl EmulatorProcess {
    fn spawn(fail_rate: f64) -> Result<EmulatorProcess, BoxError> {
        EmulatorProcess::spawn_mode(&["ingest-emulator", "--fail-rate", &fail_rate.to_string()])
    }

    /// This binary in another mode (`args`), which prints `listening on ADDR` first.
    pub(crate) fn spawn_mode(args: &[&str]) -> Result<EmulatorProcess, BoxError> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no emulator stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected emulator output {line:?}"))?;
        Ok(EmulatorProcess {
            base: format!("http://{addr}"),
            child,
        })
    }
}

impl EmulatorProcess {
    /// The child's CPU time so far (user + system, 10 ms ticks), in nanoseconds.
    pub(crate) fn cpu_ns(&self) -> u64 {
        stat_cpu_ns_of(&self.child.id().to_string())
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one producer sent: events per user.
type Sent = Vec<u64>;

fn user_ids() -> Arc<Vec<String>> {
    Arc::new((0..USERS).map(|u| format!("bench-user-{u}")).collect())
}

/// Sends events at `rate` per second until `until`, waiting on the ingester when it is full.
async fn produce(ingester: Ingester, users: Arc<Vec<String>>, first: usize, rate: f64, until: Instant) -> Sent {
    let mut sent = vec![0u64; USERS];
    let start = Instant::now();
    let mut n = 0u64;
    let mut next_user = first % USERS;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let now = tick.tick().await;
        if now >= until {
            break;
        }
        // Behind after waiting on a full queue: the offered load is what could be sent.
        let due = (start.elapsed().as_secs_f64() * rate) as u64;
        while n < due {
            let event = BatchEvent::new(METRIC, UserInput::new(users[next_user].clone()), 1.0);
            if ingester.send(event).await.is_err() {
                return sent;
            }
            sent[next_user] += 1;
            n += 1;
            next_user = (next_user + 7) % USERS;
            if Instant::now() >= until {
                return sent;
            }
        }
    }
    sent
}

/// CPU per event of `try_send` alone: events built beforehand, a current-thread runtime so the
/// ingester's task does not run during the loop, this thread's CPU time.
fn enqueue_cost_ns() -> Result<f64, BoxError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        // Nothing listens there: the events are never delivered, and shutdown(0) drops them.
        let client = Client::builder()
            .api_key("bench-admin-key")
            .admin_url("http://127.0.0.1:9/admin/v1")
            .api_url("http://127.0.0.1:9/v1")
            .build()?;
        let ingester = Ingester::new(&client, IngestConfig::default().capacity(ENQUEUE_EVENTS))?;
        let users = user_ids();
        let events: Vec<BatchEvent> = (0..ENQUEUE_EVENTS)
            .map(|i| BatchEvent::new(METRIC, UserInput::new(users[i % USERS].clone()), 1.0))
            .collect();
        let before = thread_cpu_ns();
        for e in events {
            ingester.try_send(e).await.map_err(|e| e.to_string())?;
        }
        let spent = thread_cpu_ns().saturating_sub(before);
        let _ = ingester.shutdown(Duration::ZERO).await;
        Ok(spent as f64 / ENQUEUE_EVENTS as f64)
    })
}

/// Events per second through `POST /metrics/{key}/event`, one event per request, with the
/// client limited to Trophy's tiers: 8 tasks for 4 s, counted after the first second.
async fn single_event_rate(client: &Client) -> Result<f64, BoxError> {
    let client = Client::builder()
        .api_key(trophy_emulator::DEFAULT_ADMIN_KEY)
        .admin_url(client.admin_url())
        .api_url(client.api_url())
        .rate_limits(trophy::RateLimits::trophy())
        .build()?;
    let start = Instant::now();
    let (from, until) = (start + Duration::from_secs(1), start + Duration::from_secs(4));
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut counted = 0u32;
                while Instant::now() < until {
                    let sent = client.metrics().event(SINGLE, format!("single-{t}"), 1.0).send().await;
                    if sent.is_ok() && Instant::now() >= from && Instant::now() < until {
                        counted += 1;
                    }
                }
                counted
            })
        })
        .collect();
    let mut total = 0u32;
    for t in tasks {
        total += t.await?;
    }
    Ok(f64::from(total) / 3.0)
}

/// The emulator's stored events for the metric, per user index: (events, total).
async fn held(base: &str) -> Result<(Vec<(u64, f64)>, u64), BoxError> {
    let body: serde_json::Value = reqwest::get(format!("{base}/_emulator/events")).await?.json().await?;
    let mut out = vec![(0u64, 0f64); USERS];
    let mut stray = 0u64;
    for t in body["totals"].as_array().ok_or("no totals")? {
        if t["metric"] != METRIC {
            continue;
        }
        let user = t["userId"].as_str().unwrap_or("");
        let events = t["events"].as_u64().unwrap_or(0);
        match user.strip_prefix("bench-user-").and_then(|u| u.parse::<usize>().ok()) {
            Some(u) if u < USERS => out[u] = (events, t["total"].as_f64().unwrap_or(0.0)),
            _ => stray += events,
        }
    }
    Ok((out, stray))
}

pub fn run(o: Opts) -> Result<(), BoxError> {
    o.check()?;
    let emulator = EmulatorProcess::spawn(o.fail_rate)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let base = emulator.base.clone();
    let emulator_cpu_before = emulator.cpu_ns();
    let line = rt.block_on(async move {
        let client = Client::builder()
            .api_key(trophy_emulator::DEFAULT_ADMIN_KEY)
            .admin_url(format!("{base}/admin/v1"))
            .api_url(format!("{base}/v1"))
            .build()?;
        let mut config = IngestConfig::default();
        if let Some(c) = o.capacity {
            config = config.capacity(c);
        }
        let ingester = Ingester::new(&client, config)?;
        let users = user_ids();
        eprintln!(
            "ingest: {} producers offering {} events/s for {} s (fail rate {})",
            o.producers, o.rate, o.duration, o.fail_rate
        );
        let cpu = CpuClock::start();
        let start = Instant::now();
        let until = start + Duration::from_secs_f64(o.duration);
        let producers: Vec<_> = (0..o.producers)
            .map(|p| {
                tokio::spawn(produce(
                    ingester.clone(),
                    users.clone(),
                    p * 131,
                    o.rate / o.producers as f64,
                    until,
                ))
            })
            .collect();
        // Sustained rate: from the end of the first second (the bucket's initial burst) to the end.
        tokio::time::sleep_until(start + Duration::from_secs(1)).await;
        let delivered_at_1s = ingester.stats().delivered;
        tokio::time::sleep_until(until).await;
        let delivered_in_window = ingester.stats().delivered - delivered_at_1s;
        let mut sent = vec![0u64; USERS];
        for p in producers {
            for (s, n) in sent.iter_mut().zip(p.await?) {
                *s += n;
            }
        }
        let report = ingester.shutdown(Duration::from_secs(120)).await;
        let cpu_ns = cpu.elapsed_ns();
        let wall = start.elapsed();
        let peak_rss_kib = status_kib("VmHWM");
        let stats = report.stats;
        let (held, stray) = held(&base).await?;
        let offered: u64 = sent.iter().sum();
        let (mut lost, mut duplicated) = (0u64, stray);
        for (s, (events, total)) in sent.iter().zip(&held) {
            lost += s.saturating_sub(*events);
            duplicated += events.saturating_sub(*s);
            if (*s as f64 - total).abs() > 1e-6 {
                eprintln!("ingest: a total differs from what was sent: sent {s}, held {total}");
            }
        }
        eprintln!(
            "ingest: requests={} retried={} bisections={} undelivered_at_shutdown={} p50_latency_ms={:.0} wall_s={:.1}",
            stats.requests,
            stats.retried,
            stats.bisections,
            report.undelivered.len(),
            stats.latency_p50.unwrap_or_default().as_secs_f64() * 1e3,
            wall.as_secs_f64(),
        );
        let single = single_event_rate(&client).await?;
        eprintln!("ingest: single-event endpoint through the same limits: {single:.1} events/s");
        Ok::<_, BoxError>(format!(
            "ingest: offered={offered} delivered={} events_per_s={:.0} lost={lost} duplicated={duplicated} \
             dead_lettered={} http_429={} peak_rss_mib={:.1} cpu_us_per_event={:.2} p99_latency_ms={:.0}",
            stats.delivered,
            delivered_in_window as f64 / (o.duration - 1.0),
            stats.dead_lettered,
            stats.http_429,
            peak_rss_kib as f64 / 1024.0,
            cpu_ns as f64 / 1e3 / stats.delivered.max(1) as f64,
            stats.latency_p99.unwrap_or_default().as_secs_f64() * 1e3,
        ))
    })?;
    drop(rt);
    eprintln!(
        "ingest: emulator process CPU {:.1} s (not counted above)",
        emulator.cpu_ns().saturating_sub(emulator_cpu_before) as f64 / 1e9
    );
    drop(emulator);
    let enqueue = enqueue_cost_ns()?;
    eprintln!(
        "ingest: enqueue_cpu_us_per_event={:.2} (try_send of {ENQUEUE_EVENTS} prebuilt events, one thread)",
        enqueue / 1e3
    );
    println!("{line}");
    Ok(())
}
