//! `trophy-emulator`: serve the emulated Trophy Application and Admin APIs on loopback.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use std::str::FromStr;
use trophy_emulator::{Emulator, Faults, RateLimits, Seed, WebhookTarget};

const USAGE: &str = concat!(
    "trophy-emulator ",
    env!("CARGO_PKG_VERSION"),
    "\n",
    "\
A local emulator of the Trophy gamification API (https://trophy.so): it serves the Application
API under /v1 and the Admin API under /admin/v1 on 127.0.0.1, keeping all state in memory, so
an SDK or app can be developed and tested offline, without a key or rate limits. Starts from a
seed (users, metrics, achievements, streaks, points, leaderboards); can inject failures and
post signed webhooks.

Usage: trophy-emulator [OPTIONS]

Options:
  --port PORT          port on 127.0.0.1 (default 8787; 0 picks a free one)
  --seed FILE          seed file (JSON); default: the embedded seed/default.json
  --now RFC3339        freeze the clock at this instant (overrides the seed's now)
  --api-key KEY        accept only this organisation key (repeatable)
  --fail-rate RATE     fraction of API requests to fail, 0..1 (default 0)
  --fail-status CODE   status of injected failures (default 503; 429 adds Retry-After: 1)
  --fail-seed N        seed of the failure generator (default 0)
  --fail-after-processing
                       process the failed requests, then replace their answers (lost responses)
  --rate-limits        enforce Trophy's rate limits (5/s tier 1, 50/s tier 2; 429 beyond), GCRA
  --rate-limits=SPEC   [MODEL][,T1,T2][,ietf-headers|x-headers]; MODEL: gcra (default),
                       token-bucket[:BURST], fixed-window, sliding-window
  --webhook-url URL    (http://) deliver webhooks (achievements, streaks, points, ranks) here
  --webhook-secret S   sign them with this secret (default: $TROPHY_WEBHOOK_SECRET)
  -h, --help           show this help
"
);

struct Args {
    port: u16,
    seed: Option<String>,
    now: Option<chrono::DateTime<chrono::Utc>>,
    api_keys: Vec<String>,
    fail_rate: f64,
    fail_status: u16,
    fail_seed: u64,
    fail_after_processing: bool,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    rate_limits: Option<RateLimits>,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        port: 8787,
        seed: None,
        now: None,
        api_keys: Vec::new(),
        fail_rate: 0.0,
        fail_status: 503,
        fail_seed: 0,
        fail_after_processing: false,
        webhook_url: None,
        webhook_secret: None,
        rate_limits: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        if flag == "--fail-after-processing" {
            args.fail_after_processing = true;
            continue;
        }
        if flag == "--rate-limits" {
            args.rate_limits = Some(RateLimits::from_str("").map_err(|e| e.to_string())?);
            continue;
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (flag.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "--port" => args.port = value()?.parse().map_err(|_| "invalid --port".to_string())?,
            "--seed" => args.seed = Some(value()?),
            "--now" => {
                args.now = Some(
                    chrono::DateTime::parse_from_rfc3339(&value()?)
                        .map_err(|_| "invalid --now (RFC 3339 expected)".to_string())?
                        .with_timezone(&chrono::Utc),
                )
            }
            "--api-key" => args.api_keys.push(value()?),
            "--fail-rate" => {
                args.fail_rate = value()?
                    .parse()
                    .ok()
                    .filter(|r: &f64| (0.0..=1.0).contains(r))
                    .ok_or_else(|| "--fail-rate must be a number from 0 to 1".to_string())?
            }
            "--fail-status" => {
                args.fail_status = value()?
                    .parse()
                    .ok()
                    .filter(|s: &u16| (400..=599).contains(s))
                    .ok_or_else(|| "--fail-status must be from 400 to 599".to_string())?
            }
            "--fail-seed" => args.fail_seed = value()?.parse().map_err(|_| "invalid --fail-seed".to_string())?,
            "--webhook-url" => {
                let url = value()?;
                if !url.starts_with("http://") {
                    return Err("--webhook-url must start with http:// (a local receiver; no TLS)".into());
                }
                args.webhook_url = Some(url);
            }
            "--webhook-secret" => args.webhook_secret = Some(value()?),
            "--rate-limits" => args.rate_limits = Some(value()?.parse().map_err(|e| format!("--rate-limits: {e}"))?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if args.webhook_url.is_some() {
        let secret = args
            .webhook_secret
            .take()
            .or_else(|| std::env::var("TROPHY_WEBHOOK_SECRET").ok())
            .filter(|s| !s.is_empty())
            .ok_or("--webhook-url needs --webhook-secret or TROPHY_WEBHOOK_SECRET")?;
        args.webhook_secret = Some(secret);
    } else if args.webhook_secret.is_some() {
        return Err("--webhook-secret needs --webhook-url".into());
    }
    Ok(Some(args))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
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
    let mut builder = Emulator::builder().seed(seed).port(args.port).faults(faults);
    if let Some(now) = args.now {
        builder = builder.clock(now);
    }
    if let Some(limits) = args.rate_limits {
        builder = builder.rate_limits(limits);
    }
    for k in args.api_keys {
        builder = builder.api_key(k);
    }
    if let (Some(url), Some(secret)) = (&args.webhook_url, &args.webhook_secret) {
        builder = builder.webhook(WebhookTarget::new(url, secret.as_str()));
    }
    let emu = match builder.start().await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!("trophy-emulator listening on {}", emu.base_url());
    println!("Application API: {}", emu.app_url());
    println!("Admin API: {}", emu.admin_url());
    println!("Admin API key: {}", emu.admin_key());
    println!(
        "Controls: {}/_emulator/clock, /_emulator/faults, /_emulator/reset, /_emulator/webhooks, /_emulator/events, /_emulator/rate-limits",
        emu.base_url()
    );
    if let Some(url) = &args.webhook_url {
        println!("Webhooks: {url}");
    }
    // Serve until the process is interrupted.
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
