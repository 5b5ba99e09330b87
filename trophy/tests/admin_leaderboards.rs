//! Wire tests of the Admin API leaderboards operations.

mod common;

use chrono::NaiveDate;
use common::Harness;
use serde_json::json;
use trophy::admin_types::{AdminIssueSeverity, AdminLeaderboardStatus, LeaderboardRankBy, LeaderboardRunUnit};
use trophy::api::admin::leaderboards::{LeaderboardUpdate, NewLeaderboard};

const MONTHLY: &str = "2b8e4f61-0c3d-4a97-8e15-6d7f9a0b1c2e";
const STREAKS: &str = "7d1c5e92-4a6b-4f38-9b0e-3c2d1e0f9a87";
const DISTANCE: &str = "8c6f1d2e-41a7-4b8e-9d3c-2f5a7e9b1c04";
const REGION: &str = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8";

fn monthly() -> serde_json::Value {
    json!({
        "id": MONTHLY, "name": "Monthly distance", "key": "monthly-distance",
        "description": "Who ran furthest this month", "status": "active", "rankBy": "metric",
        "metricId": DISTANCE, "maxParticipants": 500, "start": "2027-01-01", "startTime": "08:00",
        "breakdownAttributes": [REGION], "runUnit": "month", "runInterval": 1
    })
}

fn streaks() -> serde_json::Value {
    json!({
        "id": STREAKS, "name": "Longest streaks", "key": "longest-streaks", "status": "finished",
        "rankBy": "streak", "maxParticipants": null, "start": "2026-06-01", "end": "2026-08-31",
        "endTime": "23:59:59", "breakdownAttributes": []
    })
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn invalid_field(result: Result<impl std::fmt::Debug, trophy::Error>) -> String {
    match result {
        Err(trophy::Error::InvalidInput(e)) => e.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn list_sends_paging_and_decodes_leaderboards() {
    let h = Harness::new().await;
    h.expect("GET", "/admin/v1/leaderboards", 200, json!([monthly(), streaks()]))
        .await;
    let page = h
        .client
        .admin()
        .leaderboards()
        .list()
        .limit(2)
        .skip(4)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].key, "monthly-distance");
    assert_eq!(page[0].rank_by, LeaderboardRankBy::Metric);
    assert_eq!(page[0].metric_id.unwrap().to_string(), DISTANCE);
    assert_eq!(page[0].max_participants, Some(500));
    assert_eq!(page[0].run_unit, Some(LeaderboardRunUnit::Month));
    assert_eq!(page[0].breakdown_attributes[0].to_string(), REGION);
    assert_eq!(page[0].end, None);
    assert_eq!(page[1].status, AdminLeaderboardStatus::Finished);
    assert_eq!(page[1].max_participants, None);
    assert_eq!(page[1].end, Some(day(2026, 8, 31)));
    assert_eq!(page[1].end_time.as_deref(), Some("23:59:59"));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn create_sends_every_field_set_and_nothing_else() {
    let h = Harness::new().await;
    h.expect("POST", "/admin/v1/leaderboards", 201, json!({"created": [monthly()], "issues": [{"index": 1, "severity": "error", "message": "rankBy points needs a pointsSystemId"}]})).await;
    let full = NewLeaderboard::new("Monthly distance", "monthly-distance", LeaderboardRankBy::Metric)
        .description("Who ran furthest this month")
        .status(AdminLeaderboardStatus::Active)
        .metric_id(DISTANCE)
        .max_participants(500)
        .start(day(2027, 1, 1))
        .end(day(2027, 12, 31))
        .start_time("08:00")
        .end_time("20:30:00")
        .breakdown_attributes([REGION])
        .run_unit(LeaderboardRunUnit::Month)
        .run_interval(1);
    let minimal = NewLeaderboard::new("XP", "xp", "points".into()).clear_max_participants();
    let response = h
        .client
        .admin()
        .leaderboards()
        .create([full, minimal])
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body = response.into_body();
    assert_eq!(body.created[0].id.to_string(), MONTHLY);
    assert_eq!(body.created[0].start, day(2027, 1, 1));
    assert_eq!(body.created[0].start_time.as_deref(), Some("08:00"));
    assert_eq!(body.issues[0].index, Some(1));
    assert_eq!(body.issues[0].severity, AdminIssueSeverity::Error);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn get_decodes_one_leaderboard() {
    let h = Harness::new().await;
    h.expect("GET", &format!("/admin/v1/leaderboards/{STREAKS}"), 200, streaks())
        .await;
    let board = h.client.admin().leaderboards().get(STREAKS).send().await.unwrap();
    assert_eq!(board.name, "Longest streaks");
    assert_eq!(board.rank_by, LeaderboardRankBy::Streak);
    assert_eq!(board.start, day(2026, 6, 1));
    assert_eq!(board.description, None);
    assert!(board.breakdown_attributes.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn get_encodes_the_id_as_one_segment() {
    let h = Harness::new().await;
    h.expect("GET", "/admin/v1/leaderboards/a%2Fb%20%C3%A9", 200, streaks())
        .await;
    h.client.admin().leaderboards().get("a/b é").send().await.unwrap();
}

#[tokio::test]
async fn update_sets_clears_and_leaves_alone() {
    let h = Harness::new().await;
    let mut updated = monthly();
    updated["name"] = json!("Monthly distance (km)");
    updated["maxParticipants"] = json!(null);
    updated.as_object_mut().unwrap().remove("runUnit");
    h.expect(
        "PATCH",
        "/admin/v1/leaderboards",
        200,
        json!({"updated": [updated], "issues": []}),
    )
    .await;
    let clear = LeaderboardUpdate::new(MONTHLY)
        .name("Monthly distance (km)")
        .clear_end()
        .clear_start_time()
        .clear_end_time()
        .clear_run_unit()
        .clear_max_participants();
    let set = LeaderboardUpdate::new(STREAKS)
        .key("longest-streaks-2026")
        .status("active".into())
        .rank_by(LeaderboardRankBy::Streak)
        .start(day(2026, 6, 1))
        .end(day(2026, 9, 30))
        .start_time("00:00")
        .end_time("23:59")
        .run_unit("year".into())
        .run_interval(1)
        .max_participants(100)
        .breakdown_attributes(Vec::<String>::new());
    let result = h
        .client
        .admin()
        .leaderboards()
        .update([clear, set, LeaderboardUpdate::new(DISTANCE)])
        .send()
        .await
        .unwrap();
    assert_eq!(result.updated[0].name, "Monthly distance (km)");
    assert_eq!(result.updated[0].max_participants, None);
    assert_eq!(result.updated[0].run_unit, None);
    assert!(result.issues.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn delete_repeats_the_ids_key() {
    let h = Harness::new().await;
    h.expect(
        "DELETE",
        "/admin/v1/leaderboards",
        200,
        json!({"deleted": [{"id": MONTHLY}, {"id": STREAKS}], "issues": []}),
    )
    .await;
    let result = h
        .client
        .admin()
        .leaderboards()
        .delete([MONTHLY, STREAKS])
        .send()
        .await
        .unwrap();
    assert_eq!(result.deleted[0].id.to_string(), MONTHLY);
    assert_eq!(result.deleted[1].id.to_string(), STREAKS);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn times_of_day_are_checked_before_sending() {
    let h = Harness::new().await;
    let boards = h.client.admin().leaderboards();
    let ok = NewLeaderboard::new("A", "a", "metric".into()).start_time("23:59:59");
    let late = NewLeaderboard::new("B", "b", "metric".into()).start_time("24:00");
    assert_eq!(
        invalid_field(boards.create([ok.clone(), late]).send().await),
        "items[1].start_time"
    );
    let short = NewLeaderboard::new("C", "c", "metric".into()).end_time("8:30");
    assert_eq!(invalid_field(boards.create([short]).send().await), "items[0].end_time");
    let update = LeaderboardUpdate::new(MONTHLY).end_time("08:30:60");
    assert_eq!(invalid_field(boards.update([update]).send().await), "items[0].end_time");
    let update = LeaderboardUpdate::new(MONTHLY).start_time("noon");
    assert_eq!(
        invalid_field(boards.update([update]).send().await),
        "items[0].start_time"
    );
    assert!(h.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn keys_and_ids_are_checked_before_sending() {
    let h = Harness::new().await;
    let boards = h.client.admin().leaderboards();
    assert_eq!(
        invalid_field(
            boards
                .create([NewLeaderboard::new("A", "a b", "metric".into())])
                .send()
                .await
        ),
        "items[0].key"
    );
    let no_metric = NewLeaderboard::new("A", "a", "metric".into()).metric_id("");
    assert_eq!(
        invalid_field(boards.create([no_metric]).send().await),
        "items[0].metric_id"
    );
    let bad_key = LeaderboardUpdate::new(MONTHLY).key("monthly/distance");
    assert_eq!(
        invalid_field(boards.update([LeaderboardUpdate::new(STREAKS), bad_key]).send().await),
        "items[1].key"
    );
    let no_system = LeaderboardUpdate::new(MONTHLY).points_system_id(" ");
    assert_eq!(
        invalid_field(boards.update([no_system]).send().await),
        "items[0].points_system_id"
    );
    assert_eq!(
        invalid_field(boards.update([LeaderboardUpdate::new("")]).send().await),
        "items[0].id"
    );
    assert_eq!(invalid_field(boards.create(Vec::new()).send().await), "items");
    assert_eq!(invalid_field(boards.get("").send().await), "id");
    assert_eq!(invalid_field(boards.delete([MONTHLY, ""]).send().await), "ids[1]");
    assert_eq!(invalid_field(boards.list().limit(101).send().await), "limit");
    assert!(h.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn user_attribute_filters_are_set_and_cleared() {
    let h = Harness::new().await;
    let mut filtered = monthly();
    filtered["userAttributes"] = json!([{"attributeId": REGION, "attributeValue": "emea"}]);
    h.expect(
        "PATCH",
        "/admin/v1/leaderboards",
        200,
        json!({"updated": [filtered, streaks()], "issues": []}),
    )
    .await;
    let result = h
        .client
        .admin()
        .leaderboards()
        .update([
            LeaderboardUpdate::new(MONTHLY).user_attribute(REGION, "emea"),
            LeaderboardUpdate::new(STREAKS).clear_user_attributes(),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(result.updated[0].user_attributes[0].attribute_value, "emea");
    assert!(result.updated[1].user_attributes.is_empty(), "absent reads as none");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn create_sends_user_attribute_filters() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/admin/v1/leaderboards",
        201,
        json!({"created": [monthly()], "issues": []}),
    )
    .await;
    let board = NewLeaderboard::new("Monthly distance", "monthly-distance", LeaderboardRankBy::Metric)
        .metric_id(DISTANCE)
        .user_attribute(REGION, "emea")
        .user_attribute(REGION, "apac");
    h.client.admin().leaderboards().create([board]).send().await.unwrap();
    let body = common::single_body(&h.server).await;
    assert_eq!(
        body[0]["userAttributes"],
        json!([{"attributeId": REGION, "attributeValue": "emea"}, {"attributeId": REGION, "attributeValue": "apac"}])
    );
    let bad = NewLeaderboard::new("x", "x", LeaderboardRankBy::Streak).user_attribute("", "emea");
    let e = h.client.admin().leaderboards().create([bad]).send().await;
    assert_eq!(invalid_field(e), "items[0].user_attributes[0].attribute_id");
}
