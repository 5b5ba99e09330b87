//! `trophy-bench inspector`: what the emulator's request log and inspector cost in emulator
//! throughput. The emulator runs in a child process (`trophy-bench inspector-emulator`) in one
//! of three configurations, a fresh child per configuration and round, in rotating order:
//!
//! * `off`: the request log off (`request_log_capacity(0)`: no logging middleware at all);
//! * `closed`: the request log on (10,000 entries, the default), no page open;
//! * `open`: the request log on and the Requests page open: a client that follows the page's
//!   event stream and fetches the page on every change event, as its script does.
//!
//! Load: C tasks posting metric events (raw reqwest, 64 distinct users) for D seconds after a
//! warm-up; the figure is events answered 201 per second. Each round gives `closed/off` and
//! `open/off` ratios; the medians are reported.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::ingest::EmulatorProcess;
use crate::ops::BoxError;

const METRIC: &str = "words";

/// The child: an emulator with the request log of `--request-log N` (0: off), until stdin closes.
pub fn serve_emulator(capacity: usize) -> Result<(), BoxError> {
    let seed =
        trophy_emulator::Seed::from_json(&format!(r#"{{"metrics": [{{"key": "{METRIC}", "name": "Words"}}]}}"#))?;
    crate::ingest::serve_until_stdin_closes(
        trophy_emulator::Emulator::builder()
            .seed(seed)
            .request_log_capacity(capacity),
    )
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Config {
    Off,
    Closed,
    Open,
}

/// What one round measured.
struct Round {
    /// Events answered 201 per second.
    rate: f64,
    /// The emulator process's CPU (user + system) per event answered, in microseconds.
    cpu_us: f64,
    /// Page fetches the open page made.
    fetches: u64,
}

async fn round(config: Config, concurrency: usize, duration: Duration) -> Result<Round, BoxError> {
    let capacity = if config == Config::Off { "0" } else { "10000" };
    let emu = EmulatorProcess::spawn_mode(&["inspector-emulator", "--request-log", capacity])?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let url = format!("{}/v1/metrics/{METRIC}/event", emu.base);
    let stop = Arc::new(AtomicBool::new(false));
    let fetches = Arc::new(AtomicU64::new(0));
    let page = if config == Config::Open {
        let (http, base, stop, fetches) = (http.clone(), emu.base.clone(), stop.clone(), fetches.clone());
        Some(tokio::spawn(async move {
            let Ok(mut events) = http.get(format!("{base}/_emulator/ui/events")).send().await else {
                return;
            };
            let page = format!("{base}/_emulator/ui/requests");
            while !stop.load(Ordering::Relaxed) {
                match tokio::time::timeout(Duration::from_millis(500), events.chunk()).await {
                    Ok(Ok(Some(chunk))) if chunk.windows(13).any(|w| w == b"event: change") => {
                        if let Ok(r) = http.get(&page).send().await {
                            let _ = r.bytes().await;
                            fetches.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(Ok(Some(_))) | Err(_) => {}
                    _ => return,
                }
            }
        }))
    } else {
        None
    };
    let counted = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (http, url, stop, counted, ok) = (http.clone(), url.clone(), stop.clone(), counted.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let user = format!("user-{}", (t * 7 + n) % 64);
                n += 1;
                let body = format!(r#"{{"user": {{"id": "{user}"}}, "value": 1}}"#);
                let r = http
                    .post(&url)
                    .header("x-api-key", "admin_emulator_key")
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                if let Ok(r) = r {
                    let status = r.status().as_u16();
                    let _ = r.bytes().await;
                    if status == 201 && counted.load(Ordering::Relaxed) {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await; // warm-up: connections open
    counted.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let cpu_before = emu.cpu_ns();
    tokio::time::sleep(duration).await;
    let done = ok.load(Ordering::Relaxed);
    let cpu = emu.cpu_ns().saturating_sub(cpu_before);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    if let Some(p) = page {
        let _ = p.await;
    }
    drop(emu);
    Ok(Round {
        rate: done as f64 / elapsed,
        cpu_us: cpu as f64 / 1000.0 / done.max(1) as f64,
        fetches: fetches.load(Ordering::Relaxed),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `trophy-bench inspector [--repeats N] [--duration S] [--concurrency C]`.
pub fn run(repeats: usize, secs: f64, concurrency: usize) -> Result<(), BoxError> {
    if repeats == 0 {
        return Err("--repeats must be at least 1".into());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let orders = [
            [Config::Off, Config::Closed, Config::Open],
            [Config::Closed, Config::Open, Config::Off],
            [Config::Open, Config::Off, Config::Closed],
        ];
        let mut rates: [Vec<f64>; 3] = Default::default();
        let mut cpus: [Vec<f64>; 3] = Default::default();
        let (mut rate_ratios, mut cpu_ratios): ([Vec<f64>; 2], [Vec<f64>; 2]) = Default::default();
        println!("| round | events/s off / closed / open | CPU µs per event off / closed / open | page fetches |");
        println!("|---:|---|---|---:|");
        for i in 0..repeats {
            let mut got: [Option<Round>; 3] = Default::default();
            for c in orders[i % 3] {
                got[c as usize] = Some(round(c, concurrency, Duration::from_secs_f64(secs)).await?);
            }
            let [Some(off), Some(closed), Some(open)] = got else {
                return Err("a configuration was not measured".into());
            };
            println!(
                "| {} | {:.0} / {:.0} / {:.0} | {:.1} / {:.1} / {:.1} | {} |",
                i + 1,
                off.rate,
                closed.rate,
                open.rate,
                off.cpu_us,
                closed.cpu_us,
                open.cpu_us,
                open.fetches
            );
            for (k, r) in [&off, &closed, &open].into_iter().enumerate() {
                rates[k].push(r.rate);
                cpus[k].push(r.cpu_us);
            }
            for (k, r) in [&closed, &open].into_iter().enumerate() {
                rate_ratios[k].push(r.rate / off.rate);
                cpu_ratios[k].push(r.cpu_us / off.cpu_us);
            }
        }
        let [r0, r1, r2] = rates.map(median);
        let [c0, c1, c2] = cpus.map(median);
        let [rc, ro] = rate_ratios.map(median);
        let [cc, co] = cpu_ratios.map(median);
        println!(
            "\nmedians (C={concurrency}, {secs} s rounds, {repeats} rounds): events/s off {r0:.0}, closed {r1:.0}, open {r2:.0}; \
             CPU µs/event off {c0:.1}, closed {c1:.1}, open {c2:.1}; \
             ratios closed/off: throughput {rc:.3}, CPU per event {cc:.3}; open/off: throughput {ro:.3}, CPU per event {co:.3}"
        );
        Ok(())
    })
}
