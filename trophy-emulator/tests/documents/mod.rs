//! Our OpenAPI documents (`openapi/application.yaml`, `openapi/admin.yaml`) as the tests read
//! them: each operation's documented statuses, parameters and request body, and a JSON Schema
//! validator for each documented response.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

/// One operation of a document.
pub struct Operation {
    pub id: String,
    /// `true` for the Admin API.
    pub admin: bool,
    pub method: String,
    pub path: String,
    /// Every documented status.
    pub statuses: BTreeSet<u16>,
    /// The parameters (path, query, header), `$ref`s resolved, `Tenant-ID` included.
    pub parameters: Vec<Parameter>,
    /// The request body schema, if the operation takes one.
    pub body: Option<Value>,
    /// status -> the schema of its `application/json` body.
    responses: BTreeMap<u16, Value>,
}

/// A parameter with its schema (a `$ref` to a named schema resolved one level).
pub struct Parameter {
    pub name: String,
    pub location: String,
    pub required: bool,
    pub schema: Value,
}

pub struct Documents {
    pub operations: BTreeMap<String, Operation>,
    /// The `components` of each document (Application, Admin), for resolving `$ref`s.
    components: [Value; 2],
}

fn load_yaml(file: &str) -> Value {
    let path = format!("{}/../openapi/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Follows a local `$ref` (`#/a/b/c`) within `doc`.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.strip_prefix('#').expect("a local $ref");
            resolve(doc, doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {r}")))
        }
        None => v,
    }
}

impl Documents {
    pub fn load() -> Documents {
        let docs = [load_yaml("application.yaml"), load_yaml("admin.yaml")];
        let mut operations = BTreeMap::new();
        for (i, doc) in docs.iter().enumerate() {
            for (path, item) in doc["paths"].as_object().expect("paths") {
                let shared: Vec<Value> = item
                    .get("parameters")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for (method, op) in item.as_object().unwrap() {
                    if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                        continue;
                    }
                    let own = op
                        .get("parameters")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    let parameters = shared
                        .iter()
                        .chain(own.iter())
                        .map(|p| {
                            let p = resolve(doc, p);
                            Parameter {
                                name: p["name"].as_str().unwrap().to_string(),
                                location: p["in"].as_str().unwrap().to_string(),
                                required: p["required"].as_bool().unwrap_or(false),
                                schema: resolve(doc, &p["schema"]).clone(),
                            }
                        })
                        .collect();
                    let body = op
                        .get("requestBody")
                        .map(|b| resolve(doc, &resolve(doc, b)["content"]["application/json"]["schema"]).clone());
                    let mut statuses = BTreeSet::new();
                    let mut responses = BTreeMap::new();
                    for (status, r) in op["responses"].as_object().unwrap() {
                        let status: u16 = status.parse().expect("numeric status");
                        statuses.insert(status);
                        if let Some(schema) = resolve(doc, r).pointer("/content/application~1json/schema") {
                            responses.insert(status, schema.clone());
                        }
                    }
                    let id = op["operationId"].as_str().unwrap().to_string();
                    operations.insert(
                        id.clone(),
                        Operation {
                            id,
                            admin: i == 1,
                            method: method.to_uppercase(),
                            path: path.clone(),
                            statuses,
                            parameters,
                            body,
                            responses,
                        },
                    );
                }
            }
        }
        let components = docs.map(|d| d["components"].clone());
        Documents { operations, components }
    }

    pub fn operation(&self, id: &str) -> &Operation {
        self.operations
            .get(id)
            .unwrap_or_else(|| panic!("no operation {id} in openapi/"))
    }

    /// A validator of the body the document gives `status` of operation `id` (`None` when the
    /// status is undocumented or has no JSON body). Formats (`uuid`, `date`, `date-time`, `uri`,
    /// ...) are checked too.
    pub fn validator(&self, id: &str, status: u16) -> Option<jsonschema::Validator> {
        let op = self.operation(id);
        let schema = op.responses.get(&status)?;
        // The schema's `#/components/...` references resolve against this root.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.components[usize::from(op.admin)],
            "allOf": [schema],
        });
        Some(
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("{id} {status}: the document's schema does not compile: {e}")),
        )
    }

    /// Checks a body against the document's schema for `status` of operation `id`; the errors,
    /// each with the place in the body, or why the status itself is wrong.
    pub fn check(&self, id: &str, status: u16, body: &[u8]) -> Result<(), String> {
        let op = self.operation(id);
        if !op.statuses.contains(&status) {
            return Err(format!(
                "{id}: status {status} is not documented (documented: {:?})",
                op.statuses
            ));
        }
        let Some(validator) = self.validator(id, status) else {
            return Err(format!("{id}: status {status} has no JSON body in the document"));
        };
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            format!(
                "{id} {status}: the body is not JSON ({e}): {}",
                String::from_utf8_lossy(body)
            )
        })?;
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("at {:?}: {e}", e.instance_path().as_str()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{id} {status}: {}\nbody: {value}", errors.join("\n  ")))
        }
    }
}
