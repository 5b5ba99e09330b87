//! `trophy-bench ingest --backend B --limiter M --lost-rate R` and `trophy-bench ingest
//! --matrix`: how close each ingest backend comes to Trophy's ceiling whatever limiter the
//! server runs. Everything runs in one process: the emulator (on a runtime of its own) with
//! Trophy's 5 tier-1 requests/s under one [`LimiterModel`] and `R` of the answers lost after
//! processing, the backend (in-memory `Ingester`, SQLite `Outbox`, or a fleet of 4 producers
//! and 2 workers on a real `redis-server`), and producers that offer every event at once.
//!
//! A row reads `events_per_s` = events stored by the emulator / seconds from the first send
//! until the emulator held them all, `ceiling` = 5,000 × (1 − R), `http_429` and `requests`
//! the emulator's tier-1 counts, `lost` and `duplicated` per user against what was sent.

use crate::durable::{event, lost_and_duplicated, stat_cpu, BoxError, METRIC};
use crate::redis_server::{RedisCluster, RedisServer, TlsMaterial};
use std::time::{Duration, Instant};
use trophy::ingest::fleet::FleetConfig;
use trophy::ingest::outbox::OutboxConfig;
use trophy::ingest::{IngestConfig, Ingester};
use trophy::Client;
use trophy_emulator::{Emulator, Faults, LimiterModel, RateLimitHeaders, RateLimits, Seed};

/// An ingest backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// [`Ingester`]: an in-memory queue.
    #[value(help = "The in-memory ingester")]
    Memory,
    /// [`Ingester`] over an outbox: SQLite on disk.
    #[value(help = "The ingester over an outbox: SQLite on disk")]
    Outbox,
    /// Fleet workers and producers ([`Ingester`]s over the fleet) on Redis.
    #[value(help = "4 fleet producers and 2 workers on a real redis-server")]
    Fleet,
}

impl Backend {
    /// The three, in the matrix's order.
    pub const ALL: [Backend; 3] = [Backend::Memory, Backend::Outbox, Backend::Fleet];
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Memory => "memory",
            Backend::Outbox => "outbox",
            Backend::Fleet => "fleet",
        })
    }
}

/// The Redis a fleet case runs on (`ingest --backend fleet [--redis-tls | --redis-cluster]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedisKind {
    /// One `redis-server`, plain TCP.
    #[default]
    Plain,
    /// One `redis-server` on `--tls-port` only, mutual TLS (certificates made by the run).
    Tls,
    /// A local Redis Cluster: 3 masters, 3 replicas.
    Cluster,
    /// The same cluster speaking only TLS (client certificates required; cluster bus and
    /// replication over TLS too), as managed Redis in cluster mode with in-transit encryption.
    TlsCluster,
}

impl std::fmt::Display for RedisKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RedisKind::Plain => "plain",
            RedisKind::Tls => "tls",
            RedisKind::Cluster => "cluster",
            RedisKind::TlsCluster => "tls-cluster",
        })
    }
}

/// One run of the matrix.
#[derive(Debug, Clone)]
pub struct Case {
    /// Where events are queued.
    pub backend: Backend,
    /// The fleet's Redis (fleet cases only).
    pub redis: RedisKind,
    /// Fleet appends count once this many replicas have them (`WAIT`, 1 s; 0: no waiting).
    pub wait_replicas: u32,
    /// The emulator's limiter.
    pub limiter: LimiterModel,
    /// Which rate-limit headers the emulator sends.
    pub headers: RateLimitHeaders,
    /// Fraction of answers lost after processing (503).
    pub lost_rate: f64,
    /// Events offered.
    pub events: u64,
    /// Tier-1 requests per second of the emulator.
    pub tier1_per_second: f64,
    /// Tier-1 requests per second the client (or the fleet) is configured with: the same as
    /// the emulator's in the matrix; more, to see a stricter server than configured met.
    pub configured_per_second: f64,
    /// Events per request.
    pub max_batch: usize,
    /// Give up after this long.
    pub limit: Duration,
}

impl Case {
    /// A matrix row: Trophy's 5 requests/s, batches of 1,000, 120,000 events.
    pub fn row(backend: Backend, limiter: LimiterModel, lost_rate: f64) -> Case {
        Case {
            backend,
            redis: RedisKind::Plain,
            wait_replicas: 0,
            limiter,
            headers: RateLimitHeaders::None,
            lost_rate,
            events: 120_000,
            tier1_per_second: 5.0,
            configured_per_second: 5.0,
            max_batch: 1_000,
            limit: Duration::from_secs(180),
        }
    }

    /// The ceiling: every tier-1 request a full batch, less the lost answers' replays.
    pub fn ceiling(&self) -> f64 {
        self.tier1_per_second * self.max_batch as f64 * (1.0 - self.lost_rate)
    }
}

/// What a case measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The case.
    pub case: Case,
    /// Events the emulator holds.
    pub stored: u64,
    /// Events stored per second, first send to the last event stored.
    pub events_per_s: f64,
    /// Tier-1 requests the emulator answered 429.
    pub http_429: u64,
    /// Tier-1 requests the emulator saw (admitted and refused).
    pub requests: u64,
    /// 429s after the first 5 s of the run.
    pub http_429_after_5s: u64,
    /// Lost and duplicated events, per user against what was sent.
    pub lost: u64,
    /// See `lost`.
    pub duplicated: u64,
    /// Whether every user's total is the expected one.
    pub totals_match: bool,
    /// The sending rate the backend's pacer ended with.
    pub send_rate: f64,
    /// CPU time of this process less the emulator's threads (the SDK: producers, the
    /// backend, its workers), per event stored, in microseconds.
    pub cpu_us_per_event: f64,
    /// CPU time of the `redis-server` processes (fleet cases), per event stored, in µs.
    pub redis_cpu_us_per_event: f64,
    /// The 99th percentile of `send` (until the backend holds the event), in µs.
    pub p99_send_us: u64,
}

impl Outcome {
    /// `events_per_s / ceiling`.
    pub fn ratio(&self) -> f64 {
        self.events_per_s / self.case.ceiling()
    }

    /// The share of requests answered 429.
    pub fn share_429(&self) -> f64 {
        self.http_429 as f64 / self.requests.max(1) as f64
    }

    /// The row, in the matrix's format.
    pub fn line(&self) -> String {
        format!(
            "ingest: backend={}{} limiter={} lost_rate={} events_per_s={:.0} ceiling={:.0} ratio={:.3} http_429={} requests={} lost={} duplicated={}",
            self.case.backend,
            match (self.case.backend, self.case.redis) {
                (Backend::Fleet, RedisKind::Plain) | (Backend::Memory | Backend::Outbox, _) => String::new(),
                (Backend::Fleet, kind) => format!(" redis={kind}"),
            },
            self.case.limiter,
            self.case.lost_rate,
            self.events_per_s,
            self.case.ceiling(),
            self.ratio(),
            self.http_429,
            self.requests,
            self.lost,
            self.duplicated,
        )
    }
}

/// The emulator of a case, on a runtime (and thread) of its own so the backend's load does
/// not delay its limiter's clock readings more than the machine does.
struct EmulatorHost {
    emu: Option<Emulator>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::ops::Deref for EmulatorHost {
    type Target = Emulator;
    fn deref(&self) -> &Emulator {
        self.emu.as_ref().expect("the emulator runs until the host is dropped")
    }
}

impl Drop for EmulatorHost {
    fn drop(&mut self) {
        drop(self.emu.take());
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The name of the emulator's threads, left out of a case's CPU figure.
const EMULATOR_THREADS: &str = "emulator-rt";

/// CPU time (ns) of this whole process (all threads, ended ones included) and of its live
/// threads named `prefix…`, from `/proc/self`.
fn cpu_ns(prefix: &str) -> (u64, u64) {
    let read = |path: std::path::PathBuf| std::fs::read_to_string(path).ok().and_then(|s| stat_cpu(&s));
    let all = read("/proc/self/stat".into()).map_or(0, |(_, ns)| ns);
    let mut named = 0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            if let Some((comm, ns)) = read(task.path().join("stat")) {
                if comm.starts_with(prefix) || comm == "emulator" {
                    named += ns;
                }
            }
        }
    }
    (all, named)
}

/// CPU time (ns) of other processes, from `/proc`.
fn process_cpu_ns(pids: &[u32]) -> u64 {
    pids.iter().map(|&pid| crate::durable::usage(pid).0).sum()
}

/// What a fleet case runs on: kept alive until the case ends.
enum RedisHost {
    Server(RedisServer),
    Cluster(RedisCluster),
}

impl RedisHost {
    fn start(kind: RedisKind) -> Result<(RedisHost, FleetConfig), BoxError> {
        Ok(match kind {
            RedisKind::Plain => {
                let server = RedisServer::start()?;
                let config = FleetConfig::new(server.url());
                (RedisHost::Server(server), config)
            }
            RedisKind::Tls => {
                let material = TlsMaterial::generate()?;
                let server = RedisServer::builder().tls(&material, true).start()?;
                let config = FleetConfig::new(server.url())
                    .ca_certificate(material.ca_pem().to_vec())
                    .client_certificate(material.client_cert_pem().to_vec(), material.client_key_pem().to_vec());
                (RedisHost::Server(server), config)
            }
            RedisKind::Cluster => {
                let cluster = RedisCluster::start(3, 1)?;
                let config = FleetConfig::cluster(cluster.seed_urls());
                (RedisHost::Cluster(cluster), config)
            }
            RedisKind::TlsCluster => {
                let material = TlsMaterial::generate()?;
                let cluster = RedisCluster::start_tls(3, 1, &material)?;
                let config = FleetConfig::cluster(cluster.seed_urls())
                    .ca_certificate(material.ca_pem().to_vec())
                    .client_certificate(material.client_cert_pem().to_vec(), material.client_key_pem().to_vec());
                (RedisHost::Cluster(cluster), config)
            }
        })
    }

    fn pids(&self) -> Vec<u32> {
        match self {
            RedisHost::Server(s) => s.pid().into_iter().collect(),
            RedisHost::Cluster(c) => (0..c.node_count()).filter_map(|i| c.node(i)?.pid()).collect(),
        }
    }
}

fn start_emulator(case: &Case) -> Result<EmulatorHost, BoxError> {
    let limits = RateLimits::per_second(case.tier1_per_second, 50.0)
        .model(case.limiter)
        .headers(case.headers);
    let mut faults = Faults::none();
    if case.lost_rate > 0.0 {
        faults = Faults::new(case.lost_rate, 503).with_seed(7).after_processing();
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new().name("emulator".into()).spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(EMULATOR_THREADS)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = tx.send(Err(e.to_string()));
                return;
            }
        };
        let started = rt.block_on(
            Emulator::builder()
                .seed(Seed::empty().with_metric(METRIC, "Words"))
                .rate_limits(limits)
                .faults(faults)
                .start(),
        );
        let _ = tx.send(started.map_err(|e| e.to_string()));
        // Serve until the host is dropped.
        let _ = stopped.recv();
    })?;
    let emu = rx.recv().map_err(|_| "the emulator thread ended")??;
    Ok(EmulatorHost {
        emu: Some(emu),
        stop: Some(stop),
        thread: Some(thread),
    })
}

fn client(emu: &Emulator, case: &Case) -> Result<Client, BoxError> {
    Ok(Client::builder()
        .api_key(trophy_emulator::DEFAULT_ADMIN_KEY)
        .base_url(emu.base_url())
        .rate_limits(trophy::RateLimits::per_second(case.configured_per_second, 50.0))
        .build()?)
}

fn delivery(case: &Case) -> IngestConfig {
    IngestConfig::default()
        .max_batch(case.max_batch)
        .backoff(Duration::from_millis(100), Duration::from_secs(2))
}

/// Samples the emulator until it holds `n` events (or the case's limit passes): when the
/// last one was stored, and the 429 count at 5 s.
async fn watch(emu: &Emulator, n: u64, started: Instant, limit: Duration) -> (Instant, u64) {
    let mut at_5s = None;
    loop {
        let now = Instant::now();
        if at_5s.is_none() && now.duration_since(started) >= Duration::from_secs(5) {
            at_5s = Some(emu.rate_limit_counts().map_or(0, |c| c.rejected[0]));
        }
        if emu.event_counts().stored >= n || now.duration_since(started) > limit {
            let rejected = emu.rate_limit_counts().map_or(0, |c| c.rejected[0]);
            return (now, at_5s.unwrap_or(rejected));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Offers events `0..n` through `send`, from `lanes` tasks.
fn produce<F, Fut>(n: u64, lanes: u64, send: F) -> Vec<tokio::task::JoinHandle<Result<(), String>>>
where
    F: Fn(trophy::api::admin::events::BatchEvent) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    (0..lanes)
        .map(|lane| {
            let send = send.clone();
            tokio::spawn(async move {
                let mut i = lane;
                while i < n {
                    send(event(i)).await?;
                    i += lanes;
                }
                Ok(())
            })
        })
        .collect()
}

/// Runs one case (on the current runtime; the emulator gets its own).
pub async fn run_case(case: &Case) -> Result<Outcome, BoxError> {
    let host = start_emulator(case)?;
    let emu: &Emulator = &host;
    let n = case.events;
    // The backends differ only in how the ingester is built (and what runs beside it: the
    // fleet's workers and Redis); the producers, the watch and the shutdown are the same.
    let mut outbox_dir = None;
    let mut fleet = None;
    let (ingester, concurrency) = match case.backend {
        Backend::Memory => (Ingester::new(&client(emu, case)?, delivery(case))?, 8),
        Backend::Outbox => {
            let dir = std::env::temp_dir().join(format!(
                "trophy-pacing-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ));
            std::fs::create_dir_all(&dir)?;
            let ingester = Ingester::builder(&client(emu, case)?)
                .config(delivery(case))
                .outbox(OutboxConfig::new(dir.join("outbox.sqlite")))
                .build()
                .await?;
            outbox_dir = Some(dir);
            (ingester, 64)
        }
        Backend::Fleet => {
            let (redis, config) = RedisHost::start(case.redis)?;
            let config = config
                .wait_for_replicas(case.wait_replicas, Duration::from_secs(1))
                .budget(case.configured_per_second, 1)
                .claim_idle(Duration::from_secs(10));
            let delivery = FleetConfig::default_delivery().max_batch(case.max_batch);
            let unlimited = Client::builder()
                .api_key(trophy_emulator::DEFAULT_ADMIN_KEY)
                .base_url(emu.base_url())
                .build()?;
            let mut workers = Vec::new();
            for w in 0..2 {
                let worker = Ingester::builder(&unlimited)
                    .config(delivery.clone())
                    .fleet(config.clone().consumer(format!("w{w}")))
                    .worker()
                    .await?;
                workers.push(worker);
            }
            let producer = Ingester::builder(&unlimited).fleet(config).build().await?;
            fleet = Some((redis, workers));
            (producer, 4 * 16)
        }
    };
    let redis_pids = fleet.as_ref().map(|(redis, _)| redis.pids()).unwrap_or_default();
    let (cpu_start, emulator_start) = cpu_ns(EMULATOR_THREADS);
    let redis_start = process_cpu_ns(&redis_pids);
    let started = Instant::now();
    let sender = ingester.clone();
    let latencies = std::sync::Arc::new(std::sync::Mutex::new(Vec::with_capacity(n as usize)));
    let samples = latencies.clone();
    let producers = produce(n, concurrency, move |e| {
        let (ingester, samples) = (sender.clone(), samples.clone());
        async move {
            let sent = Instant::now();
            let result = ingester.send(e).await.map(|_| ()).map_err(|e| e.to_string());
            if let Ok(mut s) = samples.lock() {
                s.push(sent.elapsed().as_micros() as u64);
            }
            result
        }
    });
    let (end, at_5s) = watch(emu, n, started, case.limit).await;
    for p in producers {
        p.await??;
    }
    let (cpu_end, emulator_end) = cpu_ns(EMULATOR_THREADS);
    let redis_cpu = process_cpu_ns(&redis_pids).saturating_sub(redis_start);
    let sdk_cpu = cpu_end
        .saturating_sub(cpu_start)
        .saturating_sub(emulator_end.saturating_sub(emulator_start));
    let report = ingester.shutdown(Duration::from_secs(10)).await;
    let mut send_rate = report.stats.send_rate;
    if let Some((redis, workers)) = fleet {
        // The fleet's rate is its workers' (a producer sends nothing to Trophy).
        send_rate = workers[0].stats().send_rate;
        for w in workers {
            w.shutdown(Duration::from_secs(10)).await;
        }
        drop(redis);
    }
    if let Some(dir) = outbox_dir {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let stored = emu.event_counts().stored;
    let counts = emu.rate_limit_counts().unwrap_or_default();
    let (lost, duplicated) = lost_and_duplicated(emu, n);
    Ok(Outcome {
        case: case.clone(),
        stored,
        events_per_s: stored as f64 / end.duration_since(started).as_secs_f64().max(1e-9),
        http_429: counts.rejected[0],
        requests: counts.admitted[0] + counts.rejected[0],
        http_429_after_5s: counts.rejected[0].saturating_sub(at_5s),
        lost,
        duplicated,
        totals_match: crate::durable::held(emu) == crate::durable::expected(n),
        send_rate,
        cpu_us_per_event: sdk_cpu as f64 / 1_000.0 / stored.max(1) as f64,
        p99_send_us: {
            let mut v = latencies.lock().map(|l| l.clone()).unwrap_or_default();
            v.sort_unstable();
            v.get((v.len() * 99 / 100).min(v.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        },
        redis_cpu_us_per_event: redis_cpu as f64 / 1_000.0 / stored.max(1) as f64,
    })
}

/// The matrix's closing line.
pub fn closing_line(outcomes: &[Outcome]) -> String {
    let min_ratio = outcomes.iter().map(Outcome::ratio).fold(f64::INFINITY, f64::min);
    let max_share = outcomes.iter().map(Outcome::share_429).fold(0.0, f64::max);
    format!(
        "ingest-matrix: rows={} min_ratio={:.3} max_429_share={:.3} lost={} duplicated={}",
        outcomes.len(),
        if outcomes.is_empty() { 0.0 } else { min_ratio },
        max_share,
        outcomes.iter().map(|o| o.lost).sum::<u64>(),
        outcomes.iter().map(|o| o.duplicated).sum::<u64>(),
    )
}

/// A detail line for standard error.
pub fn detail(o: &Outcome) -> String {
    format!(
        "ingest-detail: backend={} redis={} limiter={} lost_rate={} stored={} http_429_after_5s={} totals_match={} send_rate={:.2} cpu_us_per_event={:.2} redis_cpu_us_per_event={:.2} p99_send_ms={:.2} wait_replicas={}",
        o.case.backend,
        o.case.redis,
        o.case.limiter,
        o.case.lost_rate,
        o.stored,
        o.http_429_after_5s,
        o.totals_match,
        o.send_rate,
        o.cpu_us_per_event,
        o.redis_cpu_us_per_event,
        o.p99_send_us as f64 / 1_000.0,
        o.case.wait_replicas
    )
}

/// The matrix's rows: every backend against every limiter model, with 0 and 0.2 of the answers
/// lost (`trophy-bench ingest --matrix`).
pub fn matrix() -> Vec<Case> {
    let mut cases = Vec::new();
    for backend in Backend::ALL {
        for limiter in LimiterModel::ALL {
            for lost in [0.0, 0.2] {
                cases.push(Case::row(backend, limiter, lost));
            }
        }
    }
    cases
}

/// `trophy-bench ingest --backend B --limiter M --lost-rate R [--events N] [--headers
/// none|ietf|x]` (one case) or `trophy-bench ingest --matrix [--events N]` ([`matrix`]): runs
/// `cases` with `events` events each and `headers`, prints the rows (and, for more than one,
/// the matrix's closing line).
pub fn main(cases: Vec<Case>, events: u64, headers: RateLimitHeaders) -> Result<(), BoxError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut outcomes = Vec::new();
    for mut case in cases {
        case.events = events;
        case.headers = headers;
        let o = rt.block_on(run_case(&case))?;
        eprintln!("{}", detail(&o));
        println!("{}", o.line());
        outcomes.push(o);
    }
    if outcomes.len() > 1 {
        println!("{}", closing_line(&outcomes));
    }
    Ok(())
}
