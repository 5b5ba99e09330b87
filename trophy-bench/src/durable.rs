//! The durable-ingest runs shared by the integration tests and the benchmark: child processes
//! (an outbox writer killed at random, fleet producers and workers) and the parents that
//! start them, kill them, and compare what the emulator holds with what was sent.

use crate::redis_server::RedisServer;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trophy::api::admin::events::BatchEvent;
use trophy::ingest::fleet::{FleetConfig, WhenUnavailable};
use trophy::ingest::outbox::OutboxConfig;
use trophy::ingest::Ingester;
use trophy::Client;
use trophy_emulator::{Emulator, RateLimits, Seed};

/// An error in words.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The metric every event goes to.
pub const METRIC: &str = "words";
/// Events are spread over this many users.
pub const USERS: u64 = 97;

/// Event `i`: user `u{i % USERS}`, value `1 + i % 10`.
pub fn event(i: u64) -> BatchEvent {
    BatchEvent::new(METRIC, format!("u{}", i % USERS), (1 + i % 10) as f64)
}

/// What the emulator must hold after events `0..n`: per user, (events, total).
pub fn expected(n: u64) -> Vec<(u64, f64)> {
    let mut out = vec![(0, 0.0); USERS as usize];
    for i in 0..n {
        let slot = &mut out[(i % USERS) as usize];
        slot.0 += 1;
        slot.1 += (1 + i % 10) as f64;
    }
    out
}

/// The emulator's events and totals per user, in the order of [`expected`].
pub fn held(emulator: &Emulator) -> Vec<(u64, f64)> {
    let mut out = vec![(0, 0.0); USERS as usize];
    for t in emulator.metric_totals() {
        if let Some(u) = t.user_id.strip_prefix('u').and_then(|s| s.parse::<usize>().ok()) {
            if u < out.len() && t.metric == METRIC {
                out[u] = (t.events, t.total);
            }
        }
    }
    out
}

/// Lost and duplicated events: per user, what is missing and what is extra, summed.
pub fn lost_and_duplicated(emulator: &Emulator, n: u64) -> (u64, u64) {
    let (mut lost, mut dup) = (0, 0);
    for ((want, _), (got, _)) in expected(n).into_iter().zip(held(emulator)) {
        lost += want.saturating_sub(got);
        dup += got.saturating_sub(want);
    }
    (lost, dup)
}

/// An emulator with the one metric, and Trophy's rate limits when asked (token buckets of
/// one second, [`RateLimits::trophy`]).
pub async fn emulator(rate_limits: bool) -> Result<Emulator, BoxError> {
    emulator_with(rate_limits.then(RateLimits::trophy)).await
}

/// An emulator with the one metric, and these rate limits.
pub async fn emulator_with(limits: Option<RateLimits>) -> Result<Emulator, BoxError> {
    let mut b = Emulator::builder().seed(Seed::empty().with_metric(METRIC, "Words"));
    if let Some(limits) = limits {
        b = b.rate_limits(limits);
    }
    Ok(b.start().await?)
}

/// A client of the emulator at `base`; with Trophy's tiers as its own rate limit if asked.
fn client(base: &str, rate_limited: bool) -> Result<Client, BoxError> {
    let mut b = Client::builder()
        .api_key(trophy_emulator::DEFAULT_ADMIN_KEY)
        .api_url(format!("{base}/v1"))
        .admin_url(format!("{base}/admin/v1"));
    if rate_limited {
        b = b.rate_limits(trophy::RateLimits::trophy());
    }
    Ok(b.build()?)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

// ----- children ---------------------------------------------------------------------------------

/// A child role of `trophy-bench durable-child` (the parents below start them).
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ChildRole {
    /// An outbox writer: sends the events listed in --todo, prints `acked I` per event on disk.
    Outbox(OutboxChild),
    /// A fleet producer: sends events --from..--to to the fleet's Redis stream.
    Producer(ProducerChild),
    /// A fleet worker: delivers from the fleet's stream until its standard input closes.
    Worker(WorkerChild),
}

/// `durable-child outbox`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct OutboxChild {
    /// The outbox's SQLite file.
    #[arg(long, value_name = "FILE")]
    pub path: PathBuf,
    /// The emulator's base URL.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// A file with the indexes of the events to send, one a line.
    #[arg(long, value_name = "FILE")]
    pub todo: PathBuf,
    /// Concurrent senders.
    #[arg(long, value_name = "N")]
    pub concurrency: usize,
    /// Events per second in all (0: as fast as they can).
    #[arg(long, value_name = "R", value_parser = non_negative)]
    pub rate: f64,
    /// After draining, wait to be killed instead of shutting down.
    #[arg(long)]
    pub hold: bool,
}

/// Where a fleet child finds the fleet's Redis.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RedisArgs {
    /// The Redis URL of the fleet (`redis://` or `rediss://`); with --redis-cluster, repeated
    /// for each seed node.
    #[arg(long = "redis", value_name = "URL", required = true)]
    pub redis: Vec<String>,
    /// The URLs are seeds of a Redis Cluster.
    #[arg(long)]
    pub redis_cluster: bool,
    /// The CA (PEM file) that the server's certificate must verify against.
    #[arg(long, value_name = "FILE")]
    pub redis_ca: Option<PathBuf>,
    /// A client certificate (PEM file) for mutual TLS; with --redis-key.
    #[arg(long, value_name = "FILE", requires = "redis_key")]
    pub redis_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM file).
    #[arg(long, value_name = "FILE", requires = "redis_cert")]
    pub redis_key: Option<PathBuf>,
    /// Appends count once this many replicas have them (Redis `WAIT`; 0: no waiting).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub wait_replicas: u32,
}

impl RedisArgs {
    /// The flags for one plain Redis at `url`.
    pub fn single(url: impl Into<String>) -> RedisArgs {
        RedisArgs {
            redis: vec![url.into()],
            ..RedisArgs::default()
        }
    }

    /// The fleet configuration these flags describe.
    pub fn config(&self) -> FleetConfig {
        let mut config = if self.redis_cluster {
            FleetConfig::cluster(self.redis.clone())
        } else {
            FleetConfig::new(self.redis.first().cloned().unwrap_or_default())
        };
        if let Some(ca) = &self.redis_ca {
            config = config.ca_certificate_file(ca);
        }
        if let (Some(cert), Some(key)) = (&self.redis_cert, &self.redis_key) {
            config = config.client_certificate_files(cert, key);
        }
        config.wait_for_replicas(self.wait_replicas, Duration::from_secs(1))
    }

    /// The same flags, as a child's command line takes them.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for url in &self.redis {
            args.extend(["--redis".to_string(), url.clone()]);
        }
        if self.redis_cluster {
            args.push("--redis-cluster".into());
        }
        let files = [
            ("--redis-ca", &self.redis_ca),
            ("--redis-cert", &self.redis_cert),
            ("--redis-key", &self.redis_key),
        ];
        for (flag, file) in files {
            if let Some(file) = file {
                args.extend([flag.to_string(), file.display().to_string()]);
            }
        }
        if self.wait_replicas > 0 {
            args.extend(["--wait-replicas".to_string(), self.wait_replicas.to_string()]);
        }
        args
    }
}

/// `durable-child producer`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ProducerChild {
    /// Where the fleet's Redis is.
    #[command(flatten)]
    pub redis: RedisArgs,
    /// The first event index to send.
    #[arg(long, value_name = "I")]
    pub from: u64,
    /// One past the last event index to send.
    #[arg(long, value_name = "I")]
    pub to: u64,
    /// Events per second at most (0: as fast as Redis takes them).
    #[arg(long, value_name = "R", value_parser = non_negative)]
    pub rate: f64,
}

/// `durable-child worker`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct WorkerChild {
    /// Where the fleet's Redis is.
    #[command(flatten)]
    pub redis: RedisArgs,
    /// The emulator's base URL.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The worker's consumer name in the stream's group.
    #[arg(long, value_name = "NAME")]
    pub consumer: String,
    /// Claim entries another consumer has held idle this many milliseconds.
    #[arg(long, value_name = "MS")]
    pub claim_idle_ms: u64,
}

/// A finite number of at least 0 (a rate, seconds).
pub fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a finite number of at least 0")),
    }
}

/// Runs one child role: `outbox`, `producer` or `worker` (see the parents below).
pub fn child_main(role: ChildRole) -> Result<(), BoxError> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match role {
        ChildRole::Outbox(a) => rt.block_on(outbox_child(a)),
        ChildRole::Producer(a) => rt.block_on(producer_child(a)),
        ChildRole::Worker(a) => rt.block_on(worker_child(a)),
    }
}

/// Sends the events listed in `--todo` (one index a line) through the outbox at `--path`, with
/// `--concurrency` senders at `--rate` events/s in all (0: as fast as they can), printing `acked I` once event I is on disk; then flushes, prints
/// `drained` and shuts down (with `--hold`, waits to be killed instead). Each event carries the key `crash-I`, so an event whose
/// acknowledgement died with the process can be sent again without counting twice.
async fn outbox_child(args: OutboxChild) -> Result<(), BoxError> {
    let OutboxChild {
        path,
        url,
        todo: todo_file,
        concurrency,
        rate,
        hold,
    } = args;
    let todo: Vec<u64> = std::fs::read_to_string(&todo_file)?
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    let outbox = Ingester::builder(&client(&url, true)?)
        .outbox(OutboxConfig::new(path))
        .build()
        .await?;
    let next = Arc::new(Mutex::new(todo.into_iter().enumerate()));
    let started = tokio::time::Instant::now();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let mut senders = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (outbox, next, latencies) = (outbox.clone(), next.clone(), latencies.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let Some((k, i)) = next.lock().ok().and_then(|mut n| n.next()) else {
                    return Ok::<(), trophy::ingest::IngestError>(());
                };
                if rate > 0.0 {
                    tokio::time::sleep_until(started + Duration::from_secs_f64(k as f64 / rate)).await;
                }
                let sent = std::time::Instant::now();
                outbox.send(event(i).idempotency_key(format!("crash-{i}"))).await?;
                say(&format!("acked {i}"));
                if let Ok(mut l) = latencies.lock() {
                    l.push(sent.elapsed().as_micros() as u64);
                }
            }
        }));
    }
    for s in senders {
        s.await??;
    }
    outbox.flush().await?;
    say(&format!(
        "latency p99_us={}",
        p99(&latencies.lock().map(|l| l.clone()).unwrap_or_default())
    ));
    say_usage();
    say("drained");
    if hold {
        // A child that is to be killed waits for its SIGKILL even when it has nothing left to
        // do, so every planned kill happens (a kill of an idle process is a crash point too).
        std::future::pending::<()>().await;
    }
    outbox.shutdown(Duration::from_secs(5)).await;
    Ok(())
}

/// Sends events `--from`..`--to` to the fleet's stream at `--redis`, at most `--rate` events/s
/// (0: as fast as Redis takes them), then prints `sent N`.
async fn producer_child(args: ProducerChild) -> Result<(), BoxError> {
    let ProducerChild { redis, from, to, rate } = args;
    let config = redis
        .config()
        .when_unavailable(WhenUnavailable::Wait(Duration::from_secs(30)));
    let producer = Ingester::fleet_producer(config).await?;
    let started = tokio::time::Instant::now();
    let lanes = 16u64;
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for lane in 0..lanes {
        let (producer, latencies) = (producer.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = from + lane;
            while i < to {
                if rate > 0.0 {
                    let due = started + Duration::from_secs_f64((i - from) as f64 / rate);
                    tokio::time::sleep_until(due).await;
                }
                let sent = std::time::Instant::now();
                producer.send(event(i)).await?;
                if let Ok(mut l) = latencies.lock() {
                    l.push(sent.elapsed().as_micros() as u64);
                }
                i += lanes;
            }
            Ok::<(), trophy::ingest::IngestError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    say(&format!(
        "latency p99_us={}",
        p99(&latencies.lock().map(|l| l.clone()).unwrap_or_default())
    ));
    say_usage();
    say(&format!("sent {}", to - from));
    Ok(())
}

/// Runs a fleet worker against the emulator at `--url` until its standard input closes, then
/// prints `worker delivered=N requests=N retried=N http_429=N dead_lettered=N`.
async fn worker_child(args: WorkerChild) -> Result<(), BoxError> {
    let WorkerChild {
        redis,
        url,
        consumer,
        claim_idle_ms: claim_ms,
    } = args;
    let config = redis
        .config()
        .consumer(consumer)
        .claim_idle(Duration::from_millis(claim_ms));
    let worker = Ingester::builder(&client(&url, false)?).fleet(config).worker().await?;
    say("started");
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    })
    .await?;
    let s = worker.shutdown(Duration::from_secs(10)).await.stats;
    say_usage();
    say(&format!(
        "worker delivered={} requests={} retried={} http_429={} dead_lettered={}",
        s.delivered, s.requests, s.retried, s.http_429, s.dead_lettered
    ));
    Ok(())
}

/// Prints this process's CPU time and peak RSS, for the parent.
fn say_usage() {
    let (cpu_ns, hwm_kib) = usage(std::process::id());
    say(&format!("usage cpu_ns={cpu_ns} hwm_kib={hwm_kib}"));
}

/// The 99th percentile of microsecond samples.
fn p99(samples: &[u64]) -> u64 {
    let mut v = samples.to_vec();
    v.sort_unstable();
    v.get((v.len() * 99 / 100).min(v.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0)
}

// ----- parents ----------------------------------------------------------------------------------

/// The name and CPU time (user + system, ns) in a `/proc/.../stat` line (of a process or of
/// one of its threads).
pub(crate) fn stat_cpu(stat: &str) -> Option<(String, u64)> {
    const NS_PER_TICK: u64 = 10_000_000; // USER_HZ is 100 on Linux x86_64
    let (head, rest) = stat.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_string();
    let f: Vec<u64> = rest.split_whitespace().map(|v| v.parse().unwrap_or(0)).collect();
    Some((comm, (f.get(11)? + f.get(12)?) * NS_PER_TICK))
}

/// CPU time (ns) and peak resident memory (KiB) of a live process, from `/proc`.
pub(crate) fn usage(pid: u32) -> (u64, u64) {
    let cpu = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat_cpu(&stat))
        .map_or(0, |(_, ns)| ns);
    let hwm = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.trim_start_matches("VmHWM:")
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0);
    (cpu, hwm)
}

/// CPU and memory of the children of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// CPU time of every child, summed (ns).
    pub cpu_ns: u64,
    /// The largest peak RSS of one child (KiB).
    pub peak_rss_kib: u64,
}

impl Usage {
    fn add(&mut self, pid: u32) {
        let (cpu, hwm) = usage(pid);
        self.count(cpu, hwm);
    }

    fn count(&mut self, cpu_ns: u64, hwm_kib: u64) {
        self.cpu_ns += cpu_ns;
        self.peak_rss_kib = self.peak_rss_kib.max(hwm_kib);
    }

    /// Counts a child's own `usage cpu_ns=N hwm_kib=N` line; false for other lines.
    fn line(&mut self, line: &str) -> bool {
        let Some(rest) = line.strip_prefix("usage ") else {
            return false;
        };
        let field = |name: &str| {
            rest.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse::<u64>().ok())
                .unwrap_or(0)
        };
        self.count(field("cpu_ns"), field("hwm_kib"));
        true
    }
}

/// A child's `latency p99_us=N` line.
fn latency_line(line: &str) -> Option<u64> {
    line.strip_prefix("latency p99_us=")?.parse().ok()
}

/// A child process, with its standard output read line by line on a thread.
struct Kid {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Kid {
    /// Starts `exe durable-child ARGS` (the `trophy-bench` binary in a child role).
    fn spawn(exe: &Path, args: &[String]) -> Result<Kid, BoxError> {
        let mut child = Command::new(exe)
            .arg("durable-child")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", exe.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stdin = child.stdin.take();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Kid { child, stdin, lines })
    }

    /// SIGKILL, then wait.
    fn kill_counted(&mut self, usage: &mut Usage) {
        usage.add(self.child.id());
        self.kill();
    }

    /// SIGKILL, then wait.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Closes standard input and waits for the exit, within `limit`.
    fn finish(&mut self, limit: Duration) -> Result<Vec<String>, BoxError> {
        drop(self.stdin.take());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    return Err(format!("child failed: {status}").into());
                }
                // The reader thread ends at EOF; collect what it read.
                let mut out = Vec::new();
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
                    out.push(line);
                }
                return Ok(out);
            }
            if started.elapsed() > limit {
                self.kill();
                return Err(format!("child still running after {limit:?}").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

/// What a crash run did.
#[derive(Debug, Clone)]
pub struct CrashReport {
    /// Events acknowledged by `send` (each exactly once in the end).
    pub events: u64,
    /// SIGKILLs.
    pub kills: u32,
    /// Lost and duplicated events, from the emulator's counts per user.
    pub lost: u64,
    /// See `lost`.
    pub duplicated: u64,
    /// Replays the emulator answered (events sent again after a kill, counted once).
    pub replayed: u64,
    /// Requests the emulator answered with 429 (tier 1).
    pub http_429: u64,
    /// Whether every user's total is the expected one.
    pub totals_match: bool,
    /// From the first start to the last child's drained outbox.
    pub elapsed: Duration,
    /// CPU and memory of the children.
    pub usage: Usage,
    /// p99 of `send` (until the event is on disk) in the last child, in microseconds.
    pub p99_send_us: u64,
}

/// How a crash run goes.
#[derive(Debug, Clone)]
pub struct CrashPlan {
    /// Events to send, in all.
    pub events: u64,
    /// SIGKILLs before the last child.
    pub kills: u32,
    /// Each killed child lives between these.
    pub lifetime: (Duration, Duration),
    /// Offered events/s (0: as fast as the outbox takes them).
    pub rate: f64,
    /// Seed of the kill times.
    pub seed: u64,
}

/// Sends `plan.events` events through an outbox in child processes, against the emulator with
/// Trophy's rate limits, killing the child with SIGKILL `plan.kills` times at random points,
/// then lets a last child drain, and compares the emulator with what was acknowledged.
pub async fn crash_run(exe: &Path, plan: &CrashPlan) -> Result<CrashReport, BoxError> {
    let (events, kills, lifetime) = (plan.events, plan.kills, plan.lifetime);
    let emu = emulator(true).await?;
    let dir = std::env::temp_dir().join(format!("trophy-crash-{}-{}", std::process::id(), plan.seed));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("outbox.sqlite");
    let todo_file = dir.join("todo.txt");
    let mut acked = BTreeSet::new();
    let mut rng = plan.seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut usage = Usage::default();
    let mut p99_send_us = 0;
    let started = Instant::now();
    let mut done = 0;
    for life in 0..=kills {
        let todo: Vec<String> = (0..events)
            .filter(|i| !acked.contains(i))
            .map(|i| i.to_string())
            .collect();
        std::fs::write(&todo_file, todo.join("\n"))?;
        let args: Vec<String> = [
            "outbox",
            "--path",
            &path.display().to_string(),
            "--url",
            &emu.base_url(),
            "--todo",
            &todo_file.display().to_string(),
            "--concurrency",
            "64",
            "--rate",
            &plan.rate.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let last = life == kills;
        let mut args = args;
        if !last {
            args.push("--hold".into());
        }
        let mut kid = Kid::spawn(exe, &args)?;
        let span = lifetime.1.saturating_sub(lifetime.0).as_millis().max(1) as u64;
        let deadline = Instant::now()
            + if last {
                Duration::from_secs(120)
            } else {
                lifetime.0 + Duration::from_millis(next() % span)
            };
        let mut drained = false;
        while Instant::now() < deadline && !drained {
            match kid
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => {
                    if let Some(i) = line.strip_prefix("acked ").and_then(|s| s.parse::<u64>().ok()) {
                        acked.insert(i);
                    } else if let Some(us) = latency_line(&line) {
                        p99_send_us = us;
                    } else if !usage.line(&line) && line == "drained" && last {
                        drained = true;
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    let status = kid.child.wait()?;
                    return Err(format!("child {life} exited early: {status}").into());
                }
            }
        }
        if last {
            if !drained {
                return Err("the last child did not drain within 120 s".into());
            }
            kid.finish(Duration::from_secs(10))?;
        } else {
            kid.kill_counted(&mut usage);
            // Lines written before the kill are still in the pipe.
            while let Ok(line) = kid.lines.recv_timeout(Duration::from_millis(200)) {
                if let Some(i) = line.strip_prefix("acked ").and_then(|s| s.parse::<u64>().ok()) {
                    acked.insert(i);
                }
            }
            done += 1;
        }
    }
    let elapsed = started.elapsed();
    let (lost, duplicated) = lost_and_duplicated(&emu, events);
    let report = CrashReport {
        events: acked.len() as u64,
        kills: done,
        lost,
        duplicated,
        replayed: emu.event_counts().replayed,
        http_429: emu.rate_limit_counts().map_or(0, |c| c.rejected[0]),
        totals_match: held(&emu) == expected(events),
        elapsed,
        usage,
        p99_send_us,
    };
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report)
}

/// What a fleet run did.
#[derive(Debug, Clone)]
pub struct FleetReport {
    /// Events the producers sent.
    pub offered: u64,
    /// Events the emulator holds.
    pub delivered: u64,
    /// Delivered events per second, from the first send to the last delivery.
    pub events_per_s: f64,
    /// Lost and duplicated events, from the emulator's counts per user.
    pub lost: u64,
    /// See `lost`.
    pub duplicated: u64,
    /// Requests the emulator answered with 429 (tier 1).
    pub http_429: u64,
    /// Workers started (one of them killed when `kill_worker`).
    pub workers: usize,
    /// Workers killed with SIGKILL.
    pub kills: u32,
    /// Entries the killed worker held when it was killed (read, not acknowledged).
    pub pending_at_kill: u64,
    /// Redis restarts (or other injected Redis faults) during the run.
    pub redis_restarts: u32,
    /// Whether every user's total is the expected one.
    pub totals_match: bool,
    /// CPU and memory of the children (producers and workers).
    pub usage: Usage,
    /// The largest p99 of `send` (until Redis has the event) of the producers, in microseconds.
    pub p99_send_us: u64,
    /// Events dead-lettered by the workers that finished.
    pub dead_lettered: u64,
    /// Events stored per second after a worker was killed, from 1 s after the kill while at
    /// least 3,000 events were still to come (the survivor alone, with the entries it took
    /// over); `None` without a kill or when that window was shorter than 2 s.
    pub survivor_events_per_s: Option<f64>,
}

/// How a fleet run goes.
#[derive(Debug, Clone)]
pub struct FleetPlan {
    /// Producer processes.
    pub producers: u64,
    /// Worker processes.
    pub workers: usize,
    /// Events each producer sends.
    pub per_producer: u64,
    /// Each producer's offered events/s (0: as fast as it can).
    pub rate: f64,
    /// Kill the first worker (SIGKILL) this long after the start.
    pub kill_worker_after: Option<Duration>,
    /// Restart Redis (SIGKILL, start again on its AOF) this long after the start.
    pub restart_redis_after: Option<Duration>,
    /// A worker's entries idle this long are taken over by another.
    pub claim_idle: Duration,
    /// Give up after this long.
    pub limit: Duration,
}

/// Starts Redis, the emulator with Trophy's rate limits, the workers and the producers (each
/// a process), kills and restarts what the plan says, waits until the emulator holds every
/// event (or `limit` passes), and compares.
pub async fn fleet_run(exe: &Path, plan: &FleetPlan) -> Result<FleetReport, BoxError> {
    fleet_run_with(exe, plan, RateLimits::trophy()).await
}

/// [`fleet_run`] against an emulator with other rate limits (another [`LimiterModel`]).
///
/// [`LimiterModel`]: trophy_emulator::LimiterModel
pub async fn fleet_run_with(exe: &Path, plan: &FleetPlan, limits: RateLimits) -> Result<FleetReport, BoxError> {
    let mut redis = if plan.restart_redis_after.is_some() {
        RedisServer::start_durable()?
    } else {
        RedisServer::start()?
    };
    let url = redis.url();
    let server = &mut redis;
    let fault = plan.restart_redis_after.map(|at| {
        // Borrowed, not moved: the server lives (and keeps answering) until the run ends.
        let restart: Fault<'_> = Box::new(move || server.restart());
        (at, restart)
    });
    fleet_run_on(exe, plan, limits, &RedisArgs::single(url.clone()), Some(url), fault).await
}

/// A fault injected into a fleet run's Redis (a restart, a master killed); `Err` ends the run.
/// It runs on a runtime thread allowed to block (the run needs a multi-threaded runtime).
pub type Fault<'a> = Box<dyn FnOnce() -> Result<(), String> + Send + 'a>;

/// [`fleet_run_with`] on a Redis the caller started (TLS, ACL users, a cluster): the children
/// get `redis`'s flags; `inspect` is a plain URL of the node holding the stream, to count the
/// killed worker's pending entries (`None`: not counted); `fault` runs once at its time
/// (`FleetPlan::restart_redis_after` is ignored here).
pub async fn fleet_run_on(
    exe: &Path,
    plan: &FleetPlan,
    limits: RateLimits,
    redis: &RedisArgs,
    inspect: Option<String>,
    mut fault: Option<(Duration, Fault<'_>)>,
) -> Result<FleetReport, BoxError> {
    let emu = emulator_with(Some(limits)).await?;
    let offered = plan.producers * plan.per_producer;
    let mut workers = Vec::new();
    for w in 0..plan.workers {
        let mut args: Vec<String> = [
            "worker",
            "--url",
            &emu.base_url(),
            "--consumer",
            &format!("worker-{w}"),
            "--claim-idle-ms",
            &plan.claim_idle.as_millis().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(redis.to_args());
        let kid = Kid::spawn(exe, &args)?;
        if kid.lines.recv_timeout(Duration::from_secs(20)).ok().as_deref() != Some("started") {
            return Err(format!("worker {w} did not start").into());
        }
        workers.push(kid);
    }
    let started = Instant::now();
    let mut producers = Vec::new();
    for p in 0..plan.producers {
        let (from, to) = (p * plan.per_producer, (p + 1) * plan.per_producer);
        let mut args: Vec<String> = [
            "producer",
            "--from",
            &from.to_string(),
            "--to",
            &to.to_string(),
            "--rate",
            &plan.rate.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(redis.to_args());
        producers.push(Kid::spawn(exe, &args)?);
    }
    let (mut kills, mut pending_at_kill, mut restarts) = (0, 0, 0);
    let mut usage = Usage::default();
    let mut last_count = 0;
    let mut last_change = Instant::now();
    let mut finished_at = None;
    let mut killed_at = None;
    // (when, stored) after the kill: the first and the last sample of the survivor's window.
    let mut survivor: Option<((Instant, u64), (Instant, u64))> = None;
    while started.elapsed() < plan.limit {
        let now = started.elapsed();
        if plan.kill_worker_after.is_some_and(|at| now >= at) && kills == 0 {
            workers[0].kill_counted(&mut usage);
            kills = 1;
            killed_at = Some(Instant::now());
            pending_at_kill = inspect
                .as_deref()
                .map_or(0, |url| pending_of(url, "worker-0").unwrap_or(0));
        }
        if killed_at.is_some_and(|k| k.elapsed() >= Duration::from_secs(1)) {
            let stored = emu.event_counts().stored;
            if stored + 3_000 <= offered {
                let sample = (Instant::now(), stored);
                survivor = Some(survivor.map_or((sample, sample), |(first, _)| (first, sample)));
            }
        }
        if fault.as_ref().is_some_and(|(at, _)| now >= *at) {
            if let Some((_, inject)) = fault.take() {
                // A fault may take a while (a failover): the emulator keeps serving meanwhile.
                tokio::task::block_in_place(inject)?;
                restarts += 1;
            }
        }
        let stored = emu.event_counts().stored;
        if stored != last_count {
            last_count = stored;
            last_change = Instant::now();
        }
        if stored >= offered {
            finished_at = Some(last_change);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut p99_send_us = 0;
    for (p, kid) in producers.iter_mut().enumerate() {
        let lines = kid
            .finish(Duration::from_secs(10))
            .map_err(|e| format!("producer {p}: {e}"))?;
        for line in lines {
            if let Some(us) = latency_line(&line) {
                p99_send_us = p99_send_us.max(us);
            }
            usage.line(&line);
        }
    }
    let mut dead_lettered = 0;
    for kid in workers.iter_mut().skip(kills as usize) {
        for line in kid.finish(Duration::from_secs(20))? {
            usage.line(&line);
            if let Some(rest) = line.strip_prefix("worker ") {
                dead_lettered += rest
                    .split_whitespace()
                    .find_map(|kv| kv.strip_prefix("dead_lettered=")?.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    let end = finished_at.unwrap_or_else(Instant::now);
    let delivered = emu.event_counts().stored;
    let (lost, duplicated) = lost_and_duplicated(&emu, offered);
    let http_429 = emu.rate_limit_counts().map_or(0, |c| c.rejected[0]);
    Ok(FleetReport {
        offered,
        delivered,
        events_per_s: delivered as f64 / end.duration_since(started).as_secs_f64().max(1e-9),
        lost,
        duplicated,
        http_429,
        workers: plan.workers,
        kills,
        pending_at_kill,
        redis_restarts: restarts,
        totals_match: held(&emu) == expected(offered),
        usage,
        p99_send_us,
        dead_lettered,
        survivor_events_per_s: survivor.and_then(|((t0, s0), (t1, s1))| {
            let secs = t1.duration_since(t0).as_secs_f64();
            (secs >= 2.0).then(|| (s1 - s0) as f64 / secs)
        }),
    })
}

/// Entries pending under `consumer` in the fleet's group.
fn pending_of(url: &str, consumer: &str) -> Result<u64, BoxError> {
    let client = redis::Client::open(url)?;
    let mut con = client.get_connection()?;
    let config = FleetConfig::new(url);
    let reply: redis::Value = redis::cmd("XPENDING")
        .arg(&config.stream)
        .arg(&config.group)
        .arg("-")
        .arg("+")
        .arg(100_000)
        .arg(consumer)
        .query(&mut con)?;
    match reply {
        redis::Value::Array(items) => Ok(items.len() as u64),
        _ => Ok(0),
    }
}

// ----- benchmarks -------------------------------------------------------------------------------

/// The closing line shared by the ingest benchmarks.
#[allow(clippy::too_many_arguments)]
fn closing_line(
    name: &str,
    offered: u64,
    delivered: u64,
    elapsed: Duration,
    (lost, duplicated, dead_lettered, http_429): (u64, u64, u64, u64),
    usage: &Usage,
    p99_us: u64,
    extra: &str,
) -> String {
    format!(
        "{name}: offered={offered} delivered={delivered} events_per_s={:.0} lost={lost} duplicated={duplicated} \
         dead_lettered={dead_lettered} http_429={http_429} peak_rss_mib={:.1} cpu_us_per_event={:.1} \
         p99_latency_ms={:.2} {extra}",
        delivered as f64 / elapsed.as_secs_f64().max(1e-9),
        usage.peak_rss_kib as f64 / 1024.0,
        usage.cpu_ns as f64 / 1000.0 / delivered.max(1) as f64,
        p99_us as f64 / 1000.0,
    )
}

/// `trophy-bench ingest --outbox [--duration S] [--rate N] [--kills N]`: one writer process
/// at `rate` events/s (default 6,000) for `duration` seconds (default 20) through the outbox,
/// killed with SIGKILL `kills` times (default 5) at even intervals, then drained; the emulator
/// has Trophy's rate limits on. Prints the closing line; `p99_latency_ms` is the p99 of `send`
/// until the event is on disk (last writer), `cpu_us_per_event` and `peak_rss_mib` are the
/// writer processes'.
pub fn bench_outbox(exe: &Path, duration: f64, rate: f64, kills: u32) -> Result<String, BoxError> {
    let events = (duration * rate) as u64;
    let life = Duration::from_secs_f64(duration / f64::from(kills + 1));
    let plan = CrashPlan {
        events,
        kills,
        lifetime: (life, life + Duration::from_millis(1)),
        rate,
        seed: 0x5eed,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let r = rt.block_on(crash_run(exe, &plan))?;
    if !r.totals_match {
        return Err(format!("totals differ: {r:?}").into());
    }
    Ok(closing_line(
        "ingest",
        events,
        events - r.lost,
        r.elapsed,
        (r.lost, r.duplicated, 0, r.http_429),
        &r.usage,
        r.p99_send_us,
        &format!("kills={} outbox=sqlite replayed={}", r.kills, r.replayed),
    ))
}

/// `trophy-bench ingest-fleet [--duration S] [--rate N] [--producers N] [--workers N]
/// [--kill-worker S]`: producer processes offering `rate` events/s in all (default 6,000) for
/// `duration` seconds (default 20), worker processes (default 4 producers, 2 workers), one
/// real `redis-server`, the emulator with Trophy's rate limits; the first worker is killed
/// with SIGKILL after `kill-worker` seconds when given. Prints the closing line;
/// `p99_latency_ms` is the largest producer p99 of `send` until Redis has the event.
pub fn bench_fleet(
    exe: &Path,
    duration: f64,
    rate: f64,
    producers: u64,
    workers: usize,
    kill: f64,
) -> Result<String, BoxError> {
    let per_producer = (duration * rate) as u64 / producers.max(1);
    let plan = FleetPlan {
        producers,
        workers,
        per_producer,
        rate: rate / producers.max(1) as f64,
        kill_worker_after: (kill > 0.0).then(|| Duration::from_secs_f64(kill)),
        restart_redis_after: None,
        claim_idle: Duration::from_secs(5),
        limit: Duration::from_secs_f64(duration * 3.0 + 30.0),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let r = rt.block_on(fleet_run(exe, &plan))?;
    let elapsed = Duration::from_secs_f64(r.delivered as f64 / r.events_per_s.max(1e-9));
    Ok(closing_line(
        "ingest-fleet",
        r.offered,
        r.delivered,
        elapsed,
        (r.lost, r.duplicated, r.dead_lettered, r.http_429),
        &r.usage,
        r.p99_send_us,
        &format!("workers={} producers={producers} kills={}", r.workers, r.kills),
    ))
}
