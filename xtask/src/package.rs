//! `cargo xtask package [-- <cargo publish arguments>]`: `cargo publish --workspace --dry-run
//! --locked`, after removing what earlier dry runs left unpacked in Cargo's home.
//!
//! Why: a workspace dry run packages every publishable crate into a temporary registry under
//! `target/package/` and builds each one against its packaged siblings. Cargo unpacks those
//! siblings into `$CARGO_HOME/registry/src/-<hash>/<name>-<version>/`, where the hash depends
//! only on the temporary registry's path, and it never unpacks a crate again while that
//! directory exists. So a second dry run from the same checkout path, with the version number
//! unchanged, builds last time's sources against this time's manifests: the stale
//! `trophy-generated` still used reqwest, the new manifest no longer listed it, and the
//! verification failed with 488 errors that no change of ours had caused. Removing our own
//! crates' unpacked copies (only those: crates.io's are never touched) makes every dry run
//! build exactly what it packaged.

use anyhow::{Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Cargo's home: `$CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// `(name, version)` of each workspace member that may be published.
fn publishable(meta: &Value) -> Result<Vec<(String, String)>> {
    Ok(crate::msrv::member_packages(meta)?
        .into_iter()
        // `publish = false` shows as an empty list; absent (null) means any registry.
        .filter(|p| !p["publish"].as_array().is_some_and(Vec::is_empty))
        .filter_map(|p| Some((p["name"].as_str()?.to_string(), p["version"].as_str()?.to_string())))
        .collect())
}

/// The unpacked copies of `packages` that dry runs left in `cargo_home`: the directories
/// `registry/src/-<hash>/<name>-<version>` (and their `.crate` files in `registry/cache/`).
/// Registries with a name (crates.io's `index.crates.io-<hash>`) are left alone: only
/// Cargo's temporary, nameless registries have a directory starting with `-`.
fn stale_copies(cargo_home: &Path, packages: &[(String, String)]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for (kind, suffix) in [("src", ""), ("cache", ".crate")] {
        let Ok(registries) = std::fs::read_dir(cargo_home.join("registry").join(kind)) else {
            continue;
        };
        for registry in registries.flatten() {
            if !registry.file_name().to_string_lossy().starts_with('-') {
                continue;
            }
            for (name, version) in packages {
                let copy = registry.path().join(format!("{name}-{version}{suffix}"));
                if copy.exists() {
                    found.push(copy);
                }
            }
        }
    }
    found.sort();
    found
}

pub fn command(args: &[String], root: &Path) -> Result<ExitCode> {
    let passthrough = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    anyhow::ensure!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).context("reading cargo metadata")?;
    let packages = publishable(&meta)?;
    if let Some(home) = cargo_home() {
        for copy in stale_copies(&home, &packages) {
            eprintln!("removing an earlier dry run's unpacked copy: {}", copy.display());
            if copy.is_dir() {
                std::fs::remove_dir_all(&copy)
            } else {
                std::fs::remove_file(&copy)
            }
            .with_context(|| format!("removing {}", copy.display()))?;
        }
    }
    let status = Command::new(env!("CARGO"))
        .args(["publish", "--workspace", "--dry-run", "--locked"])
        .args(passthrough)
        .current_dir(root)
        .status()
        .context("running cargo publish")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishable_members_are_the_ones_without_publish_false() {
        let meta = serde_json::json!({
            "workspace_members": ["a 0.1.0", "b 0.1.0", "x 0.0.0"],
            "packages": [
                {"id": "a 0.1.0", "name": "a", "version": "0.1.0", "publish": null},
                {"id": "b 0.1.0", "name": "b", "version": "0.1.0", "publish": ["crates-io"]},
                {"id": "x 0.0.0", "name": "x", "version": "0.0.0", "publish": []},
            ]
        });
        let found = publishable(&meta).unwrap();
        assert_eq!(
            found,
            [
                ("a".to_string(), "0.1.0".to_string()),
                ("b".to_string(), "0.1.0".to_string())
            ]
        );
    }

    #[test]
    fn only_our_crates_in_nameless_registries_are_stale() {
        let home = std::env::temp_dir().join(format!("xtask-package-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        let mk = |p: &str| std::fs::create_dir_all(home.join(p)).unwrap();
        mk("registry/src/-22c3805da5a543b4/trophy-generated-0.1.0/src");
        mk("registry/src/-22c3805da5a543b4/serde-1.0.0");
        mk("registry/src/-9739853df97339bd/trophy-0.1.0");
        mk("registry/src/-9739853df97339bd/trophy-0.2.0");
        mk("registry/src/index.crates.io-1949cf8c6b5b557f/trophy-0.1.0");
        mk("registry/cache/-22c3805da5a543b4");
        std::fs::write(home.join("registry/cache/-22c3805da5a543b4/trophy-0.1.0.crate"), b"x").unwrap();
        let packages = [
            ("trophy-generated".to_string(), "0.1.0".to_string()),
            ("trophy".to_string(), "0.1.0".to_string()),
        ];
        let found: Vec<String> = stale_copies(&home, &packages)
            .iter()
            .map(|p| p.strip_prefix(&home).unwrap().display().to_string())
            .collect();
        assert_eq!(
            found,
            [
                "registry/cache/-22c3805da5a543b4/trophy-0.1.0.crate",
                "registry/src/-22c3805da5a543b4/trophy-generated-0.1.0",
                "registry/src/-9739853df97339bd/trophy-0.1.0",
            ]
        );
        std::fs::remove_dir_all(&home).unwrap();
    }
}
