//! The command line (clap): `--help` lists every mode, each mode's `--help` its flags, the
//! internal modes the benchmark spawns still parse, and bad input is a usage error (status 2).
//! Only `--help`, `--version` and rejected input run here: no benchmark.

use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trophy-bench"))
        .args(args)
        .output()
        .expect("trophy-bench runs")
}

/// Standard output of a run that must succeed.
fn ok(args: &[&str]) -> String {
    let out = bench(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Standard error of a run that must be a usage error.
fn usage_error(args: &[&str]) -> String {
    let out = bench(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}\n{stderr}", out.status);
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    stderr
}

/// The public modes and some of their flags.
const MODES: &[(&str, &[&str])] = &[
    (
        "all",
        &["--repeats", "--no-build", "--build-repeats", "--metrics-recorder"],
    ),
    ("smoke", &[]),
    ("cpu", &["--repeats", "--metrics-recorder"]),
    ("throughput", &["--repeats"]),
    ("rss", &["--repeats"]),
    ("decode", &["--repeats"]),
    ("verify", &["--repeats"]),
    ("build-cost", &["--build-repeats"]),
    ("serve", &["--port", "--exit-on-eof"]),
    (
        "ingest",
        &[
            "--duration",
            "--producers",
            "--rate",
            "--fail-rate",
            "--capacity",
            "--outbox",
            "--kills",
            "--backend",
            "--limiter",
            "--lost-rate",
            "--events",
            "--headers",
            "--matrix",
        ],
    ),
    (
        "ingest-fleet",
        &["--duration", "--rate", "--producers", "--workers", "--kill-worker"],
    ),
    ("inspector", &["--repeats", "--duration", "--concurrency"]),
];

/// The internal modes (hidden from the top-level help), with what the benchmark passes them.
const INTERNAL: &[(&[&str], &[&str])] = &[
    (
        &["child", "cpu"],
        &[
            "--op",
            "--base",
            "--user-layout",
            "--batches",
            "--batch-calls",
            "--warmup",
            "--metrics-recorder",
        ],
    ),
    (
        &["child", "throughput"],
        &["--base", "--user-layout", "--concurrency", "--rounds", "--round-calls"],
    ),
    (
        &["child", "rss"],
        &["--mode", "--base", "--user-layout", "--calls", "--concurrency"],
    ),
    (
        &["durable-child", "outbox"],
        &["--path", "--url", "--todo", "--concurrency", "--rate", "--hold"],
    ),
    (&["durable-child", "producer"], &["--redis", "--from", "--to", "--rate"]),
    (
        &["durable-child", "worker"],
        &["--redis", "--url", "--consumer", "--claim-idle-ms"],
    ),
    (&["ingest-emulator"], &["--fail-rate"]),
    (&["inspector-emulator"], &["--request-log"]),
];

#[test]
fn top_level_help_lists_every_mode_with_a_description() {
    let help = ok(&["--help"]);
    for (mode, _) in MODES {
        let line = help
            .lines()
            .find(|l| l.split_whitespace().next() == Some(mode))
            .unwrap_or_else(|| panic!("mode {mode} missing in\n{help}"));
        assert!(
            line.split_whitespace().count() > 2,
            "mode {mode} has no description: {line:?}"
        );
    }
    for internal in ["child", "durable-child", "ingest-emulator", "inspector-emulator"] {
        assert!(help.contains(internal), "internal mode {internal} not named in\n{help}");
    }
    assert_eq!(ok(&["help"]), help);
    assert!(ok(&["--version"]).starts_with("trophy-bench "));
}

#[test]
fn each_mode_help_lists_its_flags_with_defaults() {
    for (mode, flags) in MODES {
        let help = ok(&[mode, "--help"]);
        for flag in *flags {
            assert!(help.contains(flag), "{mode} --help lacks {flag}:\n{help}");
        }
    }
    let all = ok(&["all", "--help"]);
    assert!(all.contains("[default: 5]") && all.contains("[default: 1]"), "{all}");
    let ingest = ok(&["ingest", "--help"]);
    for default in [
        "[default: 20]",
        "[default: 6000]",
        "[default: 8]",
        "[default: gcra]",
        "[default: 120000]",
    ] {
        assert!(ingest.contains(default), "ingest --help lacks {default}:\n{ingest}");
    }
    for value in ["memory", "outbox", "fleet", "none", "ietf"] {
        assert!(ingest.contains(value), "ingest --help lacks {value}:\n{ingest}");
    }
    let fleet = ok(&["ingest-fleet", "--help"]);
    assert!(
        fleet.contains("[default: 4]") && fleet.contains("[default: 2]"),
        "{fleet}"
    );
}

#[test]
fn internal_modes_parse_and_list_their_flags() {
    for (path, flags) in INTERNAL {
        let mut args = path.to_vec();
        args.push("--help");
        let help = ok(&args);
        for flag in *flags {
            assert!(help.contains(flag), "{path:?} --help lacks {flag}:\n{help}");
        }
    }
}

#[test]
fn bad_input_is_a_usage_error_naming_it() {
    let e = usage_error(&["ingest", "--no-such-flag"]);
    assert!(e.contains("--no-such-flag"), "{e}");
    let e = usage_error(&["cpu", "--no-such-flag", "3"]);
    assert!(e.contains("--no-such-flag"), "{e}");
    let e = usage_error(&["no-such-mode"]);
    assert!(e.contains("no-such-mode"), "{e}");
    let e = usage_error(&["ingest", "--rate", "fast"]);
    assert!(e.contains("--rate") && e.contains("fast"), "{e}");
    let e = usage_error(&["ingest", "--backend", "carrier-pigeon"]);
    assert!(e.contains("carrier-pigeon") && e.contains("memory"), "{e}");
    let e = usage_error(&["ingest", "--limiter", "gcra"]);
    assert!(e.contains("--backend"), "{e}");
    let e = usage_error(&["ingest", "--backend", "memory", "--limiter", "leaky"]);
    assert!(e.contains("leaky") && e.contains("sliding-window"), "{e}");
    let e = usage_error(&["ingest", "--outbox", "--matrix"]);
    assert!(e.contains("--outbox") && e.contains("--matrix"), "{e}");
    let e = usage_error(&["ingest", "--duration", "1"]);
    assert!(e.contains("--duration"), "{e}");
    let e = usage_error(&["ingest", "--fail-rate", "1.5"]);
    assert!(e.contains("--fail-rate"), "{e}");
    let e = usage_error(&["serve"]);
    assert!(e.contains("--port"), "{e}");
    let e = usage_error(&["serve", "--port", "70000"]);
    assert!(e.contains("--port"), "{e}");
    let e = usage_error(&["inspector", "--repeats", "0"]);
    assert!(e.contains("--repeats"), "{e}");
    let e = usage_error(&["child", "cpu", "--op", "teleport"]);
    assert!(e.contains("teleport") && e.contains("get-user"), "{e}");
    // No mode: the help on standard error, status 2.
    let out = bench(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ingest-fleet"));
}
