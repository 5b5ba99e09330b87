//! Wire tests of the Admin API streak operations: freezes, pauses, restores, resets and settings.

mod common;

use chrono::NaiveDate;
use common::Harness;
use serde_json::json;
use trophy::admin_types::{
    AdminIssueSeverity, AdminStreakEvaluationMode, AdminStreakFrequency, AdminStreakPauseStatus,
};
use trophy::api::admin::streaks::{StreakFreezeRules, StreakPause};

const PAUSE_1: &str = "5c4b3a29-1807-4f6e-9d5c-4b3a29180716";
const PAUSE_2: &str = "e0f1a2b3-c4d5-4e6f-8a9b-0c1d2e3f4a5b";

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
async fn freeze_wraps_the_users_and_keeps_the_status() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/admin/v1/streaks/freezes",
        201,
        json!({"issues": [{"userId": "user-3", "index": 2, "severity": "warning", "message": "User already holds the maximum number of freezes"}]}),
    )
    .await;
    let response = h
        .client
        .admin()
        .streaks()
        .freezes()
        .create(["user-1", "user-2", "user-3"])
        .tenant_id("acme")
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let issues = &response.body().issues;
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].user_id.as_deref(), Some("user-3"));
    assert_eq!(issues[0].index, Some(2));
    assert_eq!(issues[0].severity, AdminIssueSeverity::Warning);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn pause_sends_dates_and_decodes_the_pauses() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/admin/v1/streaks/pauses",
        201,
        json!({
            "created": [
                {"id": PAUSE_1, "userId": "user-1", "start": "2026-12-24", "end": "2026-12-26", "status": "active"},
                {"id": PAUSE_2, "userId": "user-2", "start": "2027-01-01", "end": "2027-01-01", "status": "archived"}
            ],
            "issues": []
        }),
    )
    .await;
    let result = h
        .client
        .admin()
        .streaks()
        .pauses()
        .create([
            StreakPause::new("user-1", day(2026, 12, 24), day(2026, 12, 26)),
            StreakPause::new("user-2", day(2027, 1, 1), day(2027, 1, 1)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(result.created.len(), 2);
    assert_eq!(result.created[0].id.to_string(), PAUSE_1);
    assert_eq!(result.created[0].user_id, "user-1");
    assert_eq!(result.created[0].start, day(2026, 12, 24));
    assert_eq!(result.created[0].end, day(2026, 12, 26));
    assert_eq!(result.created[0].status, AdminStreakPauseStatus::Active);
    assert_eq!(result.created[1].status, AdminStreakPauseStatus::Archived);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn delete_pauses_repeats_the_ids_key() {
    let h = Harness::new().await;
    h.expect(
        "DELETE",
        "/admin/v1/streaks/pauses",
        200,
        json!({"deleted": [{"id": PAUSE_1}], "issues": [{"id": PAUSE_2, "severity": "error", "message": "Pause not found"}]}),
    )
    .await;
    let result = h
        .client
        .admin()
        .streaks()
        .pauses()
        .delete([PAUSE_1, PAUSE_2])
        .send()
        .await
        .unwrap();
    assert_eq!(result.deleted[0].id.to_string(), PAUSE_1);
    assert_eq!(result.issues[0].id.as_deref(), Some(PAUSE_2));
    assert_eq!(result.issues[0].message, "Pause not found");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn restore_wraps_the_users_and_decodes_who_was_restored() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/admin/v1/streaks/restore",
        201,
        json!({
            "restoredUsers": ["user-1"],
            "issues": [{"userId": "user-2", "index": 1, "severity": "error", "message": "No lost streak to restore"}]
        }),
    )
    .await;
    let response = h
        .client
        .admin()
        .streaks()
        .restore(["user-1", "user-2"])
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body = response.into_body();
    assert_eq!(body.restored_users, ["user-1"]);
    assert_eq!(body.issues[0].user_id.as_deref(), Some("user-2"));
    assert_eq!(body.issues[0].message, "No lost streak to restore");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn inputs_are_checked_before_sending() {
    let h = Harness::new().await;
    let streaks = h.client.admin().streaks();
    assert_eq!(
        invalid_field(streaks.freezes().create(["user-1", " "]).send().await),
        "user_ids[1]"
    );
    assert_eq!(
        invalid_field(streaks.freezes().create(Vec::<String>::new()).send().await),
        "user_ids"
    );
    assert_eq!(invalid_field(streaks.restore([""]).send().await), "user_ids[0]");
    assert_eq!(
        invalid_field(streaks.restore((0..101).map(|i| i.to_string())).send().await),
        "user_ids"
    );
    let backwards = StreakPause::new("user-2", day(2026, 12, 26), day(2026, 12, 24));
    let fine = StreakPause::new("user-1", day(2026, 12, 24), day(2026, 12, 24));
    assert_eq!(
        invalid_field(streaks.pauses().create([fine.clone(), backwards]).send().await),
        "pauses[1].end"
    );
    let nobody = StreakPause::new("", day(2026, 12, 24), day(2026, 12, 26));
    assert_eq!(
        invalid_field(streaks.pauses().create([nobody]).send().await),
        "pauses[0].user_id"
    );
    assert_eq!(
        invalid_field(streaks.pauses().create(Vec::new()).send().await),
        "pauses"
    );
    assert_eq!(
        invalid_field(streaks.pauses().delete([PAUSE_1, ""]).send().await),
        "ids[1]"
    );
    assert!(h.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn reset_wraps_the_users_and_decodes_who_was_reset() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/admin/v1/streaks/reset",
        200,
        json!({"resetUsers": ["user-1"], "issues": [{"userId": "user-2", "index": 1, "severity": "error", "message": "User not found"}]}),
    )
    .await;
    let result = h
        .client
        .admin()
        .streaks()
        .reset(["user-1", "user-2"])
        .send()
        .await
        .unwrap();
    assert_eq!(result.reset_users, ["user-1"]);
    assert_eq!(result.issues[0].user_id.as_deref(), Some("user-2"));
    insta::assert_snapshot!(h.single_request().await);
}

fn streak_settings() -> serde_json::Value {
    json!({"frequency": "daily", "evaluationMode": "AND", "customizationEnabled": true, "daysOff": [0, 6],
           "metrics": [{"key": "lessons", "threshold": 2}, {"key": "minutes", "threshold": 15}],
           "freezes": {"startCount": 1, "maxCount": 3, "autoEarnInterval": 30, "autoEarnAmount": 1}})
}

#[tokio::test]
async fn settings_decode_metrics_days_off_and_freezes() {
    let h = Harness::new().await;
    h.expect("GET", "/admin/v1/streaks/settings", 200, streak_settings())
        .await;
    let s = h.client.admin().streaks().settings().get().send().await.unwrap();
    assert_eq!(s.frequency, AdminStreakFrequency::Daily);
    assert_eq!(s.evaluation_mode, AdminStreakEvaluationMode::And);
    assert_eq!(s.days_off, [0, 6]);
    assert_eq!(s.metrics[1].threshold, 15);
    let freezes = s.freezes.expect("freezes on");
    assert_eq!((freezes.max_count, freezes.auto_earn_interval), (3, Some(30)));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn update_settings_sends_only_what_was_set() {
    let h = Harness::new().await;
    h.expect("PATCH", "/admin/v1/streaks/settings", 200, streak_settings())
        .await;
    h.client
        .admin()
        .streaks()
        .settings()
        .update()
        .evaluation_mode(AdminStreakEvaluationMode::And)
        .days_off([0, 6])
        .metric("lessons", 2)
        .metric("minutes", 15)
        .freezes(StreakFreezeRules::new(1, 3).no_auto_earn())
        .send()
        .await
        .unwrap();
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn update_settings_can_turn_freezes_off() {
    let h = Harness::new().await;
    let mut off = streak_settings();
    off["freezes"] = serde_json::Value::Null;
    h.expect("PATCH", "/admin/v1/streaks/settings", 200, off).await;
    let s = h
        .client
        .admin()
        .streaks()
        .settings()
        .update()
        .frequency("weekly".into())
        .customization_enabled(false)
        .disable_freezes()
        .send()
        .await
        .unwrap();
    assert!(s.freezes.is_none());
    assert_eq!(
        common::single_body(&h.server).await,
        json!({"frequency": "weekly", "customizationEnabled": false, "freezes": null})
    );
}

#[tokio::test]
async fn reset_and_settings_check_inputs_before_sending() {
    let h = Harness::new().await;
    let streaks = h.client.admin().streaks();
    assert_eq!(
        invalid_field(streaks.reset(Vec::<String>::new()).send().await),
        "user_ids"
    );
    assert_eq!(
        invalid_field(streaks.settings().update().days_off([1, 7]).send().await),
        "days_off[1]"
    );
    assert_eq!(
        invalid_field(streaks.settings().update().days_off([1, 1]).send().await),
        "days_off[1]"
    );
    assert_eq!(
        invalid_field(streaks.settings().update().days_off([0, 1, 2, 3, 4, 5, 6]).send().await),
        "days_off"
    );
    assert_eq!(
        invalid_field(streaks.settings().update().metric("lessons", 0).send().await),
        "metrics[0].threshold"
    );
    assert_eq!(
        invalid_field(
            streaks
                .settings()
                .update()
                .freezes(StreakFreezeRules::new(1, 0))
                .send()
                .await
        ),
        "freezes.max_count"
    );
    assert_eq!(
        invalid_field(
            streaks
                .settings()
                .update()
                .freezes(StreakFreezeRules::new(1, 3).auto_earn(400, 1))
                .send()
                .await
        ),
        "freezes.auto_earn_interval"
    );
    assert!(h.server.received_requests().await.unwrap().is_empty());
}
