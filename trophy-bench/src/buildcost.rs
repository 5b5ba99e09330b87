//! Build cost: clean dev builds of `trophy-generated` and `trophy` in a fresh target
//! directory, each crate alone, `cargo xtask regen --check` once built, and a clean build of
//! `trophy` with the opt-in `rustls-ring` feature instead of the default `rustls` (aws-lc-rs).

use crate::ops::BoxError;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One timed cargo command.
#[derive(Debug, Clone)]
pub struct Step {
    pub label: &'static str,
    pub command: String,
    pub wall_s: f64,
    /// Crates cargo reported `Compiling`.
    pub compiled: usize,
    pub success: bool,
}

/// The workspace root (this crate's parent directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("trophy-bench lives in the workspace")
        .to_path_buf()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Runs `cargo args` in the workspace with `CARGO_TARGET_DIR=target_dir` and times it.
pub fn timed(label: &'static str, target_dir: &Path, args: &[&str]) -> Result<Step, BoxError> {
    let t0 = Instant::now();
    let out = Command::new(cargo())
        .args(args)
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_TERM_COLOR", "never")
        .output()?;
    let wall_s = t0.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    Ok(Step {
        label,
        command: format!("cargo {}", args.join(" ")),
        wall_s,
        compiled: stderr
            .lines()
            .filter(|l| l.trim_start().starts_with("Compiling "))
            .count(),
        success: out.status.success(),
    })
}

/// A fresh build of both crates in `scratch` (removed first and afterwards); `regen_repeats`
/// timings of `cargo xtask regen --check` (the check mode generates the same code without
/// writing `trophy-generated/src`, which other people may be editing).
pub fn run(scratch: &Path, regen_repeats: usize) -> Result<Vec<Step>, BoxError> {
    if scratch.exists() {
        std::fs::remove_dir_all(scratch)?;
    }
    std::fs::create_dir_all(scratch)?;
    let mut steps = vec![
        timed(
            "`trophy-generated`, clean, dependencies included",
            scratch,
            &["build", "-p", "trophy-generated"],
        )?,
        timed(
            "`trophy` after `trophy-generated` (its own extra dependencies included)",
            scratch,
            &["build", "-p", "trophy"],
        )?,
    ];
    timed("clean", scratch, &["clean", "-p", "trophy-generated"])?;
    steps.push(timed(
        "`trophy-generated` alone (dependencies built)",
        scratch,
        &["build", "-p", "trophy-generated"],
    )?);
    timed("build", scratch, &["build", "-p", "trophy"])?;
    timed("clean", scratch, &["clean", "-p", "trophy"])?;
    steps.push(timed(
        "`trophy` alone (dependencies built)",
        scratch,
        &["build", "-p", "trophy"],
    )?);
    steps.push(timed("`xtask` build", scratch, &["build", "-p", "xtask"])?);
    for _ in 0..regen_repeats {
        steps.push(timed(
            "`cargo xtask regen --check`, built",
            scratch,
            &["xtask", "regen", "--check"],
        )?);
    }
    // The same SDK with ring instead of aws-lc-rs, from scratch: compare with the first two
    // steps together.
    std::fs::remove_dir_all(scratch)?;
    std::fs::create_dir_all(scratch)?;
    steps.push(timed(
        "`trophy` with `rustls-ring` (ring, not aws-lc-rs), clean, dependencies included",
        scratch,
        &[
            "build",
            "-p",
            "trophy",
            "--no-default-features",
            "--features",
            "rustls-ring",
        ],
    )?);
    std::fs::remove_dir_all(scratch)?;
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"));
    }
}
