//! `cargo xtask`: maintenance commands of trophy-rs.
//!
//! - `cargo xtask regen [--check]`: regenerate `trophy-generated/src/{app,admin}.rs` from
//!   `openapi/` (and `operations.rs`, the operation descriptors); with `--check`, fail with a diff when the checked-in files are stale.
//! - `cargo xtask spec-diff <reference> [--ours <document>]`: semantic comparison of a reference
//!   document (JSON or YAML, OpenAPI 3.0 or 3.1) with one of ours.
//! - `cargo xtask normalize <document>`: print the document as progenitor receives it.
//! - `cargo xtask msrv`: fail when a locked package needs a newer Rust than `rust-version`.
//! - `cargo xtask test [-- <cargo test arguments>]`: install (or name) the external programs
//!   the tests need, then run every test of the workspace (see `testcmd`).
//! - `cargo xtask package [-- <cargo publish arguments>]`: `cargo publish --workspace --dry-run
//!   --locked` that never builds an earlier dry run's sources (see `package`).

mod generate;
mod msrv;
mod normalize;
mod operations;
mod package;
mod specdiff;
mod testcmd;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

const USAGE: &str = "usage:
  cargo xtask regen [--check]
  cargo xtask spec-diff <reference.json|yaml> [--ours <document>] [--base <reference>]
  cargo xtask normalize <document>
  cargo xtask msrv
  cargo xtask test [-- <cargo test arguments>]
  cargo xtask package [-- <cargo publish arguments>]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<ExitCode> {
    let Some(cmd) = args.first() else { bail!("{USAGE}") };
    match cmd.as_str() {
        "regen" => {
            let check = match args.get(1).map(String::as_str) {
                None => false,
                Some("--check") => true,
                Some(other) => bail!("unknown option {other}\n{USAGE}"),
            };
            regen(check)
        }
        "spec-diff" => specdiff::command(&args[1..], &workspace_root()),
        "normalize" => {
            let path = args.get(1).context(USAGE)?;
            let doc = normalize::to_progenitor(normalize::load(Path::new(path))?)?;
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(ExitCode::SUCCESS)
        }
        "msrv" => msrv::command(&workspace_root()),
        "test" => testcmd::command(&args[1..], &workspace_root()),
        "package" => package::command(&args[1..], &workspace_root()),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => bail!("unknown command {other}\n{USAGE}"),
    }
}

fn regen(check: bool) -> Result<ExitCode> {
    let root = workspace_root();
    let started = std::time::Instant::now();
    let mut stale = Vec::new();
    let mut outputs = Vec::new();
    let mut normalized_docs: Vec<(&generate::Api, serde_json::Value)> = Vec::new();
    for api in generate::APIS {
        let doc = normalize::load(&root.join("openapi").join(api.document))?;
        let normalized = normalize::to_progenitor(doc)?;
        // An enum the Application document already defines is that module's type (the first).
        let shared = normalized_docs
            .first()
            .map(|(owner, owner_doc)| (owner.module, generate::shared_enums(&normalized, owner_doc)));
        let source = generate::generate(api, &normalized, shared.as_ref().map(|(m, n)| (*m, n.as_slice())))?;
        outputs.push((format!("{}.rs", api.module), source));
        normalized_docs.push((api, normalized));
    }
    let docs: Vec<_> = normalized_docs
        .iter()
        .map(|(api, doc)| (if api.module == "admin" { "Admin" } else { "App" }, api.document, doc))
        .collect();
    outputs.push(("operations.rs".to_string(), operations::generate(&docs)?));
    for (file, source) in outputs {
        let target = root.join("trophy-generated/src").join(file);
        let current = std::fs::read_to_string(&target).unwrap_or_default();
        if current == source {
            continue;
        }
        if check {
            print_diff(&target, &current, &source);
            stale.push(target);
        } else {
            std::fs::write(&target, &source).with_context(|| format!("writing {}", target.display()))?;
            println!("wrote {} ({} lines)", target.display(), source.lines().count());
        }
    }
    if !stale.is_empty() {
        eprintln!(
            "\n{} generated file(s) differ from what openapi/ produces; run `cargo xtask regen` and review the snapshots.",
            stale.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    if check {
        println!("trophy-generated is up to date ({:.2?})", started.elapsed());
    } else {
        println!("regenerated in {:.2?}", started.elapsed());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_diff(path: &Path, old: &str, new: &str) {
    let diff = similar::TextDiff::from_lines(old, new);
    println!(
        "--- {} (checked in)\n+++ {} (regenerated)",
        path.display(),
        path.display()
    );
    let mut shown = 0;
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        if shown >= 400 {
            println!("... diff truncated");
            break;
        }
        let text = hunk.to_string();
        shown += text.lines().count();
        print!("{text}");
    }
}
