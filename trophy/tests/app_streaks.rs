//! Wire tests of the bulk streaks operation.

mod common;

use common::Harness;
use serde_json::json;
use trophy::Error;

fn invalid_field(e: Error) -> String {
    match e {
        Error::InvalidInput(i) => i.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn list_repeats_the_user_ids_key() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/streaks",
        200,
        json!([
            {"userId": "user-42", "streakLength": 12, "extended": "2026-03-01T07:45:10Z"},
            {"userId": "user-7", "streakLength": 0, "extended": null},
            {"userId": "zoë", "streakLength": 3, "extended": "2026-02-28T22:01:00Z"}
        ]),
    )
    .await;
    let streaks = h
        .client
        .streaks()
        .list(["user-42", "user-7", "zoë"])
        .send()
        .await
        .unwrap();
    assert_eq!(streaks.len(), 3);
    assert_eq!(streaks[0].user_id, "user-42");
    assert_eq!(streaks[0].streak_length, 12);
    assert_eq!(streaks[0].extended.as_deref(), Some("2026-03-01T07:45:10Z"));
    assert_eq!(streaks[1].extended, None);
    assert_eq!(streaks[2].user_id, "zoë");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn list_sends_ids_with_commas_and_spaces_as_they_are() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/v1/streaks",
        200,
        json!([{"userId": "a b/c", "streakLength": 1, "extended": null},
               {"userId": "smith, j", "streakLength": 2, "extended": null}]),
    )
    .await;
    let ids = vec!["a b/c".to_string(), "smith, j".to_string()];
    let streaks = h.client.streaks().list(ids).send().await.unwrap();
    assert_eq!(streaks[1].user_id, "smith, j");
    let requests = h.server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.query(), Some("userIds=a+b%2Fc&userIds=smith%2C+j"));
    let pairs: Vec<(String, String)> = requests[0].url.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        vec![
            ("userIds".to_string(), "a b/c".to_string()),
            ("userIds".to_string(), "smith, j".to_string())
        ]
    );
}

#[tokio::test]
async fn list_checks_the_ids() {
    let h = Harness::new().await;
    let streaks = h.client.streaks();
    assert_eq!(
        invalid_field(streaks.list(Vec::<String>::new()).send().await.unwrap_err()),
        "user_ids"
    );
    let too_many: Vec<String> = (0..101).map(|i| format!("user-{i}")).collect();
    assert_eq!(
        invalid_field(streaks.list(too_many).send().await.unwrap_err()),
        "user_ids"
    );
    assert_eq!(
        invalid_field(streaks.list(["ok", "ok2", ""]).send().await.unwrap_err()),
        "user_ids[2]"
    );
    assert!(h.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn list_accepts_a_hundred_ids() {
    let h = Harness::new().await;
    h.expect("GET", "/v1/streaks", 200, json!([])).await;
    let ids: Vec<String> = (0..100).map(|i| format!("u{i}")).collect();
    let streaks = h.client.streaks().list(ids).send().await.unwrap();
    assert!(streaks.is_empty());
    let requests = h.server.received_requests().await.unwrap();
    let values: Vec<String> = requests[0]
        .url
        .query_pairs()
        .filter(|(k, _)| k == "userIds")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(values, (0..100).map(|i| format!("u{i}")).collect::<Vec<_>>());
}
