//! Renders `trophy-generated/src/operations.rs`: one descriptor per operation of the
//! normalized documents (id, API, method, path template and parameters, query parameters and
//! how they are encoded, request and response schemas, success statuses), and `ALL`.
//!
//! The descriptor types live in the hand-written `trophy-generated/src/lib.rs`; this module
//! only writes values.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write;

const METHODS: &[(&str, &str)] = &[
    ("get", "Get"),
    ("post", "Post"),
    ("put", "Put"),
    ("patch", "Patch"),
    ("delete", "Delete"),
];

/// One query parameter as read from a document.
struct Query {
    name: String,
    style: &'static str,
    required: bool,
}

/// One operation as read from a document.
struct Op {
    id: String,
    api: &'static str,
    method: &'static str,
    path: String,
    path_params: Vec<String>,
    query: Vec<Query>,
    request: Option<String>,
    response: String,
    success: Vec<u16>,
}

/// `admin_points_boosts_list` → `AdminPointsBoostsList`.
fn camel(id: &str) -> String {
    id.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `userIds` → `USER_IDS`, `startDate` → `START_DATE`.
pub fn upper_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push('_');
        }
    }
    out
}

/// A parameter object, its `$ref` followed.
fn resolve<'a>(doc: &'a Value, p: &'a Value) -> Result<&'a Value> {
    match p.get("$ref").and_then(Value::as_str) {
        None => Ok(p),
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .ok_or_else(|| anyhow!("unresolved parameter {r}")),
    }
}

/// The name of a schema: its `$ref` name, `Vec<..>` for an array, else `inline`.
fn schema_name(schema: Option<&Value>, inline: String) -> String {
    let Some(s) = schema else { return "()".into() };
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    if s.get("type").and_then(Value::as_str) == Some("array") {
        if let Some(r) = s.pointer("/items/$ref").and_then(Value::as_str) {
            return format!("Vec<{}>", r.rsplit('/').next().unwrap_or(r));
        }
    }
    inline
}

fn read(api: &'static str, doc: &Value) -> Result<Vec<Op>> {
    let mut ops = Vec::new();
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .context("document has no paths")?;
    for (path, item) in paths {
        for (method, variant) in METHODS {
            let Some(op) = item.get(*method) else { continue };
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .with_context(|| format!("{method} {path} has no operationId"))?
                .to_string();
            let mut declared = BTreeSet::new();
            let mut query = Vec::new();
            let params = item
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .chain(op.get("parameters").and_then(Value::as_array).into_iter().flatten());
            for p in params {
                let p = resolve(doc, p)?;
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .context("parameter without name")?;
                match p.get("in").and_then(Value::as_str) {
                    Some("path") => {
                        declared.insert(name.to_string());
                    }
                    Some("query") => {
                        let is_array = p.pointer("/schema/type").and_then(Value::as_str) == Some("array");
                        let style = p.get("style").and_then(Value::as_str).unwrap_or("form");
                        if style != "form" {
                            bail!("{id}: query parameter {name} has style {style}; only form is supported");
                        }
                        // OpenAPI: `explode` defaults to true for the form style.
                        let explode = p.get("explode").and_then(Value::as_bool).unwrap_or(true);
                        let style = match (is_array, explode) {
                            (false, _) => "Scalar",
                            (true, true) => "Repeated",
                            (true, false) => "CommaJoined",
                        };
                        let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                        query.push(Query {
                            name: name.to_string(),
                            style,
                            required,
                        });
                    }
                    _ => {}
                }
            }
            let path_params: Vec<String> = path
                .split('{')
                .skip(1)
                .map(|s| s.split('}').next().unwrap_or_default().to_string())
                .collect();
            let in_template: BTreeSet<String> = path_params.iter().cloned().collect();
            if in_template != declared {
                bail!("{id}: the template {path} has {in_template:?}, the parameters declare {declared:?}");
            }
            let request = op
                .pointer("/requestBody/content/application~1json/schema")
                .map(|s| schema_name(Some(s), format!("{}Body", camel(&id))));
            let responses = op.get("responses").and_then(Value::as_object).context("no responses")?;
            let success: Vec<u16> = responses
                .keys()
                .filter_map(|k| k.parse::<u16>().ok())
                .filter(|s| (200..300).contains(s))
                .collect();
            let first = success
                .first()
                .with_context(|| format!("{id} has no success response"))?;
            let response = schema_name(
                responses
                    .get(&first.to_string())
                    .and_then(|r| r.pointer("/content/application~1json/schema")),
                format!("{}Response", camel(&id)),
            );
            ops.push(Op {
                id,
                api,
                method: variant,
                path: path.clone(),
                path_params,
                query,
                request,
                response,
                success,
            });
        }
    }
    Ok(ops)
}

/// The source of `operations.rs` from the normalized documents, given as (`App`|`Admin`,
/// document file, normalized document).
pub fn generate(docs: &[(&'static str, &str, &Value)]) -> Result<String> {
    let mut ops = Vec::new();
    for (api, _, doc) in docs {
        ops.extend(read(api, doc)?);
    }
    let mut seen = BTreeSet::new();
    for op in &ops {
        if !seen.insert(op.id.as_str()) {
            bail!("operation id {} is used twice", op.id);
        }
    }
    let files: Vec<&str> = docs.iter().map(|(_, f, _)| *f).collect();
    let mut out = String::new();
    writeln!(
        out,
        "// @generated by `cargo xtask regen` from openapi/{{{}}}.\n\
         // DO NOT EDIT: change the document or the xtask, then run `cargo xtask regen`.\n\
         //! One module per operation of both documents (named by its id, holding its descriptor `OP`\n\
         //! and its query parameters), and `ALL`.\n\
         #![allow(missing_docs)]\n\n\
         use crate::{{ApiKind, HttpMethod, Operation, QueryParam, QueryStyle}};\n",
        files.join(",")
    )?;
    for op in &ops {
        let params: Vec<String> = op.path_params.iter().map(|p| format!("{p:?}")).collect();
        let query: Vec<String> = op.query.iter().map(|q| upper_snake(&q.name)).collect();
        let request = match &op.request {
            Some(r) => format!("Some({r:?})"),
            None => "None".into(),
        };
        let success: Vec<String> = op.success.iter().map(u16::to_string).collect();
        writeln!(
            out,
            "\n/// `{} {}` ({} API): the descriptor [`OP`](self::{}::OP) and one constant per query parameter.\npub mod {} {{\n    use super::*;\n\n    /// The operation `{}`.\n    pub const OP: Operation = Operation {{\n        id: {:?},\n        api: ApiKind::{},\n        method: HttpMethod::{},\n        path: {:?},\n        path_params: &[{}],\n        query: &[{}],\n        request: {},\n        response: {:?},\n        success: &[{}],\n    }};",
            op.method.to_ascii_uppercase(),
            op.path,
            op.api,
            op.id,
            op.id,
            op.id,
            op.id,
            op.api,
            op.method,
            op.path,
            params.join(", "),
            query.join(", "),
            request,
            op.response,
            success.join(", ")
        )?;
        for q in &op.query {
            writeln!(
                out,
                "\n    /// The query parameter `{}`.\n    pub const {}: QueryParam = QueryParam {{\n        name: {:?},\n        style: QueryStyle::{},\n        required: {},\n    }};",
                q.name,
                upper_snake(&q.name),
                q.name,
                q.style,
                q.required
            )?;
        }
        writeln!(out, "}}")?;
    }
    writeln!(
        out,
        "\n/// Every operation of both documents, in document order.\npub const ALL: &[&Operation] = &["
    )?;
    for op in &ops {
        writeln!(out, "    &{}::OP,", op.id)?;
    }
    writeln!(out, "];")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(upper_snake("userIds"), "USER_IDS");
        assert_eq!(upper_snake("include_finished"), "INCLUDE_FINISHED");
        assert_eq!(camel("admin_points_list"), "AdminPointsList");
    }
}
