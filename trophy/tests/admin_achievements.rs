//! Wire tests of the Admin API achievements operations.

mod common;

use common::{invalid_field, Harness};
use serde_json::json;
use trophy::admin_types::{AdminAchievementStatus, AdminAchievementTrigger, AdminIssueSeverity};
use trophy::api::admin::achievements::{AchievementUpdate, NewAchievement};

const ONBOARDED: &str = "8d2f6a41-0c3b-4e7d-9f15-2a6b8c4d0e17";
const WEEK: &str = "1e5c9b3a-7d24-4f60-8a1b-3c5d7e9f1a2b";
const STEPS: &str = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d";
const PLAN: &str = "3f9a1c6e-2b47-4d85-a0e3-7c19b5d2e864";

fn onboarded() -> serde_json::Value {
    json!({"id": ONBOARDED, "name": "Finished onboarding", "description": null, "trigger": "api",
           "status": "active", "badge": null, "userAttributes": [], "key": "finish-onboarding"})
}

fn week() -> serde_json::Value {
    json!({"id": WEEK, "name": "A week in a row", "description": "Seven periods without a gap",
           "trigger": "streak", "status": "inactive", "badge": {"url": "https://cdn.example.com/week.png"},
           "userAttributes": [{"attributeId": PLAN, "attributeValue": "pro"}], "streakLength": 7})
}

#[tokio::test]
async fn list_sends_paging_and_decodes_every_trigger() {
    let h = Harness::new().await;
    let yearly = json!({"id": STEPS, "name": "One year", "description": null, "trigger": "anniversary",
                        "status": "locked", "badge": null, "userAttributes": [], "anniversaryYears": 1});
    h.expect(
        "GET",
        "/admin/v1/achievements",
        200,
        json!([onboarded(), week(), yearly]),
    )
    .await;
    let page = h
        .client
        .admin()
        .achievements()
        .list()
        .limit(3)
        .skip(6)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 3);
    assert_eq!(page[0].key.as_deref(), Some("finish-onboarding"));
    assert_eq!(page[0].trigger, AdminAchievementTrigger::Api);
    assert_eq!(page[1].streak_length, Some(7));
    assert_eq!(
        page[1].badge.as_ref().map(|b| b.url.as_str()),
        Some("https://cdn.example.com/week.png")
    );
    assert_eq!(page[1].user_attributes[0].attribute_value, "pro");
    assert_eq!(page[2].trigger, AdminAchievementTrigger::Anniversary);
    assert_eq!(page[2].status, AdminAchievementStatus::Locked);
    assert_eq!(page[2].anniversary_years, Some(1));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn create_sends_each_trigger_with_what_it_needs() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/admin/v1/achievements",
        201,
        json!({"created": [onboarded(), week()],
               "issues": [{"index": 2, "severity": "error", "message": "Metric not found"}]}),
    )
    .await;
    let response = h
        .client
        .admin()
        .achievements()
        .create([
            NewAchievement::api("Finished onboarding", "finish-onboarding").status(AdminAchievementStatus::Active),
            NewAchievement::streak("A week in a row", 7)
                .description("Seven periods without a gap")
                .badge_url("https://cdn.example.com/week.png")
                .user_attribute(PLAN, "pro"),
            NewAchievement::metric("Ten thousand steps", STEPS, 10_000.0).event_attribute(PLAN, "pro"),
            NewAchievement::anniversary("One year", 1),
            NewAchievement::achievements("Completionist", [ONBOARDED, WEEK]),
        ])
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body = response.body();
    assert_eq!(body.created.len(), 2);
    assert_eq!(body.created[1].name, "A week in a row");
    assert_eq!(body.issues[0].index, Some(2));
    assert_eq!(body.issues[0].severity, AdminIssueSeverity::Error);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn get_decodes_one_achievement() {
    let h = Harness::new().await;
    h.expect("GET", &format!("/admin/v1/achievements/{WEEK}"), 200, week())
        .await;
    let achievement = h
        .client
        .admin()
        .achievements()
        .get(WEEK)
        .tenant_id("acme")
        .send()
        .await
        .unwrap();
    assert_eq!(achievement.id.to_string(), WEEK);
    assert_eq!(achievement.description.as_deref(), Some("Seven periods without a gap"));
    assert_eq!(achievement.status, AdminAchievementStatus::Inactive);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn update_sets_clears_and_leaves_alone() {
    let h = Harness::new().await;
    let mut renamed = onboarded();
    renamed["name"] = json!("Onboarded");
    h.expect(
        "PATCH",
        "/admin/v1/achievements",
        200,
        json!({"updated": [renamed, week()], "issues": []}),
    )
    .await;
    let result = h
        .client
        .admin()
        .achievements()
        .update([
            AchievementUpdate::new(ONBOARDED)
                .name("Onboarded")
                .clear_description()
                .clear_badge()
                .clear_user_attributes(),
            AchievementUpdate::new(WEEK)
                .streak_length(10)
                .status("active".into())
                .user_attribute(PLAN, "team")
                .clear_event_attributes(),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(result.updated[0].name, "Onboarded");
    assert!(result.issues.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn delete_repeats_the_ids_key() {
    let h = Harness::new().await;
    h.expect(
        "DELETE",
        "/admin/v1/achievements",
        200,
        json!({"deleted": [{"id": WEEK}], "issues": [{"id": ONBOARDED, "severity": "error", "message": "Required by another achievement"}]}),
    )
    .await;
    let result = h
        .client
        .admin()
        .achievements()
        .delete([ONBOARDED, WEEK])
        .send()
        .await
        .unwrap();
    assert_eq!(result.deleted[0].id.to_string(), WEEK);
    assert_eq!(result.issues[0].id.as_deref(), Some(ONBOARDED));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn inputs_are_checked_before_sending() {
    let h = Harness::new().await;
    let achievements = h.client.admin().achievements();
    let bad_key = [
        NewAchievement::api("Ok", "ok"),
        NewAchievement::api("Spaces", "has spaces"),
    ];
    assert_eq!(invalid_field(achievements.create(bad_key).send().await), "items[1].key");
    assert_eq!(
        invalid_field(achievements.create([NewAchievement::api(" ", "k")]).send().await),
        "items[0].name"
    );
    assert_eq!(
        invalid_field(
            achievements
                .create([NewAchievement::metric("NaN", STEPS, f64::NAN)])
                .send()
                .await
        ),
        "items[0].metric_value"
    );
    assert_eq!(
        invalid_field(
            achievements
                .create([NewAchievement::achievements("None", Vec::<String>::new())])
                .send()
                .await
        ),
        "items[0].achievement_ids"
    );
    assert_eq!(
        invalid_field(
            achievements
                .update([AchievementUpdate::new(WEEK).badge_url("")])
                .send()
                .await
        ),
        "items[0].badge_url"
    );
    assert_eq!(
        invalid_field(
            achievements
                .update([AchievementUpdate::new(WEEK).user_attribute("", "x")])
                .send()
                .await
        ),
        "items[0].user_attributes[0].attribute_id"
    );
    assert_eq!(invalid_field(achievements.get("").send().await), "id");
    assert_eq!(
        invalid_field(achievements.delete(Vec::<String>::new()).send().await),
        "ids"
    );
    assert_eq!(invalid_field(achievements.list().limit(0).send().await), "limit");
    assert!(h.server.received_requests().await.unwrap().is_empty());
}
