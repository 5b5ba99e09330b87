//! `trophy-emulator`: serve the emulated Trophy Application and Admin APIs on loopback, with an
//! inspector in the browser; or send one signed sample webhook (`trigger`).
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use trophy_emulator::{Emulator, Faults, RateLimits, Seed, WebhookTarget, WEBHOOK_TYPES};

/// A local emulator of the Trophy gamification API (https://trophy.so): it serves the
/// Application API under /v1 and the Admin API under /admin/v1 on 127.0.0.1, with an inspector
/// at /_emulator/ui/, so an SDK or app can be developed and tested offline. Starts from a seed;
/// can inject failures, enforce rate limits, post signed webhooks and keep its state in a file.
#[derive(Parser, Debug)]
#[command(name = "trophy-emulator", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve both APIs and the inspector (the default).
    Serve(ServeArgs),
    /// Send one signed sample webhook to your receiver and print its answer (no emulator needed).
    Trigger(TriggerArgs),
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Address to bind; anything but loopback exposes the emulator (which needs no real key)
    /// to the network, and prints a warning.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Seed file (JSON); default: the embedded seed/default.json.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Keep the state in FILE: loaded at start, saved on SIGINT/SIGTERM and on
    /// POST /_emulator/state/save.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Freeze the clock at this instant (RFC 3339; overrides the seed's now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<chrono::DateTime<chrono::Utc>>,
    /// Accept only this organisation key (repeatable).
    #[arg(long = "api-key", value_name = "KEY")]
    api_keys: Vec<String>,
    /// Fraction of API requests to fail, 0..1.
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    fail_rate: f64,
    /// Status of injected failures (429 adds Retry-After: 1).
    #[arg(long, default_value_t = 503, value_parser = clap::value_parser!(u16).range(400..=599))]
    fail_status: u16,
    /// Seed of the failure generator.
    #[arg(long, default_value_t = 0)]
    fail_seed: u64,
    /// Process the failed requests, then replace their answers (lost responses).
    #[arg(long)]
    fail_after_processing: bool,
    /// Enforce Trophy's rate limits (5/s tier 1, 50/s tier 2; 429 with Retry-After beyond),
    /// under the strictest model, GCRA with no burst; --rate-limits=SPEC with
    /// SPEC = [MODEL][,T1,T2][,ietf-headers|x-headers], MODEL one of gcra, token-bucket[:BURST],
    /// fixed-window, sliding-window.
    #[arg(long, value_name = "SPEC", num_args = 0..=1, require_equals = true, default_missing_value = "", value_parser = parse_rates)]
    rate_limits: Option<RateLimits>,
    /// Deliver webhooks (achievements, streaks, points, ranks, clock effects) to this http:// URL.
    #[arg(long, value_name = "URL", value_parser = parse_http_url)]
    webhook_url: Option<String>,
    /// Sign them with this secret (default: $TROPHY_WEBHOOK_SECRET).
    #[arg(long, value_name = "S")]
    webhook_secret: Option<String>,
    /// Requests the request log keeps (the oldest are forgotten).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    request_log: usize,
}

#[derive(Args, Debug)]
struct TriggerArgs {
    /// The webhook type, e.g. streak.lost (any of the 18 Trophy sends).
    #[arg(value_name = "TYPE", value_parser = clap::builder::PossibleValuesParser::new(WEBHOOK_TYPES))]
    event_type: String,
    /// The user the event is about.
    #[arg(long, value_name = "ID")]
    user: String,
    /// Your receiver (http://).
    #[arg(long, value_name = "URL", value_parser = parse_http_url)]
    to: String,
    /// The webhook secret to sign with (default: $TROPHY_WEBHOOK_SECRET).
    #[arg(long, value_name = "S")]
    secret: Option<String>,
}

fn parse_now(v: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| "expected an RFC 3339 date-time, e.g. 2026-01-15T12:00:00Z".into())
}

fn parse_rate(v: &str) -> Result<f64, String> {
    v.parse()
        .ok()
        .filter(|r: &f64| (0.0..=1.0).contains(r))
        .ok_or_else(|| "must be a number from 0 to 1".into())
}

fn parse_http_url(v: &str) -> Result<String, String> {
    if v.starts_with("http://") {
        Ok(v.to_string())
    } else {
        Err("must start with http:// (a local receiver; the emulator sends without TLS)".into())
    }
}

/// The flag alone: Trophy's rates under the strictest model (GCRA, no burst); otherwise
/// `[MODEL][,T1,T2][,ietf-headers|x-headers]` (see `RateLimits`'s `FromStr`).
fn parse_rates(v: &str) -> Result<RateLimits, String> {
    v.parse().map_err(|e| format!("--rate-limits={v}: {e}"))
}

/// A secret from the flag or `$TROPHY_WEBHOOK_SECRET`.
fn secret(flag: Option<String>) -> Option<String> {
    flag.or_else(|| std::env::var("TROPHY_WEBHOOK_SECRET").ok())
        .filter(|s| !s.is_empty())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Trigger(t)) => trigger(t).await,
        Some(Command::Serve(s)) => serve(s).await,
        None => serve(cli.serve).await,
    }
}

async fn trigger(t: TriggerArgs) -> ExitCode {
    let Some(secret) = secret(t.secret) else {
        eprintln!("error: trigger needs --secret or TROPHY_WEBHOOK_SECRET");
        return ExitCode::from(2);
    };
    let target = WebhookTarget::new(&t.to, secret);
    match trophy_emulator::trigger_webhook(&target, &t.event_type, &t.user).await {
        Ok(d) => {
            match d.status {
                Some(s) => println!("{} {} -> {s} after {} attempt(s)", d.event_type, d.target, d.attempts),
                None => println!(
                    "{} {} -> no answer after {} attempt(s)",
                    d.event_type, d.target, d.attempts
                ),
            }
            println!("{}", d.response);
            if d.delivered {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let webhook_secret = match (&args.webhook_url, secret(args.webhook_secret.clone())) {
        (Some(_), None) => {
            eprintln!("error: --webhook-url needs --webhook-secret or TROPHY_WEBHOOK_SECRET");
            return ExitCode::from(2);
        }
        (None, Some(_)) if args.webhook_secret.is_some() => {
            eprintln!("error: --webhook-secret needs --webhook-url");
            return ExitCode::from(2);
        }
        (_, s) => s,
    };
    let seed = match &args.seed {
        Some(path) => match Seed::from_file(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        },
        None => Seed::default_seed(),
    };
    let mut faults = Faults::new(args.fail_rate, args.fail_status).with_seed(args.fail_seed);
    if args.fail_after_processing {
        faults = faults.after_processing();
    }
    let mut builder = Emulator::builder()
        .seed(seed)
        .bind((args.host, args.port).into())
        .faults(faults)
        .request_log_capacity(args.request_log);
    if let Some(now) = args.now {
        builder = builder.clock(now);
    }
    if let Some(limits) = args.rate_limits {
        builder = builder.rate_limits(limits);
    }
    for k in args.api_keys {
        builder = builder.api_key(k);
    }
    if let (Some(url), Some(secret)) = (&args.webhook_url, &webhook_secret) {
        builder = builder.webhook(WebhookTarget::new(url, secret.as_str()));
    }
    if let Some(path) = &args.state {
        builder = builder.state_file(path);
    }
    if !args.host.is_loopback() {
        eprintln!(
            "warning: listening on {} exposes the emulator to the network: it accepts any key, and its inspector shows and changes everything it holds",
            args.host
        );
    }
    let emu = match builder.start().await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!("trophy-emulator listening on {}", emu.base_url());
    println!("Inspector: {}", emu.inspector_url());
    println!("Application API: {}", emu.app_url());
    println!("Admin API: {}", emu.admin_url());
    println!("Admin API key: {}", emu.admin_key());
    println!(
        "Controls: {}/_emulator/clock, /_emulator/faults, /_emulator/reset, /_emulator/webhooks, /_emulator/events, /_emulator/rate-limits, /_emulator/state",
        emu.base_url()
    );
    if let Some(url) = &args.webhook_url {
        println!("Webhooks: {url}");
    }
    if let Some(path) = &args.state {
        println!("State file: {}", path.display());
    }
    let signal = stop_signal().await;
    if args.state.is_some() {
        match emu.save_state() {
            Ok(bytes) => println!("{signal}: state saved ({bytes} bytes)"),
            Err(e) => {
                eprintln!("{signal}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    // Not a graceful shutdown: an open inspector keeps its event stream open.
    drop(emu);
    ExitCode::SUCCESS
}

/// Waits for SIGINT or SIGTERM; returns its name.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut int), Ok(mut term)) => tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupt"
    }
}
