//! The wire is written once: every call of `trophy` is built from the descriptors generated
//! into `trophy_generated::operations` (see the crate docs, "API convention").
//!
//! - no HTTP method, path template or operation id is written by hand in `src/api`;
//! - every operation of the documents is wrapped: one added to a document and regenerated
//!   fails [`every_operation_of_the_documents_is_wrapped`] until a builder uses it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use trophy_generated::operations::ALL;

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

fn src(sub: &str) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(sub), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("source file");
            (p, text)
        })
        .collect()
}

/// The code of a Rust source: comments (`//`, `///`, `//!`, `/* */`) removed, string and char
/// literals kept. Returns (code, string literals).
fn code_and_strings(text: &str) -> (String, Vec<String>) {
    let mut code = String::new();
    let mut strings = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    s.push(chars[i]);
                    i += 1;
                }
                s.push(chars[i]);
                i += 1;
            }
            i += 1;
            code.push_str("\"\"");
            strings.push(s);
        } else if c == '\'' && next.is_some_and(|n| n != '\\') && chars.get(i + 2) == Some(&'\'') {
            // A char literal such as '"' or '{'.
            code.push_str("' '");
            i += 3;
        } else {
            code.push(c);
            i += 1;
        }
    }
    (code, strings)
}

#[test]
fn no_method_path_or_operation_id_is_written_by_hand_in_api() {
    let ids: BTreeSet<&str> = ALL.iter().map(|op| op.id).collect();
    let files = src("api");
    assert!(files.len() > 20, "found only {} files", files.len());
    let mut found = Vec::new();
    for (path, text) in &files {
        let (code, strings) = code_and_strings(text);
        for word in ["Method::", "http::Method", "Call::new"] {
            if code.contains(word) {
                found.push(format!("{}: `{word}`", path.display()));
            }
        }
        for s in strings {
            let method = ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&s.as_str());
            if s.starts_with('/') || ids.contains(s.as_str()) || method {
                found.push(format!("{}: \"{s}\"", path.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "written by hand instead of taken from a descriptor:\n{}",
        found.join("\n")
    );
}

/// The scanner itself finds what the test above forbids.
#[test]
fn the_scanner_sees_literals_and_not_comments() {
    let (code, strings) = code_and_strings(
        "/// `GET /users/{id}`\nlet c = Call::new(Api::App, \"users_get\", Method::GET, \"/users/{id}\"); // \"x\"\nlet q = '\"';",
    );
    assert_eq!(strings, ["users_get", "/users/{id}"]);
    assert!(code.contains("Method::GET") && !code.contains("`GET"));
}

#[test]
fn every_operation_of_the_documents_is_wrapped() {
    let ids: BTreeSet<&str> = ALL.iter().map(|op| op.id).collect();
    assert_eq!(ids.len(), ALL.len(), "operation ids are unique");
    let mut used = BTreeSet::new();
    for (_, text) in src("api").into_iter().chain(src("ingest")) {
        let (code, _) = code_and_strings(&text);
        // `ops::<id>::..` in builders, and the `ops: [<id>, ..]` lists of the bulk resources.
        for (i, _) in code.match_indices("ops::") {
            let id: String = code[i + 5..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            used.insert(id);
        }
        for (i, _) in code.match_indices("ops: [") {
            let list = &code[i + 6..i + 6 + code[i + 6..].find(']').expect("closing bracket")];
            used.extend(list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
        }
    }
    let used: BTreeSet<&str> = used.iter().map(String::as_str).filter(|id| ids.contains(id)).collect();
    let missing: Vec<&&str> = ids.difference(&used).collect();
    assert!(
        missing.is_empty(),
        "operations of the documents no builder sends: {missing:?}"
    );
    assert_eq!(used.len(), 85);
}

/// The doc comments of a source, one entry per paragraph of consecutive `///` lines: the joined
/// text, the line it starts on, and the first code line after it.
fn doc_paragraphs(text: &str) -> Vec<(String, usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].trim_start().starts_with("///") {
            i += 1;
            continue;
        }
        let start = i;
        let mut joined = String::new();
        while i < lines.len() && lines[i].trim_start().starts_with("///") {
            let content = lines[i].trim_start().trim_start_matches("///").trim();
            if content.is_empty() {
                joined.push('\n');
            } else {
                joined.push(' ');
                joined.push_str(content);
            }
            i += 1;
        }
        let item = lines[i..]
            .iter()
            .find(|l| !l.trim_start().starts_with("#[") && !l.trim().is_empty())
            .map(|l| l.trim().to_string())
            .unwrap_or_default();
        for para in joined.split('\n') {
            out.push((para.trim().to_string(), start + 1, item.clone()));
        }
    }
    out
}

/// Every `` `METHOD /path` `` a paragraph names, in order.
fn named_operations(para: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (i, _) in para.match_indices('`') {
        let rest = &para[i + 1..];
        let Some(end) = rest.find('`') else { break };
        let quoted = &rest[..end];
        if let Some((method, path)) = quoted.split_once(' ') {
            if ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method) && path.starts_with('/') {
                found.push((method.to_string(), path.to_string()));
            }
        }
    }
    found
}

/// The prose of the builders and handle methods ("Builder of `GET /users/{id}` (operation
/// `users_get`)", "`GET /environments`: every environment") is checked against the descriptors,
/// so a renamed path or method in a document fails here instead of leaving stale docs behind.
fn stale_operation_prose(files: &[(PathBuf, String)]) -> Vec<String> {
    let ops: BTreeSet<(String, String)> = ALL
        .iter()
        .map(|op| (op.method.as_str().to_string(), op.path.to_string()))
        .collect();
    let mut builders = std::collections::BTreeMap::new();
    let mut stale = Vec::new();
    let mut mentions = Vec::new();
    for (path, text) in files {
        let name = path.display();
        for (para, line, item) in doc_paragraphs(text) {
            let named = named_operations(&para);
            if let Some(rest) = para.strip_prefix("Builder of ") {
                let id = rest
                    .split("(operation `")
                    .nth(1)
                    .and_then(|s| s.split('`').next())
                    .unwrap_or_default();
                let Some(op) = ALL.iter().find(|op| op.id == id) else {
                    stale.push(format!("{name}:{line}: names no operation of the documents: {para}"));
                    continue;
                };
                let wanted = (op.method.as_str().to_string(), op.path.to_string());
                if named.first() != Some(&wanted) {
                    stale.push(format!(
                        "{name}:{line}: says {:?}, the descriptor of `{id}` is `{} {}`",
                        named.first(),
                        wanted.0,
                        wanted.1
                    ));
                }
                if let Some(builder) = item.strip_prefix("pub struct ") {
                    let builder: String = builder
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    builders.insert(builder, wanted);
                }
            } else {
                for op in &named {
                    if !ops.contains(op) {
                        stale.push(format!(
                            "{name}:{line}: `{} {}` is no operation of the documents",
                            op.0, op.1
                        ));
                    }
                }
                if let (Some(first), Some((_, ret))) = (named.first(), item.split_once("-> ")) {
                    let ret: String = ret.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    mentions.push((format!("{name}:{line}"), first.clone(), ret));
                }
            }
        }
    }
    for (at, said, builder) in mentions {
        if let Some(actual) = builders.get(&builder) {
            if &said != actual {
                stale.push(format!(
                    "{at}: says `{} {}` but returns {builder}, a builder of `{} {}`",
                    said.0, said.1, actual.0, actual.1
                ));
            }
        }
    }
    stale
}

#[test]
fn operation_prose_in_docs_matches_the_descriptors() {
    let files = src("api");
    let builder_lines = files
        .iter()
        .map(|(_, t)| t.matches("/// Builder of `").count())
        .sum::<usize>();
    assert!(builder_lines >= 40, "found only {builder_lines} builder doc lines");
    let stale = stale_operation_prose(&files);
    assert!(
        stale.is_empty(),
        "doc prose that no longer matches the documents:\n{}",
        stale.join("\n")
    );
}

/// The check above fails on each kind of stale prose.
#[test]
fn stale_operation_prose_is_found() {
    let file = |text: &str| vec![(PathBuf::from("x.rs"), text.to_string())];
    let good = "impl H {\n    /// `GET /users/{id}`: one user.\n    pub fn get(&self) -> GetUser {}\n}\n\
                /// Builder of `GET /users/{id}` (operation\n/// `users_get`).\n#[derive(Debug)]\npub struct GetUser {}\n";
    assert_eq!(stale_operation_prose(&file(good)), Vec::<String>::new());
    let wrong_path = good.replace("Builder of `GET /users/{id}`", "Builder of `GET /user/{id}`");
    assert_eq!(stale_operation_prose(&file(&wrong_path)).len(), 1);
    let wrong_id = good.replace("`users_get`", "`users_gone`");
    assert!(stale_operation_prose(&file(&wrong_id))[0].contains("names no operation"));
    let wrong_method = good.replace("/// `GET /users/{id}`: one", "/// `DELETE /users/{id}`: one");
    assert!(stale_operation_prose(&file(&wrong_method))[0].contains("no operation of the documents"));
    let other_op = good.replace("/// `GET /users/{id}`: one", "/// `GET /streaks`: one");
    assert!(stale_operation_prose(&file(&other_op))[0].contains("returns GetUser"));
}

/// Error messages name the call a user wrote (`users().metric`) beside the operation id: every
/// operation has one, and its last method is defined in a source that sends the operation (a
/// `pub fn <method>(` there, or the `crud!` macro's five for a bulk resource's `ops: [..]`).
#[test]
fn every_operation_has_the_call_that_sends_it() {
    let files: Vec<(String, String)> = src("api")
        .into_iter()
        .map(|(_, text)| (code_and_strings(&text).0, text))
        .collect();
    let mut wrong = Vec::new();
    for op in ALL {
        let Some(call) = trophy::__private::call_name(op.id) else {
            wrong.push(format!("{}: no call", op.id));
            continue;
        };
        let method = call.rsplit('.').next().unwrap_or_default();
        let found = files.iter().any(|(code, text)| {
            let sends = code.contains(&format!("ops::{}::", op.id)) || code.contains(&format!("ops::{} as", op.id));
            let direct = sends && ["(", "<"].iter().any(|c| text.contains(&format!("pub fn {method}{c}")));
            let bulk = code.contains("crud! {")
                && code.contains(op.id)
                && ["list", "create", "get", "update", "delete"].contains(&method)
                && op.id.ends_with(method);
            direct || bulk
        });
        if !found {
            wrong.push(format!(
                "{}: `{call}` is not a method of the source that sends it",
                op.id
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(trophy::__private::call_name("no_such_operation"), None);
}
