//! The doc examples of `trophy` test what they show: a call turned into a comment inside an
//! example (as a stray `/// ///` once did to `systems().update(..)` in the points docs) compiles
//! and passes while testing nothing, so no example may hold a commented-out statement.

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

/// The lines of the doc examples of a source (inside ``` fences of `///` or `//!` comments)
/// that are comments holding code: a statement (`…;`) or an `.await`.
fn commented_out_code(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_example = false;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let Some(doc) = trimmed.strip_prefix("///").or_else(|| trimmed.strip_prefix("//!")) else {
            in_example = false;
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        if doc.trim_start().starts_with("```") {
            in_example = !in_example;
            continue;
        }
        if !in_example {
            continue;
        }
        let code = doc.trim_start().trim_start_matches('#').trim_start();
        if let Some(comment) = code.strip_prefix("//") {
            let comment = comment.trim_start_matches(['/', '!']).trim();
            if comment.ends_with(';') || comment.contains(".await") {
                found.push((n + 1, line.trim().to_string()));
            }
        }
    }
    found
}

#[test]
fn no_doc_example_holds_a_commented_out_call() {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() > 30, "found only {} files", files.len());
    let mut examples = 0;
    let mut found = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("source file");
        examples += text.matches("/// ```").count() + text.matches("//! ```").count();
        for (line, code) in commented_out_code(&text) {
            found.push(format!("{}:{line}: {code}", path.display()));
        }
    }
    assert!(examples >= 60, "found only {examples} example fences");
    assert!(
        found.is_empty(),
        "doc examples with a commented-out call:\n{}",
        found.join("\n")
    );
}

/// The scan finds the fault it is for, and leaves prose comments and code outside examples alone.
#[test]
fn the_scan_finds_a_vanished_call() {
    let example = |body: &str| format!("/// Text; not code.\n/// ```\n{body}\n/// ```\n// outside();\n");
    assert!(commented_out_code(&example("/// let x = 1;\n/// // The default is 10.")).is_empty());
    assert!(commented_out_code(&example("/// //! /// A doc comment in the example")).is_empty());
    let vanished = commented_out_code(&example("/// ///     points.systems().update(x).send().await?;"));
    assert_eq!(vanished.len(), 1);
    assert_eq!(vanished[0].0, 3);
    assert_eq!(
        commented_out_code(&example("//! // client.users().get(id).send().await?")).len(),
        1
    );
    assert_eq!(commented_out_code(&example("/// # // let hidden = 1;")).len(), 1);
}
