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
//! ```
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

use ops::{BoxError, Mode, Op};
use report::{Goal, Report, Row, Unit};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
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

const USAGE: &str = "usage: trophy-bench all [--repeats N] [--no-build] [--build-repeats N]
       trophy-bench smoke
       trophy-bench cpu|throughput|rss|decode|verify [--repeats N]
       trophy-bench cpu --metrics-recorder [--repeats N]   (built with --features metrics)
       trophy-bench build-cost [--build-repeats N]
       trophy-bench serve --port N [--exit-on-eof]
       trophy-bench ingest [--duration S] [--producers N] [--rate R] [--fail-rate F] [--capacity C]
       trophy-bench ingest --backend memory|outbox|fleet [--limiter MODEL] [--lost-rate R] [--events N] [--headers none|ietf|x]
       trophy-bench ingest --matrix [--events N]     (MODEL: token-bucket, gcra, fixed-window, sliding-window)
       trophy-bench inspector [--repeats N] [--duration S] [--concurrency C]";

fn main() {
    // Every mode may build raw reqwest clients (the ingest modes read the emulator's totals),
    // and under trophy's opt-in `rustls-ring` reqwest has no provider: install ring once for
    // the process, so the SDK's client and the raw ones use the same provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("trophy-bench: {e}");
        std::process::exit(1);
    }
}

/// The value after `--name`, parsed.
fn flag<T: std::str::FromStr>(args: &[String], name: &str) -> Result<Option<T>, BoxError> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => {
            let v = args.get(i + 1).ok_or_else(|| format!("{name} needs a value"))?;
            Ok(Some(v.parse().map_err(|_| format!("bad value for {name}: {v}"))?))
        }
    }
}

fn required<T: std::str::FromStr>(args: &[String], name: &str) -> Result<T, BoxError> {
    flag(args, name)?.ok_or_else(|| format!("missing {name}").into())
}

/// Runs a durable-ingestion benchmark (its children are this binary) and prints its line.
fn durable_bench(
    rest: &[String],
    bench: fn(&std::path::Path, &[String]) -> Result<String, trophy_bench::durable::BoxError>,
) -> Result<(), BoxError> {
    let exe = std::env::current_exe()?;
    let line = bench(&exe, rest).map_err(|e| e.to_string())?;
    println!("{line}");
    Ok(())
}

fn run(args: &[String]) -> Result<(), BoxError> {
    let Some(cmd) = args.first() else {
        return Err(USAGE.into());
    };
    let rest = &args[1..];
    let mut plan = Plan::full();
    if let Some(r) = flag::<usize>(rest, "--repeats")? {
        plan.repeats = r.max(1);
    }
    if let Some(r) = flag::<usize>(rest, "--build-repeats")? {
        plan.build_repeats = r;
    }
    let no_build = rest.iter().any(|a| a == "--no-build");
    plan.metrics_recorder = rest.iter().any(|a| a == "--metrics-recorder");
    if plan.metrics_recorder {
        recorder::Recorder::new()?;
    }
    match cmd.as_str() {
        "serve" => serve(required(rest, "--port")?, rest.iter().any(|a| a == "--exit-on-eof")),
        "child" => child(rest),
        // Durable ingestion (outbox, Redis fleet): see trophy_bench::durable.
        "durable-child" => trophy_bench::durable::child_main(rest).map_err(|e| e.to_string().into()),
        "ingest" if rest.iter().any(|a| a == "--matrix" || a == "--backend") => {
            trophy_bench::pacing::main(rest).map_err(|e| e.to_string().into())
        }
        "ingest" if rest.iter().any(|a| a == "--outbox") => durable_bench(rest, trophy_bench::durable::bench_outbox),
        "ingest-fleet" => durable_bench(rest, trophy_bench::durable::bench_fleet),
        "ingest" => ingest::run(rest),
        "ingest-emulator" => ingest::serve_emulator(rest),
        // The request log's and the inspector's cost in emulator throughput.
        "inspector" => inspector::run(rest),
        "inspector-emulator" => inspector::serve_emulator(rest),
        "smoke" => {
            let plan = Plan::smoke();
            let report = suite(&plan, &Parts::all())?;
            report.check_complete()?;
            print!("{}", report.markdown(&plan_summary(&plan)));
            Ok(())
        }
        "all" => {
            let mut parts = Parts::all();
            if no_build || plan.build_repeats == 0 {
                parts.0.retain(|p| *p != Part::Build);
            }
            let report = suite(&plan, &parts)?;
            print!("{}", report::machine());
            print!("{}", report.markdown(&plan_summary(&plan)));
            Ok(())
        }
        "build-cost" => {
            plan.build_repeats = plan.build_repeats.max(1);
            let report = suite(&plan, &Parts::only(Part::Build))?;
            print!("{}", report.markdown(&plan_summary(&plan)));
            Ok(())
        }
        other => {
            let part = match other {
                "cpu" => Part::Cpu,
                "throughput" => Part::Throughput,
                "rss" => Part::Rss,
                "decode" => Part::Decode,
                "verify" => Part::Verify,
                _ => return Err(USAGE.into()),
            };
            let report = suite(&plan, &Parts::only(part))?;
            print!("{}", report.markdown(&plan_summary(&plan)));
            Ok(())
        }
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

fn child(args: &[String]) -> Result<(), BoxError> {
    let kind = args.first().map(String::as_str).unwrap_or("");
    let base: String = required(args, "--base")?;
    let layout = ops::UserLayout::parse(&required::<String>(args, "--user-layout")?)
        .ok_or("--user-layout is declared or sorted")?;
    let outcome = match kind {
        "cpu" => {
            let op = Op::parse(&required::<String>(args, "--op")?).ok_or("--op is event, get-user or complete")?;
            workload::cpu(
                op,
                &base,
                layout,
                required(args, "--batches")?,
                required(args, "--batch-calls")?,
                flag(args, "--warmup")?.unwrap_or(0),
                args.iter().any(|a| a == "--metrics-recorder"),
            )?
        }
        "throughput" => workload::throughput(
            &base,
            layout,
            required(args, "--concurrency")?,
            required(args, "--rounds")?,
            required(args, "--round-calls")?,
        )?,
        "rss" => {
            let mode = Mode::parse(&required::<String>(args, "--mode")?).ok_or("--mode is sdk or raw")?;
            workload::rss(
                mode,
                &base,
                layout,
                required(args, "--calls")?,
                required(args, "--concurrency")?,
            )?
        }
        _ => return Err("child cpu|throughput|rss ...".into()),
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
