//! Wire tests of the points operations.

mod common;

use common::Harness;
use serde_json::json;
use trophy::types::{
    PointsBoostRounding, PointsBoostStatus, PointsTriggerStatus, PointsTriggerTimeUnit, PointsTriggerType,
};
use trophy::Error;

fn invalid_field(e: Error) -> String {
    match e {
        Error::InvalidInput(i) => i.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn summary_sends_attribute_filters() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/points/xp/summary",
        200,
        json!([
            {"from": 0, "to": 99, "users": 412},
            {"from": 100, "to": 499, "users": 238},
            {"from": 500, "to": 999, "users": 57}
        ]),
    )
    .await;
    let ranges = h
        .client
        .points()
        .summary("xp")
        .user_attribute("plan", "pro")
        .user_attribute("region", "emea")
        .send()
        .await
        .unwrap();
    assert_eq!(ranges.len(), 3);
    assert_eq!(ranges[0].users, 412);
    assert_eq!(ranges[1].from, 100);
    assert_eq!(ranges[2].to, 999);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn summary_checks_attribute_pairs() {
    let h = Harness::new().await;
    let points = h.client.points();
    let e = points
        .summary("xp")
        .user_attribute("plan", "pro")
        .user_attribute("", "x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(e), "user_attributes[1].key");
    let e = points
        .summary("xp")
        .user_attribute("a:b", "x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(e), "user_attributes[0].key");
    let e = points
        .summary("xp")
        .user_attribute("plan", "pro,team")
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid_field(e), "user_attributes[0].value");
}

#[tokio::test]
async fn system_decodes_the_triggers() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/points/xp",
        200,
        json!({
            "id": "pts_xp", "name": "Experience", "description": "Points for writing", "badgeUrl": null,
            "maxPoints": 100000.0,
            "triggers": [{
                "id": "trg_words", "type": "metric", "points": 10, "status": "active",
                "metricId": "met_words", "metricName": "Words written", "metricThreshold": 500,
                "userAttributes": [{"key": "plan", "value": "pro"}],
                "eventAttributes": [{"key": "source", "value": "editor"}],
                "created": "2026-01-03T09:00:00Z", "updated": "2026-02-11T16:45:00Z"
            }, {
                "id": "trg_daily", "type": "time", "points": 5, "status": "inactive",
                "timeInterval": 24, "timeUnit": "hour", "userAttributes": [],
                "created": "2026-01-03T09:05:00Z", "updated": "2026-01-03T09:05:00Z"
            }]
        }),
    )
    .await;
    let system = h.client.points().system("xp").send().await.unwrap();
    assert_eq!(system.id, "pts_xp");
    assert_eq!(system.max_points, Some(100000.0));
    assert_eq!(system.triggers.len(), 2);
    let t = &system.triggers[0];
    assert_eq!(t.type_, PointsTriggerType::Metric);
    assert_eq!(t.status, Some(PointsTriggerStatus::Active));
    assert_eq!(t.metric_threshold, Some(500));
    assert_eq!(t.event_attributes[0].value, "editor");
    assert_eq!(system.triggers[1].time_unit, Some(PointsTriggerTimeUnit::Hour));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn system_encodes_the_key_as_one_segment() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/points/a%2Fb%20%C3%A9",
        200,
        json!({"id": "pts_1", "name": "Odd", "description": null, "badgeUrl": null, "maxPoints": null, "triggers": []}),
    )
    .await;
    let system = h.client.points().system("a/b é").send().await.unwrap();
    assert_eq!(system.name, "Odd");
    assert_eq!(
        invalid_field(h.client.points().system("").send().await.unwrap_err()),
        "key"
    );
}

#[tokio::test]
async fn boosts_sends_include_finished() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/points/xp/boosts",
        200,
        json!([
            {"id": "bst_1", "name": "Launch week", "status": "finished", "start": "2026-01-05", "end": "2026-01-11",
             "multiplier": 1.5, "rounding": "nearest"},
            {"id": "bst_2", "name": "Spring sprint", "status": "scheduled", "start": "2026-04-01", "end": null,
             "multiplier": 3.0, "rounding": "up"}
        ]),
    )
    .await;
    let boosts = h
        .client
        .points()
        .boosts("xp")
        .include_finished(true)
        .send()
        .await
        .unwrap();
    assert_eq!(boosts.len(), 2);
    assert_eq!(boosts[0].status, PointsBoostStatus::Finished);
    assert_eq!(boosts[0].rounding, PointsBoostRounding::Nearest);
    assert_eq!(boosts[0].multiplier, 1.5);
    assert_eq!(boosts[1].end, None);
    insta::assert_snapshot!(h.single_request().await);
}

fn level(id: &str, key: &str, name: &str, points: i64) -> serde_json::Value {
    json!({"id": id, "key": key, "name": name, "description": format!("{points} XP"), "badgeUrl": null, "points": points})
}

#[tokio::test]
async fn levels_lists_the_levels() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/points/xp/levels",
        200,
        json!([
            level("lvl_1", "novice", "Novice", 0),
            level("lvl_2", "scribe", "Scribe", 250),
            level("lvl_3", "wordsmith", "Wordsmith", 1000)
        ]),
    )
    .await;
    let levels = h.client.points().levels("xp").send().await.unwrap();
    assert_eq!(levels.len(), 3);
    assert_eq!(levels[1].key, "scribe");
    assert_eq!(levels[2].points, 1000);
    assert_eq!(levels[2].description, "1000 XP");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn level_summary_counts_users_per_level() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/points/xp/level-summary",
        200,
        json!([
            {"level": level("lvl_1", "novice", "Novice", 0), "users": 803},
            {"level": level("lvl_2", "scribe", "Scribe", 250), "users": 129}
        ]),
    )
    .await;
    let summary = h.client.points().level_summary("xp").send().await.unwrap();
    assert_eq!(summary.len(), 2);
    assert_eq!(summary[0].level.name, "Novice");
    assert_eq!(summary[0].users, 803);
    assert_eq!(summary[1].level.points, 250);
    insta::assert_snapshot!(h.single_request().await);
}
