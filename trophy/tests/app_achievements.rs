//! Wire tests of the achievements operations.

mod common;

use common::Harness;
use serde_json::json;
use trophy::types::AchievementTrigger;
use trophy::UserInput;

fn completion_body() -> serde_json::Value {
    json!({
        "completionId": "cmp_01J9Z6Q4",
        "achievement": {
            "id": "ach_5f2c",
            "trigger": "api",
            "name": "Finish onboarding",
            "description": "Completed every onboarding step",
            "badgeUrl": "https://cdn.example.com/badges/onboarding.png",
            "key": "finish-onboarding",
            "userAttributes": [],
            "achievedAt": "2026-11-27T09:30:00Z"
        },
        "points": {
            "xp": {
                "id": "pts_xp", "key": "xp", "name": "Experience", "description": null,
                "badgeUrl": null, "maxPoints": null, "total": 60, "added": 50,
                "level": null,
                "awards": [{"id": "awd_1", "awarded": 50, "date": "2026-11-27", "total": 60}]
            }
        }
    })
}

#[tokio::test]
async fn complete_sends_the_user_and_decodes_the_completion() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/v1/achievements/finish-onboarding/complete",
        201,
        completion_body(),
    )
    .await;
    let user = UserInput::new("user-id").email("user@example.com").tz("Europe/London");
    let done = h
        .client
        .achievements()
        .complete("finish-onboarding", user)
        .send()
        .await
        .unwrap();

    assert_eq!(done.completion_id, "cmp_01J9Z6Q4");
    assert_eq!(done.achievement.id, "ach_5f2c");
    assert_eq!(done.achievement.trigger, AchievementTrigger::Api);
    assert_eq!(done.achievement.name, "Finish onboarding");
    assert_eq!(done.achievement.key.as_deref(), Some("finish-onboarding"));
    assert_eq!(
        done.achievement.badge_url.as_deref(),
        Some("https://cdn.example.com/badges/onboarding.png")
    );
    assert_eq!(
        done.achievement.achieved_at.unwrap().to_rfc3339(),
        "2026-11-27T09:30:00+00:00"
    );
    assert_eq!(done.points["xp"].added, 50);
    assert_eq!(done.points["xp"].total, 60);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn complete_encodes_the_key_as_one_segment() {
    let h = Harness::new().await;
    h.expect("POST", "/v1/achievements/a%2Fb%20c/complete", 201, completion_body())
        .await;
    h.client
        .achievements()
        .complete("a/b c", "user-id")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn list_sends_attribute_filters_and_decodes_statistics() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/achievements",
        200,
        json!([{
            "id": "ach_1", "trigger": "metric", "name": "First 1,000 words", "description": null,
            "badgeUrl": null, "key": "words-1000", "metricId": "met_words", "metricValue": 1000.0,
            "metricName": "Words written", "userAttributes": [{"key": "plan", "value": "pro"}],
            "completions": 42, "rarity": 12.5
        }, {
            "id": "ach_2", "trigger": "seasonal", "name": "Winter", "description": null,
            "badgeUrl": null, "userAttributes": [], "completions": 0, "rarity": 0.0
        }]),
    )
    .await;
    let list = h
        .client
        .achievements()
        .list()
        .user_attribute("plan", "pro")
        .send()
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].completions, 42);
    assert_eq!(list[0].rarity, 12.5);
    assert_eq!(list[0].metric_value, Some(1000.0));
    assert_eq!(list[0].user_attributes[0].key, "plan");
    assert_eq!(list[1].trigger, AchievementTrigger::Unknown("seasonal".into()));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn list_refuses_filters_that_would_not_survive_encoding() {
    let h = Harness::new().await;
    let e = h
        .client
        .achievements()
        .list()
        .user_attribute("plan", "a,b")
        .send()
        .await
        .unwrap_err();
    let trophy::Error::InvalidInput(i) = e else {
        panic!("{e:?}")
    };
    assert_eq!(i.field, "user_attributes[0].value");
    let e = h
        .client
        .achievements()
        .list()
        .user_attribute("pl:an", "a")
        .send()
        .await
        .unwrap_err();
    let trophy::Error::InvalidInput(i) = e else {
        panic!("{e:?}")
    };
    assert_eq!(i.field, "user_attributes[0].key");
    assert!(h.server.received_requests().await.unwrap().is_empty());
}
