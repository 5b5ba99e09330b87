//! The parts of the API convention (crate docs) that a signature shows, checked on every public
//! function of `src/api` and `src/user.rs`:
//!
//! - every id parameter takes `impl Into<Id>`;
//! - one integer type per concept: points are `i64`, lengths, intervals and counts `u32`, a
//!   metric threshold `u64` where the document types it as an integer (`impl Into<f64>` where
//!   it types it as a number);
//! - no two free-form strings side by side, except a name followed by its key and a key or name
//!   followed by its value (an attribute, a header).

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(function, [(parameter, type)])` of every `pub fn` in a source (macro bodies included).
fn signatures(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("pub fn ") {
        let rest = &text[i + 7..];
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let Some(open) = rest.find('(') else { continue };
        // The parameter list: up to the parenthesis that closes the first one.
        let mut depth = 0;
        let mut end = open;
        for (j, c) in rest[open..].char_indices() {
            match c {
                '(' | '<' => depth += 1,
                ')' | '>' if rest.as_bytes()[open + j.saturating_sub(1)] != b'-' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + j;
                        break;
                    }
                }
                _ => {}
            }
        }
        let mut params = Vec::new();
        let mut depth = 0;
        let mut current = String::new();
        for c in rest[open + 1..end].chars().chain([',']) {
            match c {
                '<' | '(' => depth += 1,
                '>' | ')' => depth -= 1,
                _ => {}
            }
            if c == ',' && depth == 0 {
                if let Some((p, t)) = current.split_once(':') {
                    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
                    params.push((p.trim().to_string(), t));
                }
                current.clear();
            } else {
                current.push(c);
            }
        }
        out.push((name, params));
    }
    out
}

fn type_rule(function: &str, param: &str, ty: &str) -> Option<String> {
    let id = param == "id" || param == "ids" || param.ends_with("_id") || param.ends_with("_ids");
    let wanted: &[&str] = if id {
        &[
            "impl Into<crate::Id>",
            "impl IntoIterator<Item = impl Into<crate::Id>>",
            "I",
        ]
    } else if param == "points" || function == "max_points" {
        &["i64"]
    } else if param == "threshold" {
        &["u64", "impl Into<f64>"]
    } else if [
        "length",
        "interval",
        "years",
        "interval_days",
        "start_count",
        "max_count",
        "amount",
    ]
    .contains(&param)
    {
        &["u32"]
    } else {
        return None;
    };
    (!wanted.contains(&ty)).then(|| format!("`{function}({param}: {ty})` should take {}", wanted.join(" or ")))
}

fn violations(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (function, params) in signatures(text) {
        for (param, ty) in &params {
            found.extend(type_rule(&function, param, ty));
        }
        for pair in params.windows(2) {
            let strings = pair.iter().all(|(_, t)| t == "impl Into<String>");
            let allowed = [("name", "key"), ("key", "value"), ("name", "value")]
                .contains(&(pair[0].0.as_str(), pair[1].0.as_str()));
            if strings && !allowed {
                found.push(format!(
                    "`{function}({}, {})`: two strings side by side (only a name and its key, or a key or name and its value, may be)",
                    pair[0].0, pair[1].0
                ));
            }
        }
    }
    found
}

#[test]
fn signatures_follow_the_convention() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.join("user.rs")];
    sources(&root.join("api"), &mut files);
    let mut checked = 0;
    let mut found = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("source file");
        checked += signatures(&text).len();
        found.extend(
            violations(&text)
                .into_iter()
                .map(|v| format!("{}: {v}", path.display())),
        );
    }
    assert!(checked > 250, "found only {checked} public functions");
    assert!(
        found.is_empty(),
        "signatures against the API convention:\n{}",
        found.join("\n")
    );
}

/// Each rule fails on the fault it is for (the faults the held-out port ran into).
#[test]
fn each_rule_finds_its_fault() {
    let ok = "pub fn new(name: impl Into<String>, key: impl Into<String>, points: i64) -> Self {}\n\
              pub fn list(&self, user_ids: impl IntoIterator<Item = impl Into<crate::Id>>) -> L {}\n\
              pub fn streak(length: u32, points: i64) -> Self {}\n\
              pub fn metric(mut self, key: impl Into<String>, threshold: u64) -> Self {}";
    assert_eq!(violations(ok), Vec::<String>::new());
    let string_ids = "pub fn list(&self, user_ids: impl IntoIterator<Item = impl Into<String>>) -> L {}";
    assert_eq!(violations(string_ids).len(), 1);
    assert_eq!(
        violations("pub fn new(name: impl Into<String>, points: u64) -> Self {}").len(),
        1
    );
    assert_eq!(
        violations("pub fn metric(mut self, key: impl Into<String>, threshold: u32) -> Self {}").len(),
        1
    );
    assert_eq!(
        violations("pub fn streak(length: u64, points: i64) -> Self {}").len(),
        1
    );
    let swapped = "pub fn new(name: impl Into<String>, customer_id: impl Into<String>) -> Self {}";
    assert_eq!(violations(swapped).len(), 2, "{:?}", violations(swapped));
}
