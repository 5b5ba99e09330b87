//! The source layout stays one-way: every `crate::` path in `src/*.rs` (outside comments) goes
//! from a module to one of a lower layer of the table in `src/lib.rs`, and the module graph has
//! no cycle. Run with `--nocapture` to see the graph it checks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The text of a source file without `//` comments (doc comments included), so that links in
/// documentation do not count as uses.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let code = match line.find("//") {
            // A `//` inside a string (a URL) is rare in this crate; cutting there only drops
            // the rest of that line, which holds no path.
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The first identifier of `s`.
fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The modules and crate-root items a file names through `crate::`: `crate::model::X`,
/// `crate::{a, b::C}`. A name that is not a module is an item of the crate root (`lib`).
fn uses(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut add = |name: &str| {
        if name.is_empty() || name == "self" {
            return;
        }
        found.insert(if modules.contains(name) {
            name.to_string()
        } else {
            "lib".to_string()
        });
    };
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // `trophy_crate::`, not ours
        }
        if let Some(group) = rest.strip_prefix('{') {
            let close = group.find('}').expect("an unclosed `crate::{` group");
            for part in group[..close].split(',') {
                add(ident(part.trim()));
            }
        } else {
            add(ident(rest));
        }
    }
    found
}

/// The layers of the table in `lib.rs`, top first.
fn layers(lib: &str) -> Vec<Vec<String>> {
    lib.lines()
        .filter_map(|l| l.trim_start().strip_prefix("// layer:"))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// A cycle of `graph`, if any, as the path that closes it.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut done, &mut Vec::new()))
}

/// The module graph of `src/*.rs` without `main.rs` (the binary): `lib` uses every module it
/// declares; the others use what their `crate::` paths name.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(src_dir()).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") && name != "main" {
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            files.insert(name.to_string(), text);
        }
    }
    let modules: BTreeSet<String> = files.keys().filter(|n| *n != "lib").cloned().collect();
    files
        .iter()
        .map(|(name, text)| {
            let mut deps = uses(&code_of(text), &modules);
            if name == "lib" {
                deps.extend(modules.iter().filter(|m| text.contains(&format!("mod {m};"))).cloned());
            }
            deps.remove(name);
            (name.clone(), deps)
        })
        .collect()
}

fn show(graph: &BTreeMap<String, BTreeSet<String>>) -> String {
    graph
        .iter()
        .map(|(m, deps)| format!("{m} -> {}", deps.iter().cloned().collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn modules_depend_one_way_along_the_layers_of_lib_rs() {
    let graph = module_graph();
    println!("module graph checked:\n{}", show(&graph));
    assert!(
        graph.len() >= 10,
        "expected the emulator's modules, found:\n{}",
        show(&graph)
    );

    if let Some(cycle) = find_cycle(&graph) {
        panic!("import cycle: {}\n\n{}", cycle.join(" -> "), show(&graph));
    }

    let lib = std::fs::read_to_string(src_dir().join("lib.rs")).expect("lib.rs");
    let layers = layers(&lib);
    let mut rank = BTreeMap::from([("lib".to_string(), 0)]);
    for (i, layer) in layers.iter().enumerate() {
        for m in layer {
            assert!(
                rank.insert(m.clone(), i + 1).is_none(),
                "{m} is in two layers of lib.rs"
            );
        }
    }
    let mut wrong = Vec::new();
    for (m, deps) in &graph {
        let Some(&from) = rank.get(m) else {
            wrong.push(format!("{m}.rs is in no layer of the table in lib.rs"));
            continue;
        };
        for d in deps {
            match rank.get(d) {
                Some(&to) if to > from => {}
                Some(_) => wrong.push(format!("{m} uses {d}, which is not in a layer below it")),
                None => wrong.push(format!("{m} uses {d}, which is in no layer")),
            }
        }
    }
    for m in rank.keys() {
        if !graph.contains_key(m) {
            wrong.push(format!("the table in lib.rs names {m}, which has no file"));
        }
    }
    assert!(wrong.is_empty(), "{}\n\n{}", wrong.join("\n"), show(&graph));
}

/// The checker itself finds what it must: grouped and nested paths, root items, comments left
/// out, and a cycle.
#[test]
fn the_checker_sees_paths_and_cycles() {
    let modules: BTreeSet<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let code = code_of(
        "use crate::a::X;\n/// [`crate::c::Y`]\nfn f(_: &crate::b::Z) {}\nuse crate::{c, Faults};\n// crate::zzz\n",
    );
    let found: Vec<String> = uses(&code, &modules).into_iter().collect();
    assert_eq!(found, ["a", "b", "c", "lib"]);

    let edge = |a: &str, b: &str| (a.to_string(), BTreeSet::from([b.to_string()]));
    let graph = BTreeMap::from([edge("a", "b"), edge("b", "c"), edge("c", "a")]);
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let graph = BTreeMap::from([edge("a", "b"), edge("b", "c")]);
    assert_eq!(find_cycle(&graph), None);
}
