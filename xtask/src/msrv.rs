//! `cargo xtask msrv`: checks that no package in `Cargo.lock` needs a newer Rust than the
//! workspace declares (`rust-version`). Only one toolchain is installed where this project is
//! built, so the declared minimum cannot be compiled with directly; this check, and clippy's
//! `incompatible_msrv` lint (standard library items newer than `rust-version`), stand in for it.

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, ExitCode};

/// `1.88` or `1.88.0` as `(1, 88, 0)`.
fn version(s: &str) -> Result<(u64, u64, u64)> {
    let parts: Vec<u64> = s
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("not a Rust version: {s:?}"))?;
    match parts.as_slice() {
        [major, minor] => Ok((*major, *minor, 0)),
        [major, minor, patch] => Ok((*major, *minor, *patch)),
        _ => bail!("not a Rust version: {s:?}"),
    }
}

/// A locked package: (name, version, rust-version).
type Package = (String, String, String);

/// The workspace members' entries in a `cargo metadata` document's `packages`.
pub(crate) fn member_packages(meta: &Value) -> Result<Vec<&Value>> {
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .context("cargo metadata has no workspace_members")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages = meta["packages"].as_array().context("cargo metadata has no packages")?;
    Ok(packages
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| members.contains(id)))
        .collect())
}

/// The packages of a `cargo metadata` document that need a newer Rust than the workspace
/// members declare: (declared, packages).
fn too_new(meta: &Value) -> Result<(String, Vec<Package>)> {
    let resolved: BTreeSet<&str> = meta["resolve"]["nodes"]
        .as_array()
        .context("cargo metadata has no resolve graph")?
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    let packages = meta["packages"].as_array().context("cargo metadata has no packages")?;
    let mut declared: Option<String> = None;
    for p in member_packages(meta)? {
        let name = p["name"].as_str().unwrap_or_default();
        let rv = p["rust_version"]
            .as_str()
            .with_context(|| format!("workspace member {name} declares no rust-version"))?;
        match &declared {
            Some(d) if d != rv => bail!("workspace members declare different rust-versions ({d} and {rv} in {name})"),
            _ => declared = Some(rv.to_string()),
        }
    }
    let declared = declared.context("no workspace members")?;
    let limit = version(&declared)?;
    let mut over = Vec::new();
    for p in packages
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| resolved.contains(id)))
    {
        if let Some(rv) = p["rust_version"].as_str() {
            if version(rv)? > limit {
                let field = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                over.push((field("name"), field("version"), rv.to_string()));
            }
        }
    }
    Ok((declared, over))
}

pub fn command(root: &Path) -> Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    ensure!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).context("cargo metadata output")?;
    let (declared, over) = too_new(&meta)?;
    if over.is_empty() {
        println!("every locked package builds with the declared rust-version {declared}");
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("locked packages that need a newer Rust than the declared rust-version {declared}:");
    for (name, version, rv) in &over {
        eprintln!("  {name} {version} needs {rv}");
    }
    eprintln!(
        "pick versions that fit (`CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update -p <name>`) \
         or raise rust-version"
    );
    Ok(ExitCode::FAILURE)
}

#[cfg(test)]
mod tests {
    use super::{too_new, version};
    use serde_json::json;

    fn meta(dep_rv: &str) -> serde_json::Value {
        json!({
            "workspace_members": ["a 0.1.0"],
            "resolve": {"nodes": [{"id": "a 0.1.0"}, {"id": "dep 1.0.0"}]},
            "packages": [
                {"id": "a 0.1.0", "name": "a", "version": "0.1.0", "rust_version": "1.88"},
                {"id": "dep 1.0.0", "name": "dep", "version": "1.0.0", "rust_version": dep_rv},
                {"id": "unused 1.0.0", "name": "unused", "version": "1.0.0", "rust_version": "1.99"}
            ]
        })
    }

    #[test]
    fn versions_compare_with_an_implicit_patch() {
        assert_eq!(version("1.88").unwrap(), (1, 88, 0));
        assert!(version("1.89.0").unwrap() > version("1.88").unwrap());
        assert!(version("1.88.0").unwrap() == version("1.88").unwrap());
        assert!(version("one").is_err());
    }

    #[test]
    fn only_resolved_packages_above_the_declared_version_are_listed() {
        let (declared, over) = too_new(&meta("1.88.0")).unwrap();
        assert_eq!(
            (declared.as_str(), over.len()),
            ("1.88", 0),
            "the unused 1.99 package is not resolved"
        );
        let (_, over) = too_new(&meta("1.89")).unwrap();
        assert_eq!(over, [("dep".to_string(), "1.0.0".to_string(), "1.89".to_string())]);
    }
}
