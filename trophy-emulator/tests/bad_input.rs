//! Bad input, operation by operation: every operation of `trophy_generated::operations::ALL` is
//! sent a malformed body or parameter, and must answer a status our documents (`openapi/`) list
//! for it, with the documented JSON error body. The rule (openapi/README.md, "Error answers"):
//! the document's statuses first, the closest documented one where the document is silent.
//! A method a path does not have answers a JSON 405.

mod common;
mod documents;

use std::collections::BTreeMap;

use common::Api;
use documents::{Documents, Parameter};
use reqwest::Method;
use serde_json::{json, Value};
use trophy_generated::operations::ALL;
use trophy_generated::ApiKind;

/// IDs and keys of things that exist, so that a probe reaches the input it spoils.
struct Fixture {
    ids: BTreeMap<&'static str, String>,
}

impl Fixture {
    async fn create(api: &Api) -> Fixture {
        let mut ids = BTreeMap::new();
        ids.insert("metrics", api.metric("lessons").await);
        let plan = json!([{"name": "Plan", "key": "plan", "type": "user"}]);
        ids.insert("attributes", s(&created(api, "/attributes", plan).await["id"]));
        let xp = json!([{"name": "XP", "key": "xp",
            "levels": [{"name": "Bronze", "key": "bronze", "points": 0}],
            "triggers": [{"type": "user_creation", "points": 1}]}]);
        let system = created(api, "/points", xp).await;
        ids.insert("points", s(&system["id"]));
        ids.insert("levels", s(&system["levels"][0]["id"]));
        ids.insert("triggers", s(&system["triggers"][0]["id"]));
        let boost = json!([{"name": "Double", "start": "2026-01-01", "multiplier": 2}]);
        let boosts = format!("/points/{}/boosts", ids["points"]);
        ids.insert("boosts", s(&created(api, &boosts, boost).await["id"]));
        let top = json!([{"name": "Top", "key": "top", "rankBy": "metric",
            "metricId": ids["metrics"], "status": "active", "start": "2026-01-01"}]);
        ids.insert("leaderboards", s(&created(api, "/leaderboards", top).await["id"]));
        let acme = json!([{"customerId": "acme", "name": "Acme"}]);
        ids.insert("tenants", s(&created(api, "/tenants", acme).await["id"]));
        let r = api.admin(Method::GET, "/achievements", None).await;
        ids.insert("achievements", s(&r.json()[0]["id"]));
        api.app(Method::PUT, "/users/alice", Some(&json!({"name": "Alice"})))
            .await
            .expect(200);
        api.event("lessons", "alice", 2.0).await.expect(201);
        Fixture { ids }
    }

    /// A valid value of a path parameter: the thing named by the segment before it.
    fn path_value(&self, api: ApiKind, before: &str, name: &str) -> String {
        match (api, name) {
            (ApiKind::App, "id") => "alice".into(),
            (ApiKind::App, "key") => match before {
                "achievements" => "finish-onboarding".into(),
                "metrics" => "lessons".into(),
                "points" => "xp".into(),
                "leaderboards" => "top".into(),
                other => panic!("no key for /{other}/{{key}}"),
            },
            (ApiKind::Admin, "systemId") => self.ids["points"].clone(),
            (ApiKind::Admin, "id") => self
                .ids
                .get(before)
                .unwrap_or_else(|| panic!("no id for /{before}/{{id}}"))
                .clone(),
            (api, name) => panic!("no value for {api:?} path parameter {name}"),
        }
    }

    /// A body that passes validation, for probes of an operation's parameters; `None` where
    /// the parameters are checked before the body anyway.
    fn body(&self, op: &str) -> Option<Value> {
        Some(match op {
            "metrics_event" => json!({"user": {"id": "alice"}, "value": 1}),
            "achievements_complete" => json!({"user": {"id": "alice"}}),
            "users_identify" | "users_update" | "users_update_preferences" => json!({}),
            "admin_points_boosts_create" => json!([{"name": "B", "start": "2026-01-01", "multiplier": 2}]),
            "admin_points_boosts_update" => json!([{"id": self.ids["boosts"], "name": "B2"}]),
            "admin_points_levels_create" => json!([{"name": "Silver", "key": "silver", "points": 10}]),
            "admin_points_levels_update" => json!([{"id": self.ids["levels"], "name": "L2"}]),
            "admin_points_triggers_create" => json!([{"type": "user_creation", "points": 1}]),
            "admin_points_triggers_update" => json!([{"id": self.ids["triggers"], "points": 2}]),
            _ => return None,
        })
    }
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_string()
}

/// Creates one item through an Admin bulk create and returns it.
async fn created(api: &Api, path: &str, body: Value) -> Value {
    let r = api.admin(Method::POST, path, Some(&body)).await;
    r.expect(201);
    r.json()["created"][0].clone()
}

/// A valid value for a query parameter the document requires.
fn valid_query(p: &Parameter, fixture: &Fixture) -> String {
    match p.name.as_str() {
        "aggregation" => "daily".into(),
        "startDate" => "2026-01-01".into(),
        "endDate" => "2026-01-15".into(),
        "userIds" => "alice".into(),
        "ids" => fixture.ids["boosts"].clone(),
        other => panic!("no valid value for the required query parameter {other}"),
    }
}

/// What a probe spoils.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    BodyNotJson,
    BodyWrongType,
    PathNotUuid,
    PathMalformedUserId,
    PathMalformedKey,
    QueryIdsNotUuids,
    QueryWrongType,
    QueryRequiredMissing,
    BadApiKey,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::BodyNotJson => "body: not JSON (`{\"`)",
            Kind::BodyWrongType => "body: JSON of the wrong type (`42`)",
            Kind::PathNotUuid => "path: a UUID parameter set to `not-a-uuid`",
            Kind::PathMalformedUserId => "path: a user ID of 256 characters",
            Kind::PathMalformedKey => "path: a key that breaks the key pattern (`bad key!`)",
            Kind::QueryIdsNotUuids => "query: `ids=not-a-uuid` (Admin deletes)",
            Kind::QueryWrongType => "query: a typed parameter with a wrong value",
            Kind::QueryRequiredMissing => "query: a required parameter left out",
            Kind::BadApiKey => "header: an unknown `X-API-KEY` (operations with nothing else to spoil)",
        }
    }
}

/// The first of `preferred` the operation documents, else its first documented 4xx.
fn closest(statuses: &std::collections::BTreeSet<u16>, preferred: &[u16]) -> u16 {
    preferred
        .iter()
        .copied()
        .find(|s| statuses.contains(s))
        .or_else(|| statuses.iter().copied().find(|s| (400..500).contains(s) && *s != 401))
        .expect("a documented client error")
}

/// A wrong value for a typed query parameter, or `None` for a free string.
fn wrong_value(p: &Parameter) -> Option<&'static str> {
    let schema = &p.schema;
    if schema.get("enum").is_some() {
        return Some("not-a-value");
    }
    match (schema["type"].as_str(), schema["format"].as_str()) {
        (Some("integer"), _) => Some("abc"),
        (Some("boolean"), _) => Some("maybe"),
        (Some("string"), Some("date")) => Some("2026-13-45"),
        // Admin `ids` (UUIDs; those of boosts too, see openapi/README.md); `userIds` are free.
        (Some("array"), _) if p.name == "ids" => Some("not-a-uuid"),
        // `key:value` attribute filters.
        (Some("string"), None) if p.name == "userAttributes" => Some("no-colon"),
        _ => None,
    }
}

struct Probe {
    op: &'static str,
    kind: Kind,
    what: String,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    key: Option<String>,
    body: Option<Vec<u8>>,
    expected: u16,
    /// The answer's error message must mention one of these.
    mentions: Vec<String>,
}

/// Every probe of every operation.
fn probes(docs: &Documents, fixture: &Fixture, admin_key: &str) -> Vec<Probe> {
    let mut out = Vec::new();
    for op in ALL {
        let doc = docs.operation(op.id);
        assert_eq!((doc.method.as_str(), doc.path.as_str()), (op.method.as_str(), op.path));
        let statuses = &doc.statuses;
        let fill = |spoil: Option<(&str, &str)>| -> String {
            let mut path = op.path.to_string();
            let segments: Vec<&str> = op.path.split('/').collect();
            for name in op.path_params {
                let placeholder = format!("{{{name}}}");
                let at = segments.iter().position(|s| *s == placeholder).unwrap();
                let value = match spoil {
                    Some((n, v)) if n == *name => v.to_string(),
                    _ => fixture.path_value(op.api, segments[at - 1], name),
                };
                path = path.replace(&placeholder, &value);
            }
            path
        };
        let required: Vec<(String, String)> = doc
            .parameters
            .iter()
            .filter(|p| p.location == "query" && p.required)
            .map(|p| (p.name.clone(), valid_query(p, fixture)))
            .collect();
        let good_body = fixture.body(op.id).map(|b| b.to_string().into_bytes());
        let base = |kind: Kind, what: String, expected: u16, mentions: Vec<String>| Probe {
            op: op.id,
            kind,
            what,
            method: Method::from_bytes(op.method.as_str().as_bytes()).unwrap(),
            path: fill(None),
            query: required.clone(),
            key: Some(admin_key.to_string()),
            body: good_body.clone().or_else(|| op.request.map(|_| b"{}".to_vec())),
            expected,
            mentions,
        };
        let before = out.len();

        if op.request.is_some() {
            let expected = closest(statuses, &[400, 422]);
            for (kind, body) in [(Kind::BodyNotJson, &b"{\""[..]), (Kind::BodyWrongType, &b"42"[..])] {
                let mut p = base(
                    kind,
                    String::from_utf8_lossy(body).into(),
                    expected,
                    vec!["request body".into()],
                );
                p.body = Some(body.to_vec());
                out.push(p);
            }
        }
        for param in doc.parameters.iter().filter(|p| p.location == "path") {
            let name = param.name.as_str();
            let (kind, value, expected) = if param.schema["format"] == "uuid" {
                (Kind::PathNotUuid, "not-a-uuid".to_string(), 422)
            } else if op.api == ApiKind::App && name == "id" {
                (
                    Kind::PathMalformedUserId,
                    "u".repeat(256),
                    closest(statuses, &[400, 404, 422]),
                )
            } else {
                (
                    Kind::PathMalformedKey,
                    "bad key!".to_string(),
                    closest(statuses, &[404, 422]),
                )
            };
            let mut p = base(kind, name.to_string(), expected, vec![name.into(), value.clone()]);
            p.path = fill(Some((name, &value)));
            out.push(p);
        }
        for param in doc.parameters.iter().filter(|p| p.location == "query") {
            let name = param.name.clone();
            if let Some(value) = wrong_value(param) {
                let kind = if name == "ids" {
                    Kind::QueryIdsNotUuids
                } else {
                    Kind::QueryWrongType
                };
                let expected = closest(statuses, &[422, 400, 404]);
                let mut p = base(kind, format!("{name}={value}"), expected, vec![name.clone()]);
                p.query.retain(|(n, _)| *n != name);
                p.query.push((name.clone(), value.to_string()));
                out.push(p);
            }
            if param.required {
                let expected = closest(statuses, &[422, 400]);
                let mut p = base(
                    Kind::QueryRequiredMissing,
                    format!("no {name}"),
                    expected,
                    vec![name.clone()],
                );
                p.query.retain(|(n, _)| *n != name);
                out.push(p);
            }
        }
        if out.len() == before {
            let mut p = base(Kind::BadApiKey, "X-API-KEY: unknown".into(), 401, vec!["key".into()]);
            p.key = Some("app_not_a_key".into());
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn every_operation_answers_bad_input_with_a_documented_status_and_a_json_error() {
    let api = Api::start().await;
    let fixture = Fixture::create(&api).await;
    let docs = Documents::load();
    let probes = probes(&docs, &fixture, &api.emu.admin_key());

    let mut table: BTreeMap<Kind, BTreeMap<u16, usize>> = BTreeMap::new();
    let mut failures = Vec::new();
    for p in &probes {
        let base = match docs.operation(p.op).admin {
            true => api.emu.admin_url(),
            false => api.emu.app_url(),
        };
        let mut req = api.http.request(p.method.clone(), format!("{base}{}", p.path));
        if !p.query.is_empty() {
            req = req.query(&p.query);
        }
        if let Some(k) = &p.key {
            req = req.header("X-API-KEY", k);
        }
        if let Some(b) = &p.body {
            req = req.header("Content-Type", "application/json").body(b.clone());
        }
        let r = req.send().await.expect("request sent");
        let status = r.status().as_u16();
        let json_type = r
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/json"));
        let body = r.bytes().await.unwrap().to_vec();
        *table.entry(p.kind).or_default().entry(status).or_default() += 1;

        let mut problems = Vec::new();
        if let Err(e) = docs.check(p.op, status, &body) {
            problems.push(e);
        }
        if status != p.expected {
            problems.push(format!("expected {}", p.expected));
        }
        if !json_type {
            problems.push("not application/json".into());
        }
        let message = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string));
        match &message {
            Some(m) if p.mentions.iter().any(|x| m.contains(x.as_str())) => {}
            _ => problems.push(format!("the error does not mention any of {:?}", p.mentions)),
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} {} ({:?} {}): {status} {}: {}",
                p.op,
                p.method,
                p.kind,
                p.what,
                String::from_utf8_lossy(&body).chars().take(200).collect::<String>(),
                problems.join("; ")
            ));
        }
    }

    println!("| probe | probes | statuses answered |\n|---|---|---|");
    for (kind, statuses) in &table {
        let n: usize = statuses.values().sum();
        let seen: Vec<String> = statuses.iter().map(|(s, c)| format!("{s} × {c}")).collect();
        println!("| {} | {n} | {} |", kind.label(), seen.join(", "));
    }
    println!("{} probes, {} not as documented", probes.len(), failures.len());

    let walked: std::collections::BTreeSet<&str> = probes.iter().map(|p| p.op).collect();
    assert_eq!(walked.len(), 85, "every operation is probed");
    assert_eq!(ALL.len(), 85);
    assert!(
        failures.is_empty(),
        "{} of {} probes not answered as documented:\n{}",
        failures.len(),
        probes.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_method_a_path_does_not_have_answers_a_json_405() {
    let api = Api::start().await;
    let fixture = Fixture::create(&api).await;
    let docs = Documents::load();
    let mut by_path: BTreeMap<(bool, &str), Vec<&str>> = BTreeMap::new();
    for op in docs.operations.values() {
        by_path
            .entry((op.admin, op.path.as_str()))
            .or_default()
            .push(op.method.as_str());
    }
    let mut probed = 0;
    for ((admin, template), methods) in &by_path {
        let api_kind = if *admin { ApiKind::Admin } else { ApiKind::App };
        let segments: Vec<&str> = template.split('/').collect();
        let path: String = segments
            .iter()
            .enumerate()
            .map(
                |(i, seg)| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => fixture.path_value(api_kind, segments[i - 1], name),
                    None => seg.to_string(),
                },
            )
            .collect::<Vec<_>>()
            .join("/");
        let url = if *admin {
            api.admin_url(&path)
        } else {
            api.app_url(&path)
        };
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if methods.contains(&method) {
                continue;
            }
            let r = api
                .raw(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    &url,
                    api.key.as_deref(),
                    None,
                    &[],
                    None,
                )
                .await;
            r.expect(405);
            assert!(
                r.headers["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json"),
                "{method} {template}"
            );
            assert!(r.error().starts_with("method not allowed"), "{method} {template}");
            let allow = r.headers["allow"].to_str().unwrap().to_string();
            for m in methods {
                assert!(allow.contains(m), "{method} {template}: Allow {allow:?} lacks {m}");
            }
            probed += 1;
        }
    }
    // 51 paths (the 27 operations of the Application API on 24, the 58 of the Admin API on 27),
    // each probed with the methods it does not have.
    assert_eq!(by_path.len(), 51);
    let documented: usize = by_path.values().map(Vec::len).sum();
    assert_eq!(documented, 85);
    assert_eq!(probed, 51 * 5 - 85);
    // The example of the issue: DELETE of a user.
    let r = api.app(Method::DELETE, "/users/alice", None).await;
    r.expect(405);
    assert_eq!(
        r.json(),
        json!({"error": "method not allowed for this path (the Allow header lists those it has)"})
    );
    assert_eq!(r.headers["allow"], "GET,HEAD,PUT,PATCH");
}
