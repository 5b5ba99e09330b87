//! `cargo xtask test`: prepares the machine, then runs every test of the workspace.
//!
//! 1. Looks on `PATH` for each external program the tests start ([`PROGRAMS`]).
//! 2. When some are missing: on Debian or Ubuntu as root, installs their packages with
//!    `apt-get update && apt-get install -y ...`; otherwise stops, before building anything,
//!    naming the install command for Debian/Ubuntu and for macOS (Homebrew).
//! 3. Runs `cargo test --workspace --all-features --no-fail-fast` (plus any arguments given
//!    after `--`), so one failing test binary hides no other.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// An external program some tests start, and where it comes from.
#[derive(Debug)]
pub struct Program {
    /// The names it may have on `PATH` (the first is the usual one).
    pub names: &'static [&'static str],
    /// Which tests need it.
    pub needed_by: &'static str,
    /// The Debian/Ubuntu package.
    pub apt: &'static str,
    /// The Homebrew install arguments (`brew install ...`).
    pub brew: &'static str,
}

/// Every external program the workspace's tests need.
pub const PROGRAMS: &[Program] = &[
    Program {
        names: &["redis-server"],
        needed_by: "the fleet tests of trophy-bench",
        apt: "redis-server",
        brew: "redis",
    },
    Program {
        names: &["redis-cli"],
        needed_by: "the Redis Cluster tests of trophy-bench (redis-cli --cluster create)",
        apt: "redis-tools",
        brew: "redis",
    },
    Program {
        names: &["chromium", "chromium-browser"],
        needed_by: "the emulator's browser tests",
        apt: "chromium",
        brew: "--cask chromium",
    },
    Program {
        names: &["chromedriver"],
        needed_by: "the emulator's browser tests",
        apt: "chromium-driver",
        brew: "--cask chromedriver",
    },
];

/// The full path of the first of `names` found in the directories of `path` (a `PATH` value).
pub fn find_on_path(names: &[&str], path: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path).find_map(|dir| {
        names
            .iter()
            .map(|name| dir.join(name))
            .find(|candidate| is_executable(candidate))
    })
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The programs of [`PROGRAMS`] not found on `path`.
pub fn missing(path: &std::ffi::OsStr) -> Vec<&'static Program> {
    PROGRAMS
        .iter()
        .filter(|p| find_on_path(p.names, path).is_none())
        .collect()
}

/// The commands that install `missing` on Debian/Ubuntu and on macOS.
pub fn install_hint(missing: &[&Program]) -> String {
    fn once<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
        let mut seen = Vec::new();
        for item in items {
            if !seen.contains(&item) {
                seen.push(item);
            }
        }
        seen
    }
    let apt = once(missing.iter().map(|p| p.apt));
    let mut brew: Vec<String> = Vec::new();
    let formulae = once(missing.iter().map(|p| p.brew).filter(|b| !b.starts_with("--cask")));
    if !formulae.is_empty() {
        brew.push(format!("brew install {}", formulae.join(" ")));
    }
    let casks: Vec<&str> = missing.iter().filter_map(|p| p.brew.strip_prefix("--cask ")).collect();
    if !casks.is_empty() {
        brew.push(format!("brew install --cask {}", casks.join(" ")));
    }
    format!(
        "  Debian/Ubuntu:     sudo apt-get update && sudo apt-get install -y {}\n  macOS (Homebrew):  {}",
        apt.join(" "),
        brew.join(" && ")
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Debian, Ubuntu or a derivative, with apt-get on `PATH`.
fn is_debian_like(path: &std::ffi::OsStr) -> bool {
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let family = os_release.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        (l.starts_with("id=") || l.starts_with("id_like=")) && (l.contains("debian") || l.contains("ubuntu"))
    });
    (family || Path::new("/etc/debian_version").exists()) && find_on_path(&["apt-get"], path).is_some()
}

fn run_status(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// Makes every program of [`PROGRAMS`] available, or fails naming how to install it.
fn prepare() -> Result<()> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let absent = missing(&path);
    for p in PROGRAMS {
        match find_on_path(p.names, &path) {
            Some(found) => println!("xtask test: {} found: {}", p.names[0], found.display()),
            None => println!("xtask test: {} missing (needed by {})", p.names[0], p.needed_by),
        }
    }
    if absent.is_empty() {
        return Ok(());
    }
    if !(is_root() && is_debian_like(&path)) {
        bail!(
            "missing {}; install {} and run `cargo xtask test` again:\n{}",
            absent.iter().map(|p| p.names[0]).collect::<Vec<_>>().join(", "),
            if absent.len() == 1 { "it" } else { "them" },
            install_hint(&absent)
        );
    }
    let packages: Vec<&str> = absent.iter().map(|p| p.apt).collect();
    println!("xtask test: installing {} with apt-get", packages.join(" "));
    run_status(
        Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    run_status(
        Command::new("apt-get")
            .args(["install", "-y"])
            .args(&packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    let still = missing(&path);
    if !still.is_empty() {
        bail!(
            "apt-get installed {} but {} is still not on PATH",
            packages.join(" "),
            still.iter().map(|p| p.names[0]).collect::<Vec<_>>().join(", ")
        );
    }
    println!("xtask test: installed {}", packages.join(" "));
    Ok(())
}

/// `cargo xtask test [-- <cargo test arguments>]`.
pub fn command(args: &[String], root: &Path) -> Result<ExitCode> {
    let extra: &[String] = match args.first().map(String::as_str) {
        None => &[],
        Some("--") => &args[1..],
        Some(other) => bail!("unknown option {other}: pass cargo test arguments after `--`"),
    };
    prepare()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["test", "--workspace", "--all-features", "--no-fail-fast"])
        .args(extra);
    println!(
        "xtask test: cargo test --workspace --all-features --no-fail-fast {}",
        extra.join(" ")
    );
    let status = cmd.status().context("running cargo test")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn fake_dir(names: &[&str]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-test-path-{}-{}", std::process::id(), names.join("+")));
        std::fs::create_dir_all(&dir).unwrap();
        for name in names {
            let file = dir.join(name);
            std::fs::write(&file, "#!/bin/sh\n").unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir
    }

    #[test]
    fn missing_programs_are_found_by_path_and_named_with_both_install_commands() {
        let none = fake_dir(&[]);
        let all = missing(none.as_os_str());
        assert_eq!(
            all.iter().map(|p| p.names[0]).collect::<Vec<_>>(),
            ["redis-server", "redis-cli", "chromium", "chromedriver"]
        );
        let hint = install_hint(&all);
        assert!(
            hint.contains(
                "sudo apt-get update && sudo apt-get install -y redis-server redis-tools chromium chromium-driver"
            ),
            "{hint}"
        );
        assert!(
            hint.contains("brew install redis && brew install --cask chromium chromedriver"),
            "{hint}"
        );

        // Found in any directory of PATH, under either name of chromium; a non-executable file
        // does not count.
        let some = fake_dir(&["redis-server", "redis-cli", "chromium-browser"]);
        let plain = some.join("chromedriver");
        std::fs::write(&plain, "not executable").unwrap();
        let path = std::env::join_paths([none.clone(), some.clone()]).unwrap();
        let left = missing(&path);
        assert_eq!(left.iter().map(|p| p.names[0]).collect::<Vec<_>>(), ["chromedriver"]);
        assert_eq!(
            install_hint(&left),
            "  Debian/Ubuntu:     sudo apt-get update && sudo apt-get install -y chromium-driver\n  \
             macOS (Homebrew):  brew install --cask chromedriver"
        );
        assert_eq!(
            find_on_path(&["chromium", "chromium-browser"], &path),
            Some(some.join("chromium-browser"))
        );
        std::fs::remove_dir_all(none).unwrap();
        std::fs::remove_dir_all(some).unwrap();
    }
}
