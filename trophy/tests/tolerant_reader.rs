//! The tolerant reader: every operation whose answer can lack fields Trophy's schemas mark
//! required (see "Tolerant reader" in `openapi/README.md`) decodes an answer that leaves all of
//! them out.
//!
//! Each fixture in `fixtures/tolerant/` is one such answer, written for this test: `omits`
//! lists the fields it leaves out (`a.b[].c`: `c` of every item of the list `b`; `m{}.c`: `c`
//! of every value of the map `m`; `[].c`: `c` of every item of a list answer), `body` is what
//! the mock Trophy sends. The test sends the
//! operation through the SDK, then serializes what it decoded and checks that every field the
//! fixture has comes back unchanged and every omitted one reads as its documented default
//! (empty list or map, `false`, `true` for `subscribeToEmails`, or absent).

mod common;

use chrono::NaiveDate;
use common::Harness;
use serde::Serialize;
use serde_json::Value;
use std::future::IntoFuture;
use trophy::api::admin::achievements::{AchievementUpdate, NewAchievement};
use trophy::api::admin::attributes::{AttributeUpdate, NewAttribute};
use trophy::api::admin::leaderboards::{LeaderboardUpdate, NewLeaderboard};
use trophy::api::admin::metrics::{MetricUpdate, NewMetric};
use trophy::api::admin::points::{
    NewPointsBoost, NewPointsLevel, NewPointsSystem, NewPointsTrigger, PointsBoostUpdate, PointsLevelUpdate,
    PointsSystemUpdate, PointsTriggerUpdate,
};
use trophy::api::admin::streaks::StreakPause;
use trophy::api::admin::tenants::{NewTenant, TenantUpdate};
use trophy::{Client, UserInput, UserUpdate};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

const ID: &str = "5d0c6f2a-93b1-4e8d-a7f4-0b2c9e1d3a65";
const SYSTEM: &str = "b84e27c1-0f5d-4a39-9c6e-2d7f1a8b3e40";

/// Awaits an operation and serializes what it decoded.
async fn decoded<T: Serialize>(call: impl IntoFuture<Output = trophy::Result<T>>) -> Value {
    let value = call
        .await
        .unwrap_or_else(|e| panic!("the answer should decode: {e} ({e:?})"));
    serde_json::to_value(value).expect("decoded types serialize")
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 2, 3).expect("a date")
}

/// Sends `operation` through the SDK with arguments that reach the fixture's path.
async fn send(c: &Client, operation: &str) -> Value {
    let admin = c.admin();
    match operation {
        "achievements_all" => decoded(c.achievements().list()).await,
        "achievements_complete" => decoded(c.achievements().complete("finish-chapter", "reader-17")).await,
        "admin_achievements_create" => decoded(admin.achievements().create([NewAchievement::api("A", "a")])).await,
        "admin_achievements_delete" => decoded(admin.achievements().delete([ID])).await,
        "admin_achievements_get" => decoded(admin.achievements().get(ID)).await,
        "admin_achievements_list" => decoded(admin.achievements().list()).await,
        "admin_achievements_update" => decoded(admin.achievements().update([AchievementUpdate::new(ID)])).await,
        "admin_application_api_keys_create" => decoded(admin.application_api_keys().create(["reader-17"])).await,
        "admin_application_api_keys_delete" => decoded(admin.application_api_keys().delete([ID])).await,
        "admin_attributes_create" => decoded(admin.attributes().create([NewAttribute::new("P", "p", "user")])).await,
        "admin_attributes_delete" => decoded(admin.attributes().delete([ID])).await,
        "admin_attributes_update" => decoded(admin.attributes().update([AttributeUpdate::new(ID)])).await,
        "admin_leaderboards_create" => {
            decoded(
                admin
                    .leaderboards()
                    .create([NewLeaderboard::new("L", "l", "streak".into())]),
            )
            .await
        }
        "admin_leaderboards_delete" => decoded(admin.leaderboards().delete([ID])).await,
        "admin_leaderboards_get" => decoded(admin.leaderboards().get(ID)).await,
        "admin_leaderboards_list" => decoded(admin.leaderboards().list()).await,
        "admin_leaderboards_update" => decoded(admin.leaderboards().update([LeaderboardUpdate::new(ID)])).await,
        "admin_metrics_create" => decoded(admin.metrics().create([NewMetric::new("M", "m")])).await,
        "admin_metrics_delete" => decoded(admin.metrics().delete([ID])).await,
        "admin_metrics_update" => decoded(admin.metrics().update([MetricUpdate::new(ID)])).await,
        "admin_points_boosts_create" => {
            decoded(
                admin
                    .points()
                    .boosts(SYSTEM)
                    .create([NewPointsBoost::new("B", day(), 2.0)]),
            )
            .await
        }
        "admin_points_boosts_delete" => decoded(admin.points().boosts(SYSTEM).delete([ID])).await,
        "admin_points_boosts_update" => {
            decoded(admin.points().boosts(SYSTEM).update([PointsBoostUpdate::new(ID)])).await
        }
        "admin_points_levels_create" => {
            decoded(
                admin
                    .points()
                    .levels(SYSTEM)
                    .create([NewPointsLevel::new("L", "l", 10)]),
            )
            .await
        }
        "admin_points_levels_delete" => decoded(admin.points().levels(SYSTEM).delete([ID])).await,
        "admin_points_levels_update" => {
            decoded(admin.points().levels(SYSTEM).update([PointsLevelUpdate::new(ID)])).await
        }
        "admin_points_systems_create" => {
            decoded(admin.points().systems().create([NewPointsSystem::new("S", "s")])).await
        }
        "admin_points_systems_delete" => decoded(admin.points().systems().delete([ID])).await,
        "admin_points_systems_update" => decoded(admin.points().systems().update([PointsSystemUpdate::new(ID)])).await,
        "admin_points_triggers_create" => {
            decoded(
                admin
                    .points()
                    .triggers(SYSTEM)
                    .create([NewPointsTrigger::user_creation(5)]),
            )
            .await
        }
        "admin_points_triggers_delete" => decoded(admin.points().triggers(SYSTEM).delete([ID])).await,
        "admin_points_triggers_get" => decoded(admin.points().triggers(SYSTEM).get(ID)).await,
        "admin_points_triggers_list" => decoded(admin.points().triggers(SYSTEM).list()).await,
        "admin_points_triggers_update" => {
            decoded(admin.points().triggers(SYSTEM).update([PointsTriggerUpdate::new(ID)])).await
        }
        "admin_streaks_freezes_create" => decoded(admin.streaks().freezes().create(["reader-17"])).await,
        "admin_streaks_pauses_create" => {
            decoded(
                admin
                    .streaks()
                    .pauses()
                    .create([StreakPause::new("reader-17", day(), day())]),
            )
            .await
        }
        "admin_streaks_pauses_delete" => decoded(admin.streaks().pauses().delete([ID])).await,
        "admin_streaks_reset" => decoded(admin.streaks().reset(["reader-17"])).await,
        "admin_streaks_restore" => decoded(admin.streaks().restore(["reader-17"])).await,
        "admin_streaks_settings_get" => decoded(admin.streaks().settings().get()).await,
        "admin_streaks_settings_update" => {
            decoded(admin.streaks().settings().update().frequency("weekly".into())).await
        }
        "admin_tenants_create" => decoded(admin.tenants().create([NewTenant::new("Acme").customer_id("acme")])).await,
        "admin_tenants_delete" => decoded(admin.tenants().delete([ID])).await,
        "admin_tenants_update" => decoded(admin.tenants().update([TenantUpdate::new(ID)])).await,
        "leaderboards_all" => decoded(c.leaderboards().list()).await,
        "leaderboards_get" => decoded(c.leaderboards().get("chapters-read")).await,
        "metrics_event" => decoded(c.metrics().event("chapters-read", "reader-17", 1.0)).await,
        "points_system" => decoded(c.points().system("chapters-read")).await,
        "users_achievements" => decoded(c.users().achievements("reader-17")).await,
        "users_all_metrics" => decoded(c.users().metrics("reader-17")).await,
        "users_create" => decoded(c.users().create(UserInput::new("reader-17"))).await,
        "users_get" => decoded(c.users().get("reader-17")).await,
        "users_identify" => decoded(c.users().identify("reader-17", UserUpdate::new())).await,
        "users_leaderboard" => decoded(c.users().leaderboard("reader-17", "chapters-read")).await,
        "users_points" => decoded(c.users().points("reader-17", "chapters-read")).await,
        "users_single_metric" => decoded(c.users().metric("reader-17", "chapters-read")).await,
        "users_streak" => decoded(c.users().streak("reader-17")).await,
        "users_update" => decoded(c.users().update("reader-17", UserUpdate::new().name("Ada"))).await,
        "users_wrapped" => decoded(c.users().wrapped("reader-17")).await,
        other => panic!("no call written for fixture {other}"),
    }
}

/// The values at `path` (`a.b[].c`, `m{}.c`) below `v`, with the parent each sits in and its
/// last key: `(parent, key)` pairs, for every list item and map value the path crosses.
fn places<'a>(v: &'a mut Value, path: &str, out: &mut Vec<(&'a mut serde_json::Map<String, Value>, String)>) {
    let obj = match v {
        // A list answer: `[].c` is `c` of every item.
        Value::Array(items) => {
            if let Some(rest) = path.strip_prefix("[].") {
                items.iter_mut().for_each(|item| places(item, rest, out));
            }
            return;
        }
        Value::Object(obj) => obj,
        _ => return,
    };
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let (name, fan) = match head.strip_suffix("[]").or_else(|| head.strip_suffix("{}")) {
        Some(n) => (n, true),
        None => (head, false),
    };
    let Some(rest) = rest else {
        out.push((obj, name.to_string()));
        return;
    };
    let Some(child) = obj.get_mut(name) else { return };
    if !fan {
        return places(child, rest, out);
    }
    let children: Vec<&'a mut Value> = match child {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(map) => map.values_mut().collect(),
        _ => Vec::new(),
    };
    for c in children {
        places(c, rest, out);
    }
}

/// What an omitted field may read as: nothing, an empty list or map, or its default boolean.
fn is_default(name: &str, v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Bool(b) => *b == (name == "subscribeToEmails"),
        _ => false,
    }
}

#[tokio::test]
async fn every_affected_operation_decodes_answers_without_the_fields_trophy_leaves_out() {
    let dir = format!("{}/tests/fixtures/tolerant", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 59, "one fixture per affected operation");
    let mut omitted_total = 0;
    for file in files {
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let operation = fixture["operation"].as_str().unwrap();
        let omits: Vec<&str> = fixture["omits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap())
            .collect();
        assert!(!omits.is_empty(), "{operation}: a fixture leaves something out");
        omitted_total += omits.len();

        let h = Harness::new().await;
        let template = fixture["path"].as_str().unwrap();
        let prefix = if operation.starts_with("admin_") {
            "/admin/v1"
        } else {
            "/v1"
        };
        let pattern = format!("^{prefix}{}$", regex_of(template));
        Mock::given(method(fixture["method"].as_str().unwrap()))
            .and(path_regex(pattern))
            .respond_with(
                ResponseTemplate::new(fixture["status"].as_u64().unwrap() as u16).set_body_json(&fixture["body"]),
            )
            .expect(1)
            .mount(&h.server)
            .await;
        let mut got = send(&h.client, operation).await;

        // Every omitted field reads as its default; then, without them, what was sent comes back.
        for path in &omits {
            let mut at = Vec::new();
            places(&mut got, path, &mut at);
            for (parent, key) in at {
                if let Some(v) = parent.remove(&key) {
                    assert!(is_default(&key, &v), "{operation}: {path} read as {v}");
                }
            }
        }
        assert_eq!(got, fixture["body"], "{operation}: the fields sent come back unchanged");
    }
    assert!(omitted_total >= 150, "{omitted_total} omissions checked");
}

/// `/users/{id}/points/{key}` as a regular expression: each parameter one path segment.
fn regex_of(template: &str) -> String {
    template
        .split('/')
        .map(|s| if s.starts_with('{') { "[^/]+" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The named examples of the issue, checked on the decoded types themselves.
#[tokio::test]
async fn what_trophy_leaves_out_reads_as_documented() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/users/reader-17",
        200,
        serde_json::json!({"id": "reader-17", "email": null, "name": null, "tz": null,
                           "created": "2026-02-03T09:30:00Z", "updated": "2026-02-03T09:30:00Z"}),
    )
    .await;
    let user = h.client.users().get("reader-17").send().await.unwrap();
    assert!(!user.control, "not in the control group");
    assert!(user.subscribe_to_emails, "subscribed unless Trophy says otherwise");
    assert!(user.attributes.is_empty());

    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/points/chapters-read",
        200,
        serde_json::json!({"id": "p-1", "name": "Chapters", "triggers": [{"id": "t-1", "type": "metric", "points": 2}]}),
    )
    .await;
    let system = h.client.points().system("chapters-read").send().await.unwrap();
    let trigger = &system.triggers[0];
    assert_eq!(
        (trigger.created, trigger.updated, trigger.status.as_ref()),
        (None, None, None)
    );
    assert!(trigger.user_attributes.is_empty());
    assert_eq!(trigger.points, 2, "what was sent is kept");
}
