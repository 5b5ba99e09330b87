//! The markdown report: SDK/raw ratios per repeat with min/median/max, absolute medians,
//! build cost and the machine.

use crate::buildcost::Step;
use crate::measure::Spread;
use crate::ops::{BoxError, Mode};
use std::fmt::Write;

/// The unit of a row's absolute figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Micros,
    PerSec,
    MiB,
}

impl Unit {
    fn fmt(self, v: f64) -> String {
        if !v.is_finite() {
            return "-".into();
        }
        match self {
            Unit::Micros => format!("{v:.1} µs"),
            Unit::PerSec => format!("{v:.0}/s"),
            Unit::MiB => format!("{v:.1} MiB"),
        }
    }
}

/// A target on the median SDK/raw ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    AtMost(f64),
    AtLeast(f64),
}

impl Goal {
    fn describe(self, median: f64) -> String {
        let (met, text) = match self {
            Goal::AtMost(t) => (median <= t, format!("≤ {t}")),
            Goal::AtLeast(t) => (median >= t, format!("≥ {t}")),
        };
        if met {
            format!("{text}: met")
        } else {
            format!("{text}: **missed**")
        }
    }
}

/// One measurement: its SDK and raw values per repeat.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub unit: Unit,
    pub goal: Option<Goal>,
    sdk: Vec<f64>,
    raw: Vec<f64>,
}

impl Row {
    pub fn new(name: String, unit: Unit, goal: Option<Goal>) -> Row {
        Row {
            name,
            unit,
            goal,
            sdk: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// Records the value of `mode` in repeat `repeat`.
    pub fn push(&mut self, mode: Mode, repeat: usize, value: f64) {
        let v = match mode {
            Mode::Sdk => &mut self.sdk,
            Mode::Raw => &mut self.raw,
        };
        if v.len() <= repeat {
            v.resize(repeat + 1, f64::NAN);
        }
        v[repeat] = value;
    }

    /// SDK/raw of each repeat.
    pub fn ratios(&self) -> Vec<f64> {
        self.sdk.iter().zip(&self.raw).map(|(s, r)| s / r).collect()
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub builds: Vec<Step>,
    /// The requests both paths sent (idempotency key masked), when checked.
    pub verified: Vec<String>,
    /// How the SDK laid out the user in the completion body (see `ops::UserLayout`).
    pub layout: Option<&'static str>,
}

impl Report {
    pub fn markdown(&self, plan: &str) -> String {
        let mut out = String::new();
        if !self.rows.is_empty() {
            let _ = writeln!(out, "\n## SDK / raw\n\n{plan}.\n");
            let _ = writeln!(
                out,
                "| Measurement | SDK/raw min | median | max | Target | SDK (median) | raw (median) |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---|---:|---:|");
            for row in &self.rows {
                let r = Spread::of(&row.ratios());
                let _ = writeln!(
                    out,
                    "| {} | {:.3} | {:.3} | {:.3} | {} | {} | {} |",
                    row.name,
                    r.min,
                    r.median,
                    r.max,
                    row.goal.map(|g| g.describe(r.median)).unwrap_or_else(|| "-".into()),
                    row.unit.fmt(Spread::of(&row.sdk).median),
                    row.unit.fmt(Spread::of(&row.raw).median),
                );
            }
        }
        if !self.builds.is_empty() {
            let _ = writeln!(out, "\n## Build cost (dev profile, fresh target directory)\n");
            let _ = writeln!(out, "| Step | Command | runs | min | median | max | crates compiled |");
            let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|");
            let mut labels: Vec<&str> = Vec::new();
            for b in &self.builds {
                if !labels.contains(&b.label) {
                    labels.push(b.label);
                }
            }
            for label in labels {
                let steps: Vec<&Step> = self.builds.iter().filter(|b| b.label == label).collect();
                let s = Spread::of(&steps.iter().map(|b| b.wall_s).collect::<Vec<_>>());
                let failed = steps.iter().filter(|b| !b.success).count();
                let _ = writeln!(
                    out,
                    "| {label}{} | `{}` | {} | {:.1} s | {:.1} s | {:.1} s | {} |",
                    if failed > 0 {
                        format!(" ({failed} failed)")
                    } else {
                        String::new()
                    },
                    steps[0].command,
                    steps.len(),
                    s.min,
                    s.median,
                    s.max,
                    steps[0].compiled
                );
            }
        }
        if !self.verified.is_empty() {
            let _ = writeln!(
                out,
                "\nSDK and raw requests checked byte-identical ({} operations).",
                self.verified.len()
            );
        }
        if let Some(layout) = self.layout {
            let _ = writeln!(out, "\nUser keys in the SDK's completion body: {layout}.");
        }
        out
    }

    /// Smoke check: every row has a finite positive ratio and every step ran.
    pub fn check_complete(&self) -> Result<(), BoxError> {
        if self.verified.is_empty() {
            return Err("requests were not verified".into());
        }
        for row in &self.rows {
            let ratios = row.ratios();
            if ratios.is_empty() || ratios.iter().any(|r| !r.is_finite() || *r <= 0.0) {
                return Err(format!("{}: no usable ratio ({ratios:?})", row.name).into());
            }
        }
        if let Some(b) = self.builds.iter().find(|b| !b.success) {
            return Err(format!("`{}` failed", b.command).into());
        }
        Ok(())
    }
}

fn cpuinfo(field: &str) -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The machine, as a markdown list.
pub fn machine() -> String {
    let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    format!(
        "## Machine\n\n- nproc: {nproc}\n- CPU: {}\n- memory: {mem}\n- kernel: {kernel}\n- {rustc}\n- profile: {}\n",
        cpuinfo("model name"),
        if cfg!(debug_assertions) { "debug" } else { "release" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_pair_repeats_and_the_table_shows_the_goal() {
        let mut row = Row::new("x".into(), Unit::Micros, Some(Goal::AtMost(1.2)));
        row.push(Mode::Raw, 0, 10.0);
        row.push(Mode::Sdk, 0, 11.0);
        row.push(Mode::Sdk, 1, 15.0);
        row.push(Mode::Raw, 1, 10.0);
        assert_eq!(row.ratios(), vec![1.1, 1.5]);
        let report = Report {
            rows: vec![row],
            ..Report::default()
        };
        let md = report.markdown("plan");
        assert!(
            md.contains("| x | 1.100 | 1.300 | 1.500 | ≤ 1.2: **missed** | 13.0 µs | 10.0 µs |"),
            "{md}"
        );
        assert!(report.check_complete().is_err(), "not verified");
    }
}
