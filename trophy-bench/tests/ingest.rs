//! Runs `trophy-bench ingest` briefly (the emulator child, producers, the ingester, the
//! comparison with the emulator's totals) and checks its closing line. No timing is asserted.

use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn ingest_mode_prints_the_closing_line_with_nothing_lost() {
    let out = Command::new(env!("CARGO_BIN_EXE_trophy-bench"))
        .args([
            "ingest",
            "--duration",
            "2",
            "--rate",
            "400",
            "--producers",
            "2",
            "--fail-rate",
            "0.2",
        ])
        .output()
        .expect("trophy-bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ingest failed\n{stdout}\n{stderr}");
    let line = stdout.lines().last().expect("a closing line");
    let fields: BTreeMap<&str, &str> = line
        .strip_prefix("ingest: ")
        .expect("closing line")
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let keys: Vec<&str> = fields.keys().copied().collect();
    assert_eq!(
        keys,
        [
            "cpu_us_per_event",
            "dead_lettered",
            "delivered",
            "duplicated",
            "events_per_s",
            "http_429",
            "lost",
            "offered",
            "p99_latency_ms",
            "peak_rss_mib"
        ]
    );
    let offered: u64 = fields["offered"].parse().unwrap();
    assert!(offered > 0);
    assert_eq!(fields["delivered"], fields["offered"]);
    assert_eq!(
        (fields["lost"], fields["duplicated"], fields["dead_lettered"]),
        ("0", "0", "0")
    );
    assert!(stderr.contains("enqueue_cpu_us_per_event="), "{stderr}");
}
