//! `trophy-bench`: the trophy SDK against raw `reqwest` calls that send the same bytes, on a
//! loopback server with canned Trophy responses. See BENCHMARKS.md.
//!
//! ```text
//! trophy-bench all [--repeats N] [--no-build] [--build-repeats N]   everything, markdown report
//! trophy-bench smoke                                                 every benchmark, tiny counts
//! trophy-bench cpu|throughput|rss|decode|verify [--repeats N]         one part
//! trophy-bench cpu --metrics-recorder                                 also the SDK with a metrics
//!                                                                    recorder (feature metrics)
//! trophy-bench build-cost [--build-repeats N]                         clean builds, regen
//! trophy-bench serve --port N [--exit-on-eof]                         the canned server
//! trophy-bench ingest [--duration S] [--producers N] [--rate R] [--fail-rate F] [--capacity C]
//!                                                                    the batching ingester (ingest.rs)
//! trophy-bench child cpu|throughput|rss ...                          one measurement (internal)
//! trophy-bench ingest --outbox [--duration S] [--rate N] [--kills N]  durable outbox, SIGKILLs
//! trophy-bench ingest-fleet [--duration S] [--rate N] [--kill-worker S] Redis fleet
//! trophy-bench durable-child outbox|producer|worker ...               a durable child (internal)
//! trophy-bench ingest --backend memory|outbox|fleet [--limiter M] [--lost-rate R] [--events N]
//!                     [--headers none|ietf|x]                         one backend, one limiter
//! trophy-bench ingest --backend fleet --redis-tls|--redis-cluster [--wait-replicas N]
//!                                                                    the fleet on TLS or a cluster
//! trophy-bench ingest --matrix [--events N]                           every backend and limiter
//! trophy-bench inspector [--repeats N] [--duration S] [--concurrency C]   request log's cost
//! trophy-bench ingest-emulator|inspector-emulator ...                 emulator children (internal)
//! ```
//!
//! The command line is clap's ([`Cli`]): `trophy-bench --help` lists the modes, `trophy-bench
//! MODE --help` a mode's flags and their defaults; bad input is a usage error (status 2).
#![forbid(unsafe_code)]

mod buildcost;
mod canned;
mod ingest;
mod inspector;
mod measure;
mod ops;
mod recorder;
mod report;
mod server;
mod verify;
mod workload;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::error::ErrorKind;
use clap::{ArgGroup, Args, CommandFactory, Parser, Subcommand, ValueEnum};
use ops::{BoxError, Mode, Op};
use report::{Goal, Report, Row, Unit};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use trophy_bench::pacing::Backend;
use trophy_emulator::{LimiterModel, RateLimitHeaders};
use workload::{DecodeCase, Outcome};

/// How much of everything to run.
#[derive(Debug, Clone)]
struct Plan {
    repeats: usize,
    cpu_batches: usize,
    cpu_batch_calls: usize,
    cpu_warmup: usize,
    concurrencies: Vec<usize>,
    throughput_rounds: usize,
    throughput_round_calls: usize,
    rss_calls: usize,
    rss_concurrency: usize,
    decode_rounds: usize,
    decode_budget_ns: u64,
    build_repeats: usize,
    regen_repeats: usize,
    /// CPU: also the SDK with a metrics recorder installed (`--metrics-recorder`).
    metrics_recorder: bool,
}

impl Plan {
    fn full() -> Plan {
        Plan {
            repeats: 5,
            cpu_batches: 40,
            cpu_batch_calls: 200,
            cpu_warmup: 200,
            concurrencies: vec![1, 16, 64],
            throughput_rounds: 6,
            throughput_round_calls: 4_000,
            rss_calls: 100_000,
            rss_concurrency: 64,
            decode_rounds: 6,
            decode_budget_ns: 30_000_000,
            build_repeats: 1,
            regen_repeats: 5,
            metrics_recorder: false,
        }
    }

    /// Every benchmark with tiny counts: a few seconds, in debug or release.
    fn smoke() -> Plan {
        Plan {
            repeats: 1,
            cpu_batches: 2,
            cpu_batch_calls: 5,
            cpu_warmup: 2,
            concurrencies: vec![1, 16, 64],
            throughput_rounds: 2,
            throughput_round_calls: 20,
            rss_calls: 200,
            rss_concurrency: 64,
            decode_rounds: 2,
            decode_budget_ns: 500_000,
            build_repeats: 0,
            regen_repeats: 0,
            metrics_recorder: false,
        }
    }
}

/// Benchmarks of the trophy SDK against raw reqwest calls that send the same bytes, on a
/// loopback server with canned Trophy responses; and of the ingest backends against the
/// emulator with Trophy's rate limits. See BENCHMARKS.md.
#[derive(Parser, Debug)]
#[command(
    name = "trophy-bench",
    version,
    after_help = "Internal modes, which the benchmark runs as its own child processes: child, durable-child, ingest-emulator, inspector-emulator."
)]
struct Cli {
    #[command(subcommand)]
    mode: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Everything (verify, cpu, throughput, rss, decode, build cost), then a markdown report.
    All {
        #[command(flatten)]
        repeats: Repeats,
        /// Leave out the clean builds.
        #[arg(long)]
        no_build: bool,
        /// Clean builds (0: none).
        #[arg(long, value_name = "N", default_value_t = 1)]
        build_repeats: usize,
        #[command(flatten)]
        recorder: MetricsRecorder,
    },
    /// Every benchmark with tiny counts: a few seconds, in debug or release (CI).
    Smoke,
    /// CPU per call, SDK vs raw, one call at a time on a current-thread runtime.
    Cpu {
        #[command(flatten)]
        repeats: Repeats,
        #[command(flatten)]
        recorder: MetricsRecorder,
    },
    /// Throughput and CPU per call at concurrency 1, 16 and 64.
    Throughput {
        #[command(flatten)]
        repeats: Repeats,
    },
    /// Peak RSS over 100,000 calls at concurrency 64, one process per mode.
    Rss {
        #[command(flatten)]
        repeats: Repeats,
    },
    /// Response decoding: the SDK's decode vs serde_json::from_slice.
    Decode {
        #[command(flatten)]
        repeats: Repeats,
    },
    /// Checks that the SDK's and the raw requests are byte-identical.
    Verify {
        #[command(flatten)]
        repeats: Repeats,
    },
    /// Clean builds of the workspace and regeneration of the generated code.
    BuildCost {
        /// Clean builds (at least 1).
        #[arg(long, value_name = "N", default_value_t = 1)]
        build_repeats: usize,
    },
    /// The canned server alone: prints `listening on ADDR`, serves until killed.
    Serve {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, value_name = "N")]
        port: u16,
        /// Exit when standard input closes.
        #[arg(long)]
        exit_on_eof: bool,
    },
    /// The ingest backends against the emulator at Trophy's rate limit.
    ///
    /// Four variants: the in-memory ingester fed by producer tasks (the default), the durable
    /// outbox with its writer process killed with SIGKILL (--outbox), one backend against one
    /// limiter model (--backend), or every backend against every limiter model (--matrix).
    Ingest(IngestArgs),
    /// The Redis fleet: producer and worker processes on a real redis-server.
    ///
    /// The emulator has Trophy's rate limits on; the first worker can be killed with SIGKILL
    /// (--kill-worker).
    IngestFleet(FleetArgs),
    /// What the emulator's request log and inspector cost in emulator throughput.
    Inspector {
        /// Rounds (each runs every configuration once).
        #[arg(long, value_name = "N", default_value_t = 5, value_parser = at_least_one)]
        repeats: usize,
        /// Seconds of load per configuration and round.
        #[arg(long, value_name = "S", default_value_t = 5.0, value_parser = positive)]
        duration: f64,
        /// Tasks posting events.
        #[arg(long, value_name = "C", default_value_t = 16, value_parser = at_least_one)]
        concurrency: usize,
    },
    /// One measurement in a fresh process, for cpu, throughput and rss (internal).
    #[command(hide = true)]
    Child {
        #[command(subcommand)]
        kind: ChildKind,
    },
    /// A child of the durable-ingest runs: an outbox writer, fleet producer or worker (internal).
    #[command(hide = true)]
    DurableChild {
        #[command(subcommand)]
        role: trophy_bench::durable::ChildRole,
    },
    /// The emulator child of `ingest`, until standard input closes (internal).
    #[command(hide = true)]
    IngestEmulator {
        /// Fraction of requests answered 503 after processing (lost responses).
        #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = fraction)]
        fail_rate: f64,
    },
    /// The emulator child of `inspector`, until standard input closes (internal).
    #[command(hide = true)]
    InspectorEmulator {
        /// Request log entries (0: the request log off).
        #[arg(long, value_name = "N", default_value_t = 10_000)]
        request_log: usize,
    },
}

#[derive(Args, Debug)]
struct Repeats {
    /// Repeats, each in fresh processes (0 counts as 1).
    #[arg(long, value_name = "N", default_value_t = 5)]
    repeats: usize,
}

#[derive(Args, Debug)]
struct MetricsRecorder {
    /// Also the SDK with a Prometheus metrics recorder installed (needs the `metrics` feature).
    #[arg(long)]
    metrics_recorder: bool,
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("variant").args(["outbox", "backend", "matrix"]).multiple(false)))]
#[command(group(ArgGroup::new("pacing").args(["backend", "matrix"]).multiple(false)))]
struct IngestArgs {
    /// Seconds of offered load (in-memory: at least 2; --outbox: the whole run).
    #[arg(long, value_name = "S", default_value_t = 20.0, value_parser = positive, conflicts_with = "pacing")]
    duration: f64,
    /// Events per second offered in all.
    #[arg(long, value_name = "R", default_value_t = 6_000.0, value_parser = positive, conflicts_with = "pacing")]
    rate: f64,
    /// Producer tasks (in-memory).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = at_least_one, conflicts_with_all = ["outbox", "pacing"])]
    producers: usize,
    /// Fraction of the emulator's answers lost after processing, 503 (in-memory).
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = fraction, conflicts_with_all = ["outbox", "pacing"])]
    fail_rate: f64,
    /// The ingester's queue capacity (in-memory; default: the SDK's).
    #[arg(long, value_name = "C", conflicts_with_all = ["outbox", "pacing"])]
    capacity: Option<usize>,
    /// The durable outbox instead: one writer process killed with SIGKILL --kills times.
    #[arg(long)]
    outbox: bool,
    /// SIGKILLs of the outbox writer, at even intervals (with --outbox).
    #[arg(long, value_name = "N", default_value_t = 5, requires = "outbox", value_parser = clap::value_parser!(u32).range(..=10_000))]
    kills: u32,
    /// One backend against the emulator's limiter --limiter; all events offered at once.
    #[arg(long, value_name = "BACKEND")]
    backend: Option<Backend>,
    /// The emulator's limiter model (with --backend): token-bucket, token-bucket:BURST, gcra,
    /// fixed-window or sliding-window.
    #[arg(long, value_name = "MODEL", default_value = "gcra", value_parser = limiter, requires = "backend")]
    limiter: LimiterModel,
    /// Fraction of the emulator's answers lost after processing (with --backend).
    #[arg(long, value_name = "R", default_value_t = 0.0, value_parser = fraction, requires = "backend")]
    lost_rate: f64,
    /// Every backend against every limiter model, 0 and 0.2 of the answers lost (takes long).
    #[arg(long)]
    matrix: bool,
    /// Events offered per case (with --backend or --matrix).
    #[arg(long, value_name = "N", default_value_t = 120_000, value_parser = clap::value_parser!(u64).range(1..), requires = "pacing")]
    events: u64,
    /// The rate-limit headers the emulator sends (with --backend or --matrix).
    #[arg(long, value_enum, default_value_t = Headers::None, requires = "pacing")]
    headers: Headers,
    /// With --backend fleet: one redis-server on --tls-port only, mutual TLS (with
    /// --redis-cluster: every node so, the cluster bus and replication too).
    #[arg(long, requires = "backend")]
    redis_tls: bool,
    /// With --backend fleet: a local Redis Cluster (3 masters, 3 replicas).
    #[arg(long, requires = "backend")]
    redis_cluster: bool,
    /// With --redis-cluster: appends count once this many replicas have them (WAIT).
    #[arg(long, value_name = "N", default_value_t = 0, requires = "redis_cluster")]
    wait_replicas: u32,
}

/// Which rate-limit headers the emulator sends (`ingest --headers`).
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Headers {
    /// No rate-limit headers.
    None,
    /// The IETF draft's RateLimit and RateLimit-Policy.
    Ietf,
    /// X-RateLimit-Limit, -Remaining and -Reset.
    X,
}

#[derive(Args, Debug)]
struct FleetArgs {
    /// Seconds of offered load.
    #[arg(long, value_name = "S", default_value_t = 20.0, value_parser = positive)]
    duration: f64,
    /// Events per second offered in all.
    #[arg(long, value_name = "R", default_value_t = 6_000.0, value_parser = positive)]
    rate: f64,
    /// Producer processes.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1_000))]
    producers: u64,
    /// Worker processes.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = at_least_one)]
    workers: usize,
    /// Kill the first worker with SIGKILL after this many seconds (0: never).
    #[arg(long, value_name = "S", default_value_t = 0.0, value_parser = trophy_bench::durable::non_negative)]
    kill_worker: f64,
}

/// `trophy-bench child KIND`: one measurement, printed as a result line.
#[derive(Subcommand, Debug)]
enum ChildKind {
    /// CPU per call of one operation, SDK and raw in alternating batches.
    Cpu {
        #[command(flatten)]
        target: ChildTarget,
        /// The operation.
        #[arg(long, value_parser = PossibleValuesParser::new(Op::ALL.map(Op::name)).try_map(|s| Op::parse(&s).ok_or("unknown op")))]
        op: Op,
        /// Batches per mode.
        #[arg(long, value_name = "N")]
        batches: usize,
        /// Sequential calls per batch.
        #[arg(long, value_name = "N")]
        batch_calls: usize,
        /// Calls per mode before measuring.
        #[arg(long, value_name = "N", default_value_t = 0)]
        warmup: usize,
        #[command(flatten)]
        recorder: MetricsRecorder,
    },
    /// Throughput and CPU per call at one concurrency, SDK and raw in alternating rounds.
    Throughput {
        #[command(flatten)]
        target: ChildTarget,
        /// Concurrent calls.
        #[arg(long, value_name = "C", value_parser = at_least_one)]
        concurrency: usize,
        /// Rounds per mode.
        #[arg(long, value_name = "N")]
        rounds: usize,
        /// Calls per round.
        #[arg(long, value_name = "N")]
        round_calls: usize,
    },
    /// Peak RSS of one mode over many calls.
    Rss {
        #[command(flatten)]
        target: ChildTarget,
        /// SDK or raw calls.
        #[arg(long, value_parser = PossibleValuesParser::new(["sdk", "raw"]).try_map(|s| Mode::parse(&s).ok_or("unknown mode")))]
        mode: Mode,
        /// Calls in all.
        #[arg(long, value_name = "N")]
        calls: usize,
        /// Concurrent calls.
        #[arg(long, value_name = "C", value_parser = at_least_one)]
        concurrency: usize,
    },
}

#[derive(Args, Debug)]
struct ChildTarget {
    /// The canned server's base URL (`http://ADDR/v1`).
    #[arg(long, value_name = "URL")]
    base: String,
    /// How the SDK lays out the user in a completion body (what `verify` detected).
    #[arg(long, value_parser = PossibleValuesParser::new(["declared", "sorted"]).try_map(|s| ops::UserLayout::parse(&s).ok_or("unknown layout")))]
    user_layout: ops::UserLayout,
}

/// A finite number above 0.
fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a finite number above 0")),
    }
}

/// A fraction from 0 to below 1.
fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number from 0 to below 1")),
    }
}

/// A count of at least 1.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(v) if v >= 1 => Ok(v),
        _ => Err(format!("{s:?} is not a whole number of at least 1")),
    }
}

fn limiter(s: &str) -> Result<LimiterModel, String> {
    s.parse::<LimiterModel>().map_err(|e| e.to_string())
}

/// Exits like clap on bad input to the mode at `path` (`["child", "cpu"]`): the message and
/// the mode's usage on standard error, status 2.
fn usage_error(path: &[&str], kind: ErrorKind, msg: impl std::fmt::Display) -> ! {
    let mut cmd = Cli::command();
    for name in path {
        match cmd.find_subcommand(name) {
            Some(sub) => cmd = sub.clone(),
            None => break,
        }
    }
    cmd.bin_name(format!("trophy-bench {}", path.join(" ")))
        .error(kind, msg)
        .exit()
}

/// `--metrics-recorder` needs the `metrics` feature: a usage error without it.
fn check_recorder(on: bool, path: &[&str]) {
    if on {
        if let Err(e) = recorder::Recorder::new() {
            usage_error(path, ErrorKind::ArgumentConflict, e);
        }
    }
}

fn main() {
    let cli = Cli::parse();
    // Every mode may build raw reqwest clients (the ingest modes read the emulator's totals),
    // and under trophy's opt-in `rustls-ring` reqwest has no provider: install ring once for
    // the process, so the SDK's client and the raw ones use the same provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Err(e) = run(cli.mode) {
        eprintln!("trophy-bench: {e}");
        std::process::exit(1);
    }
}

/// Runs a durable-ingestion benchmark (its children are this binary) and prints its line.
fn durable_bench(
    bench: impl FnOnce(&std::path::Path) -> Result<String, trophy_bench::durable::BoxError>,
) -> Result<(), BoxError> {
    let exe = std::env::current_exe()?;
    let line = bench(&exe).map_err(|e| e.to_string())?;
    println!("{line}");
    Ok(())
}

/// One part of the suite with `repeats`, and its report.
fn part(part: Part, repeats: &Repeats, metrics_recorder: bool) -> Result<(), BoxError> {
    let mut plan = Plan::full();
    plan.repeats = repeats.repeats.max(1);
    plan.metrics_recorder = metrics_recorder;
    let report = suite(&plan, &Parts::only(part))?;
    print!("{}", report.markdown(&plan_summary(&plan)));
    Ok(())
}

fn run(mode: Cmd) -> Result<(), BoxError> {
    match mode {
        Cmd::Serve { port, exit_on_eof } => serve(port, exit_on_eof),
        Cmd::Child { kind } => child(kind),
        // Durable ingestion (outbox, Redis fleet): see trophy_bench::durable.
        Cmd::DurableChild { role } => trophy_bench::durable::child_main(role).map_err(|e| e.to_string().into()),
        Cmd::Ingest(a) => ingest_mode(a),
        Cmd::IngestFleet(a) => durable_bench(|exe| {
            trophy_bench::durable::bench_fleet(exe, a.duration, a.rate, a.producers, a.workers, a.kill_worker)
        }),
        Cmd::IngestEmulator { fail_rate } => ingest::serve_emulator(fail_rate),
        // The request log's and the inspector's cost in emulator throughput.
        Cmd::Inspector {
            repeats,
            duration,
            concurrency,
        } => inspector::run(repeats, duration, concurrency),
        Cmd::InspectorEmulator { request_log } => inspector::serve_emulator(request_log),
        Cmd::Smoke => {
            let plan = Plan::smoke();
            let report = suite(&plan, &Parts::all())?;
            report.check_complete()?;
            print!("{}", report.markdown(&plan_summary(&plan)));
            Ok(())
        }
        Cmd::All {
            repeats,
            no_build,
            build_repeats,
            recorder,
        } => {
            check_recorder(recorder.metrics_recorder, &["all"]);
            let mut plan = Plan::full();
            plan.repeats = repeats.repeats.max(1);
            plan.build_repeats = build_repeats;
            plan.metrics_recorder = recorder.metrics_recorder;
            let mut parts = Parts::all();
            if no_build || plan.build_repeats == 0 {
                parts.0.retain(|p| *p != Part::Build);
            }
            let report = suite(&plan, &parts)?;
            print!("{}", report::machine());
            print!("{}", report.markdown(&plan_summary(&plan)));
            Ok(())
        }
        Cmd::BuildCost { build_repeats } => {
            let mut plan = Plan::full();
            plan.build_repeats = build_repeats.max(1);
            let report = suite(&plan, &Parts::only(Part::Build))?;
            print!("{}", report.markdown(&plan_summary(&plan)));
            Ok(())
        }
        Cmd::Cpu { repeats, recorder } => {
            check_recorder(recorder.metrics_recorder, &["cpu"]);
            part(Part::Cpu, &repeats, recorder.metrics_recorder)
        }
        Cmd::Throughput { repeats } => part(Part::Throughput, &repeats, false),
        Cmd::Rss { repeats } => part(Part::Rss, &repeats, false),
        Cmd::Decode { repeats } => part(Part::Decode, &repeats, false),
        Cmd::Verify { repeats } => part(Part::Verify, &repeats, false),
    }
}

/// `trophy-bench ingest`: one of its four variants.
fn ingest_mode(a: IngestArgs) -> Result<(), BoxError> {
    let headers = match a.headers {
        Headers::None => RateLimitHeaders::None,
        Headers::Ietf => RateLimitHeaders::Ietf,
        Headers::X => RateLimitHeaders::XRateLimit,
    };
    if a.matrix {
        trophy_bench::pacing::main(trophy_bench::pacing::matrix(), a.events, headers).map_err(|e| e.to_string().into())
    } else if let Some(backend) = a.backend {
        let mut case = trophy_bench::pacing::Case::row(backend, a.limiter, a.lost_rate);
        if a.redis_tls || a.redis_cluster {
            if backend != Backend::Fleet {
                usage_error(
                    &["ingest"],
                    ErrorKind::ArgumentConflict,
                    "--redis-tls and --redis-cluster go with --backend fleet",
                );
            }
            case.wait_replicas = a.wait_replicas;
            case.redis = match (a.redis_tls, a.redis_cluster) {
                (true, true) => trophy_bench::pacing::RedisKind::TlsCluster,
                (true, false) => trophy_bench::pacing::RedisKind::Tls,
                (false, _) => trophy_bench::pacing::RedisKind::Cluster,
            };
        }
        trophy_bench::pacing::main(vec![case], a.events, headers).map_err(|e| e.to_string().into())
    } else if a.outbox {
        durable_bench(|exe| trophy_bench::durable::bench_outbox(exe, a.duration, a.rate, a.kills))
    } else {
        let opts = ingest::Opts {
            duration: a.duration,
            producers: a.producers,
            rate: a.rate,
            fail_rate: a.fail_rate,
            capacity: a.capacity,
        };
        if let Err(e) = opts.check() {
            usage_error(&["ingest"], ErrorKind::ValueValidation, e);
        }
        ingest::run(opts)
    }
}

fn plan_summary(plan: &Plan) -> String {
    format!(
        "{} repeats, each in fresh processes. CPU: per op, {} alternating batches of {} sequential \
         calls per mode in one process (median batch). Throughput: per concurrency, {} alternating \
         rounds of {} calls per mode in one process (median round), event, get-user and complete in \
         rotation. RSS: {} calls at C={}, one process per mode. Decode: {} alternating rounds of at \
         least {} ms of thread CPU per mode (median round)",
        plan.repeats,
        plan.cpu_batches,
        plan.cpu_batch_calls,
        plan.throughput_rounds,
        plan.throughput_round_calls,
        plan.rss_calls,
        plan.rss_concurrency,
        plan.decode_rounds,
        plan.decode_budget_ns as f64 / 1e6
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Verify,
    Cpu,
    Throughput,
    Rss,
    Decode,
    Build,
}

struct Parts(Vec<Part>);

impl Parts {
    fn all() -> Parts {
        Parts(vec![
            Part::Verify,
            Part::Cpu,
            Part::Throughput,
            Part::Rss,
            Part::Decode,
            Part::Build,
        ])
    }

    fn only(part: Part) -> Parts {
        Parts(vec![part])
    }

    fn has(&self, part: Part) -> bool {
        self.0.contains(&part)
    }
}

fn progress(msg: &str) {
    eprintln!("[trophy-bench] {msg}");
}

fn suite(plan: &Plan, parts: &Parts) -> Result<Report, BoxError> {
    let mut report = Report::default();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let layout = rt.block_on(verify::detect_layout())?;
    let layout_name = layout.name();
    report.layout = Some(layout_name);
    if parts.has(Part::Verify) {
        progress("checking that SDK and raw requests are byte-identical");
        let captured = rt.block_on(verify::check_identical(layout))?;
        report.verified = captured
            .iter()
            .map(|c| String::from_utf8_lossy(&c.sdk).into_owned())
            .collect();
    }
    drop(rt);
    let needs_server = parts.has(Part::Cpu) || parts.has(Part::Throughput) || parts.has(Part::Rss);
    let server = if needs_server { Some(Server::spawn()?) } else { None };
    let base = server.as_ref().map(|s| s.base.clone()).unwrap_or_default();

    if parts.has(Part::Cpu) {
        for op in Op::ALL {
            let mut row = Row::new(
                format!("CPU per call, {} (C=1, current-thread runtime)", op.label()),
                Unit::Micros,
                Some(Goal::AtMost(1.2)),
            );
            let mut with = Row::new(
                format!(
                    "CPU per call, {}, SDK with a Prometheus metrics recorder / SDK without (\"SDK\" = with, \"raw\" = without)",
                    op.label()
                ),
                Unit::Micros,
                Some(Goal::AtMost(1.03)),
            );
            for r in 0..plan.repeats {
                progress(&format!("cpu {} (repeat {})", op.name(), r + 1));
                let (batches, calls, warmup) = (
                    plan.cpu_batches.to_string(),
                    plan.cpu_batch_calls.to_string(),
                    plan.cpu_warmup.to_string(),
                );
                let mut args = vec![
                    "cpu",
                    "--op",
                    op.name(),
                    "--base",
                    &base,
                    "--user-layout",
                    layout_name,
                    "--batches",
                    &batches,
                    "--batch-calls",
                    &calls,
                    "--warmup",
                    &warmup,
                ];
                if plan.metrics_recorder {
                    args.push("--metrics-recorder");
                }
                let o = run_child(&args)?;
                row.push(Mode::Sdk, r, o.get("sdk_cpu_ns")? / 1e3);
                row.push(Mode::Raw, r, o.get("raw_cpu_ns")? / 1e3);
                if plan.metrics_recorder {
                    if o.get("recorded_requests")? < 1.0 {
                        return Err("the metrics recorder recorded no request".into());
                    }
                    with.push(Mode::Sdk, r, o.get("sdk_rec_cpu_ns")? / 1e3);
                    with.push(Mode::Raw, r, o.get("sdk_cpu_ns")? / 1e3);
                }
            }
            report.rows.push(row);
            if plan.metrics_recorder {
                report.rows.push(with);
            }
        }
    }

    if parts.has(Part::Throughput) {
        let mut tput: Vec<Row> = Vec::new();
        let mut cpu: Vec<Row> = Vec::new();
        for &c in &plan.concurrencies {
            let goal = (c == 64).then_some(Goal::AtLeast(0.9));
            let mut t = Row::new(format!("Throughput, C={c} (calls/s)"), Unit::PerSec, goal);
            let mut u = Row::new(
                format!("CPU per call under load, C={c} (multi-thread runtime)"),
                Unit::Micros,
                None,
            );
            for r in 0..plan.repeats {
                progress(&format!("throughput C={c} (repeat {})", r + 1));
                let o = run_child(&[
                    "throughput",
                    "--base",
                    &base,
                    "--user-layout",
                    layout_name,
                    "--concurrency",
                    &c.to_string(),
                    "--rounds",
                    &plan.throughput_rounds.to_string(),
                    "--round-calls",
                    &plan.throughput_round_calls.to_string(),
                ])?;
                t.push(Mode::Sdk, r, o.get("sdk_per_sec")?);
                t.push(Mode::Raw, r, o.get("raw_per_sec")?);
                u.push(Mode::Sdk, r, o.get("sdk_cpu_ns")? / 1e3);
                u.push(Mode::Raw, r, o.get("raw_cpu_ns")? / 1e3);
            }
            tput.push(t);
            cpu.push(u);
        }
        report.rows.extend(tput);
        report.rows.extend(cpu);
    }

    if parts.has(Part::Rss) {
        let c = plan.rss_concurrency;
        let mut rss = Row::new(
            format!("Peak RSS (VmHWM), {} calls at C={c} (MiB)", plan.rss_calls),
            Unit::MiB,
            Some(Goal::AtMost(1.5)),
        );
        let mut growth = Row::new(
            "Peak RSS growth during the calls (VmHWM end - start, MiB)".to_string(),
            Unit::MiB,
            None,
        );
        let mut tput = Row::new(
            format!("Throughput over those {} calls (calls/s)", plan.rss_calls),
            Unit::PerSec,
            None,
        );
        for r in 0..plan.repeats {
            for mode in workload::order(r) {
                progress(&format!(
                    "rss {} calls {} (repeat {})",
                    plan.rss_calls,
                    mode.name(),
                    r + 1
                ));
                let o = run_child(&[
                    "rss",
                    "--mode",
                    mode.name(),
                    "--base",
                    &base,
                    "--user-layout",
                    layout_name,
                    "--calls",
                    &plan.rss_calls.to_string(),
                    "--concurrency",
                    &c.to_string(),
                ])?;
                let (end, start) = (o.get("hwm_kib")?, o.get("hwm_start_kib")?);
                rss.push(mode, r, end / 1024.0);
                growth.push(mode, r, (end - start).max(0.0) / 1024.0);
                tput.push(mode, r, o.get("per_sec")?);
            }
        }
        report.rows.extend([rss, growth, tput]);
    }
    drop(server);

    if parts.has(Part::Decode) {
        let cases = DecodeCase::all();
        let mut rows: Vec<Row> = cases
            .iter()
            .map(|c| {
                Row::new(
                    format!(
                        "Decode {} ({} KiB): `__private::decode` vs `serde_json::from_slice`",
                        c.name,
                        c.body.len() / 1024
                    ),
                    Unit::Micros,
                    None,
                )
            })
            .collect();
        for r in 0..plan.repeats {
            progress(&format!("decode (repeat {})", r + 1));
            for (i, case) in cases.iter().enumerate() {
                let (sdk, raw) = case.compare(plan.decode_rounds, plan.decode_budget_ns)?;
                rows[i].push(Mode::Sdk, r, sdk / 1e3);
                rows[i].push(Mode::Raw, r, raw / 1e3);
            }
        }
        report.rows.extend(rows);
    }

    if parts.has(Part::Build) {
        let scratch = std::env::temp_dir().join(format!("trophy-bench-build-{}", std::process::id()));
        if plan.build_repeats == 0 {
            // Smoke: the cargo runner only (a clean build takes minutes).
            report
                .builds
                .push(buildcost::timed("`cargo --version`", &scratch, &["--version"])?);
        }
        for r in 0..plan.build_repeats {
            progress(&format!("clean builds in {} (repeat {})", scratch.display(), r + 1));
            report.builds.extend(buildcost::run(&scratch, plan.regen_repeats)?);
        }
    }
    Ok(report)
}

/// The canned server, in its own process.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn spawn() -> Result<Server, BoxError> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["serve", "--port", "0", "--exit-on-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected server output {line:?}"))?;
        Ok(Server {
            base: format!("http://{addr}/v1"),
            child,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing its stdin ends the server (`--exit-on-eof`); kill it by its id if it lingers.
        drop(self.child.stdin.take());
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `trophy-bench child <args>` and parses its result line.
fn run_child(args: &[&str]) -> Result<Outcome, BoxError> {
    let out = Command::new(std::env::current_exe()?)
        .arg("child")
        .args(args)
        .stderr(Stdio::inherit())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("child {args:?} failed ({}): {stdout}", out.status).into());
    }
    Outcome::parse(&stdout).ok_or_else(|| format!("child {args:?} printed no result: {stdout}").into())
}

fn child(kind: ChildKind) -> Result<(), BoxError> {
    let outcome = match kind {
        ChildKind::Cpu {
            target,
            op,
            batches,
            batch_calls,
            warmup,
            recorder,
        } => {
            check_recorder(recorder.metrics_recorder, &["child", "cpu"]);
            workload::cpu(
                op,
                &target.base,
                target.user_layout,
                batches,
                batch_calls,
                warmup,
                recorder.metrics_recorder,
            )?
        }
        ChildKind::Throughput {
            target,
            concurrency,
            rounds,
            round_calls,
        } => workload::throughput(&target.base, target.user_layout, concurrency, rounds, round_calls)?,
        ChildKind::Rss {
            target,
            mode,
            calls,
            concurrency,
        } => workload::rss(mode, &target.base, target.user_layout, calls, concurrency)?,
    };
    println!("{}", outcome.to_line());
    Ok(())
}

fn serve(port: u16, exit_on_eof: bool) -> Result<(), BoxError> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening on {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        if exit_on_eof {
            std::thread::spawn(|| {
                let _ = std::io::stdin().read_to_end(&mut Vec::new());
                std::process::exit(0);
            });
        }
        server::serve(listener).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(line: &str) -> Cmd {
        let args = std::iter::once("trophy-bench").chain(line.split_whitespace());
        match Cli::try_parse_from(args) {
            Ok(cli) => cli.mode,
            Err(e) => panic!("{line:?} does not parse: {e}"),
        }
    }

    #[test]
    fn the_documented_command_lines_parse() {
        // BENCHMARKS.md and the module documentation.
        for line in [
            "all --build-repeats 3",
            "all",
            "all --no-build",
            "all --repeats 9 --build-repeats 3",
            "cpu",
            "throughput",
            "rss",
            "decode",
            "verify --repeats 3",
            "build-cost --build-repeats 3",
            "smoke",
            "serve --port 8080",
            "child cpu --op event --base http://127.0.0.1:1/v1 --user-layout sorted --batches 10 --batch-calls 200 --warmup 20",
            "ingest --duration 2 --producers 2 --rate 400 --fail-rate 0.2 --capacity 100",
            "ingest --outbox",
            "ingest --outbox --duration 5 --rate 100 --kills 2",
            "ingest-fleet",
            "ingest-fleet --kill-worker 8",
            "ingest-fleet --duration 5 --rate 100 --producers 2 --workers 3",
            "cpu --repeats 9",
            "ingest --matrix",
            "ingest --matrix --events 1000 --headers ietf",
            "ingest --backend memory --limiter gcra --events 40000",
            "ingest --backend fleet --limiter token-bucket:10 --lost-rate 0.2 --headers x",
            "ingest --backend fleet --redis-tls --events 60000",
            "ingest --backend fleet --redis-cluster",
            "ingest --backend fleet --redis-cluster --wait-replicas 1",
            "inspector --repeats 9 --duration 4",
        ] {
            parses(line);
        }
        assert!(matches!(parses("cpu --metrics-recorder --repeats 15"), Cmd::Cpu { .. }));
    }

    /// What the benchmark passes its own children, as they build it.
    #[test]
    fn the_children_command_lines_parse() {
        let Cmd::Child {
            kind: ChildKind::Cpu {
                op, warmup, recorder, ..
            },
        } = parses(
            "child cpu --op get-user --base http://x/v1 --user-layout declared --batches 2 --batch-calls 5 --warmup 2 --metrics-recorder",
        )
        else {
            panic!("not child cpu")
        };
        assert_eq!((op, warmup, recorder.metrics_recorder), (Op::GetUser, 2, true));
        parses("child throughput --base http://x/v1 --user-layout sorted --concurrency 64 --rounds 2 --round-calls 20");
        let Cmd::Child {
            kind: ChildKind::Rss { mode, .. },
        } = parses("child rss --mode raw --base http://x/v1 --user-layout sorted --calls 200 --concurrency 64")
        else {
            panic!("not child rss")
        };
        assert_eq!(mode, Mode::Raw);
        parses("serve --port 0 --exit-on-eof");
        parses("ingest-emulator --fail-rate 0.2");
        parses("inspector-emulator --request-log 0");
        parses("durable-child outbox --path /tmp/o --url http://x --todo /tmp/t --concurrency 64 --rate 0 --hold");
        parses("durable-child producer --redis redis://x --from 0 --to 10 --rate 1500");
        parses("durable-child worker --redis redis://x --url http://x --consumer worker-0 --claim-idle-ms 5000");
    }

    #[test]
    fn the_defaults_are_the_old_ones() {
        let Cmd::Ingest(a) = parses("ingest") else {
            panic!("not ingest")
        };
        assert_eq!(
            (
                a.duration,
                a.producers,
                a.rate,
                a.fail_rate,
                a.capacity,
                a.kills,
                a.events
            ),
            (20.0, 8, 6_000.0, 0.0, None, 5, 120_000)
        );
        assert_eq!((a.limiter, a.lost_rate), (LimiterModel::Gcra, 0.0));
        let Cmd::IngestFleet(f) = parses("ingest-fleet") else {
            panic!("not ingest-fleet")
        };
        assert_eq!(
            (f.duration, f.rate, f.producers, f.workers, f.kill_worker),
            (20.0, 6_000.0, 4, 2, 0.0)
        );
        let Cmd::Inspector {
            repeats,
            duration,
            concurrency,
        } = parses("inspector")
        else {
            panic!("not inspector")
        };
        assert_eq!((repeats, duration, concurrency), (5, 5.0, 16));
        let Cmd::All {
            repeats, build_repeats, ..
        } = parses("all")
        else {
            panic!("not all")
        };
        assert_eq!(
            (repeats.repeats, build_repeats),
            (Plan::full().repeats, Plan::full().build_repeats)
        );
        Cli::command().debug_assert();
    }
}
