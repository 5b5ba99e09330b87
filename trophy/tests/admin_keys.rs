//! Wire tests of the Admin API application API key operations.

mod common;

use common::Harness;
use serde_json::json;
use trophy::admin_types::AdminIssueSeverity;

const KEY_1: &str = "9e8d7c6b-5a49-4382-b1f0-e9d8c7b6a501";
const KEY_2: &str = "1a2b3c4d-5e6f-4a8b-9c0d-e1f2a3b4c5d6";

fn invalid_field(result: Result<impl std::fmt::Debug, trophy::Error>) -> String {
    match result {
        Err(trophy::Error::InvalidInput(e)) => e.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn create_sends_one_item_per_user_and_decodes_the_keys() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/admin/v1/application-api-keys",
        201,
        json!({
            "created": [{"id": KEY_1, "userId": "user-1", "key": "app_live_Zq81kP0sW3", "prefix": "app_live_Zq8"}],
            "issues": [{"index": 1, "userId": "ghost", "severity": "error", "message": "User not found"}]
        }),
    )
    .await;
    let response = h
        .client
        .admin()
        .application_api_keys()
        .create(["user-1", "ghost"])
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body = response.into_body();
    assert_eq!(body.created[0].id.to_string(), KEY_1);
    assert_eq!(body.created[0].user_id, "user-1");
    assert_eq!(body.created[0].key, "app_live_Zq81kP0sW3");
    assert_eq!(body.created[0].prefix, "app_live_Zq8");
    // The new key is a secret: `format: password` in the document gives it a redacting Debug.
    let logged = format!("{body:?}");
    assert!(!logged.contains("app_live_Zq81kP0sW3"), "{logged}");
    assert!(logged.contains(r#"key: "<redacted>""#), "{logged}");
    assert!(logged.contains(r#"prefix: "app_live_Zq8""#), "{logged}");
    assert_eq!(body.issues[0].user_id.as_deref(), Some("ghost"));
    assert_eq!(body.issues[0].severity, AdminIssueSeverity::Error);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn delete_repeats_the_ids_key() {
    let h = Harness::new().await;
    h.expect(
        "DELETE",
        "/admin/v1/application-api-keys",
        200,
        json!({"deleted": [{"id": KEY_1}, {"id": KEY_2}], "issues": []}),
    )
    .await;
    let result = h
        .client
        .admin()
        .application_api_keys()
        .delete([KEY_1, KEY_2])
        .send()
        .await
        .unwrap();
    assert_eq!(result.deleted.len(), 2);
    assert_eq!(result.deleted[1].id.to_string(), KEY_2);
    assert!(result.issues.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn inputs_are_checked_before_sending() {
    let h = Harness::new().await;
    let keys = h.client.admin().application_api_keys();
    assert_eq!(invalid_field(keys.create(["user-1", ""]).send().await), "user_ids[1]");
    assert_eq!(
        invalid_field(keys.create(Vec::<String>::new()).send().await),
        "user_ids"
    );
    assert_eq!(
        invalid_field(keys.create((0..101).map(|i| format!("user-{i}"))).send().await),
        "user_ids"
    );
    assert_eq!(invalid_field(keys.delete([""]).send().await), "ids[0]");
    assert_eq!(invalid_field(keys.delete(Vec::<String>::new()).send().await), "ids");
    assert!(h.server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_application_key_cannot_call_the_admin_api() {
    let h = Harness::new().await;
    let client = trophy::Client::builder()
        .api_key("app_live_Zq81kP0sW3")
        .admin_url(format!("{}/admin/v1", h.server.uri()))
        .build()
        .unwrap();
    assert_eq!(
        invalid_field(client.admin().application_api_keys().create(["user-1"]).send().await),
        "api_key"
    );
    assert!(h.server.received_requests().await.unwrap().is_empty());
}
