//! CPU time and memory from `/proc` (no `unsafe`, no libc), and the statistics of repeats.

use std::fs;

/// Clock ticks per second of `/proc/*/stat` (`sysconf(_SC_CLK_TCK)`, 100 on Linux x86_64).
const CLK_TCK: u64 = 100;

/// CPU time (user + system) of the whole process in nanoseconds.
///
/// The sum of `/proc/self/task/*/schedstat` (the scheduler's run time of each thread, in ns);
/// `None` when a thread ended between two readings would make the sum lose time, see
/// [`CpuClock`]. Falls back to `utime + stime` of `/proc/self/stat` (10 ms ticks).
pub fn process_cpu_ns() -> (u64, usize) {
    let mut total = 0u64;
    let mut threads = 0usize;
    if let Ok(dir) = fs::read_dir("/proc/self/task") {
        for entry in dir.flatten() {
            if let Some(ns) = fs::read_to_string(entry.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            {
                total += ns;
                threads += 1;
            }
        }
    }
    if threads == 0 {
        return (stat_cpu_ns(), 0);
    }
    (total, threads)
}

/// `utime + stime` of `/proc/self/stat`, in nanoseconds (10 ms resolution; counts ended threads).
pub fn stat_cpu_ns() -> u64 {
    stat_cpu_ns_of("self")
}

/// `utime + stime` of `/proc/<pid>/stat` (`pid` may be `self`), in nanoseconds.
pub fn stat_cpu_ns_of(pid: &str) -> u64 {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name (field 2) may hold spaces: fields are counted after its closing `)`.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After `)`: state is field 3, so utime (14) and stime (15) are at indices 11 and 12.
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) * (1_000_000_000 / CLK_TCK)
}

/// CPU time of the calling thread in nanoseconds (`/proc/thread-self/schedstat`).
pub fn thread_cpu_ns() -> u64 {
    fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0)
}

/// A process CPU stopwatch: nanosecond precision from schedstat, checked against the tick
/// counter of `/proc/self/stat` when threads ended in between.
pub struct CpuClock {
    start_ns: u64,
    start_threads: usize,
    start_stat: u64,
}

impl CpuClock {
    pub fn start() -> Self {
        let (start_ns, start_threads) = process_cpu_ns();
        CpuClock {
            start_ns,
            start_threads,
            start_stat: stat_cpu_ns(),
        }
    }

    /// CPU nanoseconds since `start`.
    pub fn elapsed_ns(&self) -> u64 {
        let (ns, threads) = process_cpu_ns();
        let stat = stat_cpu_ns().saturating_sub(self.start_stat);
        if threads == 0 || threads < self.start_threads {
            // A thread ended: its schedstat is gone; only the tick counter still has it.
            return stat;
        }
        ns.saturating_sub(self.start_ns)
    }
}

/// A field of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`).
pub fn status_kib(field: &str) -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':').map(str::to_string))
        })
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Min, median and max of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return Spread {
                min: f64::NAN,
                median: f64::NAN,
                max: f64::NAN,
            };
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Spread {
            min: v[0],
            median,
            max: v[n - 1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_odd_and_even_samples() {
        assert_eq!(
            Spread::of(&[3.0, 1.0, 2.0]),
            Spread {
                min: 1.0,
                median: 2.0,
                max: 3.0
            }
        );
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
        assert!(Spread::of(&[]).median.is_nan());
    }

    #[test]
    fn proc_readings_are_available_and_move_forward() {
        let clock = CpuClock::start();
        let t0 = thread_cpu_ns();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(thread_cpu_ns() > t0);
        assert!(clock.elapsed_ns() > 0);
        assert!(status_kib("VmHWM") > 0);
        assert!(status_kib("VmRSS") > 0);
    }
}
