//! The child processes of the durable-ingest tests and benchmarks: `outbox`, `producer` and
//! `worker` (see `trophy_bench::durable`).
#![forbid(unsafe_code)]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = trophy_bench::durable::child_main(&args) {
        eprintln!("durable-child: {e}");
        std::process::exit(1);
    }
}
