//! Wire tests of the Admin API attributes operations.

mod common;

use common::Harness;
use serde_json::json;
use trophy::admin_types::{AdminIssueSeverity, AttributeType};
use trophy::api::admin::attributes::{AttributeUpdate, NewAttribute};

const PLAN: &str = "3f9a1c6e-2b47-4d85-a0e3-7c19b5d2e864";
const DEVICE: &str = "b71e0d45-9c3a-4e26-8f1b-5a6d2c8e0f39";

fn plan() -> serde_json::Value {
    json!({"id": PLAN, "name": "Plan", "key": "plan", "type": "user"})
}

fn device() -> serde_json::Value {
    json!({"id": DEVICE, "name": "Device", "key": "device", "type": "event"})
}

fn invalid_field(result: Result<impl std::fmt::Debug, trophy::Error>) -> String {
    match result {
        Err(trophy::Error::InvalidInput(e)) => e.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tokio::test]
async fn list_sends_paging_and_decodes_both_kinds() {
    let h = Harness::new().await;
    h.expect(
        "GET",
        "/admin/v1/attributes",
        200,
        json!([plan(), device(), {"id": PLAN, "name": "Cohort", "key": "cohort", "type": "session"}]),
    )
    .await;
    let page = h
        .client
        .admin()
        .attributes()
        .list()
        .limit(3)
        .skip(0)
        .send()
        .await
        .unwrap();
    assert_eq!(page.len(), 3);
    assert_eq!(page[0].key, "plan");
    assert_eq!(page[0].type_, AttributeType::User);
    assert_eq!(page[1].id.to_string(), DEVICE);
    assert_eq!(page[1].type_, AttributeType::Event);
    assert_eq!(page[2].type_, AttributeType::Unknown("session".into()));
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn create_sends_the_type_and_keeps_the_status() {
    let h = Harness::new().await;
    h.expect(
        "POST",
        "/admin/v1/attributes",
        201,
        json!({"created": [plan(), device()], "issues": []}),
    )
    .await;
    let response = h
        .client
        .admin()
        .attributes()
        .create([
            NewAttribute::new("Plan", "plan", AttributeType::User),
            NewAttribute::new("Device", "device", "event"),
        ])
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body = response.body();
    assert_eq!(body.created.len(), 2);
    assert_eq!(body.created[0].name, "Plan");
    assert_eq!(body.created[1].type_, AttributeType::Event);
    assert!(body.issues.is_empty());
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn get_decodes_one_attribute() {
    let h = Harness::new().await;
    h.expect("GET", &format!("/admin/v1/attributes/{PLAN}"), 200, plan())
        .await;
    let attribute = h
        .client
        .admin()
        .attributes()
        .get(PLAN)
        .tenant_id("acme")
        .send()
        .await
        .unwrap();
    assert_eq!(attribute.id.to_string(), PLAN);
    assert_eq!(attribute.name, "Plan");
    assert_eq!(attribute.type_, AttributeType::User);
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn get_encodes_the_id_as_one_segment() {
    let h = Harness::new().await;
    h.expect("GET", "/admin/v1/attributes/a%2Fb%20%C3%A9", 200, plan())
        .await;
    h.client.admin().attributes().get("a/b é").send().await.unwrap();
}

#[tokio::test]
async fn update_sends_only_the_name() {
    let h = Harness::new().await;
    h.expect(
        "PATCH",
        "/admin/v1/attributes",
        200,
        json!({
            "updated": [{"id": PLAN, "name": "Subscription plan", "key": "plan", "type": "user"}],
            "issues": [{"id": DEVICE, "index": 1, "severity": "error", "message": "Attribute not found"}]
        }),
    )
    .await;
    let result = h
        .client
        .admin()
        .attributes()
        .update([
            AttributeUpdate::new(PLAN).name("Subscription plan"),
            AttributeUpdate::new(DEVICE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(result.updated[0].name, "Subscription plan");
    assert_eq!(result.issues[0].index, Some(1));
    assert_eq!(result.issues[0].severity, AdminIssueSeverity::Error);
    assert_eq!(result.issues[0].message, "Attribute not found");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn delete_repeats_the_ids_key() {
    let h = Harness::new().await;
    h.expect("DELETE", "/admin/v1/attributes", 200, json!({"deleted": [{"id": DEVICE}], "issues": [{"id": PLAN, "severity": "error", "message": "In use by a leaderboard"}]})).await;
    let result = h
        .client
        .admin()
        .attributes()
        .delete(vec![PLAN.to_string(), DEVICE.to_string()])
        .send()
        .await
        .unwrap();
    assert_eq!(result.deleted[0].id.to_string(), DEVICE);
    assert_eq!(result.issues[0].id.as_deref(), Some(PLAN));
    assert_eq!(result.issues[0].message, "In use by a leaderboard");
    insta::assert_snapshot!(h.single_request().await);
}

#[tokio::test]
async fn inputs_are_checked_before_sending() {
    let h = Harness::new().await;
    let attributes = h.client.admin().attributes();
    let bad = [
        NewAttribute::new("Plan", "plan", "user"),
        NewAttribute::new("Plan tier", "plan.tier", "user"),
    ];
    assert_eq!(invalid_field(attributes.create(bad).send().await), "items[1].key");
    assert_eq!(invalid_field(attributes.create(Vec::new()).send().await), "items");
    assert_eq!(
        invalid_field(attributes.update([AttributeUpdate::new("")]).send().await),
        "items[0].id"
    );
    assert_eq!(invalid_field(attributes.get("").send().await), "id");
    assert_eq!(invalid_field(attributes.delete([""]).send().await), "ids[0]");
    assert_eq!(invalid_field(attributes.list().limit(500).send().await), "limit");
    assert!(h.server.received_requests().await.unwrap().is_empty());
}
