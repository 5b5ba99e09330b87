//! Crash test of the durable outbox: a child process sending through it is killed with SIGKILL
//! at random points, again and again; after a last child drained the outbox, the emulator
//! holds exactly the acknowledged events, none lost and none twice.

use std::path::Path;
use std::time::Duration;
use trophy_bench::durable::{crash_run, CrashPlan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_nothing_and_counts_nothing_twice() {
    let exe = Path::new(env!("CARGO_BIN_EXE_trophy-bench"));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64);
    let plan = CrashPlan {
        events: 20_000,
        kills: 24,
        lifetime: (Duration::from_millis(80), Duration::from_millis(400)),
        rate: 3000.0,
        seed,
    };
    let report = crash_run(exe, &plan).await.unwrap();
    println!("crash run (seed {seed}): {report:?}");
    assert_eq!(report.kills, 24);
    assert_eq!(report.events, 20_000, "every event was acknowledged once in the end");
    assert_eq!((report.lost, report.duplicated), (0, 0), "seed {seed}");
    assert!(report.totals_match, "seed {seed}");
    assert!(
        report.replayed > 0,
        "some kills came between Trophy's answer and the delete"
    );
}
