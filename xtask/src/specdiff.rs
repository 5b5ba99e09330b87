//! `cargo xtask spec-diff`: a semantic comparison of two OpenAPI documents.
//!
//! Both documents are brought to OpenAPI 3.0 form (the format rules of `normalize`), then each
//! is reduced to a set of facts: operations and their ids, parameters (location, name,
//! required), request and response bodies per status, and for every schema node its type,
//! format, enum values, nullability, properties and required flags. Descriptions, examples,
//! defaults and validation keywords are not facts. A `$ref` to a component both documents
//! define is a fact by name; a `$ref` to a component only one defines is expanded in place, so
//! hoisting an inline schema into a named component changes nothing.
//!
//! The facts of the reference missing from ours are listed first, then those only in ours.
//! The exit status is 0 only when ours lacks nothing the reference has.

use crate::normalize;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn command(args: &[String], root: &Path) -> Result<ExitCode> {
    let mut reference = None;
    let mut ours = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--ours" => ours = Some(PathBuf::from(it.next().context("--ours needs a document")?)),
            s if s.starts_with("--") => bail!("unknown option {s}"),
            s => reference = Some(PathBuf::from(s)),
        }
    }
    let reference = reference.context("usage: cargo xtask spec-diff <reference> [--ours <document>]")?;
    let ref_doc = normalize::load(&reference)?;
    let ours = match ours {
        Some(p) => p,
        None => pick_ours(&ref_doc, root)?,
    };
    let our_doc = normalize::load(&ours)?;
    let diff = diff(&ref_doc, &our_doc);
    println!("reference: {}\nours:      {}", reference.display(), ours.display());
    println!(
        "facts: {} in the reference, {} in ours",
        diff.reference_count, diff.ours_count
    );
    print_section("missing from ours (in the reference only)", &diff.missing);
    print_section("only in ours", &diff.extra);
    if diff.missing.is_empty() {
        println!("\nours lacks nothing the reference has");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\nours lacks {} fact(s) of the reference", diff.missing.len());
        Ok(ExitCode::FAILURE)
    }
}

/// Prints a summary by subject (operation, schema, webhook), then every fact.
fn print_section(title: &str, facts: &BTreeSet<String>) {
    println!("\n{title}: {} fact(s)", facts.len());
    if facts.is_empty() {
        return;
    }
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for f in facts {
        *groups.entry(subject(f)).or_default() += 1;
    }
    for (g, n) in &groups {
        println!("  {g} ({n})");
    }
    println!("  in detail:");
    for f in facts {
        println!("    {f}");
    }
}

/// `operation POST /x`, `schema Name`, `webhook type`: what a fact is about.
fn subject(fact: &str) -> String {
    let head = fact.split(':').next().unwrap_or(fact);
    let mut words = head.splitn(3, ' ');
    let kind = words.next().unwrap_or_default();
    match kind {
        "operation" => {
            let method = words.next().unwrap_or_default();
            let path = words.next().unwrap_or_default();
            format!("operation {method} {path}")
        }
        "webhook" => format!("webhook {}", words.next().unwrap_or_default()),
        _ => {
            let name = words.next().unwrap_or_default();
            let name = name.split(['.', '[', '{']).next().unwrap_or(name);
            format!("{kind} {name}")
        }
    }
}

/// Our document for the API the reference describes: by server URL, else by shared paths.
fn pick_ours(reference: &Value, root: &Path) -> Result<PathBuf> {
    let server = reference
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = if server.contains("admin.") {
        "admin.yaml"
    } else if server.contains("api.") {
        "application.yaml"
    } else {
        let paths: BTreeSet<String> = reference
            .get("paths")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let mut best = ("application.yaml", 0);
        for candidate in ["application.yaml", "admin.yaml"] {
            let doc = normalize::load(&root.join("openapi").join(candidate))?;
            let n = doc
                .get("paths")
                .and_then(Value::as_object)
                .map(|p| p.keys().filter(|k| paths.contains(*k)).count())
                .unwrap_or(0);
            if n > best.1 {
                best = (candidate, n);
            }
        }
        best.0
    };
    Ok(root.join("openapi").join(name))
}

pub struct Diff {
    pub missing: BTreeSet<String>,
    pub extra: BTreeSet<String>,
    pub reference_count: usize,
    pub ours_count: usize,
}

pub fn diff(reference: &Value, ours: &Value) -> Diff {
    let names = |d: &Value| -> BTreeSet<String> {
        d.pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let shared: BTreeSet<String> = names(reference).intersection(&names(ours)).cloned().collect();
    let a = facts(reference, &shared);
    let b = facts(ours, &shared);
    Diff {
        missing: a.difference(&b).cloned().collect(),
        extra: b.difference(&a).cloned().collect(),
        reference_count: a.len(),
        ours_count: b.len(),
    }
}

/// The facts of one document; `shared` are the component names kept as references.
pub fn facts(doc: &Value, shared: &BTreeSet<String>) -> BTreeSet<String> {
    let webhooks = doc.get("webhooks").cloned();
    let doc = normalize::to_v30(doc.clone());
    let schemas: BTreeMap<String, Value> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let params: BTreeMap<String, Value> = doc
        .pointer("/components/parameters")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut w = Walker {
        schemas: &schemas,
        shared,
        out: BTreeSet::new(),
        stack: Vec::new(),
    };

    // Every component is a fact by name; the shape of those both documents define is compared
    // here, the others where they are used.
    for (name, s) in &schemas {
        w.out.insert(format!("schema {name}"));
        if shared.contains(name) {
            w.schema(&format!("schema {name}"), s);
        }
    }
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let shared_params = item
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let Some(item) = item.as_object() else { continue };
            for (method, op) in item {
                if !normalize::is_method(method) {
                    continue;
                }
                let at = format!("{} {path}", method.to_uppercase());
                w.out.insert(format!("operation {at}"));
                if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                    w.out.insert(format!("operation {at}: operationId {id}"));
                }
                let own = op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for p in shared_params.iter().chain(own.iter()) {
                    let p = resolve_param(p, &params);
                    let loc = p.get("in").and_then(Value::as_str).unwrap_or("?");
                    let mut name = p.get("name").and_then(Value::as_str).unwrap_or("?").to_string();
                    if loc == "header" {
                        name = name.to_ascii_lowercase();
                    }
                    let ploc = format!("operation {at}: {loc} parameter {name}");
                    w.out.insert(ploc.clone());
                    if p.get("required").and_then(Value::as_bool).unwrap_or(false) {
                        w.out.insert(format!("{ploc}: required"));
                    }
                    if let Some(s) = p.get("schema") {
                        w.schema(&ploc, s);
                    }
                }
                if let Some(body) = op.get("requestBody") {
                    let bloc = format!("operation {at}: request body");
                    w.out.insert(bloc.clone());
                    if body.get("required").and_then(Value::as_bool).unwrap_or(false) {
                        w.out.insert(format!("{bloc}: required"));
                    }
                    if let Some(s) = body.pointer("/content/application~1json/schema") {
                        w.schema(&bloc, s);
                    }
                }
                if let Some(rs) = op.get("responses").and_then(Value::as_object) {
                    for (status, r) in rs {
                        let rloc = format!("operation {at}: response {status}");
                        w.out.insert(rloc.clone());
                        if let Some(s) = r.pointer("/content/application~1json/schema") {
                            w.schema(&rloc, s);
                        }
                    }
                }
            }
        }
    }
    if let Some(Value::Object(hooks)) = webhooks {
        for (event, item) in hooks {
            let loc = format!("webhook {event}");
            w.out.insert(loc.clone());
            if let Some(s) = item.pointer("/post/requestBody/content/application~1json/schema") {
                let s = normalize::schema_to_v30(s);
                w.schema(&format!("{loc} body"), &s);
            }
        }
    }
    w.out
}

fn resolve_param<'a>(p: &'a Value, params: &'a BTreeMap<String, Value>) -> &'a Value {
    match p
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/parameters/"))
    {
        Some(name) => params.get(name).unwrap_or(p),
        None => p,
    }
}

struct Walker<'a> {
    schemas: &'a BTreeMap<String, Value>,
    shared: &'a BTreeSet<String>,
    out: BTreeSet<String>,
    stack: Vec<String>,
}

impl Walker<'_> {
    fn schema(&mut self, loc: &str, s: &Value) {
        let Some(obj) = s.as_object() else { return };
        if obj.get("nullable").and_then(Value::as_bool) == Some(true) {
            self.out.insert(format!("{loc}: nullable"));
        }
        // `allOf: [one]` with nothing else of substance is that one schema.
        if let Some(Value::Array(all)) = obj.get("allOf") {
            if all.len() == 1 && !obj.contains_key("properties") && !obj.contains_key("type") {
                return self.schema(loc, &all[0]);
            }
        }
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or(r).to_string();
            if self.shared.contains(&name) {
                self.out.insert(format!("{loc}: is {name}"));
            } else if self.stack.contains(&name) {
                self.out.insert(format!("{loc}: recursive {name}"));
            } else if let Some(target) = self.schemas.get(&name).cloned() {
                self.stack.push(name);
                self.schema(loc, &target);
                self.stack.pop();
            } else {
                self.out.insert(format!("{loc}: unresolved {name}"));
            }
            return;
        }
        if let Some(t) = obj.get("type").and_then(Value::as_str) {
            self.out.insert(format!("{loc}: type {t}"));
        }
        if let Some(f) = obj.get("format").and_then(Value::as_str) {
            self.out.insert(format!("{loc}: format {f}"));
        }
        if let Some(Value::Array(values)) = obj.get("enum") {
            for v in values {
                self.out.insert(format!("{loc}: enum {}", v));
            }
        }
        let required: BTreeSet<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(Value::Object(props)) = obj.get("properties") {
            for (name, p) in props {
                let ploc = format!("{loc}.{name}");
                self.out.insert(format!("{loc}: property {name}"));
                if required.contains(name.as_str()) {
                    self.out.insert(format!("{ploc}: required"));
                }
                self.schema(&ploc, p);
            }
        }
        if let Some(items) = obj.get("items") {
            self.schema(&format!("{loc}[]"), items);
        }
        match obj.get("additionalProperties") {
            Some(Value::Object(_)) => {
                let ap = obj.get("additionalProperties").cloned().unwrap_or(Value::Null);
                self.schema(&format!("{loc}{{}}"), &ap);
            }
            Some(Value::Bool(b)) => {
                self.out.insert(format!("{loc}: additionalProperties {b}"));
            }
            _ => {}
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(Value::Array(list)) = obj.get(key) {
                for (i, c) in list.iter().enumerate() {
                    self.schema(&format!("{loc}.{key}[{i}]"), c);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(schemas: Value) -> Value {
        json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}, "components": {"schemas": schemas}})
    }

    #[test]
    fn hoisting_an_inline_enum_is_not_a_difference() {
        let a = doc(json!({"A": {"type": "object", "properties": {"k": {"type": "string", "enum": ["x", "y"]}}}}));
        let b = doc(
            json!({"A": {"type": "object", "properties": {"k": {"$ref": "#/components/schemas/K"}}},
                           "K": {"type": "string", "enum": ["x", "y"], "description": "ours"}}),
        );
        let d = diff(&a, &b);
        assert!(d.missing.is_empty(), "{:?}", d.missing);
        // The new component is named, its shape is not a difference.
        assert_eq!(d.extra.iter().collect::<Vec<_>>(), vec!["schema K"]);
    }

    #[test]
    fn removed_fields_enum_values_and_flags_are_reported() {
        let a = doc(json!({"A": {"type": "object", "required": ["x"], "properties": {
            "x": {"type": ["string", "null"], "format": "date"}, "k": {"type": "string", "enum": ["p", "q"]}, "gone": {"type": "integer"}}}}));
        let b = doc(json!({"A": {"type": "object", "properties": {
            "x": {"type": "string", "format": "date"}, "k": {"type": "string", "enum": ["p"]}}}}));
        let d = diff(&a, &b);
        let missing: Vec<&str> = d.missing.iter().map(String::as_str).collect();
        assert_eq!(
            missing,
            vec![
                "schema A.gone: type integer",
                "schema A.k: enum \"q\"",
                "schema A.x: nullable",
                "schema A.x: required",
                "schema A: property gone",
            ]
        );
        assert!(d.extra.is_empty());
    }

    #[test]
    fn descriptions_and_examples_are_not_facts() {
        let a = doc(json!({"A": {"type": "string", "description": "one", "example": "x"}}));
        let b = doc(json!({"A": {"type": "string", "description": "two"}}));
        assert!(diff(&a, &b).missing.is_empty());
    }
}
