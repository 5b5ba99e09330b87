//! Wire tests of the Admin API's points systems, boosts, levels and triggers.

mod common;

use chrono::NaiveDate;
use common::Harness;
use futures::StreamExt;
use serde_json::{json, Value};
use std::fmt::Debug;
use std::future::Future;
use trophy::admin_types::{
    AdminIssueSeverity, AdminPointsTriggerStatus, AdminPointsTriggerTimeUnit, PointsBoostRounding, PointsBoostStatus,
    PointsSystemStatus, PointsTriggerType,
};
use trophy::api::admin::points::{
    NewPointsBoost, NewPointsLevel, NewPointsSystem, NewPointsTrigger, PointsBoostUpdate, PointsLevelUpdate,
    PointsSystemUpdate, PointsTriggerUpdate,
};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

const SYS: &str = "0b6f3c1e-5d7a-4f1e-9c2b-8a4d6e0f1a23";
const SYS2: &str = "9d2e7a41-3b8c-4c6d-a1f0-5e4b3a2c1d0f";
const BOOST: &str = "3f1d2c4b-8e7a-4b6c-9d5e-1a2b3c4d5e6f";
const BOOST2: &str = "4a2e3d5c-9f8b-4c7d-8e6f-2b3c4d5e6f70";
const LEVEL: &str = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d";
const LEVEL2: &str = "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e";
const TRIGGER: &str = "5e8f0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b";
const TRIGGER2: &str = "6f9a1b2c-3d4e-4f5a-9b0c-1d2e3f4a5b6c";
const METRIC: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const ACHIEVEMENT: &str = "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f";
const ATTR_CATEGORY: &str = "a1b2c3d4-0000-4000-8000-000000000001";
const ATTR_PLAN: &str = "a1b2c3d4-0000-4000-8000-000000000002";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn system_json(id: &str, key: &str, name: &str) -> Value {
    json!({
        "id": id, "name": name, "key": key, "description": "Earned by writing every day",
        "status": "active", "badge": {"url": "https://cdn.example.com/badges/xp.png"}, "maxPoints": null
    })
}

fn boost_json(id: &str, name: &str) -> Value {
    json!({
        "id": id, "name": name, "status": "scheduled", "start": "2026-12-01", "end": "2026-12-03",
        "multiplier": 2.5, "rounding": "nearest", "userId": null,
        "userAttributes": [{"attributeId": ATTR_PLAN, "attributeValue": "pro"}]
    })
}

fn level_json(id: &str, key: &str, points: i64) -> Value {
    json!({
        "id": id, "name": format!("Level {key}"), "key": key, "points": points,
        "description": "", "badge": null
    })
}

fn trigger_json(id: &str) -> Value {
    json!({
        "id": id, "type": "metric", "points": 5, "status": "active",
        "userAttributes": [], "metricId": METRIC, "metricThreshold": 100,
        "eventAttributes": [{"attributeId": ATTR_CATEGORY, "attributeValue": "essay"}],
        "blockIfOutOfPoints": false
    })
}

fn issue_json(index: i64, message: &str) -> Value {
    json!({"index": index, "severity": "error", "message": message})
}

/// The field an `InvalidInput` error names, after checking nothing was sent.
async fn invalid_field<T: Debug>(h: &Harness, call: impl Future<Output = trophy::Result<T>>) -> String {
    let field = match call.await {
        Err(trophy::Error::InvalidInput(e)) => e.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    };
    assert!(
        h.server.received_requests().await.unwrap().is_empty(),
        "nothing may be sent"
    );
    field
}

// ---- points systems -------------------------------------------------------------------------

#[tokio::test]
async fn systems_list_sends_limit_and_skip() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/admin/v1/points",
        200,
        json!([
            system_json(SYS, "xp", "Experience"),
            system_json(SYS2, "coins", "Coins")
        ]),
    )
    .await;
    let page = h
        .client
        .admin()
        .points()
        .systems()
        .list()
        .limit(2)
        .skip(4)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].id.to_string(), SYS);
    assert_eq!(page[0].key, "xp");
    assert_eq!(page[0].status, PointsSystemStatus::Active);
    assert_eq!(
        page[0].badge.as_ref().unwrap().url,
        "https://cdn.example.com/badges/xp.png"
    );
    assert_eq!(page[0].max_points, None);
    assert_eq!(page[1].name, "Coins");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn systems_create_sends_nested_levels_boosts_and_triggers() {
    let h = Harness::new().await;
    let mut created = system_json(SYS, "xp", "Experience");
    created["maxPoints"] = json!(10000);
    created["levels"] = json!([level_json(LEVEL, "novice", 0), level_json(LEVEL2, "expert", 1000)]);
    created["boosts"] = json!([boost_json(BOOST, "Launch week")]);
    created["triggers"] = json!([trigger_json(TRIGGER)]);
    h.expect(
        "POST",
        "/admin/v1/points",
        201,
        json!({"created": [created], "issues": [issue_json(1, "key `xp` is taken")]}),
    )
    .await;
    let xp = NewPointsSystem::new("Experience", "xp")
        .description("Earned by writing every day")
        .badge_url("https://cdn.example.com/badges/xp.png")
        .max_points(10_000)
        .levels([
            NewPointsLevel::new("Novice", "novice", 0),
            NewPointsLevel::new("Expert", "expert", 1000),
        ])
        .boosts([NewPointsBoost::new("Launch week", date(2026, 12, 1), 2.5).end(date(2026, 12, 3))])
        .triggers([NewPointsTrigger::metric(METRIC, 100, 5).event_attribute(ATTR_CATEGORY, "essay")]);
    let duplicate = NewPointsSystem::new("Experience again", "xp").clear_max_points();
    let result = h
        .client
        .admin()
        .points()
        .systems()
        .create([xp, duplicate])
        .send()
        .await
        .unwrap();

    let system = &result.created[0];
    assert_eq!(system.id.to_string(), SYS);
    assert_eq!(system.max_points, Some(10_000));
    assert_eq!(system.levels.len(), 2);
    assert_eq!(system.levels[1].key, "expert");
    assert_eq!(system.levels[1].points, 1000);
    assert_eq!(system.boosts[0].multiplier, 2.5);
    assert_eq!(system.triggers[0].metric_threshold, Some(100));
    assert_eq!(result.issues[0].index, Some(1));
    assert_eq!(result.issues[0].severity, AdminIssueSeverity::Error);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn systems_get_decodes_one_system_with_a_tenant() {
    let h = Harness::new().await;
    let mut body = system_json(SYS, "xp", "Experience");
    body["status"] = json!("archived");
    body["badge"] = Value::Null;
    body["maxPoints"] = json!(5000);
    h.expect("GET", &format!("/admin/v1/points/{SYS}"), 200, body).await;
    let system = h
        .client
        .admin()
        .points()
        .systems()
        .get(SYS)
        .tenant_id("tenant-42")
        .send()
        .await
        .unwrap();
    assert_eq!(system.key, "xp");
    assert_eq!(system.status, PointsSystemStatus::Archived);
    assert_eq!(system.badge, None);
    assert_eq!(system.max_points, Some(5000));
    assert_eq!(system.description, "Earned by writing every day");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn systems_update_sends_set_clear_and_leave_alone() {
    let h = Harness::new().await;
    let mut updated = system_json(SYS, "xp", "XP");
    updated["maxPoints"] = json!(2500);
    h.expect(
        "PATCH",
        "/admin/v1/points",
        200,
        json!({"updated": [updated], "issues": []}),
    )
    .await;
    let changes = [
        PointsSystemUpdate::new(SYS)
            .name("XP")
            .badge_url("https://cdn.example.com/badges/xp-2.png")
            .max_points(2500),
        PointsSystemUpdate::new(SYS2).clear_badge().clear_max_points(),
        PointsSystemUpdate::new("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f").description("Spend them in the shop"),
    ];
    let result = h
        .client
        .admin()
        .points()
        .systems()
        .update(changes)
        .send()
        .await
        .unwrap();
    assert_eq!(result.updated.len(), 1);
    assert_eq!(result.updated[0].name, "XP");
    assert_eq!(result.updated[0].max_points, Some(2500));
    assert!(result.issues.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn systems_delete_repeats_ids_in_the_query() {
    let h = Harness::new().await;
    h.expect(
        "DELETE",
        "/admin/v1/points",
        200,
        json!({
            "deleted": [{"id": SYS}],
            "issues": [{"id": SYS2, "severity": "warning", "message": "already archived"}]
        }),
    )
    .await;
    let result = h
        .client
        .admin()
        .points()
        .systems()
        .delete([SYS, SYS2])
        .send()
        .await
        .unwrap();
    assert_eq!(result.deleted[0].id.to_string(), SYS);
    assert_eq!(result.issues[0].id.as_deref(), Some(SYS2));
    assert_eq!(result.issues[0].severity, AdminIssueSeverity::Warning);
    insta::assert_snapshot!(h.single_request().await);
}

// ---- boosts ---------------------------------------------------------------------------------

#[tokio::test]
async fn boosts_list_decodes_a_page() {
    let h = Harness::new().await;
    let mut personal = boost_json(BOOST2, "Comeback bonus");
    personal["userId"] = json!("user-7");
    personal["userAttributes"] = json!([]);
    personal["end"] = Value::Null;
    personal["status"] = json!("active");
    h.expect(
        "GET",
        &format!("/admin/v1/points/{SYS}/boosts"),
        200,
        json!([boost_json(BOOST, "Launch week"), personal]),
    )
    .await;
    let page = h
        .client
        .admin()
        .points()
        .boosts(SYS)
        .list()
        .limit(10)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].status, PointsBoostStatus::Scheduled);
    assert_eq!(page[0].start, date(2026, 12, 1));
    assert_eq!(page[0].end, Some(date(2026, 12, 3)));
    assert_eq!(page[0].rounding, PointsBoostRounding::Nearest);
    assert_eq!(page[0].user_attributes[0].attribute_value, "pro");
    assert_eq!(page[1].user_id.as_deref(), Some("user-7"));
    assert_eq!(page[1].end, None);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn boosts_create_sends_conditions_dates_and_rounding() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        &format!("/admin/v1/points/{SYS}/boosts"),
        201,
        json!({"created": [boost_json(BOOST, "Launch week")], "issues": []}),
    )
    .await;
    let for_pros = NewPointsBoost::new("Launch week", date(2026, 12, 1), 2.5)
        .end(date(2026, 12, 3))
        .rounding(PointsBoostRounding::Nearest)
        .user_attribute(ATTR_PLAN, "pro");
    let for_one = NewPointsBoost::new("Comeback bonus", date(2026, 12, 5), 0.5)
        .user_id("user-7")
        .clear_end();
    let result = h
        .client
        .admin()
        .points()
        .boosts(SYS)
        .create([for_pros, for_one])
        .send()
        .await
        .unwrap();
    assert_eq!(result.created[0].id.to_string(), BOOST);
    assert_eq!(result.created[0].multiplier, 2.5);
    assert_eq!(result.created[0].user_attributes[0].attribute_id.to_string(), ATTR_PLAN);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn boosts_get_decodes_one_boost() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        &format!("/admin/v1/points/{SYS}/boosts/{BOOST}"),
        200,
        boost_json(BOOST, "Launch week"),
    )
    .await;
    let boost = h.client.admin().points().boosts(SYS).get(BOOST).send().await.unwrap();
    assert_eq!(boost.name, "Launch week");
    assert_eq!(boost.multiplier, 2.5);
    assert_eq!(boost.user_id, None);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn boosts_update_clears_end_and_conditions() {
    let h = Harness::new().await;
    let mut updated = boost_json(BOOST, "Launch fortnight");
    updated["end"] = Value::Null;
    updated["userAttributes"] = json!([]);
    h.expect(
        "PATCH",
        &format!("/admin/v1/points/{SYS}/boosts"),
        200,
        json!({"updated": [updated], "issues": []}),
    )
    .await;
    let changes = [
        PointsBoostUpdate::new(BOOST)
            .name("Launch fortnight")
            .clear_end()
            .clear_user_attributes()
            .multiplier(3.0),
        PointsBoostUpdate::new(BOOST2)
            .start(date(2027, 1, 2))
            .end(date(2027, 1, 9))
            .rounding(PointsBoostRounding::Up)
            .user_attribute(ATTR_PLAN, "team"),
    ];
    let result = h
        .client
        .admin()
        .points()
        .boosts(SYS)
        .update(changes)
        .send()
        .await
        .unwrap();
    assert_eq!(result.updated[0].name, "Launch fortnight");
    assert_eq!(result.updated[0].end, None);
    assert!(result.updated[0].user_attributes.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn boosts_delete_repeats_ids_in_the_query() {
    let h = Harness::new().await;
    h.expect(
        "DELETE",
        &format!("/admin/v1/points/{SYS}/boosts"),
        200,
        json!({
            "deleted": [{"id": BOOST}],
            "issues": [{"index": 1, "boostId": "nope", "severity": "error", "message": "boost not found"}]
        }),
    )
    .await;
    let result = h
        .client
        .admin()
        .points()
        .boosts(SYS)
        .delete([BOOST, "nope"])
        .send()
        .await
        .unwrap();
    assert_eq!(result.deleted[0].id.to_string(), BOOST);
    assert_eq!(result.issues[0].boost_id.as_deref(), Some("nope"));
    insta::assert_snapshot!(h.single_request().await);
}

// ---- levels ---------------------------------------------------------------------------------

#[tokio::test]
async fn levels_list_decodes_a_page() {
    let h = Harness::new().await;
    let mut expert = level_json(LEVEL2, "expert", 1000);
    expert["badge"] = json!({"url": "https://cdn.example.com/badges/expert.png"});
    h.expect(
        "GET",
        &format!("/admin/v1/points/{SYS}/levels"),
        200,
        json!([level_json(LEVEL, "novice", 0), expert]),
    )
    .await;
    let page = h
        .client
        .admin()
        .points()
        .levels(SYS)
        .list()
        .skip(10)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].key, "novice");
    assert_eq!(page[0].badge, None);
    assert_eq!(page[1].points, 1000);
    assert_eq!(
        page[1].badge.as_ref().unwrap().url,
        "https://cdn.example.com/badges/expert.png"
    );
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn levels_create_sends_badges_and_descriptions() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        &format!("/admin/v1/points/{SYS}/levels"),
        201,
        json!({"created": [level_json(LEVEL, "bronze", 100)], "issues": [issue_json(1, "points must be unique")]}),
    )
    .await;
    let levels = [
        NewPointsLevel::new("Bronze", "bronze", 100).badge_url("https://cdn.example.com/badges/bronze.png"),
        NewPointsLevel::new("Also bronze", "bronze_2", 100).description("Same threshold"),
    ];
    let result = h
        .client
        .admin()
        .points()
        .levels(SYS)
        .create(levels)
        .send()
        .await
        .unwrap();
    assert_eq!(result.created[0].id.to_string(), LEVEL);
    assert_eq!(result.created[0].points, 100);
    assert_eq!(result.issues[0].message, "points must be unique");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn levels_get_decodes_one_level() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        &format!("/admin/v1/points/{SYS}/levels/{LEVEL}"),
        200,
        level_json(LEVEL, "novice", 0),
    )
    .await;
    let level = h.client.admin().points().levels(SYS).get(LEVEL).send().await.unwrap();
    assert_eq!(level.id.to_string(), LEVEL);
    assert_eq!(level.name, "Level novice");
    assert_eq!(level.points, 0);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn levels_update_sends_set_and_cleared_badges() {
    let h = Harness::new().await;
    h.expect(
        "PATCH",
        &format!("/admin/v1/points/{SYS}/levels"),
        200,
        json!({"updated": [level_json(LEVEL, "novice", 50)], "issues": []}),
    )
    .await;
    let changes = [
        PointsLevelUpdate::new(LEVEL).points(50).clear_badge(),
        PointsLevelUpdate::new(LEVEL2)
            .name("Master")
            .description("The top")
            .badge_url("https://cdn.example.com/m.png"),
    ];
    let result = h
        .client
        .admin()
        .points()
        .levels(SYS)
        .update(changes)
        .send()
        .await
        .unwrap();
    assert_eq!(result.updated[0].points, 50);
    assert_eq!(result.updated[0].badge, None);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn levels_delete_repeats_ids_in_the_query() {
    let h = Harness::new().await;
    h.expect(
        "DELETE",
        &format!("/admin/v1/points/{SYS}/levels"),
        200,
        json!({"deleted": [{"id": LEVEL}, {"id": LEVEL2}], "issues": []}),
    )
    .await;
    let ids = vec![LEVEL.to_string(), LEVEL2.to_string()];
    let result = h.client.admin().points().levels(SYS).delete(ids).send().await.unwrap();
    assert_eq!(result.deleted.len(), 2);
    assert_eq!(result.deleted[1].id.to_string(), LEVEL2);
    insta::assert_snapshot!(h.single_request().await);
}

// ---- triggers -------------------------------------------------------------------------------

#[tokio::test]
async fn triggers_list_decodes_a_page() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        &format!("/admin/v1/points/{SYS}/triggers"),
        200,
        json!([trigger_json(TRIGGER), {
            "id": TRIGGER2, "type": "time", "points": 2, "status": "inactive", "userAttributes": [],
            "timeUnit": "days", "timeInterval": 1, "blockIfOutOfPoints": false
        }]),
    )
    .await;
    let page = h
        .client
        .admin()
        .points()
        .triggers(SYS)
        .list()
        .limit(50)
        .skip(0)
        .send()
        .await
        .unwrap();
    assert_eq!(page[0].type_, PointsTriggerType::Metric);
    assert_eq!(page[0].metric_id.unwrap().to_string(), METRIC);
    assert_eq!(page[0].event_attributes[0].attribute_value, "essay");
    assert_eq!(page[1].type_, PointsTriggerType::Time);
    assert_eq!(page[1].status, AdminPointsTriggerStatus::Inactive);
    assert_eq!(page[1].time_unit, Some(AdminPointsTriggerTimeUnit::Days));
    assert!(page[1].event_attributes.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn triggers_create_uses_the_typed_constructors() {
    let h = Harness::new().await;
    let achievement = json!({
        "id": TRIGGER2, "type": "achievement", "points": 50, "status": "inactive",
        "userAttributes": [{"attributeId": ATTR_PLAN, "attributeValue": "pro"}],
        "achievementId": ACHIEVEMENT, "blockIfOutOfPoints": false
    });
    h.expect(
        "POST",
        &format!("/admin/v1/points/{SYS}/triggers"),
        201,
        json!({"created": [trigger_json(TRIGGER), achievement], "issues": []}),
    )
    .await;
    let triggers = [
        NewPointsTrigger::metric(METRIC, 100, 5)
            .event_attribute(ATTR_CATEGORY, "essay")
            .status("active".into()),
        NewPointsTrigger::achievement(ACHIEVEMENT, 50).user_attribute(ATTR_PLAN, "pro"),
        NewPointsTrigger::streak(7, 100),
        NewPointsTrigger::time(AdminPointsTriggerTimeUnit::Hours, 12, 1),
        NewPointsTrigger::user_creation(25),
        NewPointsTrigger::new(PointsTriggerType::Metric, -10)
            .metric_id(METRIC)
            .metric_threshold(1)
            .block_if_out_of_points(true)
            .clear_user_attributes(),
    ];
    let result = h
        .client
        .admin()
        .points()
        .triggers(SYS)
        .create(triggers)
        .send()
        .await
        .unwrap();
    assert_eq!(result.created.len(), 2);
    assert_eq!(result.created[0].status, AdminPointsTriggerStatus::Active);
    assert_eq!(result.created[1].type_, PointsTriggerType::Achievement);
    assert_eq!(result.created[1].achievement_id.unwrap().to_string(), ACHIEVEMENT);
    assert_eq!(result.created[1].user_attributes[0].attribute_value, "pro");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn triggers_get_decodes_one_trigger() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        &format!("/admin/v1/points/{SYS}/triggers/{TRIGGER}"),
        200,
        trigger_json(TRIGGER),
    )
    .await;
    let trigger = h
        .client
        .admin()
        .points()
        .triggers(SYS)
        .get(TRIGGER)
        .send()
        .await
        .unwrap();
    assert_eq!(trigger.points, 5);
    assert_eq!(trigger.metric_threshold, Some(100));
    assert!(!trigger.block_if_out_of_points);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn triggers_update_sends_only_what_changed() {
    let h = Harness::new().await;
    let mut updated = trigger_json(TRIGGER);
    updated["points"] = json!(10);
    updated["eventAttributes"] = json!([]);
    h.expect(
        "PATCH",
        &format!("/admin/v1/points/{SYS}/triggers"),
        200,
        json!({"updated": [updated], "issues": []}),
    )
    .await;
    let changes = [
        PointsTriggerUpdate::new(TRIGGER).points(10).clear_event_attributes(),
        PointsTriggerUpdate::new(TRIGGER2)
            .trigger_type(PointsTriggerType::Streak)
            .streak_length(30)
            .status(AdminPointsTriggerStatus::Inactive)
            .user_attribute(ATTR_PLAN, "free"),
    ];
    let result = h
        .client
        .admin()
        .points()
        .triggers(SYS)
        .update(changes)
        .send()
        .await
        .unwrap();
    assert_eq!(result.updated[0].points, 10);
    assert!(result.updated[0].event_attributes.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn triggers_delete_repeats_ids_in_the_query() {
    let h = Harness::new().await;
    h.expect(
        "DELETE",
        &format!("/admin/v1/points/{SYS}/triggers"),
        200,
        json!({"deleted": [{"id": TRIGGER}], "issues": []}),
    )
    .await;
    let result = h
        .client
        .admin()
        .points()
        .triggers(SYS)
        .delete([TRIGGER])
        .send()
        .await
        .unwrap();
    assert_eq!(result.deleted[0].id.to_string(), TRIGGER);
    insta::assert_snapshot!(h.single_request().await);
}

// ---- paths and paging -----------------------------------------------------------------------

#[tokio::test]
async fn ids_are_encoded_as_one_path_segment() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/admin/v1/points/a%2Fb%20%C3%A9",
        200,
        system_json(SYS, "xp", "Experience"),
    )
    .await;
    h.expect(
        "GET",
        "/admin/v1/points/a%2Fb%20%C3%A9/levels/x%3Fy",
        200,
        level_json(LEVEL, "novice", 0),
    )
    .await;
    h.expect(
        "DELETE",
        "/admin/v1/points/..%2F/triggers",
        200,
        json!({"deleted": [], "issues": []}),
    )
    .await;
    let points = h.client.admin().points();
    points.systems().get("a/b é").send().await.unwrap();
    points.levels("a/b é").get("x?y").send().await.unwrap();
    points.triggers("../").delete(["a&ids=b"]).send().await.unwrap();
    let requests = h.server.received_requests().await.unwrap();
    assert_eq!(requests[2].url.query(), Some("ids=a%26ids%3Db"));
}

#[tokio::test]
async fn boosts_stream_walks_every_page() {
    let h = Harness::new().await;
    let boosts: Vec<Value> = (0..5)
        .map(|i| {
            boost_json(
                &format!("3f1d2c4b-8e7a-4b6c-9d5e-00000000000{i}"),
                &format!("Boost {i}"),
            )
        })
        .collect();
    for (skip, page) in [("0", &boosts[0..2]), ("2", &boosts[2..4]), ("4", &boosts[4..5])] {
        Mock::given(method("GET"))
            .and(path(format!("/admin/v1/points/{SYS}/boosts")))
            .and(query_param("skip", skip))
            .and(query_param("limit", "2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(page))
            .expect(1)
            .mount(&h.server)
            .await;
    }
    let names: Vec<String> = h
        .client
        .admin()
        .points()
        .boosts(SYS)
        .list()
        .limit(2)
        .into_stream()
        .map(|b| b.unwrap().name)
        .collect()
        .await;
    assert_eq!(names, ["Boost 0", "Boost 1", "Boost 2", "Boost 3", "Boost 4"]);
    let requests = h.server.received_requests().await.unwrap();
    let queries: Vec<_> = requests
        .iter()
        .map(|r| r.url.query().unwrap_or_default().to_string())
        .collect();
    assert_eq!(queries, ["limit=2&skip=0", "limit=2&skip=2", "limit=2&skip=4"]);
}

#[tokio::test]
async fn stream_stops_at_the_first_error() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/admin/v1/points",
        422,
        json!({"error": "skip must be 0 or more"}),
    )
    .await;
    let items: Vec<_> = h
        .client
        .admin()
        .points()
        .systems()
        .list()
        .skip(3)
        .into_stream()
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap_err().status(), Some(422));
    let requests = h.server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.query(), Some("limit=100&skip=3"));
}

// ---- validation -----------------------------------------------------------------------------

#[tokio::test]
async fn path_ids_must_be_usable_segments() {
    let h = Harness::new().await;
    let points = h.client.admin().points();
    assert_eq!(invalid_field(&h, points.systems().get("").send()).await, "id");
    assert_eq!(invalid_field(&h, points.boosts("").list().send()).await, "system_id");
    assert_eq!(
        invalid_field(&h, points.levels("..").get(LEVEL).send()).await,
        "system_id"
    );
    assert_eq!(invalid_field(&h, points.triggers(SYS).get(".").send()).await, "id");
}

#[tokio::test]
async fn limit_must_be_from_1_to_100() {
    let h = Harness::new().await;
    let points = h.client.admin().points();
    assert_eq!(
        invalid_field(&h, points.systems().list().limit(0).send()).await,
        "limit"
    );
    assert_eq!(
        invalid_field(&h, points.triggers(SYS).list().limit(101).send()).await,
        "limit"
    );
    let first = points.levels(SYS).list().limit(101).into_stream().next().await.unwrap();
    assert!(matches!(first, Err(trophy::Error::InvalidInput(e)) if e.field == "limit"));
}

#[tokio::test]
async fn bulk_bodies_and_ids_take_1_to_100_items() {
    let h = Harness::new().await;
    let points = h.client.admin().points();
    assert_eq!(invalid_field(&h, points.systems().create([]).send()).await, "items");
    let many = (0..101).map(|i| NewPointsLevel::new("L", format!("l{i}"), i));
    assert_eq!(invalid_field(&h, points.levels(SYS).create(many).send()).await, "items");
    assert_eq!(invalid_field(&h, points.boosts(SYS).update([]).send()).await, "items");
    assert_eq!(
        invalid_field(&h, points.systems().delete(Vec::<String>::new()).send()).await,
        "ids"
    );
    let ids: Vec<String> = (0..101).map(|i| format!("id-{i}")).collect();
    assert_eq!(invalid_field(&h, points.triggers(SYS).delete(ids).send()).await, "ids");
    assert_eq!(
        invalid_field(&h, points.levels(SYS).delete([LEVEL, " "]).send()).await,
        "ids[1]"
    );
}

#[tokio::test]
async fn keys_ids_and_urls_are_checked_per_item() {
    let h = Harness::new().await;
    let points = h.client.admin().points();
    let call = points.systems().create([
        NewPointsSystem::new("Experience", "xp"),
        NewPointsSystem::new("Bad", "bad key"),
    ]);
    assert_eq!(invalid_field(&h, call.send()).await, "items[1].key");
    let nested =
        NewPointsSystem::new("XP", "xp").levels([NewPointsLevel::new("A", "a", 0), NewPointsLevel::new("B", "b/c", 1)]);
    assert_eq!(
        invalid_field(&h, points.systems().create([nested]).send()).await,
        "items[0].levels[1].key"
    );
    let nested = NewPointsSystem::new("XP", "xp").boosts([NewPointsBoost::new("B", date(2026, 1, 1), 1.0)]);
    assert_eq!(
        invalid_field(&h, points.systems().create([nested]).send()).await,
        "items[0].boosts[0].multiplier"
    );
    let nested = NewPointsSystem::new("XP", "xp").triggers([NewPointsTrigger::streak(0, 5)]);
    assert_eq!(
        invalid_field(&h, points.systems().create([nested]).send()).await,
        "items[0].triggers[0].streak_length"
    );
    let zero_max = NewPointsSystem::new("XP", "xp").max_points(0);
    assert_eq!(
        invalid_field(&h, points.systems().create([zero_max]).send()).await,
        "items[0].max_points"
    );
    let no_url = PointsSystemUpdate::new(SYS).badge_url("");
    assert_eq!(
        invalid_field(&h, points.systems().update([no_url]).send()).await,
        "items[0].badge_url"
    );
    assert_eq!(
        invalid_field(&h, points.systems().update([PointsSystemUpdate::new("")]).send()).await,
        "items[0].id"
    );
    // Points are i64 everywhere (trigger awards may be negative); a level's and a cap's may not.
    let negative_max = NewPointsSystem::new("XP", "xp").max_points(-5);
    assert_eq!(
        invalid_field(&h, points.systems().create([negative_max]).send()).await,
        "items[0].max_points"
    );
    let negative = NewPointsLevel::new("Debt", "debt", -1);
    assert_eq!(
        invalid_field(&h, points.levels(SYS).create([negative]).send()).await,
        "items[0].points"
    );
    let negative = PointsLevelUpdate::new(LEVEL).points(-10);
    assert_eq!(
        invalid_field(&h, points.levels(SYS).update([negative]).send()).await,
        "items[0].points"
    );
    let level = NewPointsLevel::new("Gold", "gold!", 10);
    assert_eq!(
        invalid_field(&h, points.levels(SYS).create([level]).send()).await,
        "items[0].key"
    );
    let level = PointsLevelUpdate::new(LEVEL).clear_badge();
    let blank = PointsLevelUpdate::new("");
    assert_eq!(
        invalid_field(&h, points.levels(SYS).update([level, blank]).send()).await,
        "items[1].id"
    );
}

#[tokio::test]
async fn boost_multipliers_follow_the_documented_limits() {
    let h = Harness::new().await;
    let boosts = h.client.admin().points().boosts(SYS);
    for bad in [0.0, -2.0, 1.0, 100.0, 250.0, f64::NAN, f64::INFINITY] {
        let call = boosts.create([NewPointsBoost::new("B", date(2026, 1, 1), bad)]);
        assert_eq!(
            invalid_field(&h, call.send()).await,
            "items[0].multiplier",
            "multiplier {bad}"
        );
    }
    let err = boosts
        .create([NewPointsBoost::new("B", date(2026, 1, 1), 1.0)])
        .send()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("greater than 0, less than 100, and not 1"),
        "{err}"
    );
    let change = PointsBoostUpdate::new(BOOST).multiplier(100.0);
    assert_eq!(
        invalid_field(&h, boosts.update([change]).send()).await,
        "items[0].multiplier"
    );
}

#[tokio::test]
async fn boost_targets_and_dates_are_consistent() {
    let h = Harness::new().await;
    let boosts = h.client.admin().points().boosts(SYS);
    let both = NewPointsBoost::new("B", date(2026, 1, 1), 2.0)
        .user_id("user-7")
        .user_attribute(ATTR_PLAN, "pro");
    assert_eq!(
        invalid_field(&h, boosts.create([both]).send()).await,
        "items[0].user_attributes"
    );
    let blank_user = NewPointsBoost::new("B", date(2026, 1, 1), 2.0).user_id("");
    assert_eq!(
        invalid_field(&h, boosts.create([blank_user]).send()).await,
        "items[0].user_id"
    );
    let backwards = NewPointsBoost::new("B", date(2026, 1, 10), 2.0).end(date(2026, 1, 9));
    assert_eq!(
        invalid_field(&h, boosts.create([backwards]).send()).await,
        "items[0].end"
    );
    let backwards = PointsBoostUpdate::new(BOOST)
        .start(date(2026, 3, 1))
        .end(date(2026, 2, 1));
    assert_eq!(
        invalid_field(&h, boosts.update([backwards]).send()).await,
        "items[0].end"
    );
    let blank_attr = PointsBoostUpdate::new(BOOST).user_attribute("", "pro");
    assert_eq!(
        invalid_field(&h, boosts.update([blank_attr]).send()).await,
        "items[0].user_attributes[0].attribute_id"
    );
}

#[tokio::test]
async fn trigger_counts_and_ids_are_checked() {
    let h = Harness::new().await;
    let triggers = h.client.admin().points().triggers(SYS);
    let cases = [
        (NewPointsTrigger::metric(METRIC, 0, 5), "items[0].metric_threshold"),
        (NewPointsTrigger::metric("", 10, 5), "items[0].metric_id"),
        (NewPointsTrigger::achievement(" ", 5), "items[0].achievement_id"),
        (NewPointsTrigger::time("days".into(), 0, 5), "items[0].time_interval"),
        (
            NewPointsTrigger::user_creation(5).event_attribute("", "x"),
            "items[0].event_attributes[0].attribute_id",
        ),
    ];
    for (trigger, field) in cases {
        assert_eq!(invalid_field(&h, triggers.create([trigger]).send()).await, field);
    }
    let change = PointsTriggerUpdate::new(TRIGGER).streak_length(0);
    assert_eq!(
        invalid_field(&h, triggers.update([change]).send()).await,
        "items[0].streak_length"
    );
    assert_eq!(
        invalid_field(&h, triggers.update([PointsTriggerUpdate::new("")]).send()).await,
        "items[0].id"
    );
}
