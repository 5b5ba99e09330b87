//! trophy's default TLS feature, seen from applications (the probes in `xtask/probes`): adding
//! trophy changes no other reqwest client and adds no second crypto library.
//!
//! Each probe is its own workspace, built with the workspace's `Cargo.lock` copied in (the same
//! versions, nothing new to download but what reqwest's defaults add) in `target/tls-probes`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The probe's directory, with the workspace's lockfile copied in.
fn probe(name: &str) -> PathBuf {
    let dir = root().join("xtask/probes").join(name);
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).expect("copy Cargo.lock");
    dir
}

fn cargo(dir: &Path, args: &[&str]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", root().join("target/tls-probes"))
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {} in {} failed ({}):\n{}\n{}",
        args.join(" "),
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The crypto libraries (crates implementing cryptography) in the probe's normal dependency
/// graph, and the providers they make up.
fn crypto(dir: &Path, extra: &[&str]) -> (BTreeSet<String>, BTreeSet<&'static str>) {
    let mut args = vec!["tree", "--edges", "normal", "--prefix", "none", "--format", "{p}"];
    args.extend_from_slice(extra);
    let out = cargo(dir, &args);
    let crates: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let mut found = BTreeSet::new();
    let mut providers = BTreeSet::new();
    for name in &crates {
        let provider = match name.as_str() {
            "ring" => "ring",
            "aws-lc-rs" | "aws-lc-sys" | "aws-lc-fips-sys" => "aws-lc",
            "openssl" | "openssl-sys" | "native-tls" => "openssl",
            "boring" | "boring-sys" => "boringssl",
            n if n.starts_with("rustls-") && (n.contains("crypto") || n.contains("openssl")) => "other",
            _ => continue,
        };
        found.insert(name.clone());
        providers.insert(provider);
    }
    (found, providers)
}

#[test]
fn an_application_reqwest_without_tls_features_builds_its_client_next_to_trophy() {
    let dir = probe("reqwest-without-tls");
    let (crates, providers) = crypto(&dir, &[]);
    println!("reqwest-without-tls + trophy: crypto crates {crates:?}");
    assert_eq!(providers, BTreeSet::from(["aws-lc"]), "{crates:?}");
    let out = cargo(&dir, &["run", "--quiet"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "reqwest-without-tls: trophy::Client built",
            "reqwest-without-tls: reqwest::Client::new() built",
            "reqwest-without-tls: reqwest client sent a TLS ClientHello",
        ]
    );
}

#[test]
fn an_application_on_reqwest_defaults_compiles_one_crypto_provider_with_trophy() {
    let dir = probe("reqwest-defaults");
    let (crates, providers) = crypto(&dir, &[]);
    println!("reqwest defaults + trophy: crypto crates {crates:?}");
    assert_eq!(
        crates,
        BTreeSet::from(["aws-lc-rs".to_string(), "aws-lc-sys".to_string()]),
        "exactly one crypto provider, reqwest's own"
    );
    assert_eq!(providers.len(), 1);
    let out = cargo(&dir, &["run", "--quiet"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).ends_with("reqwest-defaults: reqwest client sent a TLS ClientHello\n"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The crypto crates in trophy's own normal dependency graph with the given features.
fn trophy_crypto(features: &[&str]) -> BTreeSet<String> {
    crypto(&root(), &[&["-p", "trophy"], features].concat()).0
}

/// `rustls-ring` exists for the faster clean build, so it must not compile aws-lc too. It did:
/// `rustls/ring` in the feature list also switched on trophy's own feature named `rustls`
/// (reqwest's rustls with aws-lc-rs); `rustls?/ring` does not.
#[test]
fn each_tls_feature_compiles_exactly_its_own_crypto_library() {
    assert_eq!(
        trophy_crypto(&["--no-default-features", "--features", "rustls-ring"]),
        BTreeSet::from(["ring".to_string()])
    );
    assert_eq!(
        trophy_crypto(&[]),
        BTreeSet::from(["aws-lc-rs".to_string(), "aws-lc-sys".to_string()])
    );
    assert_eq!(
        trophy_crypto(&["--no-default-features", "--features", "rustls-no-provider"]),
        BTreeSet::new()
    );
    assert_eq!(trophy_crypto(&["--no-default-features"]), BTreeSet::new());
}
