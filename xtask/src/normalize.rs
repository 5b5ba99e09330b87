//! Turns an OpenAPI 3.0.x or 3.1 document into the 3.0.3 subset that progenitor accepts.
//!
//! Every rule here is a pure function of the input, so the output is deterministic. The rules:
//!
//! 1. `openapi: 3.1.x` becomes `3.0.3`; top-level `webhooks` and `jsonSchemaDialect` are dropped.
//! 2. `type: [X, "null"]` becomes `type: X` plus `nullable: true`.
//! 3. A `{type: "null"}` branch of `oneOf`/`anyOf` is removed and the schema marked nullable; a
//!    single remaining branch becomes `allOf: [branch]`.
//! 4. Numeric `exclusiveMinimum`/`exclusiveMaximum` become `minimum`/`maximum` plus the boolean.
//! 5. `const: v` becomes `enum: [v]`; `null` inside `enum` becomes `nullable: true`.
//! 6. Inline string enums are hoisted into named component schemas (`<Parent><Field>`), so that
//!    every enum can be replaced by an open enum.
//! 7. `default` is removed from every schema reachable from a request body, so generated request
//!    types never serialize a value the caller did not set.
//! 8. `required` entries that name no property of a plain object are removed (they would become
//!    required `serde_json::Value` fields).
//! 10. A property both required and nullable is made optional: typify would otherwise make it
//!     required-but-nullable (`deserialize_with = Option::deserialize`), and a response that
//!     omits it would fail to decode. The server may leave out what is null.
//! 11. Tolerant reader. In every schema no request body reaches (responses, webhook payloads),
//!     a required property Trophy may leave out is made optional: a list or a map (it then
//!     decodes as empty), a boolean (it then decodes as the schema's `default`, else `false`),
//!     and the properties in [`OMITTED_BY_TROPHY`], which Trophy's published examples leave out.
//!     Everything else (ids, keys, values, totals, dates) stays required. Request types are
//!     untouched. See `openapi/README.md`.
//! 9. Validation keywords (`pattern`, `minLength`, `maxLength`, `minimum`, `maximum`,
//!    `minItems`, `maxItems`, `uniqueItems`, `additionalProperties: false`) are removed from the
//!    generation input: they would turn into constrained newtypes or closed structs that reject
//!    values the server is free to send. Input validation lives in the `trophy` crate.
//!
//! [`to_progenitor`] applies all rules; [`to_v30`] applies only the format rules (1-5, 8), which
//! is what `spec-diff` compares.

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Reads a JSON or YAML document.
pub fn load(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).with_context(|| format!("parsing {} as JSON", path.display()))?
    } else {
        serde_yaml::from_str(&text).with_context(|| format!("parsing {} as YAML", path.display()))?
    };
    let version = value.get("openapi").and_then(Value::as_str).unwrap_or_default();
    if !(version.starts_with("3.0") || version.starts_with("3.1")) {
        bail!(
            "{}: unsupported `openapi: {version}` (3.0.x or 3.1.x expected)",
            path.display()
        );
    }
    Ok(value)
}

/// Format rules only: the document in OpenAPI 3.0 form, nothing hoisted or stripped.
pub fn to_v30(mut doc: Value) -> Value {
    let obj = doc.as_object_mut().expect("document is an object");
    obj.insert("openapi".into(), json!("3.0.3"));
    obj.remove("webhooks");
    obj.remove("jsonSchemaDialect");
    walk_schemas(&mut doc, &mut |s| down_convert(s));
    walk_schemas(&mut doc, &mut |s| drop_dangling_required(s));
    doc
}

/// Format rules applied to one standalone schema (e.g. a webhook payload).
pub fn schema_to_v30(schema: &Value) -> Value {
    let mut wrapper = json!({ "components": { "schemas": { "s": schema } } });
    walk_schemas(&mut wrapper, &mut |s| down_convert(s));
    walk_schemas(&mut wrapper, &mut |s| drop_dangling_required(s));
    wrapper["components"]["schemas"]["s"].take()
}

/// All rules: what progenitor is given.
pub fn to_progenitor(doc: Value) -> Result<Value> {
    let mut doc = to_v30(doc);
    hoist_enums(&mut doc)?;
    strip_request_defaults(&mut doc);
    walk_schemas(&mut doc, &mut |s| strip_validation(s));
    walk_schemas(&mut doc, &mut |s| relax_nullable_required(s));
    tolerate_omissions(&mut doc);
    Ok(doc)
}

/// Rule 11: response properties, neither list, map nor boolean, that Trophy's published
/// examples (documents 1.21.1) leave out although the schemas mark them required:
/// `(schema, property)`.
pub const OMITTED_BY_TROPHY: &[(&str, &str)] = &[
    // The trigger of a points award (`PointsAward.trigger`) comes without its timestamps and status.
    ("PointsTrigger", "created"),
    ("PointsTrigger", "updated"),
    ("PointsTrigger", "status"),
    // The points of an event or completion are keyed by system key; the value repeats it or not.
    ("MetricEventPointsResponse", "key"),
];

/// A listed property a component inherits through `allOf: [$ref, ...]` is relaxed in that
/// component only: the referenced part is copied inline (typify merges `allOf` parts into one
/// struct either way), so the referenced component itself stays strict.
fn inline_listed_parts(doc: &mut Value) {
    let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") else {
        return;
    };
    let originals = schemas.clone();
    for (component, property) in OMITTED_BY_TROPHY {
        let Some(Value::Array(parts)) = schemas.get_mut(*component).and_then(|s| s.get_mut("allOf")) else {
            continue;
        };
        for part in parts.iter_mut() {
            let target = part
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .and_then(|name| originals.get(name));
            let requires = |s: &Value| {
                s.get("required")
                    .and_then(Value::as_array)
                    .is_some_and(|req| req.iter().any(|r| r == property))
            };
            if let Some(target) = target.filter(|s| requires(s)) {
                *part = target.clone();
            }
        }
    }
}

/// Rule 11, on every response-only component schema and every inline response schema.
fn tolerate_omissions(doc: &mut Value) {
    let requests = request_reachable(doc);
    inline_listed_parts(doc);
    fn relax(s: &mut Map<String, Value>, component: Option<&str>) {
        let required: BTreeSet<String> = match s.get("required") {
            Some(Value::Array(req)) => req.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => return,
        };
        let Some(Value::Object(props)) = s.get_mut("properties") else {
            return;
        };
        let mut optional = BTreeSet::new();
        for (name, p) in props.iter_mut().filter(|(name, _)| required.contains(*name)) {
            let Some(p) = p.as_object_mut() else { continue };
            let kind = p.get("type").and_then(Value::as_str);
            let is_map =
                kind == Some("object") && p.contains_key("additionalProperties") && !p.contains_key("properties");
            let listed = component.is_some_and(|c| OMITTED_BY_TROPHY.contains(&(c, name.as_str())));
            if kind == Some("boolean") {
                p.entry("default").or_insert(json!(false));
                optional.insert(name.clone());
            } else if kind == Some("array") || is_map || listed {
                optional.insert(name.clone());
            }
        }
        if let Some(Value::Array(req)) = s.get_mut("required") {
            req.retain(|r| r.as_str().is_some_and(|r| !optional.contains(r)));
        }
    }
    fn tree(v: &mut Value, component: Option<&str>) {
        // The component's own object and its `allOf` parts carry its name; nested inline objects
        // (list items, property objects) are anonymous.
        let Some(obj) = v.as_object_mut() else { return };
        relax(obj, component);
        if let Some(Value::Array(parts)) = obj.get_mut("allOf") {
            parts.iter_mut().for_each(|p| tree(p, component));
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(parts)) = obj.get_mut(key) {
                parts.iter_mut().for_each(|p| tree(p, None));
            }
        }
        if let Some(Value::Object(props)) = obj.get_mut("properties") {
            props.values_mut().for_each(|p| tree(p, None));
        }
        for key in ["items", "additionalProperties"] {
            if let Some(c) = obj.get_mut(key) {
                tree(c, None);
            }
        }
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (name, s) in schemas.iter_mut() {
            if !requests.contains(name) {
                tree(s, Some(name));
            }
        }
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for (method, op) in item.iter_mut() {
                let Some(Value::Object(responses)) = op.get_mut("responses").filter(|_| is_method(method)) else {
                    continue;
                };
                for s in responses
                    .values_mut()
                    .filter_map(|r| r.pointer_mut("/content/application~1json/schema"))
                {
                    tree(s, None);
                }
            }
        }
    }
}

const SCHEMA_KEYS: &[&str] = &["items", "additionalProperties", "not"];
const SCHEMA_LISTS: &[&str] = &["allOf", "oneOf", "anyOf"];

/// Calls `f` on every schema object of the document, parents before children.
fn walk_schemas(doc: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    fn schema(v: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
        let Some(obj) = v.as_object_mut() else { return };
        f(obj);
        if let Some(Value::Object(props)) = obj.get_mut("properties") {
            for p in props.values_mut() {
                schema(p, f);
            }
        }
        for k in SCHEMA_KEYS {
            if let Some(c) = obj.get_mut(*k) {
                schema(c, f);
            }
        }
        for k in SCHEMA_LISTS {
            if let Some(Value::Array(list)) = obj.get_mut(*k) {
                for c in list {
                    schema(c, f);
                }
            }
        }
    }
    fn content(v: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
        if let Some(Value::Object(media)) = v.get_mut("content") {
            for m in media.values_mut() {
                if let Some(s) = m.get_mut("schema") {
                    schema(s, f);
                }
            }
        }
    }
    fn params(v: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
        if let Some(Value::Array(ps)) = v.get_mut("parameters") {
            for p in ps {
                if let Some(s) = p.get_mut("schema") {
                    schema(s, f);
                }
            }
        }
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for s in schemas.values_mut() {
            schema(s, f);
        }
    }
    if let Some(Value::Object(ps)) = doc.pointer_mut("/components/parameters") {
        for p in ps.values_mut() {
            if let Some(s) = p.get_mut("schema") {
                schema(s, f);
            }
        }
    }
    for kind in ["requestBodies", "responses"] {
        if let Some(Value::Object(items)) = doc.pointer_mut(&format!("/components/{kind}")) {
            for item in items.values_mut() {
                content(item, f);
            }
        }
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut() {
            params(item, f);
            let Some(item) = item.as_object_mut() else { continue };
            for (method, op) in item.iter_mut() {
                if !is_method(method) {
                    continue;
                }
                params(op, f);
                if let Some(b) = op.get_mut("requestBody") {
                    content(b, f);
                }
                if let Some(Value::Object(rs)) = op.get_mut("responses") {
                    for r in rs.values_mut() {
                        content(r, f);
                    }
                }
            }
        }
    }
}

pub fn is_method(m: &str) -> bool {
    matches!(
        m,
        "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
    )
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

fn down_convert(s: &mut Map<String, Value>) {
    // Rule 2: type arrays.
    if let Some(Value::Array(types)) = s.get("type").cloned() {
        let non_null: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
        if non_null.len() != types.len() {
            s.insert("nullable".into(), json!(true));
        }
        match non_null.len() {
            0 => {
                s.remove("type");
            }
            1 => {
                s.insert("type".into(), non_null[0].clone());
            }
            _ => {
                // Several non-null types: express as oneOf of single-typed schemas.
                s.remove("type");
                let alts = non_null.into_iter().map(|t| json!({ "type": t })).collect();
                s.insert("oneOf".into(), Value::Array(alts));
            }
        }
    }
    // Rule 3: null branches of oneOf/anyOf.
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(list)) = s.get(key).cloned() else {
            continue;
        };
        let rest: Vec<Value> = list.iter().filter(|v| !is_null_schema(v)).cloned().collect();
        if rest.len() == list.len() {
            continue;
        }
        s.insert("nullable".into(), json!(true));
        s.remove(key);
        if rest.len() == 1 {
            let only = rest.into_iter().next().expect("one branch");
            if only.get("$ref").is_some() {
                s.insert("allOf".into(), json!([only]));
            } else if let Value::Object(inner) = only {
                for (k, v) in inner {
                    s.entry(k).or_insert(v);
                }
            }
        } else if !rest.is_empty() {
            s.insert(key.into(), Value::Array(rest));
        }
    }
    // Rule 4: numeric exclusive bounds.
    for (excl, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(n) = s.get(excl).filter(|v| v.is_number()).cloned() {
            s.insert(bound.into(), n);
            s.insert(excl.into(), json!(true));
        }
    }
    // Rule 5: const and null enum members.
    if let Some(c) = s.remove("const") {
        s.insert("enum".into(), json!([c]));
    }
    if let Some(Value::Array(values)) = s.get_mut("enum") {
        let before = values.len();
        values.retain(|v| !v.is_null());
        if values.len() != before {
            s.insert("nullable".into(), json!(true));
        }
    }
    // A nullable type-less schema left behind by rule 2 (`type: ["null"]`) stays as-is.
}

fn drop_dangling_required(s: &mut Map<String, Value>) {
    let Some(Value::Object(props)) = s.get("properties") else {
        return;
    };
    if SCHEMA_LISTS.iter().any(|k| s.contains_key(*k)) {
        return;
    }
    let defined: BTreeSet<String> = props.keys().cloned().collect();
    if let Some(Value::Array(req)) = s.get_mut("required") {
        req.retain(|r| r.as_str().is_some_and(|r| defined.contains(r)));
    }
}

fn relax_nullable_required(s: &mut Map<String, Value>) {
    let nullable: BTreeSet<String> = match s.get("properties") {
        Some(Value::Object(props)) => props
            .iter()
            .filter(|(_, p)| p.get("nullable").and_then(Value::as_bool) == Some(true))
            .map(|(k, _)| k.clone())
            .collect(),
        _ => return,
    };
    if let Some(Value::Array(req)) = s.get_mut("required") {
        req.retain(|r| r.as_str().is_some_and(|r| !nullable.contains(r)));
    }
}

fn strip_validation(s: &mut Map<String, Value>) {
    for k in [
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "uniqueItems",
        "multipleOf",
    ] {
        s.remove(k);
    }
    if s.get("additionalProperties") == Some(&Value::Bool(false)) {
        s.remove("additionalProperties");
    }
}

fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            let first = c.next().expect("non-empty").to_ascii_uppercase();
            std::iter::once(first).chain(c).collect::<String>()
        })
        .collect()
}

fn is_string_enum(v: &Value) -> bool {
    v.get("enum").is_some()
        && v.get("$ref").is_none()
        && matches!(v.get("type").and_then(Value::as_str), None | Some("string"))
}

/// Rule 6. Named component enums stay where they are; inline ones move to components.
fn hoist_enums(doc: &mut Value) -> Result<()> {
    let mut new: BTreeMap<String, Value> = BTreeMap::new();
    let existing: BTreeSet<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();

    fn visit(
        v: &mut Value,
        name: &str,
        top: bool,
        new: &mut BTreeMap<String, Value>,
        existing: &BTreeSet<String>,
    ) -> Result<()> {
        if !top && is_string_enum(v) {
            let obj = v.as_object_mut().expect("enum schema is an object");
            let mut enum_schema = Map::new();
            enum_schema.insert("type".into(), json!("string"));
            enum_schema.insert("enum".into(), obj.remove("enum").expect("has enum"));
            obj.remove("type");
            if let Some(d) = obj.get("description") {
                enum_schema.insert("description".into(), d.clone());
            }
            let enum_schema = Value::Object(enum_schema);
            let mut chosen = name.to_string();
            let mut n = 2;
            loop {
                match new.get(&chosen) {
                    Some(prev) if prev.get("enum") == enum_schema.get("enum") => break,
                    None if !existing.contains(&chosen) => {
                        new.insert(chosen.clone(), enum_schema);
                        break;
                    }
                    _ => {
                        chosen = format!("{name}{n}");
                        n += 1;
                    }
                }
            }
            let reference = json!({ "$ref": format!("#/components/schemas/{chosen}") });
            // Keep siblings such as `nullable`/`default` around an allOf wrapper.
            if obj.keys().any(|k| k != "description") {
                obj.insert("allOf".into(), json!([reference]));
            } else {
                *v = reference;
            }
            return Ok(());
        }
        let Some(obj) = v.as_object_mut() else { return Ok(()) };
        if let Some(Value::Object(props)) = obj.get_mut("properties") {
            for (k, p) in props.iter_mut() {
                visit(p, &format!("{name}{}", pascal(k)), false, new, existing)?;
            }
        }
        if let Some(items) = obj.get_mut("items") {
            visit(items, &format!("{name}Item"), false, new, existing)?;
        }
        if let Some(ap) = obj.get_mut("additionalProperties") {
            visit(ap, &format!("{name}Value"), false, new, existing)?;
        }
        for k in SCHEMA_LISTS {
            if let Some(Value::Array(list)) = obj.get_mut(*k) {
                for (i, c) in list.iter_mut().enumerate() {
                    let child = if *k == "allOf" {
                        name.to_string()
                    } else {
                        format!("{name}Variant{i}")
                    };
                    visit(c, &child, false, new, existing)?;
                }
            }
        }
        Ok(())
    }

    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        for (name, s) in schemas.iter_mut() {
            visit(s, name, true, &mut new, &existing)?;
        }
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, op) in item.iter_mut() {
                if !is_method(method) {
                    continue;
                }
                let op_name = pascal(op.get("operationId").and_then(Value::as_str).unwrap_or(method));
                if let Some(Value::Array(ps)) = op.get_mut("parameters") {
                    for p in ps {
                        let pname = pascal(p.get("name").and_then(Value::as_str).unwrap_or("param"));
                        if let Some(s) = p.get_mut("schema") {
                            visit(s, &format!("{op_name}{pname}"), false, &mut new, &existing)?;
                        }
                    }
                }
                if let Some(s) = op.pointer_mut("/requestBody/content/application~1json/schema") {
                    visit(s, &format!("{op_name}Body"), true, &mut new, &existing)?;
                }
                if let Some(Value::Object(rs)) = op.get_mut("responses") {
                    for r in rs.values_mut() {
                        if let Some(s) = r.pointer_mut("/content/application~1json/schema") {
                            visit(s, &format!("{op_name}Response"), true, &mut new, &existing)?;
                        }
                    }
                }
            }
        }
    }
    if !new.is_empty() {
        let schemas = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
            .context("document has no components.schemas")?;
        for (k, v) in new {
            schemas.insert(k, v);
        }
    }
    Ok(())
}

/// The component schemas a request body reaches, directly or through other components.
fn request_reachable(doc: &Value) -> BTreeSet<String> {
    let mut queue: Vec<Value> = Vec::new();
    if let Some(Value::Object(paths)) = doc.get("paths") {
        for item in paths.values().filter_map(Value::as_object) {
            for (method, op) in item {
                if is_method(method) {
                    if let Some(s) = op.pointer("/requestBody/content/application~1json/schema") {
                        queue.push(s.clone());
                    }
                }
            }
        }
    }
    let mut reached: BTreeSet<String> = BTreeSet::new();
    while let Some(v) = queue.pop() {
        collect_refs(&v, &mut |name| {
            if reached.insert(name.to_string()) {
                if let Some(s) = doc.pointer(&format!("/components/schemas/{name}")) {
                    queue.push(s.clone());
                }
            }
        });
    }
    reached
}

/// Rule 7: no defaults in anything a request body can reach.
fn strip_request_defaults(doc: &mut Value) {
    let reached = request_reachable(doc);
    let strip = |s: &mut Value| {
        fn rec(v: &mut Value) {
            match v {
                Value::Object(o) => {
                    o.remove("default");
                    for (k, c) in o.iter_mut() {
                        if k != "enum" && k != "example" && k != "examples" {
                            rec(c);
                        }
                    }
                }
                Value::Array(a) => a.iter_mut().for_each(rec),
                _ => {}
            }
        }
        rec(s)
    };
    for name in &reached {
        if let Some(s) = doc.pointer_mut(&format!("/components/schemas/{name}")) {
            strip(s);
        }
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, op) in item.iter_mut() {
                if is_method(method) {
                    if let Some(s) = op.pointer_mut("/requestBody/content/application~1json/schema") {
                        strip(s);
                    }
                }
            }
        }
    }
}

/// Calls `f` with the component name of every `$ref` under `v`.
pub fn collect_refs(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                if let Some(name) = r.strip_prefix("#/components/schemas/") {
                    f(name);
                }
            }
            o.values().for_each(|c| collect_refs(c, f));
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(schemas: Value) -> Value {
        json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},
               "components": {"schemas": schemas}})
    }

    #[test]
    fn type_arrays_become_nullable() {
        let d = to_v30(doc(
            json!({"A": {"type": "object", "properties": {"x": {"type": ["string", "null"]}}}}),
        ));
        assert_eq!(d["openapi"], "3.0.3");
        assert_eq!(
            d["components"]["schemas"]["A"]["properties"]["x"],
            json!({"type": "string", "nullable": true})
        );
    }

    #[test]
    fn null_branch_of_one_of_becomes_nullable_all_of() {
        let d = to_v30(doc(
            json!({"A": {"oneOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]}, "B": {"type": "string"}}),
        ));
        assert_eq!(
            d["components"]["schemas"]["A"],
            json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/B"}]})
        );
    }

    #[test]
    fn numeric_exclusive_bounds_become_booleans() {
        let d = to_v30(doc(json!({"A": {"type": "number", "exclusiveMinimum": 0}})));
        assert_eq!(
            d["components"]["schemas"]["A"],
            json!({"type": "number", "exclusiveMinimum": true, "minimum": 0})
        );
    }

    #[test]
    fn required_nullable_properties_become_optional() {
        let d = to_progenitor(doc(json!({"A": {"type": "object", "required": ["a", "b"],
            "properties": {"a": {"type": ["string", "null"]}, "b": {"type": "string"}}}})))
        .unwrap();
        assert_eq!(d["components"]["schemas"]["A"]["required"], json!(["b"]));
    }

    #[test]
    fn dangling_required_is_dropped() {
        let d = to_v30(doc(
            json!({"A": {"type": "object", "required": ["a", "status"], "properties": {"a": {"type": "string"}}}}),
        ));
        assert_eq!(d["components"]["schemas"]["A"]["required"], json!(["a"]));
    }

    #[test]
    fn inline_enums_are_hoisted_and_deduplicated() {
        let d = to_progenitor(doc(json!({
            "A": {"type": "object", "properties": {"kind": {"type": ["string", "null"], "enum": ["x", "y", null]}}},
        })))
        .unwrap();
        let s = &d["components"]["schemas"];
        assert_eq!(s["AKind"], json!({"type": "string", "enum": ["x", "y"]}));
        assert_eq!(
            s["A"]["properties"]["kind"],
            json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/AKind"}]})
        );
    }

    #[test]
    fn request_defaults_are_removed_but_response_defaults_kept() {
        let mut d = doc(json!({
            "In": {"type": "object", "properties": {"sub": {"type": "boolean", "default": true}}},
            "Out": {"type": "object", "properties": {"sub": {"type": "boolean", "default": true}}},
        }));
        d["paths"] = json!({"/x": {"post": {"operationId": "x",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}}}}}}});
        let d = to_progenitor(d).unwrap();
        assert_eq!(
            d["components"]["schemas"]["In"]["properties"]["sub"],
            json!({"type": "boolean"})
        );
        assert_eq!(
            d["components"]["schemas"]["Out"]["properties"]["sub"]["default"],
            json!(true)
        );
    }

    #[test]
    fn responses_tolerate_missing_lists_maps_booleans_and_listed_fields() {
        let mut d = doc(json!({
            "Out": {"type": "object", "required": ["id", "tags", "attrs", "on", "sub", "total"], "properties": {
                "id": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                "attrs": {"type": "object", "additionalProperties": {"type": "string"}},
                "on": {"type": "boolean"}, "sub": {"type": "boolean", "default": true},
                "total": {"type": "integer"}, "maybe": {"type": "boolean"}}},
            "PointsTrigger": {"type": "object", "required": ["id", "created"], "properties": {
                "id": {"type": "string"}, "created": {"type": "string"}}},
            "PointsResponse": {"type": "object", "required": ["key", "total"], "properties": {
                "key": {"type": "string"}, "total": {"type": "integer"}}},
            "MetricEventPointsResponse": {"allOf": [{"$ref": "#/components/schemas/PointsResponse"},
                {"type": "object", "required": ["added"], "properties": {"added": {"type": "integer"}}}]},
            "In": {"type": "object", "required": ["tags", "on"], "properties": {
                "tags": {"type": "array", "items": {"type": "string"}}, "on": {"type": "boolean"}}},
        }));
        d["paths"] = json!({"/x": {"post": {"operationId": "x",
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}}}}}}});
        let d = to_progenitor(d).unwrap();
        let s = &d["components"]["schemas"];
        assert_eq!(s["Out"]["required"], json!(["id", "total"]));
        assert_eq!(s["Out"]["properties"]["on"]["default"], json!(false));
        assert_eq!(s["Out"]["properties"]["sub"]["default"], json!(true));
        assert!(
            s["Out"]["properties"]["maybe"].get("default").is_none(),
            "optional booleans stay Option"
        );
        assert_eq!(s["PointsTrigger"]["required"], json!(["id"]));
        assert_eq!(
            s["PointsResponse"]["required"],
            json!(["key", "total"]),
            "the shared part stays strict"
        );
        assert_eq!(s["MetricEventPointsResponse"]["allOf"][0]["required"], json!(["total"]));
        assert_eq!(
            s["In"]["required"],
            json!(["tags", "on"]),
            "request types are untouched"
        );
    }
}
